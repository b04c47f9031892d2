package drift

import (
	"math"
)

// ksMaxExactN is the largest sample size for which KS computes the exact
// p-value (scipy's MAX_AUTO_N for method="auto").
const ksMaxExactN = 10000

// KS returns the two-sample Kolmogorov–Smirnov test of ref against cur:
//
//	D = sup_x |F_ref(x) - F_cur(x)|
//
// over the empirical CDFs (right-continuous, so tied values move both CDFs
// at once). The p-value follows scipy 1.10's ks_2samp(alternative=
// "two-sided", method="auto"):
//
//   - max(n, m) <= 10000: exact. D is rounded to h/lcm(n, m), h =
//     round(D·lcm), and P(D >= h/lcm) is counted over lattice paths: for
//     n == m by the alternating binomial series of the two diagonals
//     (Hodges 1958), otherwise by the "inside" path recursion written for
//     1 - p (Viehmann 2021, arXiv:2102.08037). If that yields no valid
//     probability the asymptotic p-value is used instead.
//   - otherwise (or as above): P = kstwo.sf(D, round(nm/(n+m))), the
//     one-sample two-sided Kolmogorov distribution, see kstwoSF.
//
// The p-value is clipped to [0, 1]; Result.Exact tells which branch gave
// it. NaN values are dropped first; ±Inf take part like any value. An
// empty sample is an error (*SampleError wrapping ErrEmpty). Identical
// samples give D = 0 and p = 1.
//
// Both samples are copied, radix-sorted (stats.SortFloats) and walked in
// one merge; the CDF difference is compared as the exact integer
// i·m - j·n so only the extreme points pay for a division.
func KS(ref, cur []float64) (Result, error) {
	a, b, err := sortedPair("ks", ref, cur, 1)
	if err != nil {
		return Result{}, err
	}
	n1, n2 := len(a), len(b)
	d := ksStatistic(a, b)
	return ksPValue(d, n1, n2), nil
}

// ksStatistic returns max(max(cdf1-cdf2), max(cdf2-cdf1)) over the merged
// sorted samples as ks_2samp computes it: cdf1 - cdf2 = i/n1 - j/n2 in
// float64, with the maximum taken over the values at each distinct point.
//
// The merge walks one value per step with the choice of sample made
// without a branch (the comparison of two random heads is a coin flip the
// CPU cannot predict). The CDF difference is tracked as the exact integer
// k = i·n2 - j·n1; only a point that reaches a new extreme of k (rare
// after the first few steps) pays for the divisions and for checking that
// it ends a run of tied values. The final point (n1, n2) has k = 0 and
// difference 0, so starting the extremes at 0 is exact.
func ksStatistic(a, b []float64) float64 {
	n1, n2 := len(a), len(b)
	fn1, fn2 := float64(n1), float64(n2)
	up, down := int64(n2), int64(n1) // change of k when a value of a (b) is taken
	var k, maxK, minK int64
	maxS, minS := 0.0, 0.0
	i, j := 0, 0
	last := math.NaN() // the value taken last; NaN before the first
	// at records the point (i, j) if it is a new extreme and ends a run of
	// ties: the values left, x = a[i] and y = b[j] (+Inf when a sample
	// is used up, with ok false), all differ from the last value taken.
	at := func(x, y float64, xok, yok bool) {
		if (xok && x == last) || (yok && y == last) {
			return
		}
		diff := float64(i)/fn1 - float64(j)/fn2
		if k > maxK || (k == maxK && diff > maxS) {
			maxK, maxS = k, diff
		}
		if k < minK || (k == minK && diff < minS) {
			minK, minS = k, diff
		}
	}
	for i < n1 && j < n2 {
		x, y := a[i], b[j]
		if k >= maxK || k <= minK {
			at(x, y, true, true)
		}
		var takeA int
		if x <= y {
			takeA = 1
		}
		last = min(x, y)
		i += takeA
		j += 1 - takeA
		k += int64(takeA)*(up+down) - down
	}
	// One sample is used up: walk the rest of the other.
	for ; i < n1; i++ {
		at(a[i], 0, true, false)
		last = a[i]
		k += up
	}
	for ; j < n2; j++ {
		at(0, b[j], false, true)
		last = b[j]
		k -= down
	}
	lower := math.Min(math.Max(-minS, 0), 1)
	if lower > maxS {
		return lower
	}
	return maxS
}

