package report

import (
	"encoding/json"
	"io"

	"github.com/normguard/normguard/diagnose"
	"github.com/normguard/normguard/drift"
	"github.com/normguard/normguard/validate"
)

// The reports of drift --artifact and diagnose --raw carry the anomalies
// that normguard validate's rules found in the data first.

// CheckedDriftJSON writes a drift report compared against an artifact,
// with the data anomalies found first by normguard validate's rules: the
// drift JSON plus "anomalies" (an empty list when none was found, so a
// reader can tell the check ran).
func CheckedDriftJSON(w io.Writer, r *drift.Report, anomalies []validate.Anomaly) error {
	if anomalies == nil {
		anomalies = []validate.Anomaly{}
	}
	b, err := json.MarshalIndent(struct {
		*drift.Report
		Anomalies []validate.Anomaly `json:"anomalies"`
	}{r, anomalies}, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// CheckedDiagnoseJSON writes a diagnosis whose raw rows were validated
// against the artifact first: the diagnose JSON (mismatched columns
// first) plus "anomalies" (an empty list when none was found).
func CheckedDiagnoseJSON(w io.Writer, r *diagnose.Report, anomalies []validate.Anomaly) error {
	if anomalies == nil {
		anomalies = []validate.Anomaly{}
	}
	b, err := json.MarshalIndent(struct {
		*diagnose.Report
		Anomalies []validate.Anomaly `json:"anomalies"`
	}{MismatchedFirst(r), anomalies}, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// anomalyRows turns anomalies into the rows the "anomalies" template
// draws.
func anomalyRows(anomalies []validate.Anomaly) []validateRow {
	var rows []validateRow
	for _, a := range anomalies {
		rows = append(rows, validateRow{Anomaly: a, Name: anomalyColumn(a), Change: TrainingToNow(a), Class: severityClass(a.Severity)})
	}
	return rows
}

// anomaliesTemplate draws anomaly cards ("anomalycards", data:
// []validateRow) for the validation page, and, under a heading saying
// where they come from ("anomalies"), for the drift and diagnosis pages,
// which add anomalyCSS.
const anomaliesTemplate = `{{define "anomalycards"}}<div class="cards">
{{- range .}}
<article class="card {{.Class}}" data-code="{{.Code}}">
<header><h3>{{.Name}}</h3><span class="badge {{.Class}}">{{.Code}}</span></header>
{{- if .Change}}<p><strong>{{.Change}}</strong></p>{{end}}
<p>{{.Description}}</p>
<p class="fix"><strong>Fix:</strong> {{.Fix}}</p>
</article>
{{- end}}
</div>{{end}}{{define "anomalies"}}
<h2>Data anomalies</h2>
<p>The data was first checked against the artifact's inputs and training profile (the rules of <code>normguard validate</code>).</p>
{{template "anomalycards" .}}
{{end}}`

// anomalyCSS styles the anomaly cards on pages other than validate's.
const anomalyCSS = `
.card.bad { border-left: 5px solid var(--bad); }
.card.warn { border-left: 5px solid #d08700; }
.card .badge.bad { color: #fff; background: var(--bad); }
.badge.warn { color: var(--warn); background: var(--warn-bg); }
.card p.fix { padding: 8px 10px; background: var(--warn-bg); border-radius: 6px; }
`
