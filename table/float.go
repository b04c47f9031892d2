package table

import "math"

// AppendFloat appends the CSV text of v to dst and returns the result: the
// shortest decimal that parses back (strconv.ParseFloat) to exactly v.
//
//	NaN              -> "" (a missing cell)
//	+Inf, -Inf       -> "inf", "-inf"
//	v == 0 or 1e-4 <= |v| < 1e16 -> fixed notation: 3 -> "3", 0.5 -> "0.5", -0 -> "-0"
//	otherwise        -> exponent notation: 1e-05, 1.5e+16
//
// The switch points are Python's repr, so numbers read like pandas output
// (without its trailing ".0" on integral values).
func AppendFloat(dst []byte, v float64) []byte {
	switch {
	case math.IsNaN(v):
		return dst
	case math.IsInf(v, 1):
		return append(dst, "inf"...)
	case math.IsInf(v, -1):
		return append(dst, "-inf"...)
	}
	a := math.Abs(v)
	return appendShortest(dst, v, a == 0 || (a >= 1e-4 && a < 1e16))
}
