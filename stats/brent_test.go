package stats

import (
	"math"
	"testing"
)

// brentTolTest allows for last-bit differences between Go's and numpy's
// elementary functions, which can move Brent's path by a few tolerances.
const brentTolTest = 1e-12

func TestBrentMinimize(t *testing.T) {
	tests := []struct {
		name   string
		f      func(float64) float64
		xa, xb float64
		want   float64 // scipy.optimize.brent(f, brack=(xa, xb)), scipy 1.10.1
	}{
		{"parabola", func(x float64) float64 { return (x-1.3)*(x-1.3) + 0.1 }, -2, 2, 1.3},
		{"cosh far right", func(x float64) float64 { return math.Cosh(x - 7.5) }, -2, 2, 7.500000000044148},
		// A flat minimum: the result hangs on last-bit comparisons, so the
		// reference is computed with the same products (x*x*x*x, not x**4).
		{"quartic", func(x float64) float64 { return x*x*x*x - 3*x*x*x + 2 }, -2, 2, 2.2500000300788177},
		{"quartic from the right", func(x float64) float64 { return x*x*x*x - 3*x*x*x + 2 }, 5, 6, 2.2499999986894372},
		{"exp plus parabola", func(x float64) float64 { return math.Exp(-x) + x*x/50 }, 0, 1, 2.3601504511525686},
		// An objective that is always NaN: every comparison is false, and
		// scipy still returns a definite point.
		{"nan objective", func(float64) float64 { return math.NaN() }, -2, 2, 8.472135811722177},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := BrentMinimize(tt.f, tt.xa, tt.xb); !closeRel(got, tt.want, brentTolTest) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestBrentMinimizeUnbounded(t *testing.T) {
	// f decreases forever: the bracket search gives up and returns NaN
	// (scipy raises RuntimeError("Too many iterations.")).
	got := BrentMinimize(func(x float64) float64 { return -x }, 0, 1)
	if !math.IsNaN(got) && !math.IsInf(got, 0) {
		t.Errorf("got %v, want NaN", got)
	}
}
