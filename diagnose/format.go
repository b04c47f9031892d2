package diagnose

import (
	"math"
	"strconv"
	"strings"
)

// sigDigits is how many significant digits explanations print; the
// evidence keeps every number in full.
const sigDigits = 4

// fmtNum formats x for an explanation: sigDigits significant digits,
// trailing zeros dropped, plain decimals from 0.001 to 10^7 (the integer
// part always whole) and exponent form outside; "NaN", "+Inf", "-Inf".
//
//	3.09104 -> 3.091, 12345.678 -> 12346, 0.0001234 -> 1.234e-04
func fmtNum(x float64) string {
	switch {
	case math.IsNaN(x) || math.IsInf(x, 0):
		return strconv.FormatFloat(x, 'g', -1, 64)
	case x == 0:
		return "0"
	}
	a := math.Abs(x)
	if a < 1e-3 || a >= 1e7 {
		return strconv.FormatFloat(x, 'e', sigDigits-1, 64)
	}
	digits := max(0, sigDigits-1-int(math.Floor(math.Log10(a))))
	s := strconv.FormatFloat(x, 'f', digits, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	if s == "-0" {
		s = "0"
	}
	return s
}

// affineText writes (x - center) / scale for an explanation with the
// signs folded: a negative center reads x + |center|, a zero center x
// alone, a negative scale is parenthesised.
//
//	affineText("x", -3.2, 5.4) == "(x + 3.2) / 5.4"
func affineText(x string, center, scale float64) string {
	num := x
	switch {
	case center > 0:
		num = "(" + x + " - " + fmtNum(center) + ")"
	case center < 0:
		num = "(" + x + " + " + fmtNum(-center) + ")"
	}
	den := fmtNum(scale)
	if scale < 0 {
		den = "(" + den + ")"
	}
	return num + " / " + den
}
