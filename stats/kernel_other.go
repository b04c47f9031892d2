//go:build !amd64

package stats

// leafShifted is leafShiftedGeneric (kernel_amd64.go has the AVX2 form).
func leafShifted(xs []float64, shift float64, r *[2 * npUnroll]float64) int {
	return leafShiftedGeneric(xs, shift, r)
}

// scanColumn folds xs into r (see columnScan).
func scanColumn(xs []float64, r *columnScan) { r.addGeneric(xs) }
