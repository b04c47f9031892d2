package drift

import (
	"math"
	"testing"
)

// specialCases are from scipy 1.10.1:
//
//	("t", df, t, scipy.special.stdtr(df, -t))   Student t survival at t
//	("chi2", k, x, scipy.special.chdtrc(k, x))  chi-square survival
//	("kv", nu, z, scipy.special.kv(nu, z))      modified Bessel K
var specialCases = []struct {
	fn         string
	a, x, want float64
}{
	{"t", 1.0, 0.5, 0.3524163823495668},
	{"t", 2.5, -1.3, 0.849756605364646},
	{"t", 7.3, 2.0, 0.04197051966705152},
	{"t", 30.7, 4.5, 4.557921816705797e-05},
	{"t", 10000.0, 1.0, 0.15866735216521471},
	{"t", 34000.5, 14.7, 4.55106227030078e-49},
	{"t", 3.2, 50.0, 4.849806635677081e-06},
	{"t", 0.7, 0.01, 0.49705375629818677},
	{"chi2", 1, 0.5, 0.47950012218695337},
	{"chi2", 4, 1.14, 0.8878749387582733},
	{"chi2", 9, 3.5, 0.9411444100407222},
	{"chi2", 9, 776.8, 2.0930391593129703e-161},
	{"chi2", 23, 185.0, 2.8079591794970033e-27},
	{"chi2", 1, 30.0, 4.3204630578274955e-08},
	{"chi2", 400, 380.0, 0.7566525728993763},
	{"chi2", 2000, 2500.0, 1.074008023138619e-13},
	{"kv", 0.25, 0.003, 8.729160915523021},
	{"kv", 0.25, 0.1, 2.6851568718760555},
	{"kv", 0.25, 1.0, 0.4307397744485814},
	{"kv", 0.25, 2.5, 0.06301715899861954},
	{"kv", 0.25, 10.0, 1.7833184439806395e-05},
	{"kv", 0.25, 100.0, 4.65807645150984e-45},
}

// specialTol is the relative accuracy the special functions reach (the
// log-beta prefactor for df ~ 3e4 limits it to a few 1e-11)
// against scipy's Cephes / cdflib / AMOS implementations.
const specialTol = 1e-10

func TestSpecialFunctionsMatchScipy(t *testing.T) {
	for _, c := range specialCases {
		var got float64
		switch c.fn {
		case "t":
			got = studentTSF(c.a, c.x)
		case "chi2":
			got = chi2SF(c.a, c.x)
		case "kv":
			got = besselK(c.a, c.x)
		}
		if !closeRel(got, c.want, specialTol) {
			t.Errorf("%s(%v, %v): got %v, want %v", c.fn, c.a, c.x, got, c.want)
		}
	}
}

func TestSpecialFunctionsOddInputs(t *testing.T) {
	tests := []struct {
		name      string
		got, want float64
	}{
		{"t sf at +Inf", studentTSF(5, math.Inf(1)), 0},
		{"t sf at -Inf", studentTSF(5, math.Inf(-1)), 1},
		{"t sf at 0", studentTSF(5, 0), 0.5},
		{"t sf with NaN", studentTSF(5, math.NaN()), math.NaN()},
		{"t sf with df 0", studentTSF(0, 1), math.NaN()},
		{"chi2 sf at 0", chi2SF(3, 0), 1},
		{"chi2 sf below 0", chi2SF(3, -1), 1},
		{"chi2 sf at +Inf", chi2SF(3, math.Inf(1)), 0},
		{"K at 0", besselK(0.25, 0), math.Inf(1)},
		{"K below 0", besselK(0.25, -1), math.NaN()},
		{"incbeta at 0", incBeta(2, 3, 0, 1), 0},
		{"incbeta at 1", incBeta(2, 3, 1, 0), 1},
	}
	for _, tt := range tests {
		if !closeRel(tt.got, tt.want, 0) {
			t.Errorf("%s: got %v, want %v", tt.name, tt.got, tt.want)
		}
	}
}
