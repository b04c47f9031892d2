package transform

var hasAVX2 = cpuHasAVX2()

//go:noescape
func anyInfAVX2(p *float64, n int) bool

func cpuHasAVX2() bool

// anyInf reports whether xs holds +Inf or -Inf, four values at a time on
// amd64 with AVX2.
func anyInf(xs []float64) bool {
	if hasAVX2 && len(xs) > 0 {
		return anyInfAVX2(&xs[0], len(xs))
	}
	return anyInfGeneric(xs)
}
