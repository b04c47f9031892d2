package report

import (
	"encoding/json"
	"fmt"
	"github.com/normguard/normguard/internal/errtext"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/normguard/normguard/validate"
)

// ValidateJSON writes a validation report as indented JSON:
// {"anomalies": [{"column", "code", "severity", "description", "fix", ...}],
// "columns": [...], "rows", "rule", ...}.
func ValidateJSON(w io.Writer, r *validate.Report) error {
	if r == nil {
		return fmt.Errorf("report: no validation to write")
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("report: validation to JSON: %w", err)
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// ValidateTable writes one line per anomaly (column, code, training → now,
// fix), then a one-line verdict. color adds ANSI colours to the codes.
func ValidateTable(w io.Writer, r *validate.Report, color bool) error {
	if r == nil {
		return fmt.Errorf("report: no validation to write")
	}
	if len(r.Anomalies) > 0 {
		if err := AnomaliesTable(w, r.Anomalies, color); err != nil {
			return err
		}
	}
	noun := "anomalies"
	if len(r.Anomalies) == 1 {
		noun = "anomaly"
	}
	checked, other := columnsWith(r)
	verdict := fmt.Sprintf("%d %s in %d of %d columns checked (%s rows)", len(r.Anomalies), noun, checked, len(r.Columns), commas(r.Rows))
	if other > 0 {
		verdict = fmt.Sprintf("%d %s: in %d of %d columns checked, and about %s other %s (%s rows)", len(r.Anomalies), noun, checked, len(r.Columns), commas(int64(other)), plural(other, "column", "columns"), commas(r.Rows))
	}
	if len(r.Anomalies) == 0 {
		cols := "columns"
		if len(r.Columns) == 1 {
			cols = "column"
		}
		verdict = fmt.Sprintf("no anomaly: %d %s checked on %s rows", len(r.Columns), cols, commas(r.Rows))
	}
	if len(r.Ignored) > 0 {
		verdict += fmt.Sprintf("; not read by the artifact (dropped by the spec): %s", ignoredList(r))
	}
	_, err := fmt.Fprintln(w, verdict)
	return err
}

// AnomaliesTable writes the anomalies as a table (column, code, training
// → now, fix), then each one's description, then a blank line.
func AnomaliesTable(w io.Writer, anomalies []validate.Anomaly, color bool) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "COLUMN\tANOMALY\tTRAINING → NOW\tFIX")
	for _, a := range anomalies {
		code := a.Code
		if color {
			c := "33"
			if a.Severity == validate.SeverityError {
				c = "31;1"
			}
			code = "\x1b[" + c + "m" + code + "\x1b[0m"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", oneLineOf(anomalyColumn(a)), code, TrainingToNow(a), oneLineOf(a.Fix))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	for _, a := range anomalies {
		fmt.Fprintf(w, "%s %s: %s\n", oneLineOf(anomalyColumn(a)), a.Code, oneLineOf(a.Description))
	}
	_, err := fmt.Fprintln(w)
	return err
}

// TrainingToNow summarises an anomaly's numbers as "training → now".
func TrainingToNow(a validate.Anomaly) string {
	switch a.Code {
	case validate.MissingColumn:
		return "present → absent"
	case validate.UnexpectedColumn:
		return "absent → present"
	case validate.OutOfRange:
		if a.TrainingMin != nil && a.CurrentMin != nil {
			return fmt.Sprintf("[%s, %s] → [%s, %s], %s outside", num(*a.TrainingMin), num(*a.TrainingMax), num(*a.CurrentMin), num(*a.CurrentMax), shareOf(a.Current))
		}
	case validate.ConstantColumn:
		if len(a.Examples) > 0 {
			return fmt.Sprintf("several values → only %q", a.Examples[0])
		}
	}
	if a.Training != nil && a.Current != nil {
		return shareOf(a.Training) + " → " + shareOf(a.Current)
	}
	return ""
}

// columnsWith counts the columns anomalies name: checked ones (the
// artifact's inputs in r.Columns) and others (a column the data lacks, or
// one the artifact does not read).
func columnsWith(r *validate.Report) (checked, other int) {
	inputs := map[string]bool{}
	for _, c := range r.Columns {
		inputs[c.Name] = true
	}
	seen := map[string]bool{}
	for _, a := range r.Anomalies {
		if seen[a.Column] {
			continue
		}
		seen[a.Column] = true
		switch {
		case inputs[a.Column]:
			checked++
		case a.Count > 1: // unexpected columns together
			other += int(a.Count)
		default:
			other++
		}
	}
	return checked, other
}

func shareOf(x *float64) string {
	if x == nil {
		return "?"
	}
	switch v := *x; {
	case v == 0 || v == 1:
		return fmt.Sprintf("%.0f%%", 100*v)
	case v < 0.001 || v > 0.999:
		return fmt.Sprintf("%.3g%%", 100*v)
	default:
		return fmt.Sprintf("%.1f%%", 100*v)
	}
}

func commas(n int64) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// anomalyColumn names an anomaly's column for a table: the column, or for
// an anomaly of many columns (validate.Anomaly.Count) the first and how
// many more.
func anomalyColumn(a validate.Anomaly) string {
	if a.Count > 1 {
		return fmt.Sprintf("%s and %s more", errtext.Shorten(a.Column), commas(a.Count-1))
	}
	return a.Column
}

// ignoredList lists a report's ignored columns, with how many more there
// are than it names (validate.Report.IgnoredCount).
func ignoredList(r *validate.Report) string {
	return errtext.ListPlain(r.Ignored) + ignoredMore(r)
}

// ignoredMore is ", and N more" when the report counts more ignored
// columns than it names.
func ignoredMore(r *validate.Report) string {
	if n := r.IgnoredCount - int64(len(r.Ignored)); n > 0 && len(r.Ignored) <= errtext.MaxNames {
		return fmt.Sprintf(", and %s more", commas(n))
	}
	return ""
}

// oneLineOf keeps a user string on one table line.
func oneLineOf(s string) string {
	return strings.NewReplacer("\n", `\n`, "\r", `\r`, "\t", " ").Replace(s)
}
