package table

import (
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

func TestParseNumber(t *testing.T) {
	tests := []struct {
		in   string
		want float64 // NaN: missing
		ok   bool
	}{
		{"3", 3, true},
		{"-0", math.Copysign(0, -1), true},
		{"+1.5", 1.5, true},
		{".5", 0.5, true},
		{"5.", 5, true},
		{" 2 ", 2, true},
		{"\t-7.25\t", -7.25, true},
		{"1e3", 1000, true},
		{"9007199254740993", 9007199254740992, true}, // 2^53+1 rounds to even, as strconv does
		{"0.1", 0.1, true},
		{"123456789012345678901234567890", 1.2345678901234568e29, true},
		{"1e400", math.Inf(1), true},
		{"-1e400", math.Inf(-1), true},
		{"1e-400", 0, true},
		{"inf", math.Inf(1), true},
		{"-Infinity", math.Inf(-1), true},
		{"NaN", math.NaN(), true},
		{"", math.NaN(), true},
		{"   ", math.NaN(), true},
		{" NA ", math.NaN(), true},
		{"#N/A", math.NaN(), true},
		{"-1.#IND", math.NaN(), true},
		{"abc", 0, false},
		{"1,5", 0, false},
		{"1.2.3", 0, false},
		{"--1", 0, false},
		{".", 0, false},
		{"-", 0, false},
		{"na", 0, false},
	}
	for _, tc := range tests {
		got, ok := parseNumber([]byte(tc.in))
		if ok != tc.ok {
			t.Errorf("parseNumber(%q): got ok %v, want %v", tc.in, ok, tc.ok)
			continue
		}
		if !ok {
			continue
		}
		if math.IsNaN(tc.want) != math.IsNaN(got) || !math.IsNaN(got) && math.Float64bits(got) != math.Float64bits(tc.want) {
			t.Errorf("parseNumber(%q): got %v, want %v", tc.in, got, tc.want)
		}
	}
}

// TestParseNumberMatchesStrconv checks the fast path against
// strconv.ParseFloat, the reference, bit for bit.
func TestParseNumberMatchesStrconv(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var sb strings.Builder
	for i := 0; i < 300000; i++ {
		sb.Reset()
		switch rng.IntN(3) {
		case 0:
			sb.WriteString("-")
		case 1:
			sb.WriteString("+")
		}
		intDigits, fracDigits := rng.IntN(20), rng.IntN(25)
		for k := 0; k < intDigits; k++ {
			sb.WriteByte(byte('0' + rng.IntN(10)))
		}
		if fracDigits > 0 || rng.IntN(2) == 0 {
			sb.WriteByte('.')
		}
		for k := 0; k < fracDigits; k++ {
			sb.WriteByte(byte('0' + rng.IntN(10)))
		}
		s := sb.String()
		want, err := strconv.ParseFloat(s, 64)
		got, ok := parseNumber([]byte(s))
		if err != nil {
			if ok && !isNA([]byte(s)) {
				t.Fatalf("parseNumber(%q): got %v, want an error as strconv gives (%v)", s, got, err)
			}
			continue
		}
		if !ok || math.Float64bits(got) != math.Float64bits(want) {
			t.Fatalf("parseNumber(%q): got %v (ok %v), want %v", s, got, ok, want)
		}
	}
}
