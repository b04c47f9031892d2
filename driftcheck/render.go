package driftcheck

import (
	"bytes"

	"github.com/normguard/normguard/drift"
	"github.com/normguard/normguard/report"
	"github.com/normguard/normguard/validate"
)

// Found is what a drift check found, ready to render: the features'
// report, the validate anomalies found first (Validated tells that the
// data was validated: the JSON then carries "anomalies", even empty), and
// the vector columns' drift.
type Found struct {
	Report    *drift.Report
	Anomalies []validate.Anomaly
	Validated bool
	Vectors   []report.VectorDrift
}

// Render renders f in format (table, json or html) as `normguard drift`
// prints it: reference and current name the two sides on the HTML page;
// color colors a table.
func (f *Found) Render(format, reference, current string, color bool) ([]byte, error) {
	var buf bytes.Buffer
	var err error
	switch {
	case format == "json" && f.Validated:
		err = report.CheckedDriftJSON(&buf, f.Report, f.Anomalies)
	case format == "json":
		err = report.DriftJSON(&buf, f.Report)
	case format == "html":
		vh, verr := report.VectorDriftHTML(f.Vectors)
		if verr != nil {
			return nil, verr
		}
		err = report.DriftHTML(&buf, f.Report, report.HTMLMeta{Reference: reference, Current: current, Anomalies: f.Anomalies, Vectors: vh})
	default:
		if len(f.Anomalies) > 0 {
			err = report.AnomaliesTable(&buf, f.Anomalies, color)
		}
		if err == nil {
			err = report.VectorDriftTable(&buf, f.Vectors, color)
		}
		if err == nil && (len(f.Vectors) == 0 || len(f.Report.Features) > 0 || len(f.Report.MissingFeatures) > 0) {
			err = report.DriftTable(&buf, f.Report, color)
		}
	}
	if err != nil {
		return nil, err
	}
	out := buf.Bytes()
	if format == "json" {
		return report.AddVectorsJSON(out, f.Vectors)
	}
	return out, nil
}
