//go:build !amd64

package finite

func anyInf(xs []float64) bool { return anyInfGeneric(xs) }
