package stats

import (
	"math"
	"slices"
)

// QuantilesOf returns numpy's linear quantiles (see Quantile) of the
// non-NaN values of xs at the probabilities ps (each in [0, 1]), exactly,
// without sorting all of xs: the order statistics the interpolation reads
// are found by radix selection. NaN for each p when xs has no value. xs is
// not modified.
func QuantilesOf(xs []float64, ps []float64) []float64 {
	n := 0
	for _, x := range xs {
		if x == x {
			n++
		}
	}
	out := make([]float64, len(ps))
	if n == 0 {
		for i := range out {
			out[i] = math.NaN()
		}
		return out
	}
	need := map[int]bool{}
	for _, p := range ps {
		i := min(max(int(math.Floor(float64(n-1)*p)), 0), n-1)
		need[i] = true
		if i+1 < n {
			need[i+1] = true
		}
	}
	ranks := make([]int, 0, len(need))
	for k := range need {
		ranks = append(ranks, k)
	}
	slices.Sort(ranks)
	found := radixSelect(xs, ranks) // skips the NaNs: no copy of xs
	at := make(map[int]float64, len(ranks))
	for i, k := range ranks {
		at[k] = found[i]
	}
	for i, p := range ps {
		out[i] = quantileAt(n, p, func(k int) float64 { return at[k] })
	}
	return out
}
