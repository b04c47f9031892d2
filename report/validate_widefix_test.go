package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/normguard/normguard/validate"
)

// TestGroupedUnexpected (attack run 8 F6): an unexpected_column anomaly
// standing for many columns is shown as its first column and how many
// more, counts them all among the other columns, and a report that names
// only some of its ignored columns says how many more there are.
func TestGroupedUnexpected(t *testing.T) {
	r := validateReport()
	r.Anomalies = append(r.Anomalies, validate.Anomaly{Column: "c0", Code: validate.UnexpectedColumn, Severity: validate.SeverityWarning,
		Count: 1500000, Columns: []string{"c0", "c1"}, Description: "1,500,000 columns are not inputs", Fix: "drop these columns"})
	r.Ignored = []string{"i0", "i1"}
	r.IgnoredCount = 12
	var b bytes.Buffer
	if err := ValidateTable(&b, r, false); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"c0 and 1,499,999 more  unexpected_column    absent → present  drop these columns",
		"c0 and 1,499,999 more unexpected_column: 1,500,000 columns are not inputs",
		"3 anomalies: in 2 of 2 columns checked, and about 1,500,000 other columns (1,850 rows)",
		"not read by the artifact (dropped by the spec): i0, i1, and 10 more",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	b.Reset()
	if err := ValidateHTML(&b, r, ValidateMeta{}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<h3>c0 and 1,499,999 more</h3>", "<code>i1</code>, and 10 more</p>"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
}
