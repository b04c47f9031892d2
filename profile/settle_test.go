package profile

import (
	"math"
	"testing"
)

// TestSettledCategories: with every category kept all are settled; else
// those whose count is above the Poisson bar of SettleLevel / Distinct at
// the count of an ordinary category (the cut, or the mean outside the
// settled ones where that is higher). The bars are scipy's
// (scipy.stats.poisson.isf(0.01 / distinct, λ) + 1, scipy 1.10.1).
func TestSettledCategories(t *testing.T) {
	if got := (&Counts{Values: []string{"a", "b"}, Counts: []int64{9, 1}, Distinct: 2}).SettledCategories(); got != 2 {
		t.Errorf("every category kept: %d settled, want 2", got)
	}
	// runs lists counts given as (count, how many) pairs.
	runs := func(pairs ...int64) []int64 {
		var c []int64
		for i := 0; i < len(pairs); i += 2 {
			for range pairs[i+1] {
				c = append(c, pairs[i])
			}
		}
		return c
	}
	for _, c := range []struct {
		name   string
		counts []int64
		other  int64
		d      int64
		want   int
	}{
		// distinct 185, cut 16 above the mean 681/185: bar 35 at λ 16.
		{"cut 16 of 185", []int64{100, 33, 32, 16}, 500, 185, 1},
		// Seed 1 of attack run 32 F6: 300 rows of 120 equally likely
		// categories, 110 seen, the 10 not kept once each. The cut 1 is
		// below the mean 300/110 = 2.73: bar 12 (at λ 1 it would be 7,
		// and the two 7s would be settled by luck).
		{"sparse 120 equally likely, 300 rows", runs(7, 2, 6, 1, 5, 13, 4, 13, 3, 26, 2, 30, 1, 15), 10, 110, 0},
		// 400, 300, 200, 12, then 96 kept at 2 and 150 more seen once:
		// the mean 1254/250 = 5.02 gives bar 17 (3 settled); outside them
		// the mean is 354/247 = 1.43, below the cut 2: bar 11, so 12 is
		// settled in the second round.
		{"head over a sparse tail", runs(400, 1, 300, 1, 200, 1, 12, 1, 2, 96), 150, 250, 4},
		{"one kept category at the cut", []int64{10}, 200, 21, 0},
	} {
		p := &Counts{Counts: c.counts, Other: c.other, Distinct: c.d}
		if got := p.SettledCategories(); got != c.want {
			t.Errorf("%s: %d settled, want %d", c.name, got, c.want)
		}
	}
}

// TestPoissonBar: the smallest k with P(X ≥ k) ≤ level, against scipy
// 1.10.1 (scipy.stats.poisson.isf(level, λ) + 1), exactly where the tail is
// summed; within one count beyond poissonExactMax (the Cornish–Fisher
// expansion, and scipy's isf, which there is not exact itself).
func TestPoissonBar(t *testing.T) {
	for _, c := range []struct {
		lam, level, want float64
	}{
		{1, 0.01 / 110, 7},
		{2.5, 0.01 / 120, 11},
		{2.727, 0.01 / 110, 12},
		{16, 0.01 / 185, 35},
		{0.3, 1e-3, 4},
		{10, 1e-2, 19},
		{23, 0.01 / 300, 45},
		{100, 1e-6, 152},
		{1000, 1e-4, 1121},
		{12345.6, 1e-9, 13019},
		{999999.5, 1e-5, 1004268},
		{1000000.5, 1e-5, 1004269},
		{3.2e6, 0.01 / 5000, 3208253},
		{7e9, 1e-3, 7000258550},
	} {
		got := poissonBar(c.lam, c.level)
		tol := 0.0
		if c.lam > poissonExactMax {
			tol = 1
		}
		if math.Abs(got-c.want) > tol {
			t.Errorf("poissonBar(%v, %v) = %v, want %v", c.lam, c.level, got, c.want)
		}
	}
	for _, lam := range []float64{0, -1, math.NaN()} {
		if got := poissonBar(lam, 1e-3); got != 1 {
			t.Errorf("poissonBar(%v) = %v, want 1 (any count is above a mean of none)", lam, got)
		}
	}
}
