package report

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/normguard/normguard/diagnose"
)

// DiagnoseJSON writes the diagnosis as indented JSON, the shape the
// diagnose command documents: {"features": [{"name", "verdict",
// "explanation", "fix", "evidence"}]}, mismatched columns first (see
// MismatchedFirst).
func DiagnoseJSON(w io.Writer, r *diagnose.Report) error {
	if r == nil {
		return fmt.Errorf("report: no diagnosis to write")
	}
	r = MismatchedFirst(r)
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("report: diagnosis to JSON: %w", err)
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// DiagnoseTable writes the diagnosis as an aligned table (column, verdict,
// evidence as key=value in key order), mismatched columns first (see
// MismatchedFirst), then the explanation of every column that is not ok.
// color adds ANSI colours to the verdicts.
func DiagnoseTable(w io.Writer, r *diagnose.Report, color bool) error {
	if r == nil {
		return fmt.Errorf("report: no diagnosis to write")
	}
	r = MismatchedFirst(r)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FEATURE\tVERDICT\tEVIDENCE")
	for _, v := range r.Features {
		parts := make([]string, 0, len(v.Evidence))
		for _, e := range evidenceOf(v) {
			parts = append(parts, e.Key+"="+e.Value)
		}
		verdict := v.Verdict
		if color {
			switch verdictClass(v.Verdict) {
			case "ok":
				verdict = "\x1b[32m" + verdict + "\x1b[0m"
			case "warn":
				verdict = "\x1b[33m" + verdict + "\x1b[0m"
			default:
				verdict = "\x1b[31;1m" + verdict + "\x1b[0m"
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", v.Name, verdict, strings.Join(parts, " "))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	bad := 0
	var b strings.Builder
	for _, v := range r.Features {
		if v.Verdict != diagnose.OK {
			bad++
			fmt.Fprintf(&b, "%s: %s\n", v.Name, v.Explanation)
		}
	}
	summary := fmt.Sprintf("\n%d of %d features mismatched\n", bad, len(r.Features))
	if bad == 0 {
		summary = fmt.Sprintf("\nall %d features match the artifact\n", len(r.Features))
	}
	if b.Len() > 0 {
		summary = "\n" + b.String() + summary
	}
	_, err := io.WriteString(w, summary)
	return err
}

// MismatchedFirst returns a copy of r with its features in reading order:
// the columns whose pipeline is wrong first, then the warnings
// (precision_loss, drift), then the ok ones; the artifact's output order
// within each.
func MismatchedFirst(r *diagnose.Report) *diagnose.Report {
	rank := map[string]int{"bad": 0, "warn": 1, "ok": 2}
	out := &diagnose.Report{Features: slices.Clone(r.Features)}
	slices.SortStableFunc(out.Features, func(a, b diagnose.Verdict) int {
		return rank[verdictClass(a.Verdict)] - rank[verdictClass(b.Verdict)]
	})
	return out
}

// evidenceItem is one formatted piece of evidence.
type evidenceItem struct{ Key, Value string }

// evidenceOf formats a verdict's evidence in key order: numbers compactly
// (NaN as "-"), strings as they are, anything else as compact JSON.
func evidenceOf(v diagnose.Verdict) []evidenceItem {
	keys := make([]string, 0, len(v.Evidence))
	for k := range v.Evidence {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]evidenceItem, 0, len(keys))
	for _, k := range keys {
		out = append(out, evidenceItem{Key: k, Value: evidenceValue(v.Evidence[k])})
	}
	return out
}

func evidenceValue(x any) string {
	switch x := x.(type) {
	case float64:
		return num(x)
	case float32:
		return num(float64(x))
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case bool:
		return strconv.FormatBool(x)
	case string:
		return x
	case fmt.Stringer:
		return x.String()
	}
	b, err := json.Marshal(x)
	if err != nil {
		return fmt.Sprint(x)
	}
	return string(b)
}

// verdictClass sorts verdicts into ok, warn (benign or only the data
// moved: precision_loss, drift) and bad (the pipeline is wrong).
func verdictClass(verdict string) string {
	switch verdict {
	case diagnose.OK:
		return "ok"
	case diagnose.PrecisionLoss, diagnose.Drift:
		return "warn"
	}
	return "bad"
}
