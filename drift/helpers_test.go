package drift

import "math"

// Tolerances of the acceptance bar: statistics within 1e-7 relative,
// p-values within 1e-5 absolute or relative.
const (
	statTol = 1e-7
	pTol    = 1e-5
)

// closeRel reports |got - want| <= tol·|want| (NaN matches NaN, and equal
// infinities match).
func closeRel(got, want, tol float64) bool {
	if math.IsNaN(want) || math.IsNaN(got) {
		return math.IsNaN(want) && math.IsNaN(got)
	}
	if got == want {
		return true
	}
	return math.Abs(got-want) <= tol*math.Abs(want)
}

// closeP reports |got - want| <= tol·max(1, |want|)... no: within tol
// absolute or tol relative, whichever is looser.
func closeP(got, want, tol float64) bool {
	if math.IsNaN(want) || math.IsNaN(got) {
		return math.IsNaN(want) && math.IsNaN(got)
	}
	d := math.Abs(got - want)
	return d <= tol || d <= tol*math.Abs(want)
}
