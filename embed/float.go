package embed

import "math"

// exactIn reports whether the finite non-zero value v is exactly
// representable in a binary floating-point format with fracBits stored
// fraction bits and normal exponents minExp..maxExp (subnormals down to
// 2^(minExp-fracBits)), by looking at the bits of v: the fraction bits
// the format lacks must be zero.
func exactIn(v float64, fracBits, minExp, maxExp int) bool {
	b := math.Float64bits(v)
	e := int(b>>52&0x7ff) - 1023
	if e > maxExp || e < minExp-fracBits || e == -1023 {
		return false
	}
	keep := fracBits
	if e < minExp {
		keep = fracBits - (minExp - e) // subnormal in the target format
	}
	return b&(1<<(52-keep)-1) == 0
}

// exactFloat16 reports whether the finite non-zero v is an IEEE 754
// binary16 value (10 fraction bits, exponents −14..15).
func exactFloat16(v float64) bool { return exactIn(v, 10, -14, 15) }

// exactBFloat16 reports whether the finite non-zero v is a bfloat16 value
// (7 fraction bits, float32's exponents −126..127).
func exactBFloat16(v float64) bool { return exactIn(v, 7, -126, 127) }
