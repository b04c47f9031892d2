package stats

import "math"

// Percentile returns the q-th percentile (0 <= q <= 100) of sorted, which
// must be sorted ascending and hold no NaN, with numpy's default "linear"
// method:
//
//	h = (n-1) * q/100,  i = floor(h),  g = h - i
//	p = lerp(x[i], x[i+1], g)
//
// where lerp(a, b, g) = a + (b-a)*g for g < 0.5 and b - (b-a)*(1-g)
// otherwise, as numpy 1.24's _lerp computes it. It returns NaN for an
// empty slice. Matches numpy.percentile / numpy.nanpercentile (after
// dropping NaN) bit for bit for finite data.
func Percentile(sorted []float64, q float64) float64 {
	return Quantile(sorted, q/100)
}

// Quantile is Percentile with q in [0, 1] (numpy.quantile).
func Quantile(sorted []float64, q float64) float64 {
	n := len(sorted)
	if n == 0 {
		return math.NaN()
	}
	h := float64(n-1) * q
	fi := math.Floor(h)
	g := h - fi
	i := int(fi)
	if i < 0 {
		i, g = 0, 0
	}
	if i >= n-1 {
		return sorted[n-1]
	}
	return lerp(sorted[i], sorted[i+1], g)
}

// lerp interpolates as numpy 1.24's _lerp does.
func lerp(a, b, g float64) float64 {
	d := b - a
	if g >= 0.5 {
		return b - d*(1-g)
	}
	return a + d*g
}
