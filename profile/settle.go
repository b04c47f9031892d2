package profile

import (
	"math"

	"github.com/normguard/normguard/stats"
)

// SettleLevel bounds the chance that a category of an ordinary count is
// settled (SettledCategories) by luck alone, over all the profile's
// distinct categories: each is held to SettleLevel / Distinct.
const SettleLevel = 0.01

// SettledCategories returns how many of the kept categories (a prefix of
// Values, which are sorted by count) stand clearly above what luck gives a
// category of an ordinary count, in a profile that did not keep every
// category (Other above 0). With Other 0 (every category kept) it returns
// len(Counts).
//
// Those were kept whatever their luck in the training sample; a category
// nearer the cut (the smallest kept count) may have been kept because it
// came out high there, so a new sample of the same distribution tends to
// hold fewer of it (attack run 27 F1). A comparison with a new sample that
// counts the other kept categories with "other", in both samples, is not
// biased by the choice of the top categories.
//
// The rule, with d = Distinct categories and S the settled ones (none at
// first), repeated until S stops growing:
//
//	λ   = max(cut, (rows outside S) / (d − |S|))
//	bar = the smallest k with P(Poisson(λ) ≥ k) ≤ SettleLevel / d
//	S   = the kept categories with a count of at least bar
//
// λ is the count of an ordinary category: the cut where many categories
// lie at or below it, the mean count of the categories outside S where the
// cut is in their lower tail (sparse columns: 120 equally frequent
// categories in 300 rows are kept down to a count of 1 while their mean is
// 2.5, and a bar of 1 plus a few standard deviations of a count at the cut
// let the luckiest through: 17 of 20 such pairs flagged, attack run 32 F6).
// Each category of the mean is settled with a chance of at most
// SettleLevel / d, so about none of d is. The settled categories are
// left out of the mean because they are not ordinary: each round lowers
// λ, so S only grows. The Poisson tail is summed exactly up to λ = 10⁶
// and read from its Cornish–Fisher expansion beyond (poissonBar).
func (c *Counts) SettledCategories() int {
	if c.Other == 0 || len(c.Counts) == 0 {
		return len(c.Counts)
	}
	d := float64(max(c.Distinct, int64(len(c.Counts))+1))
	level := SettleLevel / d
	cut := float64(c.Counts[len(c.Counts)-1])
	outside := float64(c.Other)
	for _, n := range c.Counts {
		outside += float64(n)
	}
	n := 0
	for {
		bar := poissonBar(math.Max(cut, outside/(d-float64(n))), level)
		m := n
		for m < len(c.Counts) && float64(c.Counts[m]) >= bar {
			outside -= float64(c.Counts[m])
			m++
		}
		if m == n {
			return n
		}
		n = m
	}
}

// OutsideSettled returns the settled categories (SettledCategories) and
// the training count of values outside them: Other and the counts of the
// kept categories nearer the cut. A sample of the training distribution
// has about that share outside them, where its share outside every kept
// category is larger (those near the cut were kept for their luck).
func (c *Counts) OutsideSettled() (settled int, outside int64) {
	settled = c.SettledCategories()
	outside = c.Other
	for _, n := range c.Counts[settled:] {
		outside += n
	}
	return settled, outside
}

// poissonExactMax is the largest mean whose Poisson tail poissonBar sums
// term by term (about 12·sqrt(λ) terms).
const poissonExactMax = 1e6

// poissonBar returns the smallest count k with P(X ≥ k) ≤ level for X of
// a Poisson distribution of mean lam:
//
//	P(X ≥ k) = Σ_{j ≥ k} e^−λ λ^j / j!
//
// summed from j = λ + 12·sqrt(λ) + 40 (where the terms left out are far
// below any level used) down, each term from the one above (p(j−1) =
// p(j)·j/λ). For lam above poissonExactMax it reads the quantile from the
// Cornish–Fisher expansion of the Poisson distribution (skewness λ^−1/2,
// excess kurtosis 1/λ) with a continuity correction, whose error there
// is far below one count. A mean of 0 or less (or NaN) gives 1: any count
// is above it. Matches scipy.stats.poisson.isf(level, lam) + 1 (scipy
// 1.10).
func poissonBar(lam, level float64) float64 {
	if !(lam > 0) {
		return 1
	}
	if lam > poissonExactMax {
		z := -stats.NormPPF(level)
		g := 1 / math.Sqrt(lam)
		x := z + (z*z-1)*g/6 + (z*z*z-3*z)*g*g/24 - (2*z*z*z-5*z)*g*g/36
		// P(X ≤ m) ≥ 1 − level from m + 1/2 ≥ λ + x·sqrt(λ)
		return math.Max(1, math.Ceil(lam+x*math.Sqrt(lam)-0.5)+1)
	}
	top := math.Ceil(lam + 12*math.Sqrt(lam) + 40)
	lg, _ := math.Lgamma(top + 1)
	p := math.Exp(top*math.Log(lam) - lam - lg)
	tail := 0.0
	for k := top; k > 0; k-- {
		tail += p
		if tail > level {
			return k + 1
		}
		p *= k / lam
	}
	return 1
}
