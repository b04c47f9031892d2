package profile

import (
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"sort"
	"testing"

	"github.com/normguard/normguard/stats"
	"github.com/normguard/normguard/table"
)

// ranges splits [0, n) into consecutive ranges of random lengths up to
// most (at least one row each), in a random order.
func ranges(rng *rand.Rand, n, most int) [][2]int {
	var out [][2]int
	for at := 0; at < n; {
		l := min(n-at, 1+rng.IntN(most))
		out = append(out, [2]int{at, at + l})
		at += l
	}
	rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// mergedNumeric profiles xs as a distributed fit does: each pass adds row
// ranges to separate accumulators (starting from the zero value, as a
// Beam Combine does), merged in a random order.
func mergedNumeric(t *testing.T, rng *rand.Rand, name string, xs []float64, most int) Feature {
	t.Helper()
	n := int64(len(xs))
	var first NumericAcc
	for _, r := range ranges(rng, len(xs), most) {
		a := NewNumericAcc(n)
		a.Add(int64(r[0]), xs[r[0]:r[1]])
		if err := first.Merge(&a); err != nil {
			t.Fatal(err)
		}
	}
	plan := first.Plan()
	var second NumericCounts
	for _, r := range ranges(rng, len(xs), most) {
		c := plan.Counts()
		if err := c.Add(int64(r[0]), xs[r[0]:r[1]]); err != nil {
			t.Fatal(err)
		}
		if err := second.Merge(&c); err != nil {
			t.Fatal(err)
		}
	}
	p, err := NumericFeature(name, &first, &second)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func jsonOf(t *testing.T, p Feature) string {
	t.Helper()
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestMergedNumericMatchesColumn checks that the profile merged from row
// ranges of any size, in any order, is Column's, byte for byte.
func TestMergedNumericMatchesColumn(t *testing.T) {
	nan, inf, negz := math.NaN(), math.Inf(1), math.Copysign(0, -1)
	tiny := math.SmallestNonzeroFloat64
	rng := rand.New(rand.NewPCG(7, 8))
	big := func(n int, gen func(i int) float64) []float64 {
		xs := make([]float64, n)
		for i := range xs {
			xs[i] = gen(i)
		}
		return xs
	}
	cases := []struct {
		name string
		xs   []float64
		most int // longest range added at once
	}{
		{"all missing", []float64{nan, nan, nan}, 1},
		{"one value", []float64{nan, 2}, 1},
		{"signed zeros, -0 first", []float64{nan, negz, 0, 0, negz}, 1},
		{"signed zeros, +0 first", []float64{0, negz}, 1},
		{"two values", []float64{nan, 5, 3, 3, nan, 5}, 2},
		{"three values with zeros", []float64{5, 3, negz, 0}, 1},
		{"infinities", []float64{-inf, -inf, 1, 2, 3, inf, nan}, 3},
		{"huge range", []float64{1e308, -1e308, 0, 1}, 1},
		{"subnormals", []float64{tiny, 0, negz, -tiny, 2 * tiny}, 2},
		{"normal 1000", big(1000, func(int) float64 { return rng.NormFloat64() }), 37},
		{"rounded, strided sample", big(200_003, func(i int) float64 {
			if i%3 == 0 {
				return nan
			}
			return math.Round(rng.NormFloat64()*8) / 4
		}), 9000},
		{"sampled rows all missing", big(300_001, func(i int) float64 {
			if i%5 != 1 {
				return nan
			}
			return rng.ExpFloat64()
		}), 20000},
		{"indicator with -0", big(100_000, func(i int) float64 {
			if i == 7 {
				return negz
			}
			return float64(i % 2)
		}), 5000},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want := jsonOf(t, Column(&table.Column{Name: "x", Kind: table.Numeric, Num: c.xs}))
			trials := 3
			if len(c.xs) < 100 {
				trials = 50 // many splits and merge orders of the short edge cases
			}
			for trial := 0; trial < trials; trial++ {
				if got := jsonOf(t, mergedNumeric(t, rng, "x", c.xs, c.most)); got != want {
					t.Fatalf("merged profile:\ngot  %s\nwant %s", got, want)
				}
			}
		})
	}
}

// TestSubnormalProfile checks a column whose grid spans a few subnormals
// (a range so narrow the grid index's scale overflows) against exact
// counts.
func TestSubnormalProfile(t *testing.T) {
	tiny := math.SmallestNonzeroFloat64
	xs := []float64{3 * tiny, tiny, 0, -tiny, 2 * tiny, tiny, 0}
	p := Column(&table.Column{Name: "x", Kind: table.Numeric, Num: xs})
	sorted := append([]float64(nil), xs...)
	sort.Float64s(sorted)
	if float64(*p.Min) != -tiny || float64(*p.Max) != 3*tiny {
		t.Fatalf("min, max: got %v %v, want %v %v", *p.Min, *p.Max, -tiny, 3*tiny)
	}
	for i, q := range p.Quantiles {
		k := sort.Search(len(sorted), func(j int) bool { return sorted[j] > q })
		if want := float64(k) / float64(len(sorted)); p.CDF[i] != want {
			t.Fatalf("cdf at %v: got %v, want %v", q, p.CDF[i], want)
		}
	}
}

// TestMergedCategoricalMatchesColumn checks the categorical profile from
// merged counts against Column and against exact counts.
func TestMergedCategoricalMatchesColumn(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	n := 5000
	strs, null := make([]string, n), make([]bool, n)
	for i := range strs {
		strs[i] = string(rune('a' + rng.IntN(26)))
		strs[i] += string(rune('a' + rng.IntN(6))) // 156 categories: some go to "other"
		null[i] = i%97 == 0
	}
	col := &table.Column{Name: "c", Kind: table.String, Str: strs, Null: null}
	want := Column(col)
	var merged stats.StringCounts
	for _, r := range ranges(rng, n, 300) {
		var c stats.StringCounts
		c.Add(strs[r[0]:r[1]], null[r[0]:r[1]])
		merged.Merge(&c)
	}
	if got := jsonOf(t, CategoricalFeature("c", &merged)); got != jsonOf(t, want) {
		t.Fatalf("merged profile:\ngot  %.300s\nwant %.300s", got, jsonOf(t, want))
	}
	exact := map[string]int64{}
	var missing int64
	for i, s := range strs {
		if null[i] {
			missing++
		} else {
			exact[s]++
		}
	}
	cc := want.Categories
	if want.Missing != missing || want.Count != int64(n)-missing || cc.Distinct != int64(len(exact)) {
		t.Fatalf("missing, count, distinct: got %d %d %d, want %d %d %d", want.Missing, want.Count, cc.Distinct, missing, int64(n)-missing, len(exact))
	}
	var listed int64
	for i, v := range cc.Values {
		if cc.Counts[i] != exact[v] {
			t.Fatalf("count of %q: got %d, want %d", v, cc.Counts[i], exact[v])
		}
		if i > 0 && (cc.Counts[i] > cc.Counts[i-1] || cc.Counts[i] == cc.Counts[i-1] && v < cc.Values[i-1]) {
			t.Fatalf("categories not by count then value at %d: %q after %q", i, v, cc.Values[i-1])
		}
		listed += cc.Counts[i]
	}
	if len(cc.Values) != TopCategories || cc.Other != want.Count-listed {
		t.Fatalf("top %d, other %d: want top %d, other %d", len(cc.Values), cc.Other, TopCategories, want.Count-listed)
	}
}

// TestMergeErrors checks that passes that do not fit together are refused.
func TestMergeErrors(t *testing.T) {
	xs := []float64{1, 2, 3, 4, 5}
	a := NewNumericAcc(5)
	a.Add(0, xs)
	plan := a.Plan()

	partial := plan.Counts()
	if err := partial.Add(0, xs[:3]); err != nil {
		t.Fatal(err)
	}
	other := NewNumericAcc(5)
	other.Add(0, []float64{9, 2, 3, 4, 5})
	foreign := other.Plan().Counts()
	if err := foreign.Add(0, xs); err != nil {
		t.Fatal(err)
	}
	outside := plan.Counts()

	tests := []struct {
		name string
		err  func() error
	}{
		{"second pass misses rows", func() error { _, err := NumericFeature("x", &a, &partial); return err }},
		{"second pass of another column", func() error { _, err := NumericFeature("x", &a, &foreign); return err }},
		{"merging another plan's counts", func() error { c := plan.Counts(); return c.Merge(&foreign) }},
		{"first passes of different lengths", func() error { b := NewNumericAcc(6); b.Add(0, xs); return a.Merge(&b) }},
		{"rows beyond the column", func() error { return outside.Add(3, xs) }},
	}
	for _, tt := range tests {
		if err := tt.err(); err == nil {
			t.Errorf("%s: got no error", tt.name)
		} else if tt.name != "rows beyond the column" && !errors.Is(err, ErrMerge) {
			t.Errorf("%s: got %v, want ErrMerge", tt.name, err)
		}
	}
}
