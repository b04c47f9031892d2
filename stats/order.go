package stats

import "math"

// SortedFinite returns a sorted copy of xs without its NaN values (±Inf are
// kept, at the ends). The copy is a new slice; xs is not modified.
func SortedFinite(xs []float64) []float64 {
	out := make([]float64, 0, len(xs))
	for _, x := range xs {
		if !math.IsNaN(x) {
			out = append(out, x)
		}
	}
	SortFloats(out)
	return out
}

// Median returns the median of sorted, which must be sorted ascending and
// hold no NaN:
//
//	median = x[n/2]                    for odd n
//	median = (x[n/2-1] + x[n/2]) / 2   for even n
//
// the middle pair averaged as numpy.mean of two values computes it (sum,
// then divide). It is NaN for an empty slice. Matches numpy.median and
// numpy.nanmedian (after dropping NaN).
func Median(sorted []float64) float64 {
	n := len(sorted)
	switch {
	case n == 0:
		return math.NaN()
	case n%2 == 1:
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}
