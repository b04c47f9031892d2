package report

import (
	"fmt"
	"html/template"
	"io"
	"sort"

	"github.com/normguard/normguard/diagnose"
	"github.com/normguard/normguard/validate"
)

// DiagnoseMeta describes what a diagnosis compared, for the header of
// DiagnoseHTML's page. Every field is optional.
type DiagnoseMeta struct {
	// Title heads the page ("Diagnosis" when empty).
	Title string
	// Artifact, Observed and Raw name the inputs (file names, digests).
	// An empty Raw means unpaired mode: the page says the observed values
	// were judged against the artifact's training profile.
	Artifact, Observed, Raw string
	// Candidates name the other artifacts production may have used.
	Candidates []string
	// Generated is caller-supplied text such as a timestamp; empty omits it.
	Generated string
	// Anomalies are what validating the raw rows against the artifact
	// found first; drawn above the features when any.
	Anomalies []validate.Anomaly
}

// DiagnoseHTML writes the diagnosis as one self-contained HTML page: a
// header with the inputs and the overall verdict, a summary table, and a
// card per column (mismatched columns first, see MismatchedFirst) with its verdict, what the values show, the likely fix,
// the evidence and, where the verdict carries one, an inline SVG plot:
// observed against expected values in paired mode (the line
// observed = expected drawn in), or the training output's and the observed
// distributions over each other in unpaired mode.
//
// The page needs no network and no JavaScript. Every user string (column
// names, evidence, sources) is escaped. Each plot is an
// <svg class="ng-plot" data-feature="NAME" data-kind="scatter|distribution">.
func DiagnoseHTML(w io.Writer, r *diagnose.Report, meta DiagnoseMeta) error {
	if r == nil {
		return fmt.Errorf("report: no diagnosis to render")
	}
	return diagnosePage.Execute(w, newDiagnosePage(r, meta))
}

type diagnosePageData struct {
	Title, Artifact, Observed, Raw, Generated string
	Candidates                                []string
	Mismatched, Total                         int
	Counts                                    []verdictCount
	Features                                  []diagnoseFeature
	Anomalies                                 []validateRow
}

type verdictCount struct {
	Verdict, Class string
	N              int
}

// diagnoseFeature is one column, ready to render: Explanation without
// the fix when the fix is its ending.
type diagnoseFeature struct {
	Index                int
	Name, Verdict, Class string
	Explanation, Fix     string
	Evidence             []evidenceItem
	Plot                 template.HTML
	PlotCaption          string
	HasPlot              bool
}

func newDiagnosePage(r *diagnose.Report, meta DiagnoseMeta) diagnosePageData {
	r = MismatchedFirst(r)
	p := diagnosePageData{Title: meta.Title, Artifact: meta.Artifact, Observed: meta.Observed, Raw: meta.Raw,
		Generated: meta.Generated, Candidates: meta.Candidates, Total: len(r.Features), Anomalies: anomalyRows(meta.Anomalies)}
	if p.Title == "" {
		p.Title = "Diagnosis"
	}
	counts := map[string]int{}
	for i, v := range r.Features {
		f := diagnoseFeature{Index: i + 1, Name: v.Name, Verdict: v.Verdict, Class: verdictClass(v.Verdict),
			Explanation: v.Explanation, Fix: v.Fix, Evidence: evidenceOf(v)}
		// Show what the values say and the fix apart when the fix is the
		// explanation's ending.
		if n := len(v.Explanation) - len(v.Fix) - 2; v.Fix != "" && n >= 0 && v.Explanation[n:] == ": "+v.Fix {
			f.Explanation = v.Explanation[:n]
		} else {
			f.Fix = ""
		}
		if v.Plot != nil {
			svg, caption := diagnosePlotSVG(v.Name, v.Plot)
			f.Plot, f.PlotCaption, f.HasPlot = template.HTML(svg), caption, svg != ""
		}
		if v.Verdict != diagnose.OK {
			p.Mismatched++
		}
		counts[v.Verdict]++
		p.Features = append(p.Features, f)
	}
	for verdict, n := range counts {
		p.Counts = append(p.Counts, verdictCount{Verdict: verdict, Class: verdictClass(verdict), N: n})
	}
	sort.Slice(p.Counts, func(i, j int) bool {
		if p.Counts[i].N != p.Counts[j].N {
			return p.Counts[i].N > p.Counts[j].N
		}
		return p.Counts[i].Verdict < p.Counts[j].Verdict
	})
	return p
}

// diagnoseCSS is the drift page's look (DriftHTML) for the diagnosis page.

var diagnosePage = template.Must(template.Must(template.New("diagnose").Parse(anomaliesTemplate)).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="normguard">
<title>{{.Title}}</title>
<style>` + baseCSS + diagnoseCSS + anomalyCSS + `</style>
</head>
<body>
<div class="page">
<header class="top">
<h1>{{.Title}}</h1>
<dl class="sources">
{{- if .Artifact}}<dt>Artifact</dt><dd>{{.Artifact}}</dd>{{end}}
{{- if .Observed}}<dt>Observed</dt><dd>{{.Observed}}</dd>{{end}}
{{- if .Raw}}<dt>Raw rows</dt><dd>{{.Raw}}</dd>{{else}}<dt>Mode</dt><dd>unpaired: no raw rows, observed values judged against the artifact's training profile</dd>{{end}}
{{- range .Candidates}}<dt>Candidate</dt><dd>{{.}}</dd>{{end}}
{{- if .Generated}}<dt>Generated</dt><dd>{{.Generated}}</dd>{{end}}
</dl>
<p class="verdict">
{{- if .Mismatched}}<span class="badge bad big">MISMATCH</span><span><strong>{{.Mismatched}} of {{.Total}}</strong> features differ from what the artifact produces</span>{{else}}<span class="badge ok big">all features ok</span><span>{{.Total}} features match the artifact</span>{{end}}
{{- range .Counts}}<span class="badge {{.Class}}">{{.Verdict}} × {{.N}}</span>{{end}}
</p>
</header>
{{- if .Anomalies}}{{template "anomalies" .Anomalies}}{{end}}

<h2>Summary</h2>
<table>
<thead><tr><th scope="col">Feature</th><th scope="col">Verdict</th><th scope="col">What the values show</th></tr></thead>
<tbody>
{{- range .Features}}
<tr class="{{.Class}}"><td><a href="#feature-{{.Index}}">{{.Name}}</a></td><td><span class="badge {{.Class}}">{{.Verdict}}</span></td><td>{{.Explanation}}</td></tr>
{{- end}}
</tbody>
</table>

<h2>Features</h2>
<div class="cards">
{{- range .Features}}
<article class="card {{.Class}}" id="feature-{{.Index}}">
<header><h3>{{.Name}}</h3><span class="badge {{.Class}}">{{.Verdict}}</span></header>
<p class="expl">{{.Explanation}}</p>
{{- if .Fix}}
<p class="fix"><strong>Likely fix:</strong> {{.Fix}}</p>
{{- end}}
{{- if .HasPlot}}
<figure>
{{.Plot}}
<figcaption>{{.PlotCaption}}</figcaption>
</figure>
{{- end}}
{{- if .Evidence}}
<dl class="nums">
{{- range .Evidence}}
<div><dt>{{.Key}}</dt><dd>{{.Value}}</dd></div>
{{- end}}
</dl>
{{- end}}
</article>
{{- end}}
</div>
</div>
</body>
</html>
`))
