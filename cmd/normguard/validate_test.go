package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

const validateDir = "../../testdata/validate"

// validateCase is one case of testdata/validate/expected.json: the
// anomalies gen.py derived from the CSV rows with scipy, by the rule the
// validate package documents.
type validateCase struct {
	Spec, Train, Data string
	Anomalies         []struct {
		Column        string   `json:"column"`
		Code          string   `json:"code"`
		TrainingCount *int64   `json:"training_count"`
		CurrentCount  *int64   `json:"current_count"`
		PValue        *float64 `json:"p_value"`
		EffectSize    *float64 `json:"effect_size"`
	}
}

type validateJSON struct {
	Rows      int64 `json:"rows"`
	Anomalies []struct {
		Column        string   `json:"column"`
		Code          string   `json:"code"`
		Severity      string   `json:"severity"`
		Description   string   `json:"description"`
		Fix           string   `json:"fix"`
		TrainingCount *int64   `json:"training_count"`
		CurrentCount  *int64   `json:"current_count"`
		PValue        *float64 `json:"p_value"`
		EffectSize    *float64 `json:"effect_size"`
		Examples      []string `json:"examples"`
		SimilarTo     string   `json:"similar_to"`
	} `json:"anomalies"`
	Ignored []string `json:"ignored_columns"`
}

// fitValidateArtifact fits spec on train (files of testdata/validate)
// into dir, once per pair.
func fitValidateArtifact(t *testing.T, dir, spec, train string) string {
	t.Helper()
	out := filepath.Join(dir, strings.TrimSuffix(spec, ".yaml")+"_"+strings.TrimSuffix(train, ".csv")+".json")
	if _, err := os.Stat(out); err == nil {
		return out
	}
	mustRun(t, "fit", "--spec", filepath.Join(validateDir, spec), "--data", filepath.Join(validateDir, train), "--out", out)
	return out
}

// TestValidateCases runs `normguard validate --format json` on every case
// of testdata/validate (real tables with and without a change, clean
// months and splits included) and checks the anomalies, their counts,
// p-values (scipy.stats.fisher_exact, exact fractions for the exceedance
// test) and effect sizes against gen.py's, and the exit status.
func TestValidateCases(t *testing.T) {
	var cases map[string]validateCase
	if err := json.Unmarshal(readFile(t, filepath.Join(validateDir, "expected.json")), &cases); err != nil {
		t.Fatal(err)
	}
	names := make([]string, 0, len(cases))
	for n := range cases {
		names = append(names, n)
	}
	sort.Strings(names)
	dir := t.TempDir()
	const pTol = 1e-6 // relative: lgamma sums against scipy's hypergeometric pmf
	for _, name := range names {
		tc := cases[name]
		t.Run(name, func(t *testing.T) {
			a := fitValidateArtifact(t, dir, tc.Spec, tc.Train)
			code, out, errOut := runCLI(t, "validate", "--artifact", a, "--data", filepath.Join(validateDir, tc.Data), "--format", "json")
			want := map[bool]int{true: ExitFound, false: ExitOK}[len(tc.Anomalies) > 0]
			if code != want {
				t.Fatalf("exit %d, want %d; stderr %s\n%s", code, want, errOut, out)
			}
			var got validateJSON
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			var gotKeys, wantKeys []string
			for _, an := range got.Anomalies {
				gotKeys = append(gotKeys, an.Column+"/"+an.Code)
				if an.Description == "" || an.Fix == "" || an.Severity == "" {
					t.Errorf("%s/%s: empty description, fix or severity", an.Column, an.Code)
				}
			}
			for _, an := range tc.Anomalies {
				wantKeys = append(wantKeys, an.Column+"/"+an.Code)
			}
			if strings.Join(gotKeys, " ") != strings.Join(wantKeys, " ") {
				t.Fatalf("anomalies %v, want %v\n%s", gotKeys, wantKeys, out)
			}
			for i, w := range tc.Anomalies {
				g := got.Anomalies[i]
				what := g.Column + "/" + g.Code
				checkCount(t, what+" training_count", g.TrainingCount, w.TrainingCount)
				checkCount(t, what+" current_count", g.CurrentCount, w.CurrentCount)
				if w.PValue != nil && (g.PValue == nil || math.Abs(*g.PValue-*w.PValue) > pTol*math.Max(*w.PValue, 1e-300)) {
					t.Errorf("%s: p-value %v, want %v", what, deref(g.PValue), *w.PValue)
				}
				if w.EffectSize != nil && (g.EffectSize == nil || math.Abs(*g.EffectSize-*w.EffectSize) > 1e-12) {
					t.Errorf("%s: effect size %v, want %v", what, deref(g.EffectSize), *w.EffectSize)
				}
			}
		})
	}
}

func checkCount(t *testing.T, what string, got, want *int64) {
	t.Helper()
	if want != nil && (got == nil || *got != *want) {
		t.Errorf("%s: got %v, want %d", what, deref(got), *want)
	}
}

func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

