package fit

import (
	"context"
	"strings"
	"testing"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/spec"
	"github.com/normguard/normguard/table"
)

// TestFitRefusesTextNotUTF8 (attack run 27 F7): a Latin-1 CSV (as Excel
// writes it) fitted, exit 0, into an artifact every reader refused as
// changed after it was written: JSON holds text, and the bytes did not
// round-trip. Fit refuses such data naming the value, its column and row
// (or the header) and the conversion; an artifact that is fitted reads
// back.
func TestFitRefusesTextNotUTF8(t *testing.T) {
	for _, tc := range []struct {
		name, spec, csv string
		want            []string
	}{
		{"one-hot category", "version: 1\ncolumns:\n  - name: city\n    type: categorical\n    steps: [one_hot_encoder]\n",
			"city,x\nBerlin,1\nM\xfcnchen,2\n", []string{`"M\xfcnchen" in column "city", data row 2`, "not UTF-8", "iconv"}},
		{"passthrough profile", "version: 1\nremainder: passthrough\ncolumns:\n  - name: x\n    steps: [standard_scaler]\n",
			"city,x\nK\xf6ln,1\nBerlin,2\n", []string{`"K\xf6ln" in column "city", data row 1`}},
		{"header", "version: 1\nremainder: passthrough\ncolumns:\n  - name: x\n    steps: [standard_scaler]\n",
			"x,c\xe9\n1,a\n2,b\n", []string{`"c\xe9" in the header`}},
	} {
		_, err := fitString(t, tc.spec, tc.csv)
		if err == nil {
			t.Errorf("%s: fitted; want a refusal", tc.name)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q lacks %q", tc.name, err, w)
			}
		}
	}

	// The same data as UTF-8 fits, and its artifact reads back.
	sp, err := spec.Parse(strings.NewReader("version: 1\ncolumns:\n  - name: city\n    type: categorical\n    steps: [one_hot_encoder]\n"), "s.yaml")
	if err != nil {
		t.Fatal(err)
	}
	r, err := table.NewCSVReader(strings.NewReader("city,x\nBerlin,1\nMünchen,2\n"), "d.csv", table.CSVOptions{})
	if err != nil {
		t.Fatal(err)
	}
	fitted, err := Fit(context.Background(), sp, r, Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := artifact.Encode(fitted)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := artifact.Decode(b, "a.json"); err != nil {
		t.Fatalf("the UTF-8 fit does not read back: %v", err)
	}
	a := &artifact.Artifact{Inputs: []artifact.Field{{Name: "München"}}}
	if path, _ := artifact.InvalidText(a); path != "" {
		t.Errorf("UTF-8 text found invalid at %s", path)
	}
	a.Inputs = append(a.Inputs, artifact.Field{Name: "c\xe9"})
	if path, v := artifact.InvalidText(a); path != "inputs[1].name" || v != "c\xe9" {
		t.Errorf("InvalidText: %q %q; want inputs[1].name", path, v)
	}
}
