package server

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
)

// TestAppendNumberRoundTrips checks that every number written parses back
// (with strconv, as JSON clients do) to the same float64 bits.
func TestAppendNumberRoundTrips(t *testing.T) {
	xs := []float64{0, math.Copysign(0, -1), 1, -1, 0.1, 1e6, 1e15, 1 << 53, 1<<53 + 2, -(1 << 52) - 0.5,
		math.MaxFloat64, math.SmallestNonzeroFloat64, 5e-324, 123456789.125, -3, math.Inf(1), math.Inf(-1), math.NaN()}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 100000 {
		xs = append(xs, math.Float64frombits(rng.Uint64()), math.Round(rng.NormFloat64()*1e6))
	}
	for _, x := range xs {
		b := appendNumber(nil, x)
		if math.IsNaN(x) || math.IsInf(x, 0) {
			// As the CLI's .jsonl writes them: NaN is a missing value.
			want := map[bool]string{true: `"Infinity"`, false: `"-Infinity"`}[x > 0]
			if math.IsNaN(x) {
				want = "null"
			}
			if string(b) != want {
				t.Fatalf("appendNumber(%v) = %s, want %s", x, b, want)
			}
			continue
		}
		var v float64
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatalf("appendNumber(%v) = %s: not JSON: %v", x, b, err)
		}
		if math.Float64bits(v) != math.Float64bits(x) {
			t.Fatalf("appendNumber(%v) = %s, parses back to %v", x, b, v)
		}
	}
}

// TestAppendJSONStringMatchesEncodingJSON compares the hand-written string
// encoder with encoding/json on awkward strings.
func TestAppendJSONStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "plain", `quote " backslash \ slash /`, "tab\tnew\nline\r\x00\x1f",
		"<script>&amp;</script>", "é漢字😀", "bad \xff utf8", "line\u2028sep\u2029", strconv.Quote("x")} {
		want, _ := json.Marshal(s)
		if got := appendJSONString(nil, s); string(got) != string(want) {
			t.Errorf("appendJSONString(%q) = %s, want %s", s, got, want)
		}
	}
}
