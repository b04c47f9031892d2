package fit

import (
	"errors"
	"strings"
	"testing"

	"github.com/normguard/normguard/step"
	"github.com/normguard/normguard/table"
)

// TestFitRefusesLog1pDomain checks attack run 15 finding 10 (a), (b), (c)
// at fit: log1p of training data holding -1 (beside one other value, or
// two) or a value below -1 is refused naming the step, column, value and
// data row, instead of writing an artifact with a -Infinity profile (a),
// failing on an invalid profile as normguard's own fault (b) or writing
// empty features (c).
func TestFitRefusesLog1pDomain(t *testing.T) {
	const sp = "version: 1\ncolumns:\n  - name: x\n    type: numeric\n    steps:\n      - log1p: {}\n"
	var a, b, c strings.Builder
	a.WriteString("x\n")
	b.WriteString("x\n")
	c.WriteString("x\n")
	for range 20 {
		a.WriteString("0\n-1\n")
		b.WriteString("0\n-1\n1\n")
	}
	for i := 1; i <= 100; i++ {
		c.WriteString("1\n")
	}
	c.WriteString("-2\n")
	for _, tc := range []struct {
		name, csv, value string
		row              string
	}{
		{"a", a.String(), `"-1"`, "data row 2 "},
		{"b", b.String(), `"-1"`, "data row 2 "},
		{"c", c.String(), `"-2"`, "data row 101 "},
	} {
		_, err := fitString(t, sp, tc.csv)
		var ve *step.ValueError
		if !errors.As(err, &ve) || !errors.Is(err, step.ErrBadValue) || ve.Step != "log1p" || ve.Column != "x" {
			t.Fatalf("(%s): got %v, want log1p's ValueError", tc.name, err)
		}
		msg := err.Error()
		for _, want := range []string{"columns[0].steps[0].log1p: log1p: column \"x\": bad value: log1p is defined only for values above -1, got " + tc.value, tc.row} {
			if !strings.Contains(msg, want) {
				t.Fatalf("(%s): %q lacks %q", tc.name, msg, want)
			}
		}
		if strings.Contains(msg, "profile") || strings.Contains(msg, "please report") {
			t.Fatalf("(%s): %q blames normguard", tc.name, msg)
		}
	}
	if _, err := fitString(t, sp, "x\n-0.5\n\n0\n3\n"); err != nil {
		t.Fatalf("values above -1 and a missing one: %v", err)
	}
}

// TestFitRefusesOverflowingTrainingData checks the plumbing that refuses a
// step whose output for the training data is past float64's range, for a
// step that checks its outputs (standard_scaler) and one fit checks
// (min_max_scaler), out of place (naming the value) and in place (the
// value is gone): the error names the data row, not a batch row.
func TestFitRefusesOverflowingTrainingData(t *testing.T) {
	fitted := map[string]step.Fitted{
		"standard_scaler": &step.StandardScaler{WithMean: true, WithStd: true, Mean: step.Floats{0}, Scale: step.Floats{1e-10}, Names: []string{"x"}},
		"min_max_scaler": &step.MinMaxScaler{FeatureRange: step.Floats{0, 1}, DataMin: step.Floats{0}, DataMax: step.Floats{1e-10},
			DataRange: step.Floats{1e-10}, Scale: step.Floats{1e10}, Min: step.Floats{0}, Names: []string{"x"}},
	}
	for name, f := range fitted {
		for _, inPlace := range []bool{false, true} {
			cur := []table.Column{{Name: "x", Kind: table.Numeric, Num: []float64{1, 2, 1e300, 4}}}
			var spare [][]float64
			next, err := applyStep(f, cur, 4, Options{}, &spare, inPlace)
			err = checkStepOutput(err, name, f, cur, next, 4, inPlace)
			var ve *step.ValueError
			if !errors.As(err, &ve) || !errors.Is(err, step.ErrNotFinite) || ve.Row != -1 || !strings.Contains(ve.Hint, "data row 3 ") {
				t.Fatalf("%s (in place %v): got %#v (%v), want an overflow on data row 3", name, inPlace, ve, err)
			}
			if want := map[bool]string{false: "1e+300", true: ""}[inPlace]; ve.Value != want {
				t.Fatalf("%s (in place %v): value %q, want %q", name, inPlace, ve.Value, want)
			}
		}
	}
}
