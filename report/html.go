package report

import (
	"fmt"
	"html"
	"html/template"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/normguard/normguard/drift"
	"github.com/normguard/normguard/validate"
)

// HTMLMeta describes where a drift report's data came from, for the
// header of DriftHTML's page. Every field is optional.
type HTMLMeta struct {
	// Title heads the page ("Drift report" when empty).
	Title string
	// Reference and Current name the two data sets (file names, an
	// artifact digest, ...).
	Reference, Current string
	// Generated is caller-supplied text such as a timestamp; empty omits it.
	Generated string
	// Anomalies are what validating the current data against the
	// artifact found first (drift --artifact); drawn above the features.
	Anomalies []validate.Anomaly
	// Vectors is the section about vector columns (VectorDriftHTML).
	Vectors template.HTML
}

// DriftHTML writes the drift report as one self-contained HTML page: a
// header with the sources, the data set verdict and the features missing
// from the current data, a summary table of every feature (drifting
// first, then missing, then those that could not be compared, then ok,
// then skipped, as DriftTable says them), and a card per feature with an
// inline SVG plot of the reference and current distributions over each
// other, a time column's two ranges and the calendar parts compared, the
// new categories and a ks statistic's error bound against a profile.
//
// The page needs no network and no JavaScript: CSS and SVG are inline.
// Every user string (feature names, categories, sources) is escaped;
// NaN numbers are shown as "—". Each plot is an
// <svg class="ng-plot" data-feature="NAME"> (plus data-segment="SEGMENT"
// for CompareSegments reports, which also get a Segment column).
func DriftHTML(w io.Writer, r *drift.Report, meta HTMLMeta) error {
	if r == nil {
		return fmt.Errorf("report: no drift report to render")
	}
	return htmlPage.Execute(w, newHTMLPage(r, meta))
}

// htmlPageData is what the page template renders.
type htmlPageData struct {
	Title, Reference, Current, Generated string
	// Judged counts the features compared (not skipped, no error), Total
	// every compared or skipped feature.
	Drifting, Judged, Errors, Skipped, Total int
	Segmented                                bool // some feature has a segment
	Share, ShareThreshold                    string
	DatasetDrift                             bool
	// Missing are the reference's features the current data lacks.
	Missing []string
	// NewSegments are the current data's segments the reference has no
	// rows of (NewSegmentsMore more are not named).
	NewSegments     []string
	NewSegmentsMore int
	Features        []htmlFeature
	Anomalies       []validateRow
	Vectors         template.HTML
}

// htmlFeature is one feature, its numbers already formatted.
type htmlFeature struct {
	Index                        int
	Name, Segment, Type, Method  string
	Statistic, PValue, Threshold string
	// Bound is the ks statistic's error bound against a profile ("" when
	// the statistic is exact).
	Bound  string
	Effect *htmlEffect
	// Verdict is "drift", "missing", "error", "ok" or "skipped".
	Verdict                      string
	Error, Skipped               string
	NewCategories                []string
	NewCategoriesMore            int
	NewCategoriesAtLeast         int      // > 0: more than this many, none named
	CardCategories               []string // every listed new category
	CardCategoriesMore           int
	Time                         *htmlTime
	ReferenceCount, CurrentCount int
	Plot                         template.HTML // empty without a plot
}

type htmlEffect struct{ Name, Value, Threshold string }

// htmlTime is a time column's comparison: both ranges and the calendar
// parts.
type htmlTime struct {
	// The earliest and latest value of each sample, as written ("-" when
	// none parses).
	RefMin, RefMax, CurMin, CurMax string
	Parts                          []htmlTimePart
	// Unparsed says how many current values do not have the layout.
	Unparsed string
}

// htmlTimePart is one calendar distribution: compared (its numbers and
// verdict) or not (Skipped says why).
type htmlTimePart struct {
	Name, Statistic, PValue, Skipped string
	Drift                            bool
}

// newCategoriesShown is how many new categories the summary table lists
// by name (as DriftTable); a card lists all the report has.
const newCategoriesShown = 5

// verdictRank orders the page: drifting features first, then missing
// ones, then those that could not be compared, then ok, then skipped.
var verdictRank = map[string]int{"drift": 0, "missing": 1, "error": 2, "ok": 3, "skipped": 4}

