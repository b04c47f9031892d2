package report

import (
	"fmt"
	"html/template"
	"io"

	"github.com/normguard/normguard/validate"
)

// ValidateMeta describes what a validation compared, for the header of
// ValidateHTML's page. Every field is optional.
type ValidateMeta struct {
	// Title heads the page ("Validation" when empty).
	Title string
	// Artifact and Data name the inputs (file names, digests).
	Artifact, Data string
	// Generated is caller-supplied text such as a timestamp.
	Generated string
}

// ValidateHTML writes a validation report as one self-contained HTML page
// (no network, no JavaScript): a header with the inputs and the verdict,
// the anomalies (column, code, training → now, description, fix) and a
// table of every checked column's training and current counts. Every user
// string is escaped.
func ValidateHTML(w io.Writer, r *validate.Report, meta ValidateMeta) error {
	if r == nil {
		return fmt.Errorf("report: no validation to render")
	}
	p := validatePageData{Title: meta.Title, Artifact: meta.Artifact, Data: meta.Data, Generated: meta.Generated,
		Rows: commas(r.Rows), Rule: r.Rule, Ignored: r.Ignored, IgnoredMore: ignoredMore(r), N: len(r.Anomalies), Checked: len(r.Columns)}
	if p.Title == "" {
		p.Title = "Validation"
	}
	for _, a := range r.Anomalies {
		p.Anomalies = append(p.Anomalies, validateRow{Anomaly: a, Name: anomalyColumn(a), Change: TrainingToNow(a), Class: severityClass(a.Severity)})
	}
	for _, c := range r.Columns {
		p.Columns = append(p.Columns, validateCol{Name: c.Name, Type: c.Type, Kind: c.Kind,
			TrainMissing: shareOf(c.Training.MissingRate), CurMissing: shareOf(c.Current.MissingRate),
			TrainRange: rangeOf(c.Training), CurRange: rangeOf(c.Current), N: c.Anomalies})
	}
	return validatePage.Execute(w, p)
}

type validatePageData struct {
	Title, Artifact, Data, Generated, Rows string
	Rule                                   validate.Rule
	Ignored                                []string
	IgnoredMore                            string
	N, Checked                             int
	Anomalies                              []validateRow
	Columns                                []validateCol
}

type validateRow struct {
	validate.Anomaly
	// Name is the column as shown (anomalyColumn).
	Name          string
	Change, Class string
}

type validateCol struct {
	Name, Type, Kind                               string
	TrainMissing, CurMissing, TrainRange, CurRange string
	N                                              int
}

func severityClass(s string) string {
	if s == validate.SeverityError {
		return "bad"
	}
	return "warn"
}

func rangeOf(c validate.Counts) string {
	if c.Min == nil || c.Max == nil {
		return ""
	}
	return "[" + num(*c.Min) + ", " + num(*c.Max) + "]"
}

// validateCSS is the validation page's own rules.
const validateCSS = `
.badge.bad { color: #fff; background: var(--bad); }
.badge.warn { color: var(--warn); background: var(--warn-bg); }
tr.bad td { background: var(--bad-bg); }
td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.card.bad { border-left: 5px solid var(--bad); }
.card.warn { border-left: 5px solid #d08700; }
.card p { margin: 8px 0 0; overflow-wrap: anywhere; }
.card p.fix { padding: 8px 10px; background: var(--warn-bg); border-radius: 6px; }
.card.bad p.fix { background: var(--bad-bg); }
.rule { color: var(--muted); font-size: 14px; margin: 8px 0 0; }
`

var validatePage = template.Must(template.Must(template.New("validate").Parse(anomaliesTemplate)).Parse(pageHead(baseCSS+validateCSS) + `<body>
<div class="page">
<header class="top">
<h1>{{.Title}}</h1>
<dl class="sources">
{{- if .Artifact}}<dt>Artifact</dt><dd>{{.Artifact}}</dd>{{end}}
{{- if .Data}}<dt>Data</dt><dd>{{.Data}}</dd>{{end}}
<dt>Rows</dt><dd>{{.Rows}}</dd>
{{- if .Generated}}<dt>Generated</dt><dd>{{.Generated}}</dd>{{end}}
</dl>
<p class="verdict">
{{- if .N}}<span class="badge bad big">{{.N}} {{if eq .N 1}}ANOMALY{{else}}ANOMALIES{{end}}</span><span>in the {{.Checked}} columns checked</span>{{else}}<span class="badge ok big">no anomaly</span><span>{{.Checked}} columns checked</span>{{end}}
</p>
<p class="rule">A rate differs when Fisher's exact test (the range exceedance test for out-of-range values) gives p &lt; {{.Rule.Alpha}} and Cohen's h ≥ {{.Rule.MinEffect}}.</p>
{{- if .Ignored}}<p class="rule">Not read by the artifact (dropped by the spec): {{range $i, $c := .Ignored}}{{if $i}}, {{end}}<code>{{$c}}</code>{{end}}{{.IgnoredMore}}</p>{{end}}
</header>
{{- if .Anomalies}}

<h2>Anomalies</h2>
{{template "anomalycards" .Anomalies}}
{{- end}}

<h2>Columns</h2>
<table>
<thead><tr><th scope="col">Column</th><th scope="col">Type</th><th scope="col">Missing at training</th><th scope="col">Missing now</th><th scope="col">Range at training</th><th scope="col">Range now</th><th scope="col">Anomalies</th></tr></thead>
<tbody>
{{- range .Columns}}
<tr{{if .N}} class="bad"{{end}}><td>{{.Name}}</td><td>{{.Type}}{{if .Kind}} ({{.Kind}}){{end}}</td><td class="n">{{.TrainMissing}}</td><td class="n">{{.CurMissing}}</td><td class="n">{{.TrainRange}}</td><td class="n">{{.CurRange}}</td><td class="n">{{.N}}</td></tr>
{{- end}}
</tbody>
</table>
</div>
</body>
</html>
`))
