package drift

import (
	"math"
	"testing"

	"github.com/normguard/normguard/profile"
	"github.com/normguard/normguard/table"
)

// spread returns n values evenly spaced from lo, step apart.
func spread(n int, lo, step float64) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = lo + step*float64(i)
	}
	return out
}

func plotSum(xs []float64) float64 {
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s
}

// TestPlotWindowCoversBothSamples checks that a numeric plot's x axis
// spans the reference and a current sample moved far beyond it, in both
// drift modes: the reference is 2000 values 0, 0.005, ..., 9.995, the
// current 10 values 100, 101, ..., 109 (or -109 ... -100). The pooled
// 99.5th percentile, the axis's old end, lies inside the reference, so
// every current value was beyond the axis. Now the window runs from the
// lower of the samples' 0.5th percentiles (the reference's: its 10th
// smallest value, 0.045, as ⌊0.005·1999⌋ = 9; the current's are its
// extremes, ⌊0.005·9⌋ = 0) to the higher of their 99.5th, so every
// current value is in a bin, spread over several bins.
func TestPlotWindowCoversBothSamples(t *testing.T) {
	ref := spread(2000, 0, 0.005)
	const refTrimmed = 9.0 / 2000 // the reference values beyond each end
	cases := []struct {
		name   string
		cur    []float64
		lo, hi float64 // the window, exact
	}{
		{"moved up", spread(10, 100, 1), 0.045, 109},
		{"moved down", spread(10, -109, 1), -109, ref[1990]},
		{"both small, drawn whole", spread(150, 5, 0.1), 0.045, 19.9},
	}
	for _, tc := range cases {
		for mode, plot := range map[string]*Plot{
			"auto":        mustCompare(t, ref, tc.cur, "").Features[0].Plot,
			"wasserstein": mustCompare(t, ref, tc.cur, "wasserstein").Features[0].Plot,
		} {
			if plot == nil {
				t.Fatalf("%s %s: got no plot, want one", tc.name, mode)
			}
			// The last edge is lo + (hi-lo)·40/40: equal up to rounding.
			if lo, hi := plot.Edges[0], plot.Edges[plotBins]; math.Abs(lo-tc.lo) > 1e-12 || math.Abs(hi-tc.hi) > 1e-12*math.Abs(tc.hi-tc.lo) {
				t.Errorf("%s %s: got the axis %v .. %v, want %v .. %v", tc.name, mode, lo, hi, tc.lo, tc.hi)
			}
			checkCovered(t, tc.name+" "+mode, plot, len(tc.cur), 1-2*refTrimmed)
		}

		// Against the profile of the same reference: the reference's
		// window comes from its CDF, the current's from its values.
		rep, err := CompareProfile(profile.Columns([]table.Column{{Name: "x", Kind: table.Numeric, Num: ref}}, 1),
			[]table.Column{{Name: "x", Kind: table.Numeric, Num: tc.cur}}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		plot := rep.Features[0].Plot
		if plot == nil {
			t.Fatalf("%s profile: got no plot, want one", tc.name)
		}
		if lo, hi := plot.Edges[0], plot.Edges[plotBins]; lo > tc.lo+0.01 || lo < tc.lo-0.01 || hi > tc.hi+0.01 || hi < tc.hi-0.01 {
			t.Errorf("%s profile: got the axis %v .. %v, want %v .. %v within 0.01", tc.name, lo, hi, tc.lo, tc.hi)
		}
		checkCovered(t, tc.name+" profile", plot, len(tc.cur), 1-2*refTrimmed-0.002)
	}
}

// checkCovered checks that every one of the n current values is in a bin,
// over more than one bin (bins are narrower than the current's range in
// every case), and that at least refIn of the reference is.
func checkCovered(t *testing.T, name string, p *Plot, n int, refIn float64) {
	t.Helper()
	if got := plotSum(p.Cur); math.Abs(got-1) > 1e-12 {
		t.Errorf("%s: got %v of the current values in the bins, want all of them", name, got)
	}
	used := 0
	for _, v := range p.Cur {
		if v > 0 {
			used++
		}
	}
	if used < 2 || used > n {
		t.Errorf("%s: got the current values in %d bins, want 2 to %d", name, used, n)
	}
	if got := plotSum(p.Ref); got < refIn-1e-12 {
		t.Errorf("%s: got %v of the reference values in the bins, want at least %v", name, got, refIn)
	}
}

// TestPlotWindowInfinities pins the window's ±Inf policy: an infinite end
// becomes the pooled percentile, then the most extreme finite value, so
// the edges stay finite and the infinite values fall in no bin; samples
// with no finite value get no plot.
func TestPlotWindowInfinities(t *testing.T) {
	inf := math.Inf(1)
	ref := spread(100, 0, 1)
	cur := append(spread(10, 0, 1), inf, inf, inf, inf, inf, inf, inf, inf, inf, inf) // half +Inf
	p := mustCompare(t, ref, cur, "").Features[0].Plot
	if p == nil {
		t.Fatal("got no plot, want one")
	}
	if p.Edges[0] != 0 || p.Edges[plotBins] != 99 {
		t.Errorf("got the axis %v .. %v, want 0 .. 99 (the largest finite value)", p.Edges[0], p.Edges[plotBins])
	}
	if got := plotSum(p.Cur); math.Abs(got-0.5) > 1e-12 {
		t.Errorf("got %v of the current values in the bins, want 0.5 (the finite half)", got)
	}
	if got := plotSum(p.Ref); math.Abs(got-1) > 1e-12 {
		t.Errorf("got %v of the reference values in the bins, want 1", got)
	}
	if p := numericPlot([]float64{inf, -inf}, []float64{inf}); p != nil {
		t.Errorf("got a plot of infinities only %+v, want none", p)
	}
}

func mustCompare(t *testing.T, ref, cur []float64, method string) *Report {
	t.Helper()
	rep, err := Compare([]table.Column{{Name: "x", Kind: table.Numeric, Num: ref}},
		[]table.Column{{Name: "x", Kind: table.Numeric, Num: cur}}, Options{Method: method})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}
