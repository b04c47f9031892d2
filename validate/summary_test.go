package validate

import (
	"math"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/normguard/normguard/profile"
	"github.com/normguard/normguard/spec"
	"github.com/normguard/normguard/step"
	"github.com/normguard/normguard/table"
)

// TestSummaryAccMatchesSummarize cuts columns into random chunks, adds
// them and merges the accumulators in random orders, and checks that
// Finish equals Summarize over the whole column, for numeric columns (read
// as numbers, or as text holding type errors), -0/+0 ties, constant
// columns and categorical columns with and without known categories.
func TestSummaryAccMatchesSummarize(t *testing.T) {
	lo, hi := step.Float(-1), step.Float(1)
	num := &profile.Feature{Name: "x", Type: spec.TypeNumeric, Min: &lo, Max: &hi}
	cat := &profile.Feature{Name: "c", Type: spec.TypeCategorical,
		Categories: &profile.Counts{Values: []string{"a", "b"}, Counts: []int64{5, 3}, Other: 2}}
	rng := rand.New(rand.NewPCG(3, 4))
	numbers := func(n int, pick []float64) table.Column {
		c := table.Column{Name: "x", Kind: table.Numeric, Num: make([]float64, n)}
		for i := range c.Num {
			c.Num[i] = pick[rng.IntN(len(pick))]
		}
		return c
	}
	texts := func(name string, n int, pick []string) table.Column {
		c := table.Column{Name: name, Kind: table.String, Str: make([]string, n), Null: make([]bool, n)}
		for i := range c.Str {
			c.Str[i] = pick[rng.IntN(len(pick))]
			c.Null[i] = c.Str[i] == ""
		}
		return c
	}
	cases := []struct {
		name  string
		p     *profile.Feature
		col   table.Column
		known []string
	}{
		{"numbers", num, numbers(300, []float64{math.NaN(), -2, 0.5, math.Copysign(0, -1), 0, 3, 0.25}), nil},
		{"signed zeros", num, numbers(200, []float64{math.Copysign(0, -1), 0, math.NaN()}), nil},
		{"constant", num, numbers(100, []float64{0.5, math.NaN()}), nil},
		{"numbers as text", num, texts("x", 300, []string{"", "1", "abc", "-0", "0", "x1", "7", "y", "z", "w", "v", "u"}), nil},
		{"categories known", cat, texts("c", 300, []string{"", "a", "b", "q", "r", "s", "t", "u", "v", "w"}), []string{"a", "b"}},
		{"categories unknown", cat, texts("c", 300, []string{"", "a", "b", "q", "r"}), nil},
		{"one category", cat, texts("c", 50, []string{"", "q"}), []string{"a"}},
	}
	for _, tc := range cases {
		want, err := Summarize(tc.p, &tc.col, tc.known)
		if err != nil {
			t.Fatal(err)
		}
		n := tc.col.Len()
		for trial := range 30 {
			var accs []*SummaryAcc
			for lo := 0; lo < n; {
				hi := min(n, lo+1+rng.IntN(max(1, n/(1+trial%7))))
				part := tc.col.Slice(lo, hi)
				a := &SummaryAcc{}
				if err := a.Add(tc.p, &part, tc.known, int64(lo)); err != nil {
					t.Fatal(err)
				}
				accs = append(accs, a)
				lo = hi
			}
			for len(accs) > 1 {
				i := rng.IntN(len(accs))
				j := rng.IntN(len(accs) - 1)
				if j >= i {
					j++
				}
				accs[i].Merge(accs[j])
				accs = append(accs[:j], accs[j+1:]...)
			}
			got, err := accs[0].Finish(tc.p, tc.known)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) && !sameSummary(got, want) {
				t.Fatalf("%s, trial %d: got %+v, want %+v", tc.name, trial, got, want)
			}
		}
	}
}

// sameSummary compares summaries with NaN equal to NaN and -0 apart from
// +0 (reflect.DeepEqual fails on NaN fields).
func sameSummary(a, b Summary) bool {
	bits := func(x float64) uint64 {
		if x != x {
			return 1
		}
		return math.Float64bits(x)
	}
	if bits(a.Min) != bits(b.Min) || bits(a.Max) != bits(b.Max) {
		return false
	}
	a.Min, a.Max, b.Min, b.Max = 0, 0, 0, 0
	return reflect.DeepEqual(a, b)
}

// TestSummaryAccEmpty pins the summary of a column nothing was added to.
func TestSummaryAccEmpty(t *testing.T) {
	var a SummaryAcc
	a.Merge(&SummaryAcc{})
	s, err := a.Finish(&profile.Feature{Name: "x", Type: spec.TypeNumeric}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "x" || s.Rows != 0 || s.Min == s.Min || s.Max == s.Max {
		t.Fatalf("got %+v, want no rows and NaN min and max", s)
	}
}
