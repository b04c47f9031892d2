package artifact

import (
	"errors"
	"math"
	"math/rand"
	"strings"
	"testing"

	"github.com/normguard/normguard/profile"
	"github.com/normguard/normguard/step"
	"github.com/normguard/normguard/table"
)

// oddColumns are numeric columns fit meets: one value, a constant column,
// all missing, two values, integers, huge and tiny magnitudes, a large
// offset with a small spread, more values than the exact grid, and
// extremes at both ends of float64.
func oddColumns() []table.Column {
	r := rand.New(rand.NewSource(27))
	mk := func(name string, n int, f func(i int) float64) table.Column {
		c := table.Column{Name: name, Kind: table.Numeric, Num: make([]float64, n)}
		for i := range c.Num {
			c.Num[i] = f(i)
		}
		return c
	}
	nan := math.NaN()
	return []table.Column{
		mk("one", 1, func(int) float64 { return 3.7 }),
		mk("one_of_many", 50, func(i int) float64 {
			if i == 17 {
				return -2.5
			}
			return nan
		}),
		mk("constant", 1000, func(int) float64 { return 0.1 }),
		mk("constant_huge", 70000, func(int) float64 { return 1.2345678901234567e300 }),
		mk("all_missing", 40, func(int) float64 { return nan }),
		mk("two", 999, func(i int) float64 { return float64(i % 2) }),
		mk("integers", 5000, func(i int) float64 { return float64(r.Intn(20)) }),
		mk("big_ints", 3000, func(i int) float64 { return float64(r.Int63()) }),
		mk("huge", 3000, func(i int) float64 { return (r.Float64()*2 - 1) * 1.7e308 }),
		mk("huge_pos", 3000, func(i int) float64 { return 1e307 * (1 + 9*r.Float64()) }),
		mk("tiny", 3000, func(i int) float64 { return r.NormFloat64() * 1e-310 }),
		mk("small_sq", 3000, func(i int) float64 { return r.NormFloat64() * 1e-160 }),
		mk("offset", 3000, func(i int) float64 { return 1e15 + r.Float64() }),
		mk("offset_ints", 3000, func(i int) float64 { return 9007199254740000 + float64(r.Intn(5)*2) }),
		mk("sampled", 200000, func(i int) float64 { return r.ExpFloat64() }),
		mk("sampled_heavy", 150000, func(i int) float64 { return math.Pow(r.Float64(), -3) }),
		mk("spike", 4000, func(i int) float64 {
			if i%997 == 0 {
				return 1e12
			}
			return r.NormFloat64()
		}),
		mk("half_half", 10000, func(i int) float64 { return float64(i%2)*1e300 - 5e299 + float64(i%3) }),
	}
}

// TestProfileSelfConsistentFitWritten (attack run 27 F4): every profile fit
// writes for these columns passes the new cross-checks (mean within
// [min, max], std at most (max − min)/2, the CDF against min and max,
// the histogram's edges), so no artifact fit writes is refused.
func TestProfileSelfConsistentFitWritten(t *testing.T) {
	cols := oddColumns()
	for i, f := range profile.Columns(cols, 4) {
		if err := CheckFeature("profile.inputs[0]", &f); err != nil {
			t.Errorf("column %s: fit's profile refused: %v", cols[i].Name, err)
		}
	}
}