func newHTMLPage(r *drift.Report, meta HTMLMeta) htmlPageData {
	p := htmlPageData{
		Title: meta.Title, Reference: meta.Reference, Current: meta.Current, Generated: meta.Generated,
		Share: htmlNum(float64(r.DriftShare)), ShareThreshold: htmlNum(float64(r.DriftShareThreshold)),
		DatasetDrift: r.DatasetDrift, Total: len(r.Features), Missing: r.MissingFeatures,
		Anomalies: anomalyRows(meta.Anomalies), Vectors: meta.Vectors,
	}
	if p.Title == "" {
		p.Title = "Drift report"
	}
	if n := len(r.NewSegments); n > 0 {
		p.NewSegments = r.NewSegments[:min(n, 10)]
		p.NewSegmentsMore = n - len(p.NewSegments)
	}
	var features []htmlFeature
	for _, name := range r.MissingFeatures {
		features = append(features, htmlFeature{Name: name, Type: "—", Method: "—", Statistic: "—", PValue: "—", Threshold: "—", Verdict: "missing"})
	}
	for _, f := range r.Sorted() {
		h := htmlFeature{
			Name: f.Name, Segment: f.Segment, Type: f.Type, Method: f.Method,
			Statistic: htmlNum(float64(f.Statistic)), PValue: htmlNum(float64(f.PValue)),
			Threshold: htmlNum(float64(f.Threshold)), Error: f.Error, Skipped: f.Skipped,
			ReferenceCount: f.ReferenceCount, CurrentCount: f.CurrentCount,
		}
		if f.Kind != "" {
			h.Type = f.Kind
		}
		if h.Method == "" {
			h.Method = "—"
		}
		if f.Effect != nil {
			h.Effect = &htmlEffect{Name: f.Effect.Name, Value: htmlNum(float64(f.Effect.Value)), Threshold: htmlNum(float64(f.Effect.Threshold))}
		}
		if b := f.StatisticErrorBound; b != nil && !math.IsNaN(float64(*b)) {
			h.Bound = htmlNum(float64(*b))
		}
		switch {
		case f.Error != "":
			h.Verdict = "error"
			p.Errors++
		case f.Skipped != "":
			h.Verdict = "skipped"
			p.Skipped++
		case f.Drift:
			h.Verdict = "drift"
			p.Drifting++
			p.Judged++
		default:
			h.Verdict = "ok"
			p.Judged++
		}
		total := max(f.NewCategoriesTotal, len(f.NewCategories))
		h.NewCategories = f.NewCategories[:min(len(f.NewCategories), newCategoriesShown)]
		h.NewCategoriesMore = total - len(h.NewCategories)
		h.CardCategories, h.CardCategoriesMore = f.NewCategories, total-len(f.NewCategories)
		if f.NewCategoriesAtLeast {
			h.NewCategoriesAtLeast, h.NewCategoriesMore, h.CardCategoriesMore = f.NewCategoriesTotal-1, 0, 0
		}
		if t := f.Time; t != nil {
			h.Time = newHTMLTime(t)
		}
		if f.Plot != nil {
			h.Plot = template.HTML(plotSVG(f.Name, f.Segment, f.Plot, driftSeries))
		}
		p.Segmented = p.Segmented || f.Segment != ""
		features = append(features, h)
	}
	sort.SliceStable(features, func(i, j int) bool { return verdictRank[features[i].Verdict] < verdictRank[features[j].Verdict] })
	for i := range features {
		features[i].Index = i + 1
	}
	p.Features = features
	return p
}

// newHTMLTime formats a time column's ranges and parts as timeParts
// words them for the table.
func newHTMLTime(t *drift.TimeDrift) *htmlTime {
	h := &htmlTime{
		RefMin: orDash(t.ReferenceMin), RefMax: orDash(t.ReferenceMax),
		CurMin: orDash(t.CurrentMin), CurMax: orDash(t.CurrentMax),
	}
	for _, pt := range t.Parts {
		h.Parts = append(h.Parts, htmlTimePart{Name: pt.Name, Statistic: htmlNum(float64(pt.Statistic)),
			PValue: htmlNum(float64(pt.PValue)), Skipped: pt.Skipped, Drift: pt.Drift})
	}
	if t.CurrentUnparsed > 0 {
		h.Unparsed = fmt.Sprintf("%d current values not in the layout %q", t.CurrentUnparsed, t.Layout)
	}
	return h
}

