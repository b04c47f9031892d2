package embed

import (
	"math"
	"testing"
)

func TestExactFloat16(t *testing.T) {
	cases := []struct {
		v         float64
		f16, bf16 bool
	}{
		{1, true, true},
		{-0.5, true, true},
		{65504, true, false}, // float16's largest value needs 11 significant bits
		{65520, false, false},
		{1 + 1.0/1024, true, false},
		{1 + 1.0/2048, false, false},
		{1 + 1.0/128, true, true},
		{0x1p-14, true, true},     // smallest normal float16
		{0x1p-24, true, true},     // smallest subnormal float16
		{0x1p-25, false, true},    // below float16's range
		{3 * 0x1p-24, true, true}, // subnormal with two bits
		{0x1p-15 + 0x1p-24, true, false},
		{0x1p-15 + 0x1p-25, false, false},
		{0.1, false, false},
		{float64(float32(0.1)), false, false},
		{1e30, false, false},
	}
	for _, c := range cases {
		if got := exactFloat16(c.v); got != c.f16 {
			t.Errorf("exactFloat16(%g) = %v, want %v", c.v, got, c.f16)
		}
		if got := exactBFloat16(c.v); got != c.bf16 {
			t.Errorf("exactBFloat16(%g) = %v, want %v", c.v, got, c.bf16)
		}
	}
	// Every finite float16 bit pattern is exact; its neighbours halfway are not.
	for h := uint16(1); h < 0x7c00; h++ {
		v := half(h)
		if !exactFloat16(v) {
			t.Fatalf("float16 %#04x = %g not exact", h, v)
		}
		if next := half(h + 1); h+1 < 0x7c00 && exactFloat16((v+next)/2) {
			t.Fatalf("midpoint of %#04x exact", h)
		}
	}
}

// half decodes an IEEE binary16 bit pattern (no sign, finite).
func half(h uint16) float64 {
	e := int(h >> 10)
	f := float64(h & 0x3ff)
	if e == 0 {
		return math.Ldexp(f, -24)
	}
	return math.Ldexp(1+f/1024, e-15)
}
