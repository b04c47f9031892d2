package report

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/normguard/normguard/drift"
)

func TestNiceTicks(t *testing.T) {
	tests := []struct {
		lo, hi float64
		step   float64
		labels []string
	}{
		// The quickstart's delay window: 50 is the smallest round step
		// giving at most 6 ticks (25 would give 8).
		{-35.61, 170, 50, []string{"0", "50", "100", "150"}},
		{0, 1, 0.2, []string{"0", "0.2", "0.4", "0.6", "0.8", "1"}},
		{0, 10, 2, []string{"0", "2", "4", "6", "8", "10"}},
		// 2.5 steps: 1 and 2 give too many ticks, 2.5 fits.
		{0, 12.5, 2.5, []string{"0", "2.5", "5", "7.5", "10", "12.5"}},
		{0.013, 0.0271, 0.0025, []string{"0.015", "0.0175", "0.02", "0.0225", "0.025"}},
		{-3.2, -1.1, 0.5, []string{"-3", "-2.5", "-2", "-1.5"}},
		{1200, 2650, 250, []string{"1250", "1500", "1750", "2000", "2250", "2500"}},
		{74.47, 2586, 500, []string{"500", "1000", "1500", "2000", "2500"}},
		// Steps of 1e8 give 7 ticks: 2e8 is the next round one.
		{3e8, 9e8, 2e8, []string{"4e+08", "6e+08", "8e+08"}},
	}
	for _, tt := range tests {
		ticks, step := niceTicks(tt.lo, tt.hi, xTicksMax)
		var labels []string
		for _, v := range ticks {
			labels = append(labels, tickLabel(v, step))
		}
		if math.Abs(step-tt.step) > 1e-12*tt.step || strings.Join(labels, " ") != strings.Join(tt.labels, " ") {
			t.Errorf("niceTicks(%v, %v): got step %v, ticks %v; want %v, %v", tt.lo, tt.hi, step, labels, tt.step, tt.labels)
		}
		for _, v := range ticks {
			if v < tt.lo || v > tt.hi {
				t.Errorf("niceTicks(%v, %v): tick %v outside the range", tt.lo, tt.hi, v)
			}
		}
	}
	for _, r := range [][2]float64{{1, 1}, {2, 1}, {math.NaN(), 1}, {0, math.Inf(1)}} {
		if ticks, _ := niceTicks(r[0], r[1], xTicksMax); ticks != nil {
			t.Errorf("niceTicks(%v, %v): got %v, want none", r[0], r[1], ticks)
		}
	}
}

var xTick = regexp.MustCompile(`<text class="ng-tick ng-xtick" x="([-0-9.]+)" y="[-0-9.]+" text-anchor="[a-z]+">([^<]*)</text>`)

// TestPlotXAxis draws a numeric plot whose bins do not start on round
// values: the x labels are round numbers placed where their values are
// on the axis, and the shares beyond the bins are said.
func TestPlotXAxis(t *testing.T) {
	const n = 40
	lo, hi := -35.61, 170.0
	p := &drift.Plot{Edges: make([]float64, n+1), Ref: make([]float64, n), Cur: make([]float64, n)}
	for i := range p.Edges {
		p.Edges[i] = lo + (hi-lo)*float64(i)/n
	}
	for i := range p.Ref {
		p.Ref[i] = 0.99 / n  // 1% of the reference beyond the bins
		p.Cur[i] = 0.987 / n // 1.3% of the current values
	}
	svg := plotSVG("delay", "", p, driftSeries)
	got := xTick.FindAllStringSubmatch(svg, -1)
	want := []float64{0, 50, 100, 150}
	if len(got) != len(want) {
		t.Fatalf("got x ticks %v, want %v", got, want)
	}
	innerW := float64(plotWidth - plotLeft - plotRight)
	for i, m := range got {
		x, _ := strconv.ParseFloat(m[1], 64)
		wantX := plotLeft + innerW*(want[i]-lo)/(hi-lo)
		if m[2] != strconv.FormatFloat(want[i], 'f', -1, 64) || math.Abs(x-wantX) > 0.051 {
			t.Errorf("x tick %d: got %q at %v, want %v at %.1f", i, m[2], x, want[i], wantX)
		}
	}
	if !strings.Contains(svg, ">beyond the axis: reference 1.0%, current 1.3%</text>") {
		t.Errorf("got no note of the shares beyond the bins: %.300s", svg)
	}

	// Every value within the bins: no note.
	for i := range p.Ref {
		p.Ref[i], p.Cur[i] = 1.0/n, 1.0/n
	}
	if svg := plotSVG("delay", "", p, driftSeries); strings.Contains(svg, "beyond the axis") {
		t.Error("a plot holding every value says some lie beyond the axis")
	}
}

// TestPlotUnequalBins checks that bins of unequal width are drawn at their
// values: edges 0, 1, 10 put the middle edge at a tenth of the axis.
func TestPlotUnequalBins(t *testing.T) {
	p := &drift.Plot{Edges: []float64{0, 1, 10}, Ref: []float64{0.5, 0.5}, Cur: []float64{0.5, 0.5}}
	svg := plotSVG("x", "", p, driftSeries)
	innerW := float64(plotWidth - plotLeft - plotRight)
	mid := f1(plotLeft + innerW*0.1)
	path := regexp.MustCompile(`<path class="ng-reference" d="([^"]*)"`).FindStringSubmatch(svg)
	if path == nil || !strings.Contains(path[1], "L"+mid+" ") {
		t.Errorf("reference outline %v does not step at x=%s", path, mid)
	}
}