// htmlNum formats a number compactly, NaN as an em dash.
func htmlNum(x float64) string {
	if math.IsNaN(x) {
		return "—"
	}
	return num(x)
}

// Plot geometry, in SVG user units (the SVG scales to its card's width).
const (
	plotWidth  = 560
	plotLeft   = 52 // room for the y tick labels
	plotRight  = 12
	plotTop    = 30 // room for the legend
	plotInnerH = 170
	// plotBottomNumeric leaves room for the x tick labels (categorical
	// plots grow it to fit their slanted labels).
	plotBottomNumeric = 40
	// plotLabelRunes is the longest category label drawn in full.
	plotLabelRunes = 14
)

// Series colours: blue and orange stay apart for colour-blind readers and
// keep a 3:1 contrast with white (WCAG's floor for graphics).
const (
	colorReference = "#1f6fb4"
	colorCurrent   = "#d35400"
)

// plotSeries names the two distributions a plot draws and where the
// legend goes; the drift and the diagnose pages draw the same plot under
// other names.
type plotSeries struct {
	kind     string // data-kind attribute; "" for none
	ref, cur string // legend entries
	legendX  int    // the legend's width from the right edge
	curAt    int    // offset of the second legend entry
}

// driftSeries are the drift report's series.
var driftSeries = plotSeries{ref: "reference", cur: "current", legendX: 190, curAt: 105}

