package report

import (
	"fmt"
	"html/template"
	"io"
	"maps"
	"math"
	"slices"
	"strings"

	"github.com/normguard/normguard/modelcheck"
)

// ModelCheckMeta describes what a model check read, for the header of
// ModelCheckHTML's page. Every field is optional.
type ModelCheckMeta struct {
	// Title heads the page ("Model check" when empty).
	Title string
	// Model and Artifact name the inputs (file names, digests).
	Model, Artifact string
	// Generated is caller-supplied text such as a timestamp.
	Generated string
}

// ModelCheckHTML writes a model check as one self-contained HTML page (no
// network, no JavaScript): a header with the model, producer, inputs and
// verdict, a card per finding (code, severity, node, description, fix,
// evidence) with errors first, and a table of the normalization layers.
// Every user string is escaped. Each card is an
// <article class="card SEVERITY" data-code="CODE">.
func ModelCheckHTML(w io.Writer, r *modelcheck.Report, meta ModelCheckMeta) error {
	if r == nil {
		return fmt.Errorf("report: no model check to render")
	}
	p := modelPageData{Title: meta.Title, Model: meta.Model, Artifact: meta.Artifact, Generated: meta.Generated,
		Producer: orUnknown(r.Producer), Opset: r.Opset, Inputs: inputsText(r.Inputs), Verdict: modelVerdict(r),
		Found: r.Found(), Rule: r.Rule}
	if p.Title == "" {
		p.Title = "Model check"
	}
	if p.Model == "" {
		p.Model = r.Model
	}
	for _, f := range r.Findings {
		c := modelCard{Finding: f, Class: map[string]string{modelcheck.SeverityError: "bad", modelcheck.SeverityWarning: "warn"}[f.Severity]}
		if c.Class == "" {
			c.Class = "info"
		}
		for _, k := range sortedKeys(f.Evidence) {
			if rows, ok := f.Evidence[k].([]map[string]any); ok && k == "channels" {
				c.Channels = channelTable(rows)
				continue
			}
			c.Evidence = append(c.Evidence, evidenceItem{Key: k, Value: evidenceText(f.Evidence[k])})
		}
		p.Findings = append(p.Findings, c)
	}
	for _, l := range r.Layers {
		p.Layers = append(p.Layers, modelLayer{Layer: l, Eps: fmt.Sprintf("%g", l.Epsilon), Ch: channels(l.Channels),
			Mean: span(l.MeanRange), Var: span(l.VarRange), Reads: strings.Join(l.ReadsInputs, ", ")})
	}
	return modelPage.Execute(w, p)
}

type modelPageData struct {
	Title, Model, Artifact, Generated, Producer, Inputs, Verdict, Rule string
	Opset                                                              int64
	Found                                                              bool
	Findings                                                           []modelCard
	Layers                                                             []modelLayer
}

type modelCard struct {
	modelcheck.Finding
	Class    string
	Evidence []evidenceItem
	Channels *channelRows
}

// channelRows is per-channel evidence as a table: the columns present in
// any row, in a fixed order, then one row of formatted cells per channel.
type channelRows struct {
	Head  []string
	Cells [][]string
}

var channelColumns = []struct{ key, head string }{
	{"feature", "feature"}, {"running_mean", "running mean"}, {"running_var", "running var"},
	{"expected_mean", "artifact mean"}, {"expected_std", "artifact sd"},
	{"raw_mean", "raw mean"}, {"raw_std", "raw sd"}, {"convergence", "w"},
}

func channelTable(rows []map[string]any) *channelRows {
	t := &channelRows{}
	var keys []string
	for _, c := range channelColumns {
		for _, r := range rows {
			if _, ok := r[c.key]; ok {
				keys = append(keys, c.key)
				t.Head = append(t.Head, c.head)
				break
			}
		}
	}
	for _, r := range rows {
		cells := make([]string, len(keys))
		for i, k := range keys {
			if v, ok := r[k]; ok {
				cells[i] = evidenceText(v)
			}
		}
		t.Cells = append(t.Cells, cells)
	}
	return t
}

type modelLayer struct {
	modelcheck.Layer
	Eps, Ch, Mean, Var, Reads string
}

func sortedKeys(m map[string]any) []string {
	return slices.Sorted(maps.Keys(m))
}

// evidenceText renders an evidence value on one line, numbers to 4
// significant digits.
func evidenceText(v any) string {
	switch x := v.(type) {
	case float64:
		if math.Abs(x) < 1e-12 {
			x = 0 // a profile mean that is zero up to rounding
		}
		return fmt.Sprintf("%.4g", x)
	case []float64:
		s := make([]string, len(x))
		for i, f := range x {
			s[i] = fmt.Sprintf("%.4g", f)
		}
		return strings.Join(s, ", ")
	case []string:
		return strings.Join(x, ", ")
	case []int:
		s := make([]string, len(x))
		for i, n := range x {
			s[i] = fmt.Sprint(n)
		}
		return strings.Join(s, ", ")
	case []map[string]any:
		s := make([]string, len(x))
		for i, m := range x {
			var kv []string
			for _, k := range sortedKeys(m) {
				kv = append(kv, k+" "+evidenceText(m[k]))
			}
			s[i] = strings.Join(kv, ", ")
		}
		return strings.Join(s, "; ")
	}
	return fmt.Sprint(v)
}

