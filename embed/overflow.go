package embed

import (
	"fmt"
	"math"
)

// MaxSquaredNorm is the largest squared L2 norm ‖x‖² = x·x of a vector
// that can be compared with others in float64: the squared distance
// between two such vectors, ‖x−y‖² ≤ (‖x‖+‖y‖)² ≤ 4·max(‖x‖², ‖y‖²), and
// every dot product, mean and mean distance of them stay finite. Past it
// (‖x‖ above about 6.7e153) the values are too large to compare: a
// distance, a kernel value or a norm computed from them overflows to
// +Inf, and a statistic built on it becomes NaN. Checking it costs one
// dot product per vector, which the finiteness check of the values took
// as well.
const MaxSquaredNorm = math.MaxFloat64 / 4

// tooLarge reports whether the squared norm ss of a vector with finite
// values is past MaxSquaredNorm (+Inf when x·x overflowed).
func tooLarge(ss float64) bool { return ss > MaxSquaredNorm }

// largestAbs returns the largest |value| of row.
func largestAbs(row []float64) float64 {
	m := 0.0
	for _, v := range row {
		m = max(m, math.Abs(v))
	}
	return m
}

// rowValues checks one row of a statistic's input: a NaN or ±Inf value is
// an error naming the row and dimension (what), values too large to
// compare (a squared norm past MaxSquaredNorm) another; both wrap
// ErrInvalid. The finite row costs one dot product.
func rowValues(op, what string, i int, row []float64) error {
	ss := dot(row, row)
	if ss <= MaxSquaredNorm { // false for NaN
		return nil
	}
	for a, v := range row {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("%s: %s row %d, dimension %d: value %v; drop vectors with NaN or infinite values first (check reports them as nan_vectors): %w", op, what, i, a, v, ErrInvalid)
		}
	}
	return fmt.Errorf("%s: %s row %d: values too large to compare: ‖x‖² %s (largest |value| %.4g), past %.4g, beyond which distances between vectors overflow float64; rescale the vectors (check reports them as nan_vectors): %w",
		op, what, i, squared(ss), largestAbs(row), MaxSquaredNorm, ErrInvalid)
}

// squared writes a squared norm for a message.
func squared(ss float64) string {
	if math.IsInf(ss, 0) {
		return "overflows float64"
	}
	return fmt.Sprintf("is %.4g", ss)
}

// finiteAll reports whether every value of xs is finite.
func finiteAll(xs ...float64) bool {
	for _, x := range xs {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return false
		}
	}
	return true
}