// plotSVG draws a feature's plot as an inline <svg>, every user string
// escaped; segment, when not empty, is added as data-segment. A plot whose
// slices disagree in length draws a note instead of bars rather than
// failing the page.
func plotSVG(name, segment string, p *drift.Plot, ps plotSeries) string {
	n := len(p.Ref)
	numeric := p.Labels == nil
	valid := n > 0 && len(p.Cur) == n && (numeric && len(p.Edges) == n+1 || !numeric && len(p.Labels) == n)
	bottom := plotBottomNumeric
	if !numeric {
		// Slanted labels reach down about 4.6 units per character.
		longest := 0
		for _, l := range p.Labels {
			longest = max(longest, utf8.RuneCountInString(shorten(l, plotLabelRunes)))
		}
		bottom = max(plotBottomNumeric, 24+int(4.6*float64(longest)))
	}
	if numeric && valid && outsideNote(p) != "" {
		bottom += 12 // a line saying how much lies beyond the axis
	}
	height := plotTop + plotInnerH + bottom
	var b strings.Builder
	kind := "histogram"
	if !numeric {
		kind = "category shares"
	}
	title := name
	fmt.Fprintf(&b, `<svg class="ng-plot" data-feature="%s"`, html.EscapeString(name))
	if ps.kind != "" {
		fmt.Fprintf(&b, ` data-kind="%s"`, ps.kind)
	}
	if segment != "" {
		fmt.Fprintf(&b, ` data-segment="%s"`, html.EscapeString(segment))
		title += " (segment " + segment + ")"
	}
	fmt.Fprintf(&b, ` viewBox="0 0 %d %d" width="100%%" role="img" aria-label="%s: %s and %s %s">`,
		plotWidth, height, html.EscapeString(title), ps.ref, ps.cur, kind)
	fmt.Fprintf(&b, `<title>%s: %s and %s %s</title>`, html.EscapeString(title), ps.ref, ps.cur, kind)
	if !valid {
		fmt.Fprintf(&b, `<text x="%d" y="%d" class="ng-note">no plot data</text></svg>`, plotLeft, plotTop+plotInnerH/2)
		return b.String()
	}
	step, ticks := shareTicks(math.Max(maxShare(p.Ref), maxShare(p.Cur)))
	ymax := step * float64(ticks)
	y := func(v float64) float64 {
		if !(v > 0) { // NaN and negatives sit on the axis
			v = 0
		}
		return plotTop + plotInnerH*(1-math.Min(v, ymax)/ymax)
	}
	axisY := float64(plotTop + plotInnerH)
	innerW := float64(plotWidth - plotLeft - plotRight)
	x := func(i int) float64 { return plotLeft + innerW*float64(i)/float64(n) }

	// Horizontal grid and y tick labels at round shares, 0 to ymax.
	for k := 0; k <= ticks; k++ {
		v := step * float64(k)
		yy := y(v)
		fmt.Fprintf(&b, `<line class="ng-grid" x1="%d" x2="%d" y1="%s" y2="%s"/>`, plotLeft, plotWidth-plotRight, f1(yy), f1(yy))
		fmt.Fprintf(&b, `<text class="ng-tick" x="%d" y="%s" text-anchor="end" dominant-baseline="middle">%s</text>`, plotLeft-6, f1(yy), percent(v, step))
	}
	fmt.Fprintf(&b, `<text class="ng-axis" x="12" y="%s" transform="rotate(-90 12 %s)" text-anchor="middle">share</text>`,
		f1(plotTop+plotInnerH/2), f1(plotTop+plotInnerH/2))

	if numeric {
		// The x axis is linear in the value, from the first edge to the
		// last, so bins of any width sit where their values are.
		lo, hi := p.Edges[0], p.Edges[n]
		xv := func(v float64) float64 { return plotLeft + innerW*(v-lo)/(hi-lo) }
		// Two step outlines over the shared bins, filled half-transparent so
		// either shows through the other.
		for _, s := range []struct {
			shares []float64
			color  string
			label  string
		}{{p.Ref, colorReference, "reference"}, {p.Cur, colorCurrent, "current"}} {
			var d strings.Builder
			fmt.Fprintf(&d, "M%s %s", f1(xv(lo)), f1(axisY))
			for i, v := range s.shares {
				fmt.Fprintf(&d, "L%s %sL%s %s", f1(xv(p.Edges[i])), f1(y(v)), f1(xv(p.Edges[i+1])), f1(y(v)))
			}
			fmt.Fprintf(&d, "L%s %sZ", f1(xv(hi)), f1(axisY))
			fmt.Fprintf(&b, `<path class="ng-%s" d="%s" fill="%s" fill-opacity="0.28" stroke="%s" stroke-width="1.6" stroke-linejoin="round"/>`,
				s.label, d.String(), s.color, s.color)
		}
		// Round values along the x axis (1, 2, 2.5 or 5 times a power of ten).
		ticks, tstep := niceTicks(lo, hi, xTicksMax)
		for _, v := range ticks {
			xx := xv(v)
			anchor := "middle"
			switch {
			case xx-plotLeft < 14:
				anchor = "start"
			case plotWidth-plotRight-xx < 14:
				anchor = "end"
			}
			fmt.Fprintf(&b, `<line class="ng-axisline" x1="%s" x2="%s" y1="%s" y2="%s"/>`, f1(xx), f1(xx), f1(axisY), f1(axisY+4))
			fmt.Fprintf(&b, `<text class="ng-tick ng-xtick" x="%s" y="%s" text-anchor="%s">%s</text>`, f1(xx), f1(axisY+18), anchor, html.EscapeString(tickLabel(v, tstep)))
		}
		// Values beyond the drawn range are said, not hidden.
		if out := outsideNote(p); out != "" {
			fmt.Fprintf(&b, `<text class="ng-note ng-outside" x="%d" y="%s" text-anchor="end">%s</text>`, plotWidth-plotRight, f1(axisY+34), out)
		}
	} else {
		// Grouped bars: reference then current, per category.
		gw := innerW / float64(n)
		bw := gw * 0.4
		for i, label := range p.Labels {
			gx := x(i)
			for j, s := range []struct {
				v      float64
				color  string
				series string
			}{{p.Ref[i], colorReference, "reference"}, {p.Cur[i], colorCurrent, "current"}} {
				top := y(s.v)
				fmt.Fprintf(&b, `<rect class="ng-%s" x="%s" y="%s" width="%s" height="%s" fill="%s"><title>%s, %s: %s</title></rect>`,
					s.series, f1(gx+gw*0.1+bw*float64(j)), f1(top), f1(bw), f1(axisY-top), s.color,
					html.EscapeString(label), s.series, percent(s.v, 0.001))
			}
			cx := gx + gw/2
			fmt.Fprintf(&b, `<text class="ng-tick" x="%s" y="%s" text-anchor="end" transform="rotate(-40 %s %s)"><title>%s</title>%s</text>`,
				f1(cx), f1(axisY+14), f1(cx), f1(axisY+14), html.EscapeString(label), html.EscapeString(shorten(label, plotLabelRunes)))
		}
	}
	fmt.Fprintf(&b, `<line class="ng-axisline" x1="%d" x2="%d" y1="%s" y2="%s"/>`, plotLeft, plotWidth-plotRight, f1(axisY), f1(axisY))

	// Legend, top right.
	lx := plotWidth - plotRight - ps.legendX
	fmt.Fprintf(&b, `<g class="ng-legend"><rect x="%d" y="8" width="14" height="14" fill="%s"/><text x="%d" y="19">%s</text>`, lx, colorReference, lx+20, ps.ref)
	fmt.Fprintf(&b, `<rect x="%d" y="8" width="14" height="14" fill="%s"/><text x="%d" y="19">%s</text></g>`, lx+ps.curAt, colorCurrent, lx+ps.curAt+20, ps.cur)
	b.WriteString(`</svg>`)
	return b.String()
}

