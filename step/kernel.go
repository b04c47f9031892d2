package step

// subDivGeneric sets dst[i] = (src[i] - m) / s.
func subDivGeneric(dst, src []float64, m, s float64) {
	dst = dst[:len(src)]
	for i, x := range src {
		dst[i] = (x - m) / s
	}
}
