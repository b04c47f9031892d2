package validate

import (
	"math"
	"testing"
)

// pRelTol is the relative tolerance of p-values against scipy's: the
// log-gamma sums lose a few digits on large tables.
const pRelTol = 1e-7

func closeRel(got, want, tol float64) bool {
	return got == want || math.Abs(got-want) <= tol*math.Abs(want)
}

func TestFisherExactMatchesScipy(t *testing.T) {
	// scipy.stats.fisher_exact([[a, b], [c, d]], alternative="two-sided")[1],
	// scipy 1.10.1.
	cases := []struct {
		a, b, c, d int64
		want       float64
	}{
		{0, 1000, 1, 4, 0.004975124378109453},
		{3, 7, 9, 1, 0.019766611097880443},
		{986, 2714, 170, 3530, 2.239127182665165e-163},
		{100000, 900000, 105000, 895000, 2.166597730011528e-31},
		{0, 5000, 100, 100, 5.5287624056908765e-155},
		{1, 9, 1, 9, 1.0},
		{12, 0, 0, 12, 7.39602301050679e-07},
		{50, 50, 50, 50, 1.0},
		{2, 998, 10, 190, 6.590051419284671e-07},
	}
	for _, c := range cases {
		if got := FisherExact(c.a, c.b, c.c, c.d); !closeRel(got, c.want, pRelTol) {
			t.Errorf("FisherExact(%d, %d, %d, %d) = %v, scipy %v", c.a, c.b, c.c, c.d, got, c.want)
		}
	}
}

func TestFisherExactOddInputs(t *testing.T) {
	for _, c := range []struct {
		a, b, c, d int64
		want       float64
	}{
		{0, 0, 3, 4, 1}, // empty row
		{0, 5, 0, 7, 1}, // empty column
		{-1, 5, 0, 7, math.NaN()},
	} {
		got := FisherExact(c.a, c.b, c.c, c.d)
		if !(got == c.want || (math.IsNaN(got) && math.IsNaN(c.want))) {
			t.Errorf("FisherExact(%d, %d, %d, %d) = %v, want %v", c.a, c.b, c.c, c.d, got, c.want)
		}
	}
}

func TestExceedanceP(t *testing.T) {
	// (k+1) P_k - k P_{k+1} with exact fractions (Python), and by hand:
	// of 3 old and 3 new values, the new are all outside the old range in
	// 4 of the C(6, 3) = 20 rank patterns (the old ones contiguous).
	cases := []struct {
		k, n, m int64
		want    float64
	}{
		{1, 1, 1, 1.0},
		{1, 2, 1, 0.6666666666666666},
		{2, 10, 10, 0.5},
		{5, 100, 50, 0.015931082636214948},
		{13, 767, 765, 0.000862272968442564},
		{0, 5, 5, 1.0},
		{3, 3, 3, 0.2},
	}
	for _, c := range cases {
		if got := ExceedanceP(c.k, c.n, c.m); !closeRel(got, c.want, 1e-10) {
			t.Errorf("ExceedanceP(%d, %d, %d) = %v, want %v", c.k, c.n, c.m, got, c.want)
		}
	}
	if got := ExceedanceP(4, 3, 3); !math.IsNaN(got) {
		t.Errorf("ExceedanceP(k > m) = %v, want NaN", got)
	}
}

func TestCohenH(t *testing.T) {
	for _, c := range []struct{ p1, p2, want float64 }{
		{0, 1, math.Pi},
		{0.5, 0.5, 0},
		{0, 0.5, math.Pi / 2},
		{0.25, 0, math.Pi / 3}, // asin(1/2) = π/6
	} {
		if got := CohenH(c.p1, c.p2); math.Abs(got-c.want) > 1e-15 {
			t.Errorf("CohenH(%v, %v) = %v, want %v", c.p1, c.p2, got, c.want)
		}
	}
	if got := CohenH(-0.1, 0.5); !math.IsNaN(got) {
		t.Errorf("CohenH(-0.1, 0.5) = %v, want NaN", got)
	}
}

func TestAllEqualP(t *testing.T) {
	if got := AllEqualP(0.5, 5); got != 0.0625 {
		t.Errorf("AllEqualP(0.5, 5) = %v, want 0.0625", got)
	}
	if got := AllEqualP(0.5, 1); got != 1 {
		t.Errorf("AllEqualP(0.5, 1) = %v, want 1", got)
	}
}
