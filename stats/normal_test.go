package stats

import (
	"math"
	"testing"
)

// normTol is the relative tolerance against scipy.stats.norm: AS 241 and
// Cephes' ndtri are both accurate to about 1e-16 but differ in the last
// bits.
const normTol = 1e-15

func closeRel(got, want, rtol float64) bool {
	if math.IsNaN(want) || math.IsInf(want, 0) {
		return sameBits(got, want)
	}
	return got == want || math.Abs(got-want) <= rtol*math.Abs(want)
}

func TestNormPPF(t *testing.T) {
	// Values of scipy.stats.norm.ppf(p) (scipy 1.10.1).
	tests := []struct{ p, want float64 }{
		{1e-300, -37.0470962993612},
		{1e-20, -9.262340089798409},
		{1e-10, -6.361340902404056},
		{1e-07, -5.1993375821928165},
		{0.001, -3.090232306167813},
		{0.02425, -1.972961051311885},
		{0.075, -1.4395314709384563},
		{0.1, -1.2815515655446004},
		{0.25, -0.6744897501960817},
		{0.5, 0},
		{0.75, 0.6744897501960817},
		{0.9, 1.2815515655446004},
		{0.975, 1.959963984540054},
		{0.999, 3.090232306167813},
		{0.9999999, 5.199337582290661},
		{0.9999999999, 6.361340889697422},
		{0, math.Inf(-1)},
		{1, math.Inf(1)},
		{-0.1, math.NaN()},
		{1.5, math.NaN()},
		{math.NaN(), math.NaN()},
	}
	for _, tt := range tests {
		if got := NormPPF(tt.p); !closeRel(got, tt.want, normTol) {
			t.Errorf("NormPPF(%v): got %v, want %v", tt.p, got, tt.want)
		}
	}
}

// cdfTailTol is the relative tolerance of NormCDF in the lower tail,
// where rounding x/√2 costs about 2x²·2^-53 relative (both Cephes and
// NormCDF are about 1e-14 from the true value at x = -10).
const cdfTailTol = 2e-14

func TestNormCDF(t *testing.T) {
	// Values of scipy.stats.norm.cdf(x) (scipy 1.10.1).
	tests := []struct{ x, want float64 }{
		{-40, 0},
		{-10, 7.61985302416047e-24},
		{-5.2, 9.96442631693347e-08},
		{-1, 0.15865525393145707},
		{-0.3, 0.3820885778110474},
		{0, 0.5},
		{0.3, 0.6179114221889526},
		{1, 0.8413447460685429},
		{2.5, 0.9937903346742238},
		{8.3, 1},
		{40, 1},
		{math.Inf(-1), 0},
		{math.Inf(1), 1},
		{math.NaN(), math.NaN()},
	}
	for _, tt := range tests {
		if got := NormCDF(tt.x); !closeRel(got, tt.want, cdfTailTol) {
			t.Errorf("NormCDF(%v): got %v, want %v", tt.x, got, tt.want)
		}
	}
}

// TestNormRoundTrip checks NormCDF(NormPPF(p)) == p closely across the
// range of each AS 241 branch.
func TestNormRoundTrip(t *testing.T) {
	for _, p := range []float64{1e-12, 1e-6, 0.01, 0.07, 0.3, 0.5, 0.8, 0.93, 0.99} {
		if got := NormCDF(NormPPF(p)); !closeRel(got, p, 1e-13) {
			t.Errorf("NormCDF(NormPPF(%v)): got %v, want %v", p, got, p)
		}
	}
}
