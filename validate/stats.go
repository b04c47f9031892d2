package validate

import "math"

// fisherRelTol is the relative tolerance under which a table's probability
// counts as "no more likely" than the observed one (scipy.stats.fisher_exact
// uses 1 + 1e-7).
const fisherRelTol = 1 + 1e-7

// FisherExact returns the two-sided p-value of Fisher's exact test on the
// 2×2 table
//
//	[[a, b],
//	 [c, d]]
//
// (row 1: training, row 2: current; column 1: the counted event, column 2:
// the rest). With the margins fixed, a follows the hypergeometric
// distribution
//
//	P(a = k) = C(a+b, k) C(c+d, a+c-k) / C(a+b+c+d, a+c)
//
// and the p-value is the total probability of the tables no more likely
// than the observed one, as scipy.stats.fisher_exact(alternative=
// "two-sided") computes it. The distribution is unimodal, so the sum walks
// outwards from the mode and stops once terms no longer add to it. A table
// with an empty row or column gives 1. Negative counts give NaN.
func FisherExact(a, b, c, d int64) float64 {
	if a < 0 || b < 0 || c < 0 || d < 0 {
		return math.NaN()
	}
	n1, n2, k := a+b, c+d, a+c
	if n1 == 0 || n2 == 0 || k == 0 || k == n1+n2 {
		return 1
	}
	lo, hi := max(0, k-n2), min(k, n1)
	logPMF := func(x int64) float64 {
		return logChoose(n1, x) + logChoose(n2, k-x) - logChoose(n1+n2, k)
	}
	// The mode of the hypergeometric distribution.
	mode := int64(math.Floor(float64(k+1) * float64(n1+1) / float64(n1+n2+2)))
	mode = min(max(mode, lo), hi)
	obs := logPMF(a)
	thr := obs + math.Log(fisherRelTol)
	p := 0.0
	if logPMF(mode) <= thr {
		p = math.Exp(logPMF(mode))
	}
	// Terms below this share of the running sum (or underflowing) cannot
	// change it.
	const negligible = -40.0
	for _, step := range []int64{-1, 1} {
		for x := mode + step; x >= lo && x <= hi; x += step {
			l := logPMF(x)
			if l > thr {
				continue // still above the observed table's probability
			}
			p += math.Exp(l)
			if l < obs+negligible || l < -745 {
				break // every term further out is smaller still
			}
		}
	}
	return math.Min(1, p)
}

// logChoose returns log C(n, k) for 0 <= k <= n.
func logChoose(n, k int64) float64 {
	return lgamma(float64(n)+1) - lgamma(float64(k)+1) - lgamma(float64(n-k)+1)
}

func lgamma(x float64) float64 {
	v, _ := math.Lgamma(x)
	return v
}

// CohenH returns Cohen's effect size for two proportions,
//
//	h = |2 asin √p1 − 2 asin √p2|,
//
// which weighs a change near 0 or 1 more than the same difference near
// one half (Cohen 1988, section 6.2: 0.2 is a small effect, 0.5 a medium
// one). Proportions outside [0, 1] or NaN give NaN.
func CohenH(p1, p2 float64) float64 {
	if !(p1 >= 0 && p1 <= 1 && p2 >= 0 && p2 <= 1) {
		return math.NaN()
	}
	return math.Abs(2*math.Asin(math.Sqrt(p1)) - 2*math.Asin(math.Sqrt(p2)))
}

// ExceedanceP returns the probability that k or more of m new values fall
// outside the range [min, max] of n earlier values when all n+m values are
// exchangeable (drawn from one continuous distribution, in any order):
//
//	P_j = m (m−1) … (m−j+1) / (N (N−1) … (N−j+1)),  N = n + m
//	P(K ≥ k) = (k+1) P_k − k P_{k+1}
//
// P_j is the chance that j given extreme positions of the pooled sample all
// hold new values; K ≥ k exactly when, for some a + b = k, the a smallest
// and b largest pooled values are new, and inclusion–exclusion over these
// k+1 nested events gives the sum. Ties (values equal to the training
// minimum or maximum count as inside) only make values outside rarer, so
// the p-value stays valid (conservative) on discrete data. k <= 0 gives 1;
// k > m or n < 1 gives NaN.
func ExceedanceP(k, n, m int64) float64 {
	if k <= 0 {
		return 1
	}
	if k > m || n < 1 {
		return math.NaN()
	}
	N := n + m
	logP := func(j int64) float64 {
		return lgamma(float64(m)+1) - lgamma(float64(m-j)+1) - lgamma(float64(N)+1) + lgamma(float64(N-j)+1)
	}
	// (k+1) P_k − k P_{k+1} = P_k ((k+1) − k (m−k)/(N−k)).
	f := float64(k+1) - float64(k)*float64(m-k)/float64(N-k)
	return math.Min(1, math.Exp(logP(k))*f)
}

// AllEqualP bounds the probability that m values drawn from a distribution
// whose most frequent single value has probability at most pMax all take
// one value:
//
//	Σ_v p_v^m <= pMax^(m−1) Σ_v p_v = pMax^(m−1).
//
// m < 2 gives 1 (one value is always constant).
func AllEqualP(pMax float64, m int64) float64 {
	if m < 2 {
		return 1
	}
	return math.Pow(math.Min(1, math.Max(0, pMax)), float64(m-1))
}
