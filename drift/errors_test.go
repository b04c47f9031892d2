package drift

import (
	"errors"
	"math"
	"testing"
)

// TestEmptyAfterDroppingNaN pins that every numeric method returns a
// *SampleError wrapping ErrEmpty, never panics, for an empty sample or one
// of only NaN.
func TestEmptyAfterDroppingNaN(t *testing.T) {
	nan := math.NaN()
	samples := []struct {
		name     string
		ref, cur []float64
		side     string
	}{
		{"empty reference", nil, []float64{1, 2}, "reference"},
		{"all-NaN current", []float64{1, 2, 3}, []float64{nan, nan}, "current"},
	}
	for _, name := range Names() {
		m, _ := Lookup(name)
		for _, s := range samples {
			_, err := m.Numeric(s.ref, s.cur)
			var se *SampleError
			if !errors.As(err, &se) || !errors.Is(err, ErrEmpty) || se.Sample != s.side {
				t.Errorf("%s, %s: got error %v, want a *SampleError on the %s sample wrapping ErrEmpty", name, s.name, err, s.side)
			}
		}
	}
}

func TestTooFewAndConstant(t *testing.T) {
	// scipy.stats.cramervonmises_2samp([0.5], [0.1, 0.2]) raises
	// "x and y must contain at least two observations."
	if _, err := CramerVonMises([]float64{0.5}, []float64{0.1, 0.2}); !errors.Is(err, ErrTooFew) {
		t.Errorf("cramer_von_mises with one value: got %v, want ErrTooFew", err)
	}
	// scipy.stats.anderson_ksamp([[3, 3], [3, 3, 3]]) raises "anderson_ksamp
	// needs more than one distinct observation".
	if _, err := AndersonKSamp([]float64{3, 3}, []float64{3, 3, 3}); !errors.Is(err, ErrConstant) {
		t.Errorf("anderson on a constant pool: got %v, want ErrConstant", err)
	}
}

// TestConstantSamples pins scipy's results when both samples hold the
// same single value: scipy.stats.ks_2samp([2.0]*5, [2.0]*3) = (0.0, 1.0),
// mannwhitneyu(...) = (7.5, 1.0) (σ = 0), ttest_ind(..., equal_var=False)
// = (nan, nan), wasserstein_distance = energy_distance = 0.0.
func TestConstantSamples(t *testing.T) {
	ref, cur := []float64{2, 2, 2, 2, 2}, []float64{2, 2, 2}
	tests := []struct {
		name    string
		f       func(ref, cur []float64) (Result, error)
		stat, p float64
	}{
		{"ks", KS, 0, 1},
		{"mann_whitney", MannWhitneyU, 7.5, 1},
		{"t_test", TTestWelch, math.NaN(), math.NaN()},
		{"wasserstein", Wasserstein, 0, math.NaN()},
		{"energy", Energy, 0, math.NaN()},
	}
	for _, tt := range tests {
		got, err := tt.f(ref, cur)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if !closeRel(got.Statistic, tt.stat, 0) || !closeRel(got.PValue, tt.p, 0) {
			t.Errorf("%s: got (%v, %v), want (%v, %v)", tt.name, got.Statistic, got.PValue, tt.stat, tt.p)
		}
	}
}

func TestCountErrors(t *testing.T) {
	tests := []struct {
		name     string
		ref, cur []int64
	}{
		{"different lengths", []int64{1, 2}, []int64{1}},
		{"negative count", []int64{1, -2}, []int64{1, 1}},
		{"zero reference total", []int64{0, 0}, []int64{1, 1}},
	}
	for _, tt := range tests {
		for _, f := range []func(ref, cur []int64) (Result, error){PSI, KLDivergence, JensenShannon, Hellinger, LInfinity, Chi2Contingency} {
			if _, err := f(tt.ref, tt.cur); err == nil {
				t.Errorf("%s: got no error, want one", tt.name)
			}
		}
	}
}

func TestMethodRegistry(t *testing.T) {
	want := []string{"anderson", "chisquare", "cramer_von_mises", "energy", "hellinger", "jensenshannon",
		"kl_div", "ks", "l_infinity", "mann_whitney", "psi", "t_test", "wasserstein", "wasserstein_normed"}
	got := Names()
	if len(got) != len(want) {
		t.Fatalf("Names(): got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("Names(): got %v, want %v", got, want)
		}
		m, ok := Lookup(want[i])
		if !ok || m.Numeric == nil || m.Threshold <= 0 || (m.Kind != Test && m.Kind != Distance) {
			t.Errorf("method %s: incomplete definition %+v", want[i], m)
		}
	}
	ks, _ := Lookup("ks")
	if v := ks.Decide(Result{Statistic: 0.2, PValue: 0.01}, math.NaN(), math.NaN()); !v.Drift || v.Threshold != 0.05 {
		t.Errorf("ks with p = 0.01: got %+v, want drift at threshold 0.05", v)
	}
	w, _ := Lookup("wasserstein")
	if v := w.Decide(Result{Statistic: 0.3, PValue: math.NaN()}, math.NaN(), 4); v.Drift || v.Threshold != 0.4 {
		t.Errorf("wasserstein 0.3 with reference std 4: got %+v, want no drift at threshold 0.4", v)
	}
	if _, err := ks.CompareCounts([]int64{1}, []int64{1}, math.NaN()); err == nil {
		t.Error("ks on counts: got no error, want one")
	}
}

// TestHistogramEdges pins numpy.histogram's bin rules:
// numpy.histogram([-inf, 0, 1, 1.5, 2, 3, nan, inf], bins=[-inf, 1, 2, inf])
// counts (2, 2, 3): [e_i, e_i+1) bins, the last one closed, NaN left out.
func TestHistogramEdges(t *testing.T) {
	inf := math.Inf(1)
	got := Histogram([]float64{-inf, 0, 1, 1.5, 2, 3, math.NaN(), inf}, []float64{-inf, 1, 2, inf})
	want := []int64{2, 2, 3}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("Histogram: got %v, want %v", got, want)
		}
	}
	// numpy.unique(numpy.quantile([1, 1, 1, 1, 2], numpy.linspace(0, 1, 11)[1:-1]))
	// = [1.0, 1.2, 1.6]
	edges := QuantileEdges([]float64{1, 1, 1, 1, 2}, 10)
	wantEdges := []float64{-inf, 1, 1.2000000000000002, 1.6, inf}
	if len(edges) != len(wantEdges) {
		t.Fatalf("QuantileEdges: got %v, want %v", edges, wantEdges)
	}
	for i := range wantEdges {
		if edges[i] != wantEdges[i] {
			t.Fatalf("QuantileEdges: got %v, want %v", edges, wantEdges)
		}
	}
}
