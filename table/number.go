package table

import (
	"encoding/binary"
	"math"
	"strconv"
	"unsafe"
)

// parseNumber parses a numeric cell after trimming spaces and tabs: NaN for
// a missing value (see isNA), ok false for text that is not a number.
//
// The text must be a decimal number as pandas' C parser reads one (see
// decimalSyntax). The value is exactly strconv.ParseFloat's: plain decimals with at most 19
// significant digits go through an exact fast path (below); everything else
// through strconv. Out-of-range values give ±Inf (and underflow 0), as
// pandas does.
func parseNumber(cell []byte) (v float64, ok bool) {
	cell = trimSpace(cell)
	if v, ok := parseSimple(cell); ok {
		return v, true
	}
	if isNA(cell) {
		return math.NaN(), true
	}
	// strconv.ParseFloat reads more than pandas does: "4_7.4" as 47.4,
	// "0x1p3" as 8, "NAN" as NaN. pandas reads those as text, so they are
	// not numbers here either.
	if !decimalSyntax(cell) {
		return 0, false
	}
	// strconv.ParseFloat does not retain its argument (its errors copy
	// it), so the bytes need not be copied into a string.
	v, err := strconv.ParseFloat(unsafe.String(unsafe.SliceData(cell), len(cell)), 64)
	if err == nil {
		return v, true
	}
	if ne, isNum := err.(*strconv.NumError); isNum && ne.Err == strconv.ErrRange {
		return v, true
	}
	return 0, false
}

// decimalSyntax reports whether b is a number as pandas' C parser
// (read_csv's default) reads one:
//
//	[+-] digits [. [digits]] [(e|E) [+-] digits]
//	[+-] . digits [(e|E) [+-] digits]
//	[+-] inf, infinity (in any case)
//
// Anything else — underscores between digits, hexadecimal, "nan" in cases
// other than pandas' NA strings (isNA), Unicode digits — is text, as pandas
// reads it. parseSimple takes a subset of this syntax; strconv.ParseFloat
// takes a superset.
func decimalSyntax(b []byte) bool {
	i := 0
	if i < len(b) && (b[i] == '+' || b[i] == '-') {
		i++
	}
	if rest := b[i:]; len(rest) == 3 || len(rest) == 8 {
		if asciiFold(rest, "infinity"[:len(rest)]) {
			return true
		}
	}
	digits := 0
	for ; i < len(b) && b[i]-'0' <= 9; i++ {
		digits++
	}
	if i < len(b) && b[i] == '.' {
		i++
		for ; i < len(b) && b[i]-'0' <= 9; i++ {
			digits++
		}
	}
	if digits == 0 {
		return false
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		exp := i
		for ; i < len(b) && b[i]-'0' <= 9; i++ {
		}
		if i == exp {
			return false
		}
	}
	return i == len(b)
}

// asciiFold reports whether b equals lower, an ASCII lower-case word, in
// any case.
func asciiFold(b []byte, lower string) bool {
	for i, c := range b {
		if c|0x20 != lower[i] {
			return false
		}
	}
	return true
}

// pow10 holds the powers of ten that are exact in float64.
var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// parseSimple parses [+-]digits[.digits] when the result is exact: the
// digits, read as an integer m, satisfy m <= 2^53 and there are at most 22
// of them after the point, so m and 10^k are exact float64 values and one
// IEEE division m / 10^k rounds correctly (Clinger's fast path, the one
// strconv itself takes for such input). ok is false for any other text,
// which the caller hands to strconv.ParseFloat.
func parseSimple(b []byte) (v float64, ok bool) {
	i, neg := 0, false
	if len(b) > 0 && (b[0] == '-' || b[0] == '+') {
		neg = b[0] == '-'
		i++
	}
	// The integer part, then the fraction: each loop ends at its first
	// non-digit, so the only branches that depend on the text are the two
	// loop exits (the fraction's first eight digits go in one step when
	// they are eight). m may wrap past 19 digits; the count below then
	// refuses the text.
	start := i
	var m uint64
	for ; i < len(b); i++ {
		d := b[i] - '0'
		if d > 9 {
			break
		}
		m = m*10 + uint64(d)
	}
	digits, frac := i-start, 0
	if i < len(b) && b[i] == '.' {
		i++
		at := i
		if len(b)-i >= 8 {
			if x := binary.LittleEndian.Uint64(b[i:]); eightDigits(x) {
				m = m*100000000 + eightDigitsValue(x)
				i += 8
			}
		}
		for ; i < len(b); i++ {
			d := b[i] - '0'
			if d > 9 {
				break
			}
			m = m*10 + uint64(d)
		}
		frac = i - at
	}
	digits += frac
	if i != len(b) || digits == 0 || digits > 19 || m > 1<<53 || frac >= len(pow10) {
		return 0, false
	}
	v = float64(m) / pow10[frac]
	if neg {
		v = -v
	}
	return v, true
}

// eightDigits reports whether the eight bytes of x (little endian) are all
// ASCII digits: each high nibble is 3, and stays 3 when 6 is added (which
// carries into the next byte only from a byte that is not a digit).
func eightDigits(x uint64) bool {
	return x&0xf0f0f0f0f0f0f0f0 == 0x3030303030303030 &&
		(x+0x0606060606060606)&0xf0f0f0f0f0f0f0f0 == 0x3030303030303030
}

// eightDigitsValue returns the number the eight ASCII digits of x spell,
// the first byte (lowest in little endian) the most significant, by
// combining neighbouring digits, then pairs, then quadruples.
func eightDigitsValue(x uint64) uint64 {
	x -= 0x3030303030303030
	x = x*10 + x>>8 // pairs in bytes 0, 2, 4, 6
	x = (x&0x000000ff000000ff)*(100+1000000<<32) + (x>>16&0x000000ff000000ff)*(1+10000<<32)
	return x >> 32
}

// maxNALen is the length of the longest of isNAString's strings.
const maxNALen = 8

// isNA reports whether a cell is missing: empty or one of pandas'
// default NA strings (pandas._libs.parsers.STR_NA_VALUES).
func isNA(b []byte) bool {
	if len(b) > maxNALen {
		return false
	}
	return isNAString(string(b))
}

// isNAString is isNA for a string.
func isNAString(s string) bool {
	switch s {
	case "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan",
		"1.#IND", "1.#QNAN", "<NA>", "N/A", "NA", "NULL", "NaN", "None",
		"n/a", "nan", "null":
		return true
	}
	return false
}

// trimSpace trims ASCII spaces and tabs.
func trimSpace(b []byte) []byte {
	if len(b) == 0 || (b[0] > ' ' && b[len(b)-1] > ' ') {
		return b
	}
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// ParseNumber parses a numeric cell as the readers do (spaces and tabs
// trimmed, pandas' missing-value tokens give NaN, out-of-range values
// ±Inf): ok is false for text that is not a number. Readers outside this
// package (parquetio) call it so that every format reads numbers alike.
func ParseNumber(cell []byte) (v float64, ok bool) { return parseNumber(cell) }