// xTicksMax is the most tick labels a numeric plot's x axis gets.
const xTicksMax = 6

// niceTicks returns the multiples of a round step (1, 2, 2.5 or 5 times a
// power of ten) within [lo, hi], the smallest such step giving at most max
// ticks, and that step. Degenerate ranges (hi <= lo, non-finite) give none.
func niceTicks(lo, hi float64, max int) ([]float64, float64) {
	if !(hi > lo) || math.IsInf(hi-lo, 0) || max < 1 {
		return nil, 0
	}
	const eps = 1e-9
	for p := math.Pow(10, math.Floor(math.Log10((hi-lo)/float64(max)))); ; p *= 10 {
		for _, m := range []float64{1, 2, 2.5, 5} {
			step := m * p
			first, last := math.Ceil(lo/step-eps), math.Floor(hi/step+eps)
			if last-first+1 > float64(max) {
				continue
			}
			var ticks []float64
			for k := first; k <= last; k++ {
				v := k * step
				if v == 0 {
					v = 0 // no -0
				}
				ticks = append(ticks, v)
			}
			return ticks, step
		}
	}
}

// tickLabel formats a tick value with at most the decimals its step needs
// (a step of 0.25 gives two, of 50 none; trailing zeros dropped); very
// large or small values in %g form.
func tickLabel(v, step float64) string {
	if v == 0 {
		return "0"
	}
	if a := math.Abs(v); a >= 1e7 || a < 1e-4 {
		return strconv.FormatFloat(v, 'g', 4, 64)
	}
	decimals := 0
	for s := step; decimals < 8 && math.Abs(s-math.Round(s)) > 1e-9*math.Max(1, s); s *= 10 {
		decimals++
	}
	// Rounded to the step's decimals, then in shortest form: 0.2 not 0.20.
	r, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'f', decimals, 64), 64)
	return strconv.FormatFloat(r, 'f', -1, 64)
}

// outsideNote says which shares of the reference and current values lie
// beyond a numeric plot's bins (its shares sum to less than 1), or "" when
// under 0.05% of each does.
func outsideNote(p *drift.Plot) string {
	out := func(shares []float64) (float64, bool) {
		total, any := 0.0, false
		for _, v := range shares {
			if !math.IsNaN(v) {
				total += v
				any = true
			}
		}
		return math.Max(0, 1-total), any
	}
	r, okR := out(p.Ref)
	c, okC := out(p.Cur)
	if !(okR && r >= 0.0005) && !(okC && c >= 0.0005) {
		return ""
	}
	var parts []string
	if okR {
		parts = append(parts, "reference "+percent(r, 0.001))
	}
	if okC {
		parts = append(parts, "current "+percent(c, 0.001))
	}
	return "beyond the axis: " + strings.Join(parts, ", ")
}

// maxShare is the largest finite share (0 when none is positive).
func maxShare(xs []float64) float64 {
	m := 0.0
	for _, x := range xs {
		if x > m && !math.IsInf(x, 1) {
			m = x
		}
	}
	return m
}

// shareTicks picks the y axis of a plot whose largest share is max: a
// round step (1, 2 or 5 times a power of ten) and at most 5 steps reaching
// max or beyond. A plot without a positive share gets a 0..100% axis.
func shareTicks(max float64) (step float64, ticks int) {
	if !(max > 0) || max > 1 {
		return 0.25, 4
	}
	for p := 1e-6; ; p *= 10 {
		for _, m := range []float64{1, 2, 5} {
			step = m * p
			if n := math.Ceil(max/step - 1e-9); n <= 5 {
				return step, int(math.Max(n, 1))
			}
		}
	}
}