// ksPValue returns ks_2samp's statistic and two-sided p-value for the raw
// statistic d of samples of sizes n1 and n2 (method="auto").
func ksPValue(d float64, n1, n2 int) Result {
	g := gcd(n1, n2)
	if max(n1, n2) <= ksMaxExactN {
		lcm := float64(n1/g) * float64(n2)
		h := math.RoundToEven(d * lcm)
		dExact := h / lcm
		if h == 0 {
			return Result{Statistic: dExact, PValue: 1, Exact: true}
		}
		var p float64
		if n1 == n2 {
			p = probOutsideSquare(n1, int(h))
		} else {
			p = outerProbInside(n1, n2, g, int64(h))
		}
		if p >= 0 && p <= 1 {
			return Result{Statistic: dExact, PValue: p, Exact: true}
		}
		d = dExact
	}
	m, n := float64(max(n1, n2)), float64(min(n1, n2))
	en := m * n / (m + n)
	p := kstwoSF(int(math.RoundToEven(en)), d)
	return Result{Statistic: d, PValue: clip01(p)}
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// probOutsideSquare returns P(D_{n,n} >= h/n), the share of lattice paths
// that leave the band |x - y| < h (scipy's _compute_prob_outside_square):
//
//	P = 2 Σ_{k>=1} (-1)^(k-1) C(2n, n-kh) / C(2n, n)
//
// evaluated as 2·A1(1 - A2(1 - A3(...))) with each ratio A_k a product of
// h factors, which avoids the subtractive cancellation of the plain sum.
func probOutsideSquare(n, h int) float64 {
	p := 0.0
	for k := n / h; k >= 0; k-- {
		p1 := 1.0
		for j := 0; j < h; j++ {
			p1 = float64(n-k*h-j) * p1 / float64(n+k*h+j+1)
		}
		p = p1 * (1 - p)
	}
	return 2 * p
}

// outerProbInside returns the share of lattice paths from (0,0) to (m,n)
// that do not stay strictly inside |x/m - y/n| < h/lcm(m,n) (scipy's
// _compute_outer_prob_inside_method): the column recursion of Hodges'
// "inside" method rewritten by Viehmann to carry 1 - p, so the result
// keeps its relative precision for small p. One sliding column of the
// path table is kept.
func outerProbInside(m, n, g int, h int64) float64 {
	if m < n {
		m, n = n, m
	}
	mg, ng := int64(m/g), int64(n/g)
	minj, maxj := 0, min(int(ceilDiv(h, mg)), n+1)
	curlen := maxj - minj
	lenA := min(2*maxj+2, n+1)
	A := make([]float64, lenA)
	for k := range A {
		A[k] = 1
	}
	for k := minj; k < maxj; k++ {
		A[k] = 0
	}
	for i := 1; i <= m; i++ {
		lastminj, lastlen := minj, curlen
		minj = max(int(floorDiv(ng*int64(i)-h, mg))+1, 0)
		minj = min(minj, n)
		maxj = min(int(ceilDiv(ng*int64(i)+h, mg)), n+1)
		if maxj <= minj {
			return 1
		}
		val := 1.0
		if minj == 0 {
			val = 0
		}
		fi := float64(i)
		for jj := 0; jj < maxj-minj; jj++ {
			j := jj + minj
			val = (A[jj+minj-lastminj]*fi + val*float64(j)) / (fi + float64(j))
			A[jj] = val
		}
		curlen = maxj - minj
		if lastlen > curlen {
			for k := maxj - minj; k < min(maxj-minj+(lastlen-curlen), len(A)); k++ {
				A[k] = 1
			}
		}
	}
	return A[maxj-minj-1]
}

// floorDiv returns floor(a/b) for b > 0.
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

// ceilDiv returns ceil(a/b) for b > 0.
func ceilDiv(a, b int64) int64 { return -floorDiv(-a, b) }
