package drift

import (
	"math"

	"github.com/normguard/normguard/stats"
)

// Wasserstein returns the first Wasserstein (earth mover's) distance
// between the empirical distributions of ref and cur:
//
//	W1 = ∫ |F_ref(x) - F_cur(x)| dx = Σ_t |F_ref(z_t) - F_cur(z_t)| (z_{t+1} - z_t)
//
// over the merged sorted values z, summed in numpy's order so that it
// matches scipy 1.10's scipy.stats.wasserstein_distance(ref, cur)
// (unweighted) to the last bits. NaN values are dropped first; an ±Inf
// value gives NaN or +Inf as in scipy; an empty sample is an error.
// Identical samples give 0. PValue is NaN. Both samples are copied and
// radix-sorted, then merged in one pass.
func Wasserstein(ref, cur []float64) (Result, error) {
	a, b, err := sortedPair("wasserstein", ref, cur, 1)
	if err != nil {
		return Result{}, err
	}
	return distance(cdfDistance(a, b, 1)), nil
}

// WassersteinNormed returns Wasserstein(ref, cur) divided by the
// population standard deviation (ddof = 0, numpy.std) of ref after
// dropping NaN:
//
//	W1 / std(ref)
//
// a scale-free distance. A constant reference gives +Inf (or NaN when the
// distance is 0 too), as the division does in numpy.
func WassersteinNormed(ref, cur []float64) (Result, error) {
	a, b, err := sortedPair("wasserstein_normed", ref, cur, 1)
	if err != nil {
		return Result{}, err
	}
	_, v := meanVar(DropNaN(ref))
	return distance(cdfDistance(a, b, 1) / math.Sqrt(v)), nil
}

// Energy returns the energy distance between the empirical distributions
// of ref and cur, scipy 1.10's scipy.stats.energy_distance(ref, cur):
//
//	E = √2 · sqrt( ∫ (F_ref(x) - F_cur(x))² dx )
//
// NaN values are dropped first; an empty sample is an error; identical
// samples give 0. PValue is NaN.
func Energy(ref, cur []float64) (Result, error) {
	a, b, err := sortedPair("energy", ref, cur, 1)
	if err != nil {
		return Result{}, err
	}
	return distance(math.Sqrt(2) * math.Sqrt(cdfDistance(a, b, 2))), nil
}

// cdfDistance returns Σ |F_a - F_b|^p · Δz over the merged sorted samples
// (scipy's _cdf_distance before the final root), for p = 1 or 2. Each
// merged value but the last contributes one term, in merged order, so the
// block-pairwise sum sees the same array np.sum does; terms inside a run
// of ties have Δz = 0. On ties the value of a is taken first, as the
// stable merge sort in scipy orders them.
//
// The term of a merged value is added once the next value is known, at
// the top of the following step; the choice of sample is made without a
// branch (see ksStatistic).
func cdfDistance(a, b []float64, p int) float64 {
	n1, n2 := len(a), len(b)
	fn1, fn2 := float64(n1), float64(n2)
	var s blockSum
	term := func(i, j int, dz float64) {
		d := float64(i)/fn1 - float64(j)/fn2
		if p == 1 {
			s.add(math.Abs(d) * dz)
		} else {
			s.add(d * d * dz)
		}
	}
	i, j := 0, 0
	var prev float64
	for i < n1 && j < n2 {
		x, y := a[i], b[j]
		next := min(x, y)
		if i+j > 0 {
			term(i, j, next-prev)
		}
		var takeA int
		if x <= y {
			takeA = 1
		}
		prev = next
		i += takeA
		j += 1 - takeA
	}
	for ; i < n1; i++ {
		if i+j > 0 {
			term(i, j, a[i]-prev)
		}
		prev = a[i]
	}
	for ; j < n2; j++ {
		if i+j > 0 {
			term(i, j, b[j]-prev)
		}
		prev = b[j]
	}
	return s.total()
}

// meanVar returns numpy's mean and population variance of xs (no NaN):
//
//	mean = np.sum(x) / n,  var = np.sum((x - mean)²) / n
//
// both sums in numpy's blocked pairwise order. NaN when xs is empty.
func meanVar(xs []float64) (mean, v float64) {
	n := float64(len(xs))
	if len(xs) == 0 {
		return math.NaN(), math.NaN()
	}
	mean = stats.PairwiseSum(xs) / n
	var s blockSum
	for _, x := range xs {
		d := x - mean
		s.add(d * d)
	}
	return mean, s.total() / n
}
