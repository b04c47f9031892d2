package transform_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/normguard/normguard/fit"
	"github.com/normguard/normguard/quickstart"
	"github.com/normguard/normguard/spec"
	"github.com/normguard/normguard/step"
	"github.com/normguard/normguard/table"
	"github.com/normguard/normguard/transform"
)

// fitCSV fits the spec text on the CSV text.
func fitCSV(t *testing.T, specText, csv string) *transform.Transformer {
	t.Helper()
	sp, err := spec.Parse(strings.NewReader(specText), "s.yaml")
	if err != nil {
		t.Fatal(err)
	}
	r, err := table.NewCSVReader(strings.NewReader(csv), "train.csv", table.CSVOptions{})
	if err != nil {
		t.Fatal(err)
	}
	a, err := fit.Fit(context.Background(), sp, r, fit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tr, err := transform.New(a)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// streamErr transforms the CSV text, discarding the output, and returns
// Stream's error.
func streamErr(t *testing.T, tr *transform.Transformer, csv string, workers int) error {
	t.Helper()
	tr.Workers = workers
	r, err := table.NewCSVReader(strings.NewReader(csv), "in.csv", table.CSVOptions{})
	if err != nil {
		t.Fatal(err)
	}
	w := table.NewCSVWriter(io.Discard, tr.Outputs())
	_, err = tr.Stream(context.Background(), r, w, "in.csv")
	return err
}

// wantRefusal checks that err is a RowError of in.csv at line whose
// ValueError names the step, column and value and wraps want.
func wantRefusal(t *testing.T, what string, err error, line int64, stepName, column, value string, want error) *step.ValueError {
	t.Helper()
	var re *transform.RowError
	var ve *step.ValueError
	if !errors.As(err, &re) || !errors.As(err, &ve) || !errors.Is(err, want) {
		t.Fatalf("%s: got %v, want a RowError wrapping %v", what, err, want)
	}
	if re.Source != "in.csv" || re.Line != line || ve.Step != stepName || ve.Column != column || ve.Value != value {
		t.Fatalf("%s: got %s:%d %s %q %q (%v), want in.csv:%d %s %q %q", what, re.Source, re.Line, ve.Step, ve.Column, ve.Value, err, line, stepName, column, value)
	}
	if msg := err.Error(); !strings.HasPrefix(msg, fmt.Sprintf("in.csv:%d: %s: column %q: bad value", line, stepName, column)) || !strings.Contains(msg, fmt.Sprintf("%q", value)) {
		t.Fatalf("%s: message %q does not name the line, step, column and value", what, msg)
	}
	return ve
}

// TestLog1pTransformRefusesMinusOneAndBelow checks attack run 15 finding
// 10 (a), (c), (d): the quickstart's artifact (distance: log1p, then
// standard_scaler) given a distance of -1 (log1p -Inf) or -5 (NaN) refuses
// the row, naming the line, column and value, on one goroutine and on
// several (a batch past parallelMinRows, the bad row deep in it), and
// takes -0.5.
func TestLog1pTransformRefusesMinusOneAndBelow(t *testing.T) {
	var train strings.Builder
	train.WriteString("date,delay,distance,origin,destination\n")
	for i := range 50 {
		fmt.Fprintf(&train, "2001-01-01,%d,%d,SMF,DFW\n", i-5, 100+37*i)
	}
	tr := fitCSV(t, quickstart.Spec, train.String())
	head := "date,delay,distance,origin,destination\n2001-06-01 00:28,-3,1431,SMF,DFW\n"
	for _, tc := range []struct{ distance, value string }{{"-1", "-1"}, {"-5", "-5"}, {"-1.0", "-1"}, {"-1e300", "-1e+300"}} {
		csv := head + "2001-06-01 00:28,-3," + tc.distance + ",SMF,DFW\n"
		wantRefusal(t, "distance "+tc.distance, streamErr(t, tr, csv, 1), 3, "log1p", "distance", tc.value, step.ErrBadValue)
		var big strings.Builder
		big.WriteString(head)
		for range 40000 {
			big.WriteString("2001-06-01 00:28,-3,1431,SMF,DFW\n")
		}
		big.WriteString("2001-06-01 00:28,-3," + tc.distance + ",SMF,DFW\n")
		wantRefusal(t, "distance "+tc.distance+" at row 40002", streamErr(t, tr, big.String(), 2), 40003, "log1p", "distance", tc.value, step.ErrBadValue)
	}
	if err := streamErr(t, tr, head+"2001-06-01 00:28,-3,-0.5,SMF,DFW\n2001-06-01 00:28,-3,,SMF,DFW\n", 1); err != nil {
		t.Fatalf("distance -0.5 and missing: %v", err)
	}
}

// TestTransformRefusesOverflow checks attack run 15 finding 10 (e): a
// finite value that a step takes past float64's range (a standard scaler
// whose scale_ is about 5e-11, given 1e300) is refused naming the line,
// step, column and value, never written as ±Inf: for a step that checks
// its own outputs (standard_scaler), one the engine checks (min_max_scaler,
// power_transformer) and a step after another (the value named is the
// input's), on one goroutine and on several.
func TestTransformRefusesOverflow(t *testing.T) {
	var train strings.Builder
	train.WriteString("x\n")
	for range 50 {
		train.WriteString("1\n1.0000000001\n")
	}
	for _, tc := range []struct {
		steps, stepName string
		after           bool
	}{
		{"[standard_scaler]", "standard_scaler", false},
		{"[min_max_scaler]", "min_max_scaler", false},
		{"[simple_imputer, standard_scaler]", "standard_scaler", true},
		{"[simple_imputer, min_max_scaler]", "min_max_scaler", true},
	} {
		tr := fitCSV(t, "version: 1\ncolumns:\n  - name: x\n    type: numeric\n    steps: "+tc.steps+"\n", train.String())
		for _, workers := range []int{1, 2} {
			for _, v := range []struct{ in, value string }{{"1e300", "1e+300"}, {"-1e308", "-1e+308"}} {
				var csv strings.Builder
				csv.WriteString("x\n3\n\n")
				rows := 2
				if workers > 1 {
					for ; rows < 40000; rows++ {
						csv.WriteString("1.00000000005\n")
					}
				}
				csv.WriteString(v.in + "\n")
				what := fmt.Sprintf("%s of %s (%d workers)", tc.steps, v.in, workers)
				ve := wantRefusal(t, what, streamErr(t, tr, csv.String(), workers), int64(rows+2), tc.stepName, "x", v.value, transform.ErrNotFinite)
				if got := strings.Contains(ve.Err.Error(), "after the steps before it"); got != tc.after {
					t.Fatalf("%s: %q says the value passed steps before: %v, want %v", what, ve.Err, got, tc.after)
				}
			}
		}
		if err := streamErr(t, tr, "x\n1e-300\n1.5\n\n", 1); err != nil {
			t.Fatalf("%s of values the scale holds: %v", tc.steps, err)
		}
	}
	// Yeo-Johnson with a negative lambda: -1e300 gives -((1-x)^(2-λ)-1)/(2-λ),
	// (1e300)^2.1 past float64's range.
	var pt strings.Builder
	pt.WriteString("x\n")
	for i := 1; i <= 30; i++ {
		fmt.Fprintf(&pt, "%d\n%d\n", i, i*i*i)
	}
	tr := fitCSV(t, "version: 1\ncolumns:\n  - name: x\n    type: numeric\n    steps: [power_transformer]\n", pt.String())
	wantRefusal(t, "power_transformer of -1e300", streamErr(t, tr, "x\n1\n-1e300\n", 1), 3, "power_transformer", "x", "-1e+300", transform.ErrNotFinite)
}

// TestLog1pAfterAStepNamesTheInputValue checks that log1p refusing the
// value a step before it made (min_max_scaler fitted on 0 and 8, scale_
// 0.125: -12 becomes -1.5 exactly) names both that value and the input's.
func TestLog1pAfterAStepNamesTheInputValue(t *testing.T) {
	tr := fitCSV(t, "version: 1\ncolumns:\n  - name: x\n    type: numeric\n    steps: [min_max_scaler, log1p]\n", "x\n0\n8\n")
	ve := wantRefusal(t, "min_max_scaler then log1p of -12", streamErr(t, tr, "x\n4\n-12\n", 1), 3, "log1p", "x", "-1.5", step.ErrBadValue)
	if !strings.HasPrefix(ve.Hint, `the steps before it made "-1.5" of the input value "-12"; `) {
		t.Fatalf("hint %q does not name the input value", ve.Hint)
	}
	if err := streamErr(t, tr, "x\n4\n-7.9\n", 1); err != nil { // -0.9875
		t.Fatalf("-7.9: %v", err)
	}
}

// TestTransformRefusesPassedTextNotUTF8: passed-through text that is not
// UTF-8 was written out silently, as U+FFFD in JSON Lines and as raw bytes
// in Parquet's UTF-8 strings (attack run 30 F6): it is refused naming the
// line, column and value, on one worker and several.
func TestTransformRefusesPassedTextNotUTF8(t *testing.T) {
	tr := fitCSV(t, "version: 1\nremainder: passthrough\ncolumns:\n  - name: x\n    steps:\n      - standard_scaler: {}\n",
		"x,note\n1,cafe\n2,ok\n3,x\n")
	var b strings.Builder
	b.WriteString("x,note\n")
	for i := range 40000 {
		note := "ok"
		if i == 33000 {
			note = "caf\xe9"
		}
		fmt.Fprintf(&b, "%d,%s\n", i, note)
	}
	for _, workers := range []int{1, 4} {
		err := streamErr(t, tr, b.String(), workers)
		wantRefusal(t, fmt.Sprintf("%d workers", workers), err, 33002, "passthrough", "note", "caf\xe9", transform.ErrNotUTF8)
	}
	if err := streamErr(t, tr, "x,note\n1,caf\u00e9\n", 1); err != nil {
		t.Errorf("UTF-8 text refused: %v", err)
	}
}
