//go:build !amd64

package step

// subDiv sets dst[i] = (src[i] - m) / s.
func subDiv(dst, src []float64, m, s float64) { subDivGeneric(dst, src, m, s) }
