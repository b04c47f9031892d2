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
		// Syntax strconv.ParseFloat takes but pandas reads as text (issue
		// 12, F13): underscores, hexadecimal, "nan" in other cases.
		{"4_7.4", 0, false},
		{"1_000", 0, false},
		{"0x10", 0, false},
		{"0x1p3", 0, false},
		{"NAN", 0, false},
		{"nAn", 0, false},
		{"+nan", 0, false},
		{"infinit", 0, false},
		{"1e", 0, false},
		{"1e+", 0, false},
		{".e3", 0, false},
		{"1d5", 0, false},
		{"\u0663", 0, false}, // an Arabic-Indic digit three
		{"1.e3", 1000, true},
		{"1E+05", 100000, true},
		{"+.5e-1", 0.05, true},
		{"iNf", math.Inf(1), true},
		{"+INFINITY", math.Inf(1), true},
		{"1e99999999999", math.Inf(1), true},
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

// BenchmarkParseNumber parses cells shaped like the benchmark table's
// (bench/gendata): six-decimal normals and uniforms, four-decimal
// log-normals and small counts.
func BenchmarkParseNumber(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	// Cells are cut from one line, as the CSV reader cuts them from its
	// block.
	cells := make([][]byte, 4096)
	var line []byte
	at := make([]int, len(cells)+1)
	for i := range cells {
		var v float64
		prec := 6
		switch i % 4 {
		case 0:
			v = rng.NormFloat64() * 50
		case 1:
			v, prec = math.Exp(rng.NormFloat64()), 4
		case 2:
			v = rng.Float64() * 500
		case 3:
			v, prec = float64(rng.IntN(200)), 0
		}
		line = strconv.AppendFloat(line, v, 'f', prec, 64)
		at[i+1] = len(line)
		line = append(line, ',')
	}
	for i := range cells {
		cells[i] = line[at[i]+min(i, 1) : at[i+1]]
	}
	b.SetBytes(int64(len(cells)))
	b.ResetTimer()
	var sum float64
	for b.Loop() {
		for _, c := range cells {
			v, _ := parseNumber(c)
			sum += v
		}
	}
	if sum == 0 {
		b.Log(sum)
	}
}