// percent formats share v as a percentage with the decimals a tick step
// needs (a step of 0.001 gives one decimal).
func percent(v, step float64) string {
	if math.IsNaN(v) {
		return "—"
	}
	decimals := 0
	for s := step * 100; decimals < 6 && math.Abs(s-math.Round(s)) > 1e-9*math.Max(1, s); s *= 10 {
		decimals++
	}
	return strconv.FormatFloat(v*100, 'f', decimals, 64) + "%"
}

// f1 formats an SVG coordinate with one decimal.
func f1(x float64) string { return strconv.FormatFloat(x, 'f', 1, 64) }

// shorten cuts s to at most n runes, ending in an ellipsis when cut.
func shorten(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// pageHead is a report page's opening up to <body>: the document head
// with the page's title and css inlined.
func pageHead(css string) string {
	return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="normguard">
<title>{{.Title}}</title>
<style>` + css + `</style>
</head>
`
}

var htmlPage = template.Must(template.Must(template.New("drift").Parse(anomaliesTemplate)).Parse(pageHead(baseCSS+driftCSS+anomalyCSS) + `<body>
<div class="page">
<header class="top">
<h1>{{.Title}}</h1>
<dl class="sources">
{{- if .Reference}}<dt>Reference</dt><dd>{{.Reference}}</dd>{{end}}
{{- if .Current}}<dt>Current</dt><dd>{{.Current}}</dd>{{end}}
{{- if .Generated}}<dt>Generated</dt><dd>{{.Generated}}</dd>{{end}}
</dl>
<p class="verdict">
{{- if .DatasetDrift}}<span class="badge drift big">DATA SET DRIFT</span>{{else}}<span class="badge ok big">no data set drift</span>{{end}}
<span><strong class="{{if .Drifting}}drift{{else}}ok{{end}}">{{.Drifting}} of {{.Judged}}</strong> features drift: share {{.Share}}, the data set drifts at ≥ {{.ShareThreshold}}</span>
{{- if .Errors}}<span class="msg">{{.Errors}} of {{.Total}} could not be compared</span>{{end}}
{{- if .Skipped}}<span class="muted">{{.Skipped}} skipped (not judged)</span>{{end}}
</p>
{{- if .Missing}}
<p class="problem" id="missing"><span class="badge missing">MISSING</span> <strong>{{len .Missing}} of the reference's features {{if eq (len .Missing) 1}}is{{else}}are{{end}} missing from the current data:</strong> {{range $i, $m := .Missing}}{{if $i}}, {{end}}<code>{{$m}}</code>{{end}}. Check the current data's header (a typo, a renamed column), or leave {{if eq (len .Missing) 1}}it{{else}}them{{end}} out with --exclude.</p>
{{- end}}
{{- if .NewSegments}}
<p class="problem" id="new-segments"><span class="badge missing">NEW</span> <strong>{{len .NewSegments}}{{if .NewSegmentsMore}}+{{.NewSegmentsMore}}{{end}} segment(s) of the current data have no reference rows:</strong> {{range $i, $s := .NewSegments}}{{if $i}}, {{end}}<code>{{$s}}</code>{{end}}{{if .NewSegmentsMore}} and {{.NewSegmentsMore}} more{{end}}.</p>
{{- end}}
</header>
{{- if .Anomalies}}{{template "anomalies" .Anomalies}}{{end}}
{{- .Vectors}}

<h2>Summary</h2>
<table>
<thead><tr>{{if .Segmented}}<th scope="col">Segment</th>{{end}}<th scope="col">Feature</th><th scope="col">Type</th><th scope="col">Method</th><th scope="col">Statistic</th><th scope="col">p-value</th><th scope="col">Threshold</th><th scope="col">Effect (floor)</th><th scope="col">Verdict</th><th scope="col">New categories · time ranges</th></tr></thead>
<tbody>
{{- range .Features}}
<tr class="{{.Verdict}}">{{if $.Segmented}}<td>{{if .Segment}}{{.Segment}}{{else}}—{{end}}</td>{{end}}<td><a href="#feature-{{.Index}}">{{.Name}}</a></td><td>{{.Type}}</td><td>{{.Method}}</td><td class="n">{{.Statistic}}{{if .Bound}} <span class="bound" title="ks against the profile: within {{.Bound}} of the exact two-sample statistic">± {{.Bound}}</span>{{end}}</td><td class="n">{{.PValue}}</td><td class="n">{{.Threshold}}</td><td>{{with .Effect}}{{.Name}} {{.Value}} (&gt; {{.Threshold}}){{else}}—{{end}}</td><td>{{template "verdict" .}}</td><td>{{if .Time}}{{template "timerange" .Time}}{{else}}{{template "newcats" .}}{{end}}</td></tr>
{{- end}}
</tbody>
</table>

<h2>Features</h2>
<div class="cards">
{{- range .Features}}
<article class="card {{.Verdict}}" id="feature-{{.Index}}">
<header><h3>{{.Name}}{{if .Segment}} <span class="seg">segment {{.Segment}}</span>{{end}}</h3><span class="badge {{.Verdict}}">{{.Verdict}}</span></header>
{{- if eq .Verdict "missing"}}
<p class="msg">The current data has no column <code>{{.Name}}</code>, which the reference has: it could not be compared. Check the current data's header (a typo, a renamed column), or leave it out with --exclude.</p>
{{- else}}
<p class="sub">{{.Type}} · {{.Method}} · {{.ReferenceCount}} reference / {{.CurrentCount}} current values</p>
{{- if .Skipped}}
<p class="skip">skipped — {{.Skipped}}</p>
{{- end}}
{{- if .Plot}}
{{.Plot}}
{{- end}}
<dl class="nums">
{{- if not .Skipped}}
<div><dt>statistic</dt><dd>{{.Statistic}}</dd></div>
<div><dt>p-value</dt><dd>{{.PValue}}</dd></div>
<div><dt>threshold</dt><dd>{{.Threshold}}</dd></div>
{{- end}}
{{- if .Bound}}
<div><dt>statistic error bound</dt><dd>± {{.Bound}} (ks against the profile)</dd></div>
{{- end}}
{{- with .Effect}}
<div><dt>effect: {{.Name}}</dt><dd>{{.Value}} (floor {{.Threshold}})</dd></div>
{{- end}}
{{- with .Time}}
<div class="wide"><dt>reference range</dt><dd>{{.RefMin}} .. {{.RefMax}}</dd></div>
<div class="wide"><dt>current range</dt><dd>{{.CurMin}} .. {{.CurMax}}</dd></div>
{{- range .Parts}}
<div class="wide"><dt>{{.Name}}</dt><dd>{{if .Skipped}}not compared: {{.Skipped}}{{else}}statistic {{.Statistic}}, p-value {{.PValue}}{{if .Drift}} <span class="badge drift">drift</span>{{end}}{{end}}</dd></div>
{{- end}}
{{- if .Unparsed}}
<div class="wide"><dt>unparsed</dt><dd>{{.Unparsed}}</dd></div>
{{- end}}
{{- end}}
{{- if .CardCategories}}
<div class="wide"><dt>new categories</dt><dd>{{range $i, $c := .CardCategories}}{{if $i}}, {{end}}<code>{{$c}}</code>{{end}}{{if .CardCategoriesMore}} and {{.CardCategoriesMore}} more{{end}}</dd></div>
{{- end}}
</dl>
{{- end}}
{{- if .Error}}
<p class="msg">error: {{.Error}}</p>
{{- end}}
</article>
{{- end}}
</div>
</div>
</body>
</html>
{{define "newcats"}}{{if .NewCategoriesAtLeast}}more than {{.NewCategoriesAtLeast}} distinct values, too many to name{{else}}{{range $i, $c := .NewCategories}}{{if $i}}, {{end}}<code>{{$c}}</code>{{else}}—{{end}}{{if .NewCategoriesMore}} and {{.NewCategoriesMore}} more{{end}}{{end}}{{end}}
{{define "verdict"}}<span class="badge {{.Verdict}}">{{.Verdict}}</span>{{if eq .Verdict "missing"}} from the current data{{else if .Skipped}} — {{.Skipped}}{{end}}{{if .Error}} <span class="msg">{{.Error}}</span>{{end}}{{end}}
{{define "timerange"}}reference <span class="nw">{{.RefMin}}</span> .. <span class="nw">{{.RefMax}}</span><br>current <span class="nw">{{.CurMin}}</span> .. <span class="nw">{{.CurMax}}</span>{{range .Parts}}<br>{{.Name}} {{if .Skipped}}not compared (uneven range){{else}}p={{.PValue}}{{if .Drift}} DRIFT{{end}}{{end}}{{end}}{{end}}
`))
