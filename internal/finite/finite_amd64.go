package finite

import "golang.org/x/sys/cpu"

var hasAVX2 = cpu.X86.HasAVX2

//go:noescape
func anyInfAVX2(p *float64, n int) bool

func anyInf(xs []float64) bool {
	if hasAVX2 && len(xs) > 0 {
		return anyInfAVX2(&xs[0], len(xs))
	}
	return anyInfGeneric(xs)
}