// modelCheckCSS is the model check page's own rules.
const modelCheckCSS = `
.badge.bad { color: #fff; background: var(--bad); }
.badge.warn { color: var(--warn); background: var(--warn-bg); }
.badge.info { color: var(--muted); background: #eef1f4; }
td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.training td { background: var(--bad-bg); }
.card.bad { border-left: 5px solid var(--bad); }
.card.warn { border-left: 5px solid #d08700; }
.card.info { border-left: 5px solid var(--line); }
.card p { margin: 8px 0 0; overflow-wrap: anywhere; }
.card p.fix { padding: 8px 10px; background: var(--warn-bg); border-radius: 6px; }
.card.bad p.fix { background: var(--bad-bg); }
.card dl.ev { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 8px 0 0; font-size: 13px; }
.card dl.ev dt { color: var(--muted); }
.card dl.ev dd { margin: 0; overflow-wrap: anywhere; font-variant-numeric: tabular-nums; }
.rule { color: var(--muted); font-size: 14px; margin: 8px 0 0; }
.card .chwrap { overflow-x: auto; margin: 8px 0 0; }
.card table.ch { font-size: 12.5px; }
.card table.ch td, .card table.ch th { padding: 3px 5px; }
`

var modelPage = template.Must(template.New("modelcheck").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="normguard">
<title>{{.Title}}</title>
<style>` + baseCSS + modelCheckCSS + `</style>
</head>
<body>
<div class="page">
<header class="top">
<h1>{{.Title}}</h1>
<dl class="sources">
<dt>Model</dt><dd>{{.Model}}</dd>
<dt>Producer</dt><dd>{{.Producer}}, opset {{.Opset}}</dd>
<dt>Inputs</dt><dd>{{.Inputs}}</dd>
{{- if .Artifact}}<dt>Artifact</dt><dd>{{.Artifact}}</dd>{{end}}
{{- if .Generated}}<dt>Generated</dt><dd>{{.Generated}}</dd>{{end}}
</dl>
<p class="verdict">{{if .Found}}<span class="badge bad big">FOUND</span>{{else}}<span class="badge ok big">nothing found</span>{{end}}<span>{{.Verdict}}</span></p>
<p class="rule">{{.Rule}}</p>
</header>
{{- if .Findings}}

<h2>Findings</h2>
<div class="cards">
{{- range .Findings}}
<article class="card {{.Class}}" data-code="{{.Code}}">
<header><h3>{{if .Node}}{{.Node}}{{else}}model{{end}}</h3><span class="badge {{.Class}}">{{.Code}}</span></header>
<p>{{.Description}}</p>
{{- if .Fix}}<p class="fix"><strong>Fix:</strong> {{.Fix}}</p>{{end}}
{{- with .Channels}}
<div class="chwrap"><table class="ch"><thead><tr>{{range .Head}}<th scope="col">{{.}}</th>{{end}}</tr></thead>
<tbody>{{range .Cells}}<tr>{{range $i, $c := .}}<td{{if $i}} class="n"{{end}}>{{$c}}</td>{{end}}</tr>{{end}}</tbody></table></div>
{{- end}}
{{- if .Evidence}}<dl class="ev">{{range .Evidence}}<dt>{{.Key}}</dt><dd>{{.Value}}</dd>{{end}}</dl>{{end}}
</article>
{{- end}}
</div>
{{- end}}

<h2>Normalization layers</h2>
{{- if .Layers}}
<table>
<thead><tr><th scope="col">Layer</th><th scope="col">Kind</th><th scope="col">Epsilon</th><th scope="col">Channels</th><th scope="col">Running mean</th><th scope="col">Running variance</th><th scope="col">Reads inputs</th></tr></thead>
<tbody>
{{- range .Layers}}
<tr{{if .TrainingMode}} class="training"{{end}}><td>{{.Node}}</td><td>{{.Kind}}{{if .TrainingMode}} (training mode){{end}}</td><td class="n">{{.Eps}}</td><td class="n">{{.Ch}}</td><td class="n">{{.Mean}}</td><td class="n">{{.Var}}</td><td>{{.Reads}}</td></tr>
{{- end}}
</tbody>
</table>
{{- else}}
<p>The graph has no normalization layer.</p>
{{- end}}
</div>
</body>
</html>
`))
