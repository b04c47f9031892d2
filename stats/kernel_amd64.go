package stats

import "golang.org/x/sys/cpu"

// hasAVX2 reports whether the CPU and OS support AVX2.
var hasAVX2 = cpu.X86.HasAVX2

//go:noescape
func leafShiftedAVX2(xs *float64, n int, shift float64, r *[2 * npUnroll]float64) int

// leafShifted sets r[j] and r[8+j] to the sums pairwise's leaf keeps in
// its eight partial sums r[j] (values j, j+8, j+16, ... summed in order,
// starting from value j itself) for the values d = nanShifted(x, shift)
// of xs and for their squares d*d, and returns the number of values of
// xs that are not NaN. len(xs) is a positive multiple of 8. With AVX2 it
// runs as two lanes of four partial sums each; every lane adds as the
// scalar code does, so the bits are the same (a test checks).
func leafShifted(xs []float64, shift float64, r *[2 * npUnroll]float64) int {
	if hasAVX2 {
		return leafShiftedAVX2(&xs[0], len(xs), shift, r)
	}
	return leafShiftedGeneric(xs, shift, r)
}

//go:noescape
func columnScanAVX2(xs *float64, n int, r *columnScan)

// scanColumn folds xs into r (see columnScan); with AVX2 four lanes at a
// time, each lane's minimum and maximum taken by VMINPD/VMAXPD, which
// compare as < and > do.
func scanColumn(xs []float64, r *columnScan) {
	if m := len(xs) &^ 3; hasAVX2 && m > 0 {
		var v columnScan
		columnScanAVX2(&xs[0], m, &v)
		r.merge(&v)
		xs = xs[m:]
	}
	r.addGeneric(xs)
}
