//go:build !amd64

package step

// subDiv sets dst[i] = (src[i] - m) / s and reports whether any result is
// +Inf or -Inf.
func subDiv(dst, src []float64, m, s float64) bool { return subDivGeneric(dst, src, m, s) }
