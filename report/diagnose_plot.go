package report

import (
	"fmt"
	"html"
	"math"
	"strings"

	"github.com/normguard/normguard/diagnose"
)

// Scatter geometry beyond the shared plot constants: room for the x axis
// title under the tick labels.
const scatterBottom = 52

// diagnosePlotSVG draws a verdict's plot: the scatter of a paired column
// or the two distributions of an unpaired one. It returns the <svg> and a
// caption for it, or "" when the plot holds nothing to draw.
func diagnosePlotSVG(name string, p *diagnose.Plot) (svg, caption string) {
	switch {
	case len(p.Expected) > 0 && len(p.Expected) == len(p.Observed):
		return scatterSVG(name, p.Expected, p.Observed),
			fmt.Sprintf("%d rows: the artifact's output (x) against the observed value (y); on the dashed line they agree.", len(p.Expected))
	case p.Distribution != nil:
		caption = "The artifact's output on the training data (training profile) and the observed values, as shares per bin."
		if out := 1 - sum(p.Distribution.Cur); p.Distribution.Labels == nil && out > 0.005 {
			caption += fmt.Sprintf(" %s of the observed values lie outside the plotted range.", percent(math.Min(out, 1), 0.001))
		}
		return plotSVG(name, "", p.Distribution, diagnoseSeries), caption
	}
	return "", ""
}

// scatterSVG plots observed against expected values with the line
// observed = expected where the two ranges overlap.
func scatterSVG(name string, exp, obs []float64) string {
	xlo, xhi := finiteRange(exp)
	ylo, yhi := finiteRange(obs)
	xt := axisTicks(xlo, xhi)
	yt := axisTicks(ylo, yhi)
	xlo, xhi = xt[0], xt[len(xt)-1]
	ylo, yhi = yt[0], yt[len(yt)-1]
	height := plotTop + plotInnerH + scatterBottom
	innerW := float64(plotWidth - plotLeft - plotRight)
	axisY := float64(plotTop + plotInnerH)
	x := func(v float64) float64 { return plotLeft + innerW*(v-xlo)/(xhi-xlo) }
	y := func(v float64) float64 { return axisY - plotInnerH*(v-ylo)/(yhi-ylo) }

	var b strings.Builder
	esc := html.EscapeString(name)
	fmt.Fprintf(&b, `<svg class="ng-plot" data-feature="%s" data-kind="scatter" viewBox="0 0 %d %d" width="100%%" role="img" aria-label="%s: observed against expected values">`,
		esc, plotWidth, height, esc)
	fmt.Fprintf(&b, `<title>%s: observed against expected values</title>`, esc)
	for _, v := range yt {
		fmt.Fprintf(&b, `<line class="ng-grid" x1="%d" x2="%d" y1="%s" y2="%s"/>`, plotLeft, plotWidth-plotRight, f1(y(v)), f1(y(v)))
		fmt.Fprintf(&b, `<text class="ng-tick" x="%d" y="%s" text-anchor="end" dominant-baseline="middle">%s</text>`, plotLeft-6, f1(y(v)), html.EscapeString(num(v)))
	}
	for _, v := range xt {
		fmt.Fprintf(&b, `<line class="ng-axisline" x1="%s" x2="%s" y1="%s" y2="%s"/>`, f1(x(v)), f1(x(v)), f1(axisY), f1(axisY+4))
		fmt.Fprintf(&b, `<text class="ng-tick" x="%s" y="%s" text-anchor="middle">%s</text>`, f1(x(v)), f1(axisY+18), html.EscapeString(num(v)))
	}
	fmt.Fprintf(&b, `<line class="ng-axisline" x1="%d" x2="%d" y1="%s" y2="%s"/>`, plotLeft, plotWidth-plotRight, f1(axisY), f1(axisY))
	fmt.Fprintf(&b, `<text class="ng-axis" x="%s" y="%d" text-anchor="middle">expected (artifact)</text>`, f1(plotLeft+innerW/2), height-8)
	fmt.Fprintf(&b, `<text class="ng-axis" x="12" y="%s" transform="rotate(-90 12 %s)" text-anchor="middle">observed</text>`,
		f1(axisY-plotInnerH/2), f1(axisY-plotInnerH/2))
	// observed = expected over the overlap of the two ranges.
	if lo, hi := math.Max(xlo, ylo), math.Min(xhi, yhi); lo < hi {
		fmt.Fprintf(&b, `<line class="ng-identity" x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-width="1.4" stroke-dasharray="6 4"/>`,
			f1(x(lo)), f1(y(lo)), f1(x(hi)), f1(y(hi)), colorReference)
	}
	for i, e := range exp {
		fmt.Fprintf(&b, `<circle class="ng-point" cx="%s" cy="%s" r="2.4" fill="%s" fill-opacity="0.55"/>`, f1(x(e)), f1(y(obs[i])), colorCurrent)
	}
	lx := plotWidth - plotRight - 250
	fmt.Fprintf(&b, `<g class="ng-legend"><line x1="%d" x2="%d" y1="15" y2="15" stroke="%s" stroke-width="2" stroke-dasharray="6 4"/><text x="%d" y="19">observed = expected</text>`,
		lx, lx+22, colorReference, lx+28)
	fmt.Fprintf(&b, `<circle cx="%d" cy="15" r="5" fill="%s"/><text x="%d" y="19">rows</text></g>`, lx+190, colorCurrent, lx+200)
	b.WriteString(`</svg>`)
	return b.String()
}

// finiteRange returns the smallest and largest finite value of xs (0, 0
// when there is none).
func finiteRange(xs []float64) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, x := range xs {
		if !math.IsNaN(x) && !math.IsInf(x, 0) {
			lo, hi = math.Min(lo, x), math.Max(hi, x)
		}
	}
	if lo > hi {
		return 0, 0
	}
	return lo, hi
}

// axisTicks returns round tick values (a step of 1, 2 or 5 times a power
// of ten, at most 6 intervals) covering [lo, hi]; a single value gets an
// axis around it.
func axisTicks(lo, hi float64) []float64 {
	if hi-lo <= 1e-12*math.Max(math.Abs(lo), math.Abs(hi)) {
		d := math.Max(math.Abs(lo)*0.1, 1)
		lo, hi = lo-d, hi+d
	}
	step := 0.0
	for p := math.Pow(10, math.Floor(math.Log10((hi-lo)/6))); step == 0; p *= 10 {
		for _, m := range []float64{1, 2, 5} {
			if (math.Ceil(hi/(m*p))-math.Floor(lo/(m*p))) <= 6 && step == 0 {
				step = m * p
			}
		}
	}
	var ticks []float64
	for k := math.Floor(lo / step); ; k++ {
		v := k * step
		if math.Abs(v) < step*1e-9 {
			v = 0
		}
		ticks = append(ticks, v)
		if v >= hi || len(ticks) > 8 {
			return ticks
		}
	}
}

// diagnoseSeries are the unpaired diagnosis' series: the artifact's
// training output against what production fed the model.
var diagnoseSeries = plotSeries{kind: "distribution", ref: "training output", cur: "observed", legendX: 250, curAt: 150}

func sum(xs []float64) float64 {
	t := 0.0
	for _, x := range xs {
		if !math.IsNaN(x) {
			t += x
		}
	}
	return t
}
