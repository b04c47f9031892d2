package validate

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/fit"
	"github.com/normguard/normguard/spec"
	"github.com/normguard/normguard/table"
)

// kindArtifact fits x (standardized) with remainder passthrough on 200
// rows whose id is distinct in every row (an identifier) and whose day is
// a date (a time column).
func kindArtifact(t *testing.T) *artifact.Artifact {
	t.Helper()
	sp, err := spec.Parse(strings.NewReader("version: 1\nremainder: passthrough\ncolumns:\n  - name: x\n    type: numeric\n    steps: [standard_scaler]\n"), "spec.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString("id,day,x\n")
	day0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < 200; i++ {
		fmt.Fprintf(&b, "k%03d,%s,%d\n", i, day0.AddDate(0, 0, i).Format("2006-01-02"), i%17)
	}
	r, err := table.NewCSVReader(strings.NewReader(b.String()), "train.csv", table.CSVOptions{})
	if err != nil {
		t.Fatal(err)
	}
	a, err := fit.Fit(context.Background(), sp, r, fit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestKinds: new values of an identifier are no anomaly; dates written in
// another layout are a type_change of the time column, with the layout.
func TestKinds(t *testing.T) {
	a := kindArtifact(t)
	const n = 100
	id, day := make([]string, n), make([]string, n)
	x := make([]float64, n)
	for i := range id {
		id[i] = fmt.Sprintf("new%03d", i)
		d := time.Date(2024, 9, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i)
		day[i] = d.Format("2006-01-02")
		if i%2 == 0 {
			day[i] = d.Format("02/01/2006")
		}
		x[i] = float64(i % 17)
	}
	cols := []table.Column{
		{Name: "id", Kind: table.String, Str: id},
		{Name: "day", Kind: table.String, Str: day},
		{Name: "x", Kind: table.Numeric, Num: x},
	}
	r, err := Check(a, cols, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := codes(r), "day/type_change"; got != want {
		t.Fatalf("anomalies %q, want %q", got, want)
	}
	tc := r.Anomalies[0]
	if tc.Layout != "2006-01-02" || *tc.CurrentCount != n/2 || *tc.CurrentTotal != n || tc.Examples[0] != "01/09/2024" {
		t.Errorf("type_change: layout %q, %d of %d, examples %q", tc.Layout, *tc.CurrentCount, *tc.CurrentTotal, tc.Examples)
	}
	kinds := map[string]string{}
	for _, c := range r.Columns {
		kinds[c.Name] = c.Kind
	}
	if kinds["id"] != "identifier" || kinds["day"] != "time" || kinds["x"] != "" {
		t.Errorf("kinds %v, want id identifier, day time", kinds)
	}
}

// TestNumericText: a numeric column holding text counts each bad cell
// (missing cells are not bad), keeps the rest as numbers. The 2 missing
// cells of 8 (none of 200 at training) are a change too: Fisher
// p = C(8, 2) / C(208, 2) = 0.0013, h = 2 asin √0.25 = 1.05.
func TestNumericText(t *testing.T) {
	a := kindArtifact(t)
	str := []string{"1", "2 min", "", "3", "n/a", "4 min", "5", "2 min"}
	null := []bool{false, false, true, false, true, false, false, false}
	cols := []table.Column{{Name: "x", Kind: table.String, Str: str, Null: null}}
	r, err := Check(a, cols, Options{Columns: []string{"x"}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := codes(r), "x/type_change x/missing_rate_change"; got != want {
		t.Fatalf("anomalies %q, want %q", got, want)
	}
	if p := *r.Anomalies[1].PValue; !closeRel(p, 28.0/21528, pRelTol) {
		t.Errorf("missing rate p = %v, want 28/21528", p)
	}
	tc := r.Anomalies[0]
	if *tc.CurrentCount != 3 || *tc.CurrentTotal != 6 || strings.Join(tc.Examples, "|") != "2 min|4 min" || tc.Severity != SeverityError {
		t.Errorf("got %d of %d, examples %q, severity %s; want 3 of 6, 2 min|4 min, error", *tc.CurrentCount, *tc.CurrentTotal, tc.Examples, tc.Severity)
	}
	if got := r.Columns[0].Current; got.Missing != 2 || *got.Min != 1 || *got.Max != 5 {
		t.Errorf("current %+v, want 2 missing, range [1, 5]", got)
	}
}
