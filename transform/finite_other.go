//go:build !amd64

package transform

func anyInf(xs []float64) bool { return anyInfGeneric(xs) }
