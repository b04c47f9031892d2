package step

import "math"

// subDivGeneric sets dst[i] = (src[i] - m) / s and reports whether any
// result is +Inf or -Inf.
func subDivGeneric(dst, src []float64, m, s float64) bool {
	dst = dst[:len(src)]
	inf := false
	for i, x := range src {
		y := (x - m) / s
		dst[i] = y
		inf = inf || math.IsInf(y, 0)
	}
	return inf
}
