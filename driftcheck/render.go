package driftcheck

import (
	"bytes"
	"fmt"
	"io"

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
			if err == nil {
				InfiniteNotes(&buf, f.Report)
			}
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

// InfiniteNotes writes, after a drift table, a line for each feature
// whose samples hold infinite values (drift.Feature.InfiniteValues), as
// the JSON's infinite_values: the table shows their effect as +Inf or
// the statistic of a rank test that barely moved, and neither says why.
func InfiniteNotes(w io.Writer, rep *drift.Report) {
	first := true
	for _, f := range rep.Features {
		var what string
		switch f.InfiniteValues {
		case "":
			continue
		case drift.InfiniteCurrent:
			what = "the current data holds infinite values (inf, -inf or numbers past the float64 range), the reference none: found (exit 1) whatever the verdict; the transform refuses them, so replace or drop them upstream"
		case drift.InfiniteReference:
			what = "the reference holds infinite values (inf, -inf or numbers past the float64 range), the current data none"
		default:
			what = "both data sets hold infinite values (inf, -inf or numbers past the float64 range); the transform refuses them"
		}
		if first {
			fmt.Fprintln(w, "\ninfinite values:")
			first = false
		}
		name := f.Name
		if f.Segment != "" {
			name = fmt.Sprintf("%s (segment %s)", f.Name, f.Segment)
		}
		fmt.Fprintf(w, "  %s: %s\n", name, what)
	}
}
