package drift

import (
	"math"
	"testing"
)

// TestPlotRangeNoOverflow: bins spanning values near the ends of the
// float64 range have finite, ordered edges, and every value in range has
// a bin.
func TestPlotRangeNoOverflow(t *testing.T) {
	const m = math.MaxFloat64
	for _, c := range [][2]float64{{-1.7e308, 1.7e308}, {-m, m}, {0, 1.7e308}, {-1.7e308, 0}, {1.7e308, 1.7e308}, {-m, -m}, {m, m}, {3, 3}, {1e20, 1e20}, {-1, 1}} {
		lo, hi := plotSpan(c[0], c[1])
		if !(hi > lo) || math.IsInf(lo, 0) || math.IsInf(hi, 0) || lo > c[0] || hi < c[1] {
			t.Errorf("plotSpan(%g, %g) = %g, %g: want finite lo < hi around the values", c[0], c[1], lo, hi)
			continue
		}
		edges := plotEdges(lo, hi, plotBins)
		for i, e := range edges {
			if math.IsNaN(e) || math.IsInf(e, 0) || (i > 0 && e < edges[i-1]) {
				t.Errorf("[%g, %g]: edge %d = %g (previous %g)", lo, hi, i, e, edges[max(i-1, 0)])
			}
		}
		for _, x := range []float64{lo, hi, c[0], c[1], lo/2 + hi/2} {
			if b := plotBin(x, lo, hi); b < 0 || b >= plotBins {
				t.Errorf("[%g, %g]: plotBin(%g) = %d", lo, hi, x, b)
			}
		}
	}
	// Where nothing overflows, the plain formula's bits.
	for i := 0; i <= plotBins; i++ {
		lo, hi := -3.7, 12.25
		if got, want := lerpRatio(lo, hi, float64(i), plotBins), lo+(hi-lo)*float64(i)/plotBins; got != want {
			t.Errorf("lerpRatio(%d) = %v, want %v", i, got, want)
		}
	}
}

// TestPlotOfHugeValues: samples at the ends of the float64 range give a
// plot with finite edges and shares summing to at most 1, against values
// and against a profile.
func TestPlotOfHugeValues(t *testing.T) {
	for _, cur := range [][]float64{{1.7e308}, {-1.7e308}, {-1.7e308, 1.7e308}, {1.7e308, 12, -3}, {math.MaxFloat64, -math.MaxFloat64, 0}} {
		ref := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
		p := numericPlot(ref, cur)
		if p == nil {
			t.Fatalf("%v: no plot", cur)
		}
		checkPlot(t, "values", cur, p)
	}
}

func checkPlot(t *testing.T, what string, cur []float64, p *Plot) {
	t.Helper()
	for i, e := range p.Edges {
		if math.IsNaN(e) || math.IsInf(e, 0) || (i > 0 && e < p.Edges[i-1]) {
			t.Errorf("%s %v: edge %d = %g", what, cur, i, e)
		}
	}
	for _, shares := range [][]float64{p.Ref, p.Cur} {
		sum := 0.0
		for i, x := range shares {
			if math.IsNaN(x) || x < 0 || x > 1 {
				t.Errorf("%s %v: share %d = %g", what, cur, i, x)
			}
			sum += x
		}
		if sum > 1+1e-9 {
			t.Errorf("%s %v: shares sum to %g", what, cur, sum)
		}
	}
}
