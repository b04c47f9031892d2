package fit

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/normguard/normguard/spec"
	"github.com/normguard/normguard/table"
)

func fitString(t *testing.T, specText, csv string) (*Result, error) {
	t.Helper()
	sp, err := spec.Parse(strings.NewReader(specText), "s.yaml")
	if err != nil {
		t.Fatal(err)
	}
	r, err := table.NewCSVReader(strings.NewReader(csv), "d.csv", table.CSVOptions{})
	if err != nil {
		t.Fatal(err)
	}
	a, out, err := FitTransform(context.Background(), sp, r, Options{})
	if err != nil {
		return nil, err
	}
	return &Result{a.Spec, out}, nil
}

// Result bundles what the tests look at.
type Result struct {
	Spec *spec.Spec
	Out  *table.Batch
}

func TestInferAndPassthrough(t *testing.T) {
	sp, err := spec.Parse(strings.NewReader("version: 1\nremainder: passthrough\ncolumns:\n  - names: [a, b]\n  - name: c\n"), "s.yaml")
	if err != nil {
		t.Fatal(err)
	}
	r, _ := table.NewCSVReader(strings.NewReader("a,b,c,d,e\n1,2,x,4,\n3,NA,y,5.5,\n"), "d.csv", table.CSVOptions{})
	a, out, err := FitTransform(context.Background(), sp, r, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := a.Spec.Columns[0].Type; got != spec.TypeNumeric {
		t.Errorf("group [a b]: type %q, want numeric", got)
	}
	if got := a.Spec.Columns[1].Type; got != spec.TypeCategorical {
		t.Errorf("group [c]: type %q, want categorical", got)
	}
	var names []string
	for _, f := range a.Outputs {
		names = append(names, f.Name+":"+f.Type)
	}
	// d is numeric; e has no value at all and stays categorical.
	if got, want := strings.Join(names, ","), "a:numeric,b:numeric,c:categorical,d:numeric,e:categorical"; got != want {
		t.Errorf("outputs %s, want %s", got, want)
	}
	if out.Rows != 2 || out.Cols[3].Num[1] != 5.5 {
		t.Errorf("passthrough d: got %v", out.Cols[3].Num)
	}
	if a.Training.Rows != 2 {
		t.Errorf("training rows %d, want 2", a.Training.Rows)
	}
}

func TestFitErrors(t *testing.T) {
	cases := []struct {
		name, spec, csv string
		is              error
		want            string
	}{
		{"no rows", "version: 1\ncolumns:\n  - name: a\n", "a\n", ErrNoRows, "no rows"},
		{"missing column", "version: 1\ncolumns:\n  - name: z\n", "a\n1\n", ErrMissingColumn, `"z"`},
		{"duplicate outputs", "version: 1\ncolumns:\n  - name: c\n    type: categorical\n    steps: [one_hot_encoder]\n  - name: c_x\n", "c,c_x\nx,1\n", nil, `"c_x"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := fitString(t, tc.spec, tc.csv)
			if err == nil {
				t.Fatal("got no error")
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %q does not wrap %v", err, tc.is)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not mention %s", err, tc.want)
			}
		})
	}
}

// TestFingerprintMerge checks that accumulating in chunks and merging
// gives the fingerprint of the whole, and that the fingerprint does not
// depend on row order.
func TestFingerprintMerge(t *testing.T) {
	cols := []table.Column{
		{Name: "x", Kind: table.Numeric, Num: []float64{1, 2, 3, 4, 5}},
		{Name: "s", Kind: table.String, Str: []string{"a", "b", "", "d", "e"}, Null: []bool{false, false, true, false, false}},
	}
	whole := Fingerprint(cols, 5)
	var a, b FingerprintAcc
	a.Add([]table.Column{cols[0].Slice(0, 2), cols[1].Slice(0, 2)}, 2)
	b.Add([]table.Column{cols[0].Slice(2, 5), cols[1].Slice(2, 5)}, 3)
	b.Merge(&a)
	if got := b.Sum(cols); got != whole {
		t.Errorf("merged %s, want %s", got, whole)
	}
	rev := []table.Column{
		{Name: "x", Kind: table.Numeric, Num: []float64{5, 4, 3, 2, 1}},
		{Name: "s", Kind: table.String, Str: []string{"e", "d", "", "b", "a"}, Null: []bool{false, false, true, false, false}},
	}
	if got := Fingerprint(rev, 5); got != whole {
		t.Errorf("reversed rows: %s, want %s", got, whole)
	}
	swapped := []table.Column{
		{Name: "x", Kind: table.Numeric, Num: []float64{2, 1, 3, 4, 5}},
		cols[1],
	}
	if got := Fingerprint(swapped, 5); got == whole {
		t.Errorf("values moved between rows but the fingerprint did not change")
	}
}

// TestAfterReadCalledOnce checks that Options.AfterRead runs once, after
// the data is read (the reader is at its end) and before any statistic.
func TestAfterReadCalledOnce(t *testing.T) {
	sp, err := spec.Parse(strings.NewReader("version: 1\ncolumns:\n  - names: [x]\n    steps:\n      - standard_scaler: {}\n"), "s.yaml")
	if err != nil {
		t.Fatal(err)
	}
	r, err := table.NewCSVReader(strings.NewReader("x\n1\n2\n4\n"), "d.csv", table.CSVOptions{BatchRows: 1})
	if err != nil {
		t.Fatal(err)
	}
	calls := 0
	a, _, err := FitTransform(context.Background(), sp, r, Options{AfterRead: func() {
		calls++
		if r.Next() {
			t.Error("AfterRead ran before the reader reached its end")
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if calls != 1 || a.Training.Rows != 3 {
		t.Fatalf("AfterRead ran %d times for %d rows, want once for 3", calls, a.Training.Rows)
	}
}
