package drift

import "math"

// The plots' bins span [lo, hi] of the data, and data can reach the ends
// of the float64 range (an observation of 1.7e308 or -1.7e308): hi - lo,
// or (hi - lo) times a bin number, then overflows to +Inf and the bin
// edges become ±Inf or NaN (Inf·0). These helpers compute the same
// values without an intermediate overflow; where nothing overflows they
// give the bits of the plain formulas.

// lerpRatio returns lo + (hi-lo)·num/den (0 <= num <= den, den > 0) for
// finite lo <= hi: finite, within [lo, hi] up to rounding.
func lerpRatio(lo, hi, num, den float64) float64 {
	w := hi - lo
	if !math.IsInf(w, 0) {
		if p := w * num; !math.IsInf(p, 0) {
			return lo + p/den // the plain formula, bit for bit
		}
		return lo + w*(num/den)
	}
	f := num / den
	// hi - lo itself overflows: lo < 0 < hi, so lo·(1-f) and hi·f are
	// finite, of opposite signs, and their sum is too.
	return lo*(1-f) + hi*f
}

// spanRatio returns (x-lo)/(hi-lo) for finite lo < hi and finite x, halving
// the three first when a difference overflows.
func spanRatio(x, lo, hi float64) float64 {
	if w, d := hi-lo, x-lo; !math.IsInf(w, 0) && !math.IsInf(d, 0) {
		return d / w
	}
	return (x/2 - lo/2) / (hi/2 - lo/2)
}

// plotSpan returns a plot's x range for the window [lo, hi] of finite
// values: itself when hi > lo, else a range around the single value lo —
// lo ± 0.5, or ± |lo|/1024 where 0.5 is below lo's precision (|lo| past
// 2^52), clamped to the float64 range — so the bins have a width.
func plotSpan(lo, hi float64) (float64, float64) {
	if hi > lo {
		return lo, hi
	}
	d := 0.5
	if lo-d == lo || lo+d == lo {
		d = math.Abs(lo) / 1024
	}
	lo, hi = math.Max(lo-d, -math.MaxFloat64), math.Min(lo+d, math.MaxFloat64)
	return lo, hi
}

// plotEdges returns the n+1 edges of n equal bins from lo to hi (finite,
// lo < hi): all finite.
func plotEdges(lo, hi float64, n int) []float64 {
	edges := make([]float64, n+1)
	for i := range edges {
		edges[i] = lerpRatio(lo, hi, float64(i), float64(n))
	}
	return edges
}

// plotBin returns the bin, of plotBins equal bins from lo to hi, of x in
// [lo, hi].
func plotBin(x, lo, hi float64) int {
	return min(int(spanRatio(x, lo, hi)*plotBins), plotBins-1)
}
