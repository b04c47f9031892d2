// Package report renders normguard's results for people and programs:
// aligned terminal tables (colour only on a terminal), JSON, and
// self-contained HTML pages with the distributions drawn.
package report

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"

	"github.com/normguard/normguard/drift"
)

// DriftJSON writes the drift report as indented JSON.
func DriftJSON(w io.Writer, r *drift.Report) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// DriftTable writes the drift report as an aligned table, worst drift
// first, then a summary line. color adds ANSI colours to the verdicts.
func DriftTable(w io.Writer, r *drift.Report, color bool) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	segmented := false
	for _, f := range r.Features {
		segmented = segmented || f.Segment != ""
	}
	if segmented {
		fmt.Fprint(tw, "SEGMENT\t")
	}
	fmt.Fprintln(tw, "FEATURE\tTYPE\tMETHOD\tSTATISTIC\tP-VALUE\tTHRESHOLD\tEFFECT\tVERDICT")
	for _, f := range r.Sorted() {
		if segmented {
			fmt.Fprintf(tw, "%s\t", f.Segment)
		}
		effect := "-"
		if f.Effect != nil {
			effect = fmt.Sprintf("%s %s (> %s)", f.Effect.Name, num(float64(f.Effect.Value)), num(float64(f.Effect.Threshold)))
		}
		verdict := "ok"
		switch {
		case f.Error != "":
			verdict = "error: " + f.Error
		case f.Drift:
			verdict = "DRIFT"
		}
		if len(f.NewCategories) > 0 {
			verdict += fmt.Sprintf(" (new: %s)", strings.Join(trim(f.NewCategories, 5), ", "))
		}
		if color {
			switch {
			case f.Error != "":
				verdict = "\x1b[33m" + verdict + "\x1b[0m"
			case f.Drift:
				verdict = "\x1b[31;1m" + verdict + "\x1b[0m"
			default:
				verdict = "\x1b[32m" + verdict + "\x1b[0m"
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", f.Name, f.Type, f.Method,
			num(float64(f.Statistic)), num(float64(f.PValue)), num(float64(f.Threshold)), effect, verdict)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	drifting := 0
	for _, f := range r.Features {
		if f.Drift {
			drifting++
		}
	}
	summary := fmt.Sprintf("%d of %d features drift (share %s, data set drifts at >= %s): ", drifting, len(r.Features),
		num(float64(r.DriftShare)), num(float64(r.DriftShareThreshold)))
	if r.DatasetDrift {
		summary += "DATA SET DRIFT"
	} else {
		summary += "no data set drift"
	}
	_, err := fmt.Fprintln(w, "\n"+summary)
	return err
}

// num formats a number compactly; NaN as "-".
func num(x float64) string {
	switch {
	case math.IsNaN(x):
		return "-"
	case x != 0 && (math.Abs(x) < 1e-3 || math.Abs(x) >= 1e6):
		return fmt.Sprintf("%.3g", x)
	default:
		return fmt.Sprintf("%.4g", x)
	}
}

func trim(xs []string, n int) []string {
	if len(xs) <= n {
		return xs
	}
	return append(append([]string(nil), xs[:n]...), fmt.Sprintf("... %d more", len(xs)-n))
}