// TestValidateNewcomerCases pins what a user sees on the cases of issue 11:
// gapminder's missing share falling between decades is reported, a
// renamed header names both columns, text in a numeric column is counted
// with examples, and each reads as one table line per anomaly.
func TestValidateNewcomerCases(t *testing.T) {
	dir := t.TempDir()
	gap := fitValidateArtifact(t, dir, "gapminder.yaml", "gapminder_1960_64.csv")
	code, out, _ := runCLI(t, "validate", "--artifact", gap, "--data", filepath.Join(validateDir, "gapminder_1985_89.csv"))
	// 1960-64: 332 of 925 infant_mortality values missing (35.9%); 1985-89: 40 of 925 (4.3%).
	if code != ExitFound || !strings.Contains(out, "infant_mortality  missing_rate_change") || !strings.Contains(out, "35.9% → 4.3%") {
		t.Errorf("gapminder decades: exit %d, want 1 with infant_mortality 35.9%% → 4.3%%:\n%s", code, out)
	}
	fl := fitValidateArtifact(t, dir, "flights.yaml", "flights_01.csv")
	_, out, _ = runCLI(t, "validate", "--artifact", fl, "--data", filepath.Join(validateDir, "flights_02_renamed.csv"), "--format", "json")
	var got validateJSON
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Anomalies) != 2 || got.Anomalies[0].SimilarTo != "Distance" || got.Anomalies[1].SimilarTo != "distance" {
		t.Errorf("renamed header: got %+v, want distance missing and Distance unexpected, each naming the other", got.Anomalies)
	}
	_, out, _ = runCLI(t, "validate", "--artifact", fl, "--data", filepath.Join(validateDir, "flights_02_delay_units.csv"), "--format", "json")
	got = validateJSON{}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	// gen.py appends " min" to the delay of rows 0, 40, 80, ... of the file.
	if len(got.Anomalies) != 1 || len(got.Anomalies[0].Examples) != 5 || !strings.HasSuffix(got.Anomalies[0].Examples[0], " min") ||
		got.Anomalies[0].Severity != "error" {
		t.Errorf("delay with units: got %+v, want one type_change error with 5 examples ending in \" min\"", got.Anomalies)
	}
}

// TestValidateColumnsExclude checks that --columns and --exclude choose the
// columns checked, and that naming a column the artifact lacks is an
// error.
func TestValidateColumnsExclude(t *testing.T) {
	dir := t.TempDir()
	gap := fitValidateArtifact(t, dir, "gapminder.yaml", "gapminder_1960_64.csv")
	data := filepath.Join(validateDir, "gapminder_1985_89.csv")
	for _, tc := range []struct {
		args []string
		code int
		cols []string
	}{
		{[]string{"--columns", "life_expectancy,continent"}, ExitFound, []string{"life_expectancy"}},
		{[]string{"--columns", "continent"}, ExitOK, nil},
		{[]string{"--exclude", "infant_mortality,life_expectancy,fertility"}, ExitFound, []string{"gdp", "gdp"}},
	} {
		args := append([]string{"validate", "--artifact", gap, "--data", data, "--format", "json"}, tc.args...)
		code, out, errOut := runCLI(t, args...)
		if code != tc.code {
			t.Errorf("%v: exit %d, want %d (%s)", tc.args, code, tc.code, errOut)
			continue
		}
		var got validateJSON
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatal(err)
		}
		var cols []string
		for _, a := range got.Anomalies {
			cols = append(cols, a.Column)
		}
		if fmt.Sprint(cols) != fmt.Sprint(tc.cols) {
			t.Errorf("%v: anomalies of %v, want %v", tc.args, cols, tc.cols)
		}
	}
}

// TestValidateErrors: bad input exits 2 with a message naming the problem,
// never 0, and leaves no report behind.
func TestValidateErrors(t *testing.T) {
	dir := t.TempDir()
	gap := fitValidateArtifact(t, dir, "gapminder.yaml", "gapminder_1960_64.csv")
	headerOnly := filepath.Join(dir, "header_only.csv")
	empty := filepath.Join(dir, "empty.csv")
	if err := os.WriteFile(headerOnly, []byte("country,year,infant_mortality,life_expectancy,fertility,gdp,continent\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(validateDir, "gapminder_1985_89.csv")
	out := filepath.Join(dir, "report.json")
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--data", headerOnly}, "no data rows"},
		{[]string{"--data", empty}, "empty.csv"},
		{[]string{"--data", filepath.Join(dir, "no_such.csv")}, "no_such.csv"},
		{[]string{"--data", data, "--columns", "population"}, `"population"`},
		{[]string{"--data", data, "--exclude", "gpd"}, `"gpd"`},
		{[]string{"--data", data, "--format", "xml"}, "xml"},
		{[]string{}, "--data"},
	}
	for _, tc := range cases {
		args := append([]string{"validate", "--artifact", gap, "--out", out}, tc.args...)
		code, _, errOut := runCLI(t, args...)
		if code != ExitError || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 mentioning %s", tc.args, code, errOut, tc.want)
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("%v: a report was written", tc.args)
			os.Remove(out)
		}
	}
}

// TestValidateHTML writes the page and checks it names every anomaly and
// escapes user strings.
func TestValidateHTML(t *testing.T) {
	dir := t.TempDir()
	fl := fitValidateArtifact(t, dir, "flights.yaml", "flights_01.csv")
	out := filepath.Join(dir, "v.html")
	code, _, errOut := runCLI(t, "validate", "--artifact", fl, "--data", filepath.Join(validateDir, "flights_02_delay_units.csv"), "--format", "html", "--out", out)
	if code != ExitFound {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	page := string(readFile(t, out))
	// The examples are quoted in the description, and the quotes escaped.
	for _, s := range []string{"<!DOCTYPE html>", `data-code="type_change"`, "<h3>delay</h3>", " min&#34;"} {
		if !strings.Contains(page, s) {
			t.Errorf("page lacks %q", s)
		}
	}
	if strings.Contains(page, "<script") || strings.Contains(page, "http://") || strings.Contains(page, "https://") {
		t.Errorf("page is not self-contained")
	}
}
