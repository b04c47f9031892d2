package artifact_test

import (
	"context"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/fit"
	"github.com/normguard/normguard/quickstart"
	"github.com/normguard/normguard/spec"
	"github.com/normguard/normguard/table"
)

// fitCSV fits specText on the CSV text data.
func fitCSV(t *testing.T, specText, data string) *artifact.Artifact {
	t.Helper()
	path := filepath.Join(t.TempDir(), "data.csv")
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	return fitFile(t, specText, path)
}

func fitFile(t *testing.T, specText, path string) *artifact.Artifact {
	t.Helper()
	sp, err := spec.Parse(strings.NewReader(specText), "spec.yaml")
	if err != nil {
		t.Fatal(err)
	}
	r, err := table.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	a, err := fit.Fit(context.Background(), sp, r, fit.Options{Source: path})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func diff(t *testing.T, a, b *artifact.Artifact) []artifact.Change {
	t.Helper()
	cs, err := artifact.Diff(a, b)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

func inSection(cs []artifact.Change, section string) []artifact.Change {
	var out []artifact.Change
	for _, c := range cs {
		if c.Section == section {
			out = append(out, c)
		}
	}
	return out
}

const cityAmountSpec = `version: 1
columns:
  - name: amount
    type: numeric
    steps:
      - simple_imputer: {strategy: mean}
      - standard_scaler: {}
  - name: city
    type: categorical
    steps:
      - one_hot_encoder: {handle_unknown: ignore}
`

// TestDiffIdentical: an artifact against itself has no change.
func TestDiffIdentical(t *testing.T) {
	a := fitCSV(t, cityAmountSpec, "amount,city\n1,a\n2,b\n3,c\n")
	if cs := diff(t, a, a); len(cs) != 0 {
		t.Errorf("got %d changes, want none: %+v", len(cs), cs)
	}
}

// TestDiffCategoryAdded: a category between two others is one output
// column and one category added, not every later column shifting.
func TestDiffCategoryAdded(t *testing.T) {
	a := fitCSV(t, cityAmountSpec, "amount,city\n1,a\n2,b\n3,c\n4,a\n")
	b := fitCSV(t, cityAmountSpec, "amount,city\n1,a\n2,b\n3,c\n4,bb\n")
	cs := diff(t, a, b)
	schema := inSection(cs, artifact.SectionSchema)
	if len(schema) != 1 || schema[0].Path != "outputs" || schema[0].New != `"city_bb"` || schema[0].Old != "" {
		t.Errorf("schema changes: got %+v, want one: outputs + \"city_bb\"", schema)
	}
	var cats []artifact.Change
	for _, c := range inSection(cs, artifact.SectionParameters) {
		if strings.Contains(c.Path, "categories_") {
			cats = append(cats, c)
		}
	}
	if len(cats) != 1 || cats[0].Path != "city.one_hot_encoder.categories_" || cats[0].New != `"bb"` {
		t.Errorf("category changes: got %+v, want one: city.one_hot_encoder.categories_ + \"bb\"", cats)
	}
	if s := inSection(cs, artifact.SectionSpec); len(s) != 0 {
		t.Errorf("same spec, got spec changes %+v", s)
	}
}

// TestDiffSpecStep: a changed scaler is one spec line naming the steps in
// order; the old and new steps' parameters are not listed one by one.
func TestDiffSpecStep(t *testing.T) {
	data := "amount,city\n1,a\n2,b\n3,c\n10,a\n"
	a := fitCSV(t, cityAmountSpec, data)
	b := fitCSV(t, strings.Replace(cityAmountSpec, "standard_scaler: {}", "robust_scaler: {}", 1), data)
	spec := inSection(diff(t, a, b), artifact.SectionSpec)
	want := artifact.Change{Section: artifact.SectionSpec, Path: "spec.columns[amount].steps",
		Old: `"simple_imputer, standard_scaler"`, New: `"simple_imputer, robust_scaler"`}
	if len(spec) != 1 || spec[0] != want {
		t.Errorf("spec changes: got %+v, want [%+v]", spec, want)
	}
	for _, c := range diff(t, a, b) {
		if strings.Contains(c.Path, "standard_scaler.") || strings.Contains(c.Path, "robust_scaler.") {
			t.Errorf("parameters of a step on one side only are listed: %+v", c)
		}
	}
}

// TestProfileShiftsMissingAndShares checks the profile summary's numbers
// against counts made by hand: amount 1 missing of 5 rows, then 3 of 6;
// city shares a 2/4, b 1/4, c 1/4, then a 1/3, b 0, c 1/3, d 1/3.
func TestProfileShiftsMissingAndShares(t *testing.T) {
	a := fitCSV(t, cityAmountSpec, "amount,city\n1,a\n2,a\n3,b\n4,c\n,\n")
	b := fitCSV(t, cityAmountSpec, "amount,city\n1,a\n,c\n,d\n4,a\n,c\n5,d\n")
	var amount, city *artifact.FeatureShift
	shifts := artifact.ProfileShifts(a, b)
	for i := range shifts {
		if shifts[i].Stage != "inputs" {
			continue
		}
		switch shifts[i].Name {
		case "amount":
			amount = &shifts[i]
		case "city":
			city = &shifts[i]
		}
	}
	if amount == nil || city == nil {
		t.Fatalf("inputs amount and city not both in %+v", shifts)
	}
	const tol = 1e-12
	// a: values 1,2,3,4 (mean 2.5, population std sqrt(1.25)); b: 1,4,5.
	wantShift := (10.0/3 - 2.5) / math.Sqrt(1.25)
	wantRatio := math.Sqrt(((1-10.0/3)*(1-10.0/3)+(4-10.0/3)*(4-10.0/3)+(5-10.0/3)*(5-10.0/3))/3) / math.Sqrt(1.25)
	if !close(amount.MeanShift, wantShift, tol) || !close(amount.StdRatio, wantRatio, tol) {
		t.Errorf("amount: mean shift %v, std ratio %v; want %v, %v", amount.MeanShift, amount.StdRatio, wantShift, wantRatio)
	}
	if amount.MissingA != 0.2 || amount.MissingB != 0.5 || !amount.Moved {
		t.Errorf("amount missing rate: got %v -> %v (moved %v), want 0.2 -> 0.5, moved", amount.MissingA, amount.MissingB, amount.Moved)
	}
	want := map[string][2]float64{"a": {0.5, 1.0 / 3}, "b": {0.25, 0}, "c": {0.25, 2.0 / 6}, "d": {0, 2.0 / 6}}
	if city.MissingA != 0.2 || city.MissingB != 0 {
		t.Errorf("city missing rate: got %v -> %v, want 0.2 -> 0", city.MissingA, city.MissingB)
	}
	if len(city.Shares) != len(want) {
		t.Fatalf("city shares: got %+v, want %v", city.Shares, want)
	}
	for _, c := range city.Shares {
		w, ok := want[c.Value]
		if !ok || !close(c.A, w[0], tol) || !close(c.B, w[1], tol) || c.AUpper || c.BUpper {
			t.Errorf("city share of %q: got %v -> %v, want %v", c.Value, c.A, c.B, w)
		}
	}
	// Largest sure change first: a, b, d move by 1/6, 1/4, 1/3.
	if city.Shares[0].Value != "d" || city.Shares[1].Value != "b" {
		t.Errorf("city shares not ordered by size of change: %+v", city.Shares)
	}
}

func close(got, want, tol float64) bool {
	return math.Abs(got-want) <= tol*math.Max(1, math.Abs(want))
}

// TestDiffQuickstartMonths compares artifacts fitted on the quickstart's
// training months and on June (real flights): the changed one-hot columns
// are exactly the output names one side has and the other lacks, the
// common columns keep their relative order, and delay's mean shift in
// training standard deviations is the one computed from the raw files.
func TestDiffQuickstartMonths(t *testing.T) {
	dir := t.TempDir()
	if _, err := quickstart.Run(context.Background(), dir, io.Discard); err != nil {
		t.Fatal(err)
	}
	train := filepath.Join(dir, quickstart.Files.Train)
	june := filepath.Join(dir, quickstart.Files.Later)
	a := fitFile(t, quickstart.Spec, train)
	b := fitFile(t, quickstart.Spec, june)
	cs := diff(t, a, b)

	inB := map[string]bool{}
	for _, f := range b.Outputs {
		inB[f.Name] = true
	}
	inA := map[string]bool{}
	want := map[string]bool{}
	for _, f := range a.Outputs {
		inA[f.Name] = true
		if !inB[f.Name] {
			want["- "+strconv.Quote(f.Name)] = true
		}
	}
	for _, f := range b.Outputs {
		if !inA[f.Name] {
			want["+ "+strconv.Quote(f.Name)] = true
		}
	}
	if len(want) == 0 {
		t.Fatal("the months' one-hot columns are the same; the test needs them to differ")
	}
	got := map[string]bool{}
	for _, c := range inSection(cs, artifact.SectionSchema) {
		switch {
		case c.Path == "outputs" && c.Old != "":
			got["- "+c.Old] = true
		case c.Path == "outputs":
			got["+ "+c.New] = true
		default:
			t.Errorf("unexpected schema change %+v (one-hot columns must be matched by name)", c)
		}
	}
	if len(got) != len(want) {
		t.Errorf("output columns changed: got %v, want %v", got, want)
	}
	for k := range want {
		if !got[k] {
			t.Errorf("output change %s not reported (got %v)", k, got)
		}
	}

	// date is a time column: its range is that of each file's values
	// ("2001-01-01 07:00" sorts as text in time order).
	for _, sh := range artifact.ProfileShifts(a, b) {
		if sh.Stage != "inputs" || sh.Name != "date" {
			continue
		}
		wantA, wantB := textRange(t, train, "date"), textRange(t, june, "date")
		if sh.KindA != "time" || sh.TimeA != wantA || sh.TimeB != wantB || !sh.Moved {
			t.Errorf("date: kind %q, range %v -> %v (moved %v); want time, %v -> %v, moved", sh.KindA, sh.TimeA, sh.TimeB, sh.Moved, wantA, wantB)
		}
		if len(sh.Shares) != 0 {
			t.Errorf("date: a time column's values are not categories, got %d share changes", len(sh.Shares))
		}
	}

	meanA, stdA := meanStd(t, train, "delay")
	meanB, stdB := meanStd(t, june, "delay")
	for _, s := range artifact.ProfileShifts(a, b) {
		if s.Stage == "inputs" && s.Name == "delay" {
			if !close(s.MeanShift, (meanB-meanA)/stdA, 1e-9) || !close(s.StdRatio, stdB/stdA, 1e-9) {
				t.Errorf("delay: mean shift %v, std ratio %v; want %v, %v", s.MeanShift, s.StdRatio, (meanB-meanA)/stdA, stdB/stdA)
			}
			// June's std is 17% above January-February's: past the 10% floor.
			if !s.Moved {
				t.Errorf("delay std ratio %v not reported as moved", s.StdRatio)
			}
			return
		}
	}
	t.Error("no profile shift for input delay")
}

// textRange returns the smallest and largest value of a CSV column, as text.
func textRange(t *testing.T, path, col string) [2]string {
	t.Helper()
	var r [2]string
	for i, v := range column(t, path, col) {
		if i == 0 || v < r[0] {
			r[0] = v
		}
		if i == 0 || v > r[1] {
			r[1] = v
		}
	}
	return r
}

// column reads one column of a CSV file without quoted fields.
func column(t *testing.T, path, col string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	idx := slices.Index(strings.Split(lines[0], ","), col)
	if idx < 0 {
		t.Fatalf("%s has no column %s", path, col)
	}
	var out []string
	for _, l := range lines[1:] {
		out = append(out, strings.Split(l, ",")[idx])
	}
	return out
}

// meanStd computes a numeric column's mean and population std straight
// from a CSV file (every value of the quickstart's delay is present).
func meanStd(t *testing.T, path, col string) (float64, float64) {
	t.Helper()
	var xs []float64
	for _, v := range column(t, path, col) {
		x, err := strconv.ParseFloat(v, 64)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		xs = append(xs, x)
	}
	var sum float64
	for _, x := range xs {
		sum += x
	}
	mean := sum / float64(len(xs))
	var ss float64
	for _, x := range xs {
		ss += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(ss / float64(len(xs)))
}
