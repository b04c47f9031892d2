package drift

import (
	"math"
	"math/big"

	"github.com/normguard/normguard/stats"
)

// mwuMaxExactN: the exact p-value is used when one sample has at most
// this many values and there are no ties (scipy's method="auto").
const mwuMaxExactN = 8

// MannWhitneyU returns the two-sided Mann–Whitney U test of ref against
// cur, scipy 1.10's scipy.stats.mannwhitneyu(ref, cur,
// alternative="two-sided", method="auto", use_continuity=True). With
// average ranks R of the pooled sample (ties share their mean rank),
// n1 = len(ref), n2 = len(cur):
//
//	U1 = Σ R_ref - n1(n1+1)/2          (Statistic)
//	U  = max(U1, n1·n2 - U1)
//
// The p-value is 2·P(U' >= U), clipped to 1:
//
//   - exact when min(n1, n2) <= 8 and no value is repeated in the pooled
//     sample: the null distribution of U is the coefficient sequence of
//     the Gaussian binomial [n1+n2 choose n1]_q, built as
//     Π_{j=1}^{s} (1 - q^(L+j)) / (1 - q^j), s = min(n1,n2), L = max;
//   - otherwise the normal approximation with continuity and tie
//     correction: z = (U - n1 n2/2 - 1/2) / σ,
//     σ² = n1 n2/12 · (N + 1 - Σ(t³ - t)/(N(N-1))) over tie groups t.
//
// NaN values are dropped first; an empty sample is an error. When every
// value is equal σ = 0 and the p-value is 1, as in scipy. The tie term is
// accumulated in float64 (numpy uses int64, which overflows for a single
// value repeated more than 2,097,151 times).
func MannWhitneyU(ref, cur []float64) (Result, error) {
	a, b, err := sortedPair("mann_whitney", ref, cur, 1)
	if err != nil {
		return Result{}, err
	}
	n1, n2 := len(a), len(b)
	var r1x2 int64 // twice the rank sum of ref, exact
	tieTerm := 0.0
	ties := false
	i, j, pos := 0, 0, 0
	for i < n1 || j < n2 {
		var v float64
		switch {
		case j >= n2:
			v = a[i]
		case i >= n1:
			v = b[j]
		default:
			v = math.Min(a[i], b[j])
		}
		i0, j0 := i, j
		for i < n1 && a[i] == v {
			i++
		}
		for j < n2 && b[j] == v {
			j++
		}
		cnt := (i - i0) + (j - j0)
		// Members occupy ranks pos+1 .. pos+cnt; twice their mean rank is
		// 2*pos + cnt + 1.
		r1x2 += int64(i-i0) * int64(2*pos+cnt+1)
		if cnt > 1 {
			ties = true
			t := float64(cnt)
			tieTerm += t*t*t - t
		}
		pos += cnt
	}
	u1 := float64(r1x2)/2 - ratioInt(int64(n1)*int64(n1+1), 2)
	u2 := float64(int64(n1)*int64(n2)) - u1
	u := math.Max(u1, u2)
	if min(n1, n2) <= mwuMaxExactN && !ties {
		p := 2 * mwuExactSF(int64(u), n1, n2)
		return Result{Statistic: u1, PValue: clip01(p), Exact: true}, nil
	}
	n := int64(n1 + n2)
	mu := ratioInt(int64(n1)*int64(n2), 2)
	s := math.Sqrt(ratioInt(int64(n1)*int64(n2), 12) * (float64(n+1) - tieTerm/float64(n*(n-1))))
	z := (u - mu - 0.5) / s
	p := 2 * stats.NormCDF(-z)
	return Result{Statistic: u1, PValue: clip01(p)}, nil
}

// ratioInt returns a/b correctly rounded (Python's int / int).
func ratioInt(a, b int64) float64 {
	if a < 1<<53 && a > -(1<<53) && b < 1<<53 {
		return float64(a) / float64(b)
	}
	f, _ := new(big.Rat).SetFrac64(a, b).Float64()
	return f
}

// mwuExactSF returns P(U >= u) for the Mann–Whitney U of samples of sizes
// m and n without ties, as cdf(mn - u) by symmetry: the counts of the
// Gaussian binomial coefficients up to degree mn - u, divided by
// C(m+n, m). Counts are float64 (as scipy's), exact below 2^53.
func mwuExactSF(u int64, m, n int) float64 {
	s, l := min(m, n), max(m, n)
	k := int64(m)*int64(n) - u
	if k < 0 {
		return 1
	}
	c := make([]float64, k+1)
	c[0] = 1
	binom := 1.0
	for jj := 1; jj <= s; jj++ {
		// multiply by (1 - q^(l+jj)), then divide by (1 - q^jj)
		sh := int64(l + jj)
		for d := k; d >= sh; d-- {
			c[d] -= c[d-sh]
		}
		for d := int64(jj); d <= k; d++ {
			c[d] += c[d-int64(jj)]
		}
		binom = binom * float64(l+jj) / float64(jj)
	}
	sum := 0.0
	for _, x := range c {
		sum += x / binom
	}
	return sum
}
