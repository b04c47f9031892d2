package diagnose

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/fit"
	"github.com/normguard/normguard/spec"
	"github.com/normguard/normguard/table"
)

const scenarios = "../testdata/mismatch-scenarios"

// fitScenario fits spec.json on the named training file of a scenario.
func fitScenario(t *testing.T, dir, train string) *artifact.Artifact {
	t.Helper()
	sp, err := spec.ParseFile(filepath.Join(dir, "spec.json"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := table.Open(filepath.Join(dir, train))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	a, err := fit.Fit(context.Background(), sp, r, fit.Options{Source: train})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := artifact.Encode(a); err != nil {
		t.Fatal(err)
	}
	return a
}

// readColumns reads the given fields of a scenario file.
func readColumns(t *testing.T, path string, fields []table.Field) []table.Column {
	t.Helper()
	r, err := table.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := r.Project(fields); err != nil {
		t.Fatal(err)
	}
	cols, _, err := table.ReadAll(r, fields)
	if err != nil {
		t.Fatal(err)
	}
	return cols
}

// TestPairedScenarios runs every paired scenario and compares each
// column's verdict with the generator's expected.json.
func TestPairedScenarios(t *testing.T) {
	for _, name := range []string{"paired_clean", "paired_all_bugs", "paired_columns_swapped"} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(scenarios, name)
			var want struct {
				Verdicts map[string]string `json:"verdicts"`
			}
			data, err := os.ReadFile(filepath.Join(dir, "expected.json"))
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(data, &want); err != nil {
				t.Fatal(err)
			}
			a := fitScenario(t, dir, "train.csv")
			var cands []Candidate
			if _, err := os.Stat(filepath.Join(dir, "old_train.csv")); err == nil {
				cands = append(cands, Candidate{Artifact: fitScenario(t, dir, "old_train.csv")})
			}
			raw := readColumns(t, filepath.Join(dir, "raw.csv"), artifact.TableFields(a.Inputs))
			obs := readColumns(t, filepath.Join(dir, "observed.csv"), artifact.TableFields(a.Outputs))
			rep, err := Paired(a, raw, obs, cands)
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Features) != len(want.Verdicts) {
				t.Fatalf("got %d features, want %d", len(rep.Features), len(want.Verdicts))
			}
			for _, f := range rep.Features {
				if f.Verdict != want.Verdicts[f.Name] {
					t.Errorf("%s: got %s (%v), want %s", f.Name, f.Verdict, f.Evidence, want.Verdicts[f.Name])
				}
			}
		})
	}
}

// TestPairedAbsentColumns checks that an observed file lacking an output
// of the artifact is refused, naming the column and what to do, when no
// candidate explains it: without candidates, and with a candidate whose
// own columns the file does not hold either.
func TestPairedAbsentColumns(t *testing.T) {
	dir := filepath.Join(realDir, "paired_candidate_onehot")
	a := fitVariant(t, dir, "train.csv")
	raw := readVariantCSV(t, filepath.Join(dir, "raw.csv"), artifact.TableFields(a.Inputs))
	observed := readAllNumeric(t, filepath.Join(dir, "observed.csv"))
	// The candidate's infrequent column dropped: the file is neither
	// artifact's output.
	var partial []table.Column
	for _, c := range observed {
		if c.Name != "cut_infrequent_sklearn" {
			partial = append(partial, c)
		}
	}
	cand := Candidate{Artifact: fitSpec(t, dir, "candidate_spec.json", "candidate_train.csv", fit.Options{}), File: "refit.json"}
	for _, tc := range []struct {
		name  string
		obs   []table.Column
		cands []Candidate
		want  []string
	}{
		{"no candidate", observed, nil, []string{`"cut_Fair"`, "--candidate"}},
		{"candidate lacking", partial, []Candidate{cand}, []string{`"cut_Fair"`, "refit.json", `"cut_infrequent_sklearn"`}},
	} {
		_, err := Paired(a, raw, tc.obs, tc.cands)
		if err == nil {
			t.Errorf("%s: got no error, want one", tc.name)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not name %s", tc.name, err, w)
			}
		}
	}
}
