package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/normguard/normguard/validate"
)

func validateReport() *validate.Report {
	tr, cur := 0.24, 0.08
	return &validate.Report{Rows: 1850, Rule: validate.Rule{Alpha: 0.05, MinEffect: 0.2},
		Columns: []validate.Column{{Name: "gdp", Type: "numeric", Anomalies: 1}, {Name: "<script>x</script>", Type: "categorical", Anomalies: 1}},
		Anomalies: []validate.Anomaly{
			{Column: "gdp", Code: validate.MissingRateChange, Severity: validate.SeverityWarning, Training: &tr, Current: &cur,
				Description: "missing in 8.0% of rows", Fix: "find out how the gaps are filled"},
			{Column: "<script>x</script>", Code: validate.MissingColumn, Severity: validate.SeverityError,
				Description: "input column is not in the data", Fix: "add it"},
		}}
}

func TestValidateTable(t *testing.T) {
	var b bytes.Buffer
	if err := ValidateTable(&b, validateReport(), false); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(b.String(), "\n")
	if !strings.HasPrefix(lines[0], "COLUMN") || !strings.Contains(lines[1], "gdp") || !strings.Contains(lines[1], "24.0% → 8.0%") ||
		!strings.Contains(lines[1], "find out how the gaps are filled") || !strings.Contains(lines[2], "present → absent") {
		t.Errorf("table:\n%s", b.String())
	}
	if !strings.Contains(b.String(), "2 anomalies in 2 of 2 columns checked (1,850 rows)") {
		t.Errorf("verdict missing:\n%s", b.String())
	}
	// Anomalies about columns the artifact does not read are not counted
	// among the columns checked (attack run 4: "8 of 5 columns").
	r := validateReport()
	r.Anomalies = append(r.Anomalies, validate.Anomaly{Column: "extra", Code: validate.UnexpectedColumn, Severity: validate.SeverityWarning},
		validate.Anomaly{Column: "extra2", Code: validate.UnexpectedColumn, Severity: validate.SeverityWarning})
	b.Reset()
	if err := ValidateTable(&b, r, false); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "4 anomalies: in 2 of 2 columns checked, and about 2 other columns (1,850 rows)") {
		t.Errorf("verdict with other columns:\n%s", b.String())
	}
	b.Reset()
	if err := ValidateTable(&b, &validate.Report{Rows: 3, Columns: []validate.Column{{Name: "a"}}}, false); err != nil {
		t.Fatal(err)
	}
	if got := b.String(); got != "no anomaly: 1 column checked on 3 rows\n" {
		t.Errorf("clean table %q", got)
	}
}

func TestValidateJSONShape(t *testing.T) {
	var b bytes.Buffer
	if err := ValidateJSON(&b, validateReport()); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Anomalies []map[string]any `json:"anomalies"`
	}
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Anomalies) != 2 || got.Anomalies[0]["column"] != "gdp" || got.Anomalies[0]["code"] != "missing_rate_change" ||
		got.Anomalies[0]["training"] != 0.24 || got.Anomalies[0]["current"] != 0.08 {
		t.Errorf("JSON anomalies %v", got.Anomalies)
	}
}

func TestValidateHTMLEscapes(t *testing.T) {
	var b bytes.Buffer
	if err := ValidateHTML(&b, validateReport(), ValidateMeta{Data: "d.csv"}); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	if strings.Contains(page, "<script>") {
		t.Errorf("a column name is not escaped")
	}
	for _, want := range []string{"&lt;script&gt;x&lt;/script&gt;", `data-code="missing_column"`, "2 ANOMALIES", "24.0% → 8.0%", "d.csv"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
}
