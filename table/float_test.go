package table

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
)

func TestAppendFloatReference(t *testing.T) {
	// Reference texts are Python's repr(float) (/usr/bin/python3 -c 'print(repr(v))'),
	// with the ".0" Python adds to integral fixed-notation values dropped.
	tests := []struct {
		v    float64
		want string
	}{
		{3, "3"},
		{0.5, "0.5"},
		{0, "0"},
		{math.Copysign(0, -1), "-0"},
		{100, "100"},
		{0.1, "0.1"},
		{1.0 / 3, "0.3333333333333333"},
		{0.30000000000000004, "0.30000000000000004"},
		{0.0001, "0.0001"},
		{0.00011, "0.00011"},
		{9.5e-05, "9.5e-05"},
		{1e-05, "1e-05"},
		{-1.2345e-07, "-1.2345e-07"},
		{123456789.123, "123456789.123"},
		{1e15, "1000000000000000"},
		{9007199254740992, "9007199254740992"},
		{9999999999999998, "9999999999999998"},
		{1e16, "1e+16"},
		{1.5e16, "1.5e+16"},
		{1e22, "1e+22"},
		{5e-324, "5e-324"},
		{2.2250738585072014e-308, "2.2250738585072014e-308"},
		{math.MaxFloat64, "1.7976931348623157e+308"},
		// normguard's own conventions, from AppendFloat's contract.
		{math.NaN(), ""},
		{math.Inf(1), "inf"},
		{math.Inf(-1), "-inf"},
	}
	for _, tc := range tests {
		if got := string(AppendFloat(nil, tc.v)); got != tc.want {
			t.Errorf("AppendFloat(%v): got %q, want %q", tc.v, got, tc.want)
		}
	}
	if got := string(AppendFloat([]byte("x="), 2)); got != "x=2" {
		t.Errorf("AppendFloat appends: got %q, want %q", got, "x=2")
	}
}

func TestAppendFloatRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	check := func(v float64) {
		t.Helper()
		s := string(AppendFloat(nil, v))
		got, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatalf("AppendFloat(%b) = %q does not parse: %v", v, s, err)
		}
		if math.Float64bits(got) != math.Float64bits(v) {
			t.Fatalf("AppendFloat(%b) = %q parses to %b, want the same bits", v, s, got)
		}
	}
	special := []float64{0, math.Copysign(0, -1), math.SmallestNonzeroFloat64, -math.SmallestNonzeroFloat64,
		0x1p-1022, math.Nextafter(0x1p-1022, 0), math.MaxFloat64, -math.MaxFloat64, math.Inf(1), math.Inf(-1),
		1e-4, math.Nextafter(1e-4, 0), 1e16, math.Nextafter(1e16, 0), 1 << 53, 1<<53 + 2}
	for _, v := range special {
		check(v)
	}
	for i := 0; i < 200000; i++ {
		bits := rng.Uint64()
		if i%4 == 0 {
			bits &^= 0x7ff << 52 // subnormals and zeros
		}
		v := math.Float64frombits(bits)
		if math.IsNaN(v) {
			continue
		}
		check(v)
		// Around the fixed/exponent switch points and ordinary magnitudes.
		check(math.Ldexp(rng.Float64(), rng.IntN(120)-60))
	}
}