// TestProfileSelfConsistencyRefused (attack run 27 F4): a profile whose
// numbers no data can have is refused naming the field.
func TestProfileSelfConsistencyRefused(t *testing.T) {
	r := rand.New(rand.NewSource(8))
	c := table.Column{Name: "a", Kind: table.Numeric, Num: make([]float64, 600)}
	big := table.Column{Name: "b", Kind: table.Numeric, Num: make([]float64, 100000)}
	for i := range c.Num {
		c.Num[i] = 10 + 3*r.NormFloat64()
	}
	for i := range big.Num {
		big.Num[i] = 10 + 3*r.NormFloat64()
	}
	two := table.Column{Name: "t", Kind: table.Numeric, Num: []float64{1, 5, 5, 1, 5}}
	fresh := func(col table.Column) profile.Feature {
		f := profile.Column(&col)
		if err := CheckFeature("p", &f); err != nil {
			t.Fatalf("unedited profile refused: %v", err)
		}
		return f
	}
	fl := func(x float64) *step.Float { v := step.Float(x); return &v }
	for _, tc := range []struct {
		name, path, msg string
		col             table.Column
		edit            func(f *profile.Feature)
	}{
		{"std twice the range", "p.std", "Popoviciu", c, func(f *profile.Feature) { f.Std = fl(2 * (float64(*f.Max) - float64(*f.Min))) }},
		{"std just above half the range", "p.std", "at most (max − min)/2", c, func(f *profile.Feature) {
			f.Std = fl((float64(*f.Max) - float64(*f.Min)) / 2 * 1.001)
		}},
		{"std of a two-valued column", "p.std", "Popoviciu", two, func(f *profile.Feature) { f.Std = fl(2.5) }},
		{"std of a constant column", "p.std", "Popoviciu", table.Column{Name: "k", Kind: table.Numeric, Num: []float64{4, 4, 4}},
			func(f *profile.Feature) { f.Std = fl(0.5) }},
		{"mean above max", "p.mean", "lies within", c, func(f *profile.Feature) { f.Mean = fl(100 * float64(*f.Max)) }},
		{"mean below min", "p.mean", "lies within", c, func(f *profile.Feature) { f.Mean = fl(float64(*f.Min) - 0.01) }},
		{"mean of a two-valued column", "p.mean", "lies within", two, func(f *profile.Feature) { f.Mean = fl(7) }},
		{"cdf all 1", "p.cdf[0]", "below max", c, func(f *profile.Feature) {
			for i := range f.CDF {
				f.CDF[i] = 1
			}
		}},
		{"cdf all 0", "p.cdf[0]", "counts min", c, func(f *profile.Feature) {
			for i := range f.CDF {
				f.CDF[i] = 0
			}
		}},
		{"cdf short of 1 at max", "p.cdf[206]", "is 1", c, func(f *profile.Feature) { f.CDF[len(f.CDF)-1] = f.CDF[len(f.CDF)-2] }},
		{"mean infinite", "p.mean", "finite", c, func(f *profile.Feature) { f.Mean = fl(math.Inf(1)) }},
		{"std NaN", "p.std", "finite", c, func(f *profile.Feature) { f.Std = fl(math.NaN()) }},
		{"cdf not a count", "p.cdf[100]", "whole number", c, func(f *profile.Feature) { f.CDF[100] += 0.3 / 600 }},
		{"edges shifted", "p.histogram.edges[0]", "first edge", c, func(f *profile.Feature) {
			for i := range f.Histogram.Edges {
				f.Histogram.Edges[i] += 1000
			}
		}},
		{"last edge short of the grid", "p.histogram.edges[32]", "last edge", c, func(f *profile.Feature) {
			f.Histogram.Edges[32] = f.Histogram.Edges[31]
		}},
		{"edge out of place", "p.histogram.edges[5]", "equal width", c, func(f *profile.Feature) {
			f.Histogram.Edges[5] = (f.Histogram.Edges[4] + f.Histogram.Edges[5]) / 2
		}},
		{"exact grid not starting at min", "p.quantiles[0]", "is exact", c, func(f *profile.Feature) {
			f.Min = fl(float64(*f.Min) - 1)
		}},
		{"sampled grid: cdf 1 below max", "p.cdf[0]", "below max", big, func(f *profile.Feature) {
			for i := range f.CDF {
				f.CDF[i] = 1
			}
		}},
	} {
		f := fresh(tc.col)
		tc.edit(&f)
		err := CheckFeature("p", &f)
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Path != tc.path || !strings.Contains(fe.Msg, tc.msg) {
			t.Errorf("%s: got %v, want a refusal at %s saying %q", tc.name, err, tc.path, tc.msg)
		}
	}
}
