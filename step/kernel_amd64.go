package step

import "golang.org/x/sys/cpu"

// hasAVX2 reports whether the CPU and OS support AVX2.
var hasAVX2 = cpu.X86.HasAVX2

//go:noescape
func subDivAVX2(dst, src *float64, n int, m, s float64) bool

// subDiv sets dst[i] = (src[i] - m) / s, the standard and robust scalers'
// kernel. On amd64 with AVX2 it runs four lanes at a time; every lane is
// rounded as the scalar expression is, so the bits are the same (a test
// checks). dst and src have equal lengths and may be the same slice. It
// reports whether any result is +Inf or -Inf (an overflow).
func subDiv(dst, src []float64, m, s float64) bool {
	if hasAVX2 && len(src) > 0 {
		return subDivAVX2(&dst[0], &src[0], len(src), m, s)
	}
	return subDivGeneric(dst, src, m, s)
}
