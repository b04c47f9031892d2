package profile

import (
	"math"
	"testing"

	"github.com/normguard/normguard/table"
)

// TestSparseColumnOffTheStride (the artifact fixer's report): in a table
// of more than 65,536 rows the grid's sample takes every stride-th row; a
// column whose values all lie on the rows in between had an empty sample,
// a NaN grid, and fit refused its own profile. The grid is now read from
// the column's exact minimum and maximum.
func TestSparseColumnOffTheStride(t *testing.T) {
	const n = 70000 // stride 2: rows 0, 2, 4, ... are sampled
	x := make([]float64, n)
	var lo, hi = math.Inf(1), math.Inf(-1)
	for i := range x {
		x[i] = math.NaN()
		if i%2 == 1 {
			x[i] = float64(i%97) * 0.5
			lo, hi = math.Min(lo, x[i]), math.Max(hi, x[i])
		}
	}
	f := Column(&table.Column{Name: "x", Kind: table.Numeric, Num: x})
	if f.Count != n/2 || f.Missing != n/2 {
		t.Fatalf("count %d missing %d; want %d each", f.Count, f.Missing, n/2)
	}
	if len(f.Quantiles) != GridSize {
		t.Fatalf("%d grid values, want %d", len(f.Quantiles), GridSize)
	}
	for i, q := range f.Quantiles {
		if math.IsNaN(float64(q)) || float64(q) < lo || float64(q) > hi {
			t.Fatalf("quantiles[%d] = %v; want a value in the column's range [%v, %v]", i, q, lo, hi)
		}
	}
	if float64(f.Quantiles[0]) != lo || float64(f.Quantiles[GridSize-1]) != hi {
		t.Errorf("grid from %v to %v; want the column's minimum %v and maximum %v", f.Quantiles[0], f.Quantiles[GridSize-1], lo, hi)
	}
	if len(f.CDF) != GridSize || float64(f.CDF[GridSize-1]) != 1 {
		t.Errorf("cdf %v; want %d values ending at 1", f.CDF, GridSize)
	}
}
