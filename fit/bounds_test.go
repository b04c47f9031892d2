package fit

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/spec"
	"github.com/normguard/normguard/table"
)

// failingReader is a table.Reader whose data must not be read.
type failingReader struct{ table.Reader }

func (failingReader) Next() bool { panic("the data was read") }

// TestFitRefusesASpecTooLargeForAnArtifact fits a 1 MB spec file whose
// eight columns share one list of categories given in the spec (a YAML
// anchor): they encode in the artifact to more than
// artifact.MaxSpecBytes, so fit refuses the spec before reading the data,
// naming the size and what to do; it never writes an artifact Verify
// refuses.
func TestFitRefusesASpecTooLargeForAnArtifact(t *testing.T) {
	var b strings.Builder
	b.WriteString("version: 1\ncolumns:\n  - names: [c0]\n    type: categorical\n    steps:\n      - ordinal_encoder: {categories: &cats [[")
	for i := 0; b.Len() < 1<<20; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "k%x", i)
	}
	b.WriteString("]]}\n")
	for j := 1; j < 8; j++ {
		fmt.Fprintf(&b, "  - names: [c%d]\n    type: categorical\n    steps:\n      - ordinal_encoder: {categories: *cats}\n", j)
	}
	sp, err := spec.Parse(strings.NewReader(b.String()), "big.yaml")
	if err != nil {
		t.Fatal(err)
	}
	r, err := table.NewCSVReader(strings.NewReader("c0,c1,c2,c3,c4,c5,c6,c7\nx,x,x,x,x,x,x,x\n"), "d.csv", table.CSVOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = Fit(context.Background(), sp, failingReader{r}, Options{Source: "d.csv"})
	var fe *artifact.FieldError
	if !errors.As(err, &fe) || fe.Path != "spec" || !strings.Contains(err.Error(), "categories: auto") ||
		!strings.Contains(err.Error(), fmt.Sprintf("more than the %d an artifact's spec may hold", artifact.MaxSpecBytes)) {
		t.Fatalf("fit of a %d-byte spec file: got %v, want the spec's size refused", b.Len(), err)
	}
	t.Log(err.Error()[:min(len(err.Error()), 200)])
}

// TestFitRefusesTooManyOutputs lowers the bound on an artifact's output
// columns: a one-hot encoder whose categories, with the other outputs,
// pass it is refused before it is applied, naming the step, its column
// and what to do; at the bound the fit works.
func TestFitRefusesTooManyOutputs(t *testing.T) {
	const text = "version: 1\nremainder: passthrough\ncolumns:\n  - names: [city]\n    type: categorical\n    steps: [one_hot_encoder]\n"
	const csv = "city,note\nlyon,a\nnice,b\nparis,c\nbrest,d\nmetz,e\n"
	old := maxOutputs
	defer func() { maxOutputs = old }()
	maxOutputs = 6 // five cities and the passthrough column
	if _, err := fitString(t, text, csv); err != nil {
		t.Fatalf("six outputs with the bound at 6: %v", err)
	}
	maxOutputs = 5
	_, err := fitString(t, text, csv)
	want := `fit : columns[0].steps[0].one_hot_encoder gives 5 output columns for "city" (6 with the other outputs), more than the 5 an artifact may hold; give the encoder max_categories or min_frequency to group rare categories, or encode the column with ordinal_encoder`
	if err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
	maxOutputs = 1
	_, err = fitString(t, "version: 1\ncolumns:\n  - names: [city, note]\n", csv)
	want = "fit : the spec gives 2 output columns, more than the 1 an artifact may hold; normalize fewer columns"
	if err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
}
