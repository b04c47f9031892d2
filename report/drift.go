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
	for _, name := range r.MissingFeatures {
		if segmented {
			fmt.Fprint(tw, "-\t")
		}
		verdict := "MISSING from the current data"
		if color {
			verdict = "\x1b[31;1m" + verdict + "\x1b[0m"
		}
		fmt.Fprintf(tw, "%s\t-\t-\t-\t-\t-\t-\t%s\n", name, verdict)
	}
	var notes []string
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
		case f.Skipped != "":
			verdict = "skipped: " + f.Skipped
		case f.Drift:
			verdict = "DRIFT"
		}
		switch {
		case f.NewCategoriesAtLeast:
			verdict += fmt.Sprintf(" (new: more than %d distinct values, too many to name)", f.NewCategoriesTotal-1)
		case len(f.NewCategories) > 0:
			verdict += fmt.Sprintf(" (new: %s)", strings.Join(trim(f.NewCategories, f.NewCategoriesTotal, 5), ", "))
		}
		if t := f.Time; t != nil {
			notes = append(notes, fmt.Sprintf("%s: reference %s .. %s, current %s .. %s%s", f.Name,
				orDash(t.ReferenceMin), orDash(t.ReferenceMax), orDash(t.CurrentMin), orDash(t.CurrentMax), timeParts(t)))
		}
		typ := f.Type
		if f.Kind != "" {
			typ = f.Kind
		}
		if color {
			switch {
			case f.Skipped != "":
			case f.Error != "":
				verdict = "\x1b[33m" + verdict + "\x1b[0m"
			case f.Drift:
				verdict = "\x1b[31;1m" + verdict + "\x1b[0m"
			default:
				verdict = "\x1b[32m" + verdict + "\x1b[0m"
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", f.Name, typ, f.Method,
			num(float64(f.Statistic)), num(float64(f.PValue)), num(float64(f.Threshold)), effect, verdict)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(notes) > 0 {
		fmt.Fprintln(w, "\ntime columns (compared by hour of day and day of week; the values themselves move on):")
		for _, n := range notes {
			fmt.Fprintln(w, "  "+n)
		}
	}
	drifting, judged, skipped, failed := 0, 0, 0, 0
	for _, f := range r.Features {
		switch {
		case f.Skipped != "":
			skipped++
		case f.Error != "":
			failed++
		default:
			judged++
			if f.Drift {
				drifting++
			}
		}
	}
	summary := fmt.Sprintf("%d of %d features drift (share %s, data set drifts at >= %s): ", drifting, judged,
		num(float64(r.DriftShare)), num(float64(r.DriftShareThreshold)))
	if r.DatasetDrift {
		summary += "DATA SET DRIFT"
	} else {
		summary += "no data set drift"
	}
	if skipped > 0 {
		summary += fmt.Sprintf("; %d skipped", skipped)
	}
	if failed > 0 {
		summary += fmt.Sprintf("; %d could not be computed", failed)
	}
	if n := len(r.NewSegments); n > 0 {
		summary += fmt.Sprintf("; %d NEW segment(s) the reference has no rows of: %s", n, strings.Join(trim(r.NewSegments, n, 10), ", "))
	}
	if n := len(r.MissingFeatures); n > 0 {
		summary += fmt.Sprintf("; %d MISSING from the current data: %s", n, strings.Join(r.MissingFeatures, ", "))
	}
	_, err := fmt.Fprintln(w, "\n"+summary)
	return err
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// timeParts describes the calendar distributions a time column was
// compared by.
func timeParts(t *drift.TimeDrift) string {
	var parts []string
	for _, p := range t.Parts {
		s := fmt.Sprintf("%s p=%s", p.Name, num(float64(p.PValue)))
		switch {
		case p.Skipped != "":
			s = p.Name + " not compared (uneven range)"
		case math.IsNaN(float64(p.PValue)):
			s = fmt.Sprintf("%s %s", p.Name, num(float64(p.Statistic)))
		}
		if p.Drift {
			s += " DRIFT"
		}
		parts = append(parts, s)
	}
	out := "; " + strings.Join(parts, ", ")
	if t.CurrentUnparsed > 0 {
		out += fmt.Sprintf("; %d current values not in the layout %q", t.CurrentUnparsed, t.Layout)
	}
	return out
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

// trim keeps the first n of xs, which stand for total values, and counts
// the rest.
func trim(xs []string, total, n int) []string {
	total = max(total, len(xs))
	if total <= n {
		return xs
	}
	return append(append([]string(nil), xs[:min(n, len(xs))]...), fmt.Sprintf("... %d more", total-min(n, len(xs))))
}
