// Package finite tells whether float64 columns hold infinities, four
// values at a time with AVX2 where the CPU has it.
package finite

import "math"

// AnyInf reports whether xs holds +Inf or -Inf (NaN is not infinite).
func AnyInf(xs []float64) bool { return anyInf(xs) }

// FirstInf returns the index of the first +Inf or -Inf in xs, or -1.
func FirstInf(xs []float64) int {
	if !anyInf(xs) {
		return -1
	}
	for i, x := range xs {
		if math.IsInf(x, 0) {
			return i
		}
	}
	return -1
}

// anyInfGeneric is AnyInf a value at a time.
func anyInfGeneric(xs []float64) bool {
	for _, x := range xs {
		if math.IsInf(x, 0) {
			return true
		}
	}
	return false
}
