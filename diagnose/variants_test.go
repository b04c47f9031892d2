package diagnose

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/fit"
	"github.com/normguard/normguard/spec"
	"github.com/normguard/normguard/table"
)

// variantsDir holds variants of the mismatch scenarios made with
// scikit-learn 1.2.1 by generate.py there (other seeds, row counts, block
// sizes, column names, counts, layouts and distributions; the command and
// seeds are in its doc string).
const variantsDir = "../testdata/mismatch-variants"

// TestMismatchVariants fits each variant's spec on its train.csv (and
// old_train.csv as a candidate), diagnoses observed.csv paired with
// raw.csv, or unpaired with expected.json's batch size, and checks every
// column's verdict against expected.json. Among them: per-batch
// statistics with one batch of every row and with a second, shorter
// block; raw inputs whose mean and std are near the output's 0 and 1.
func TestMismatchVariants(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join(variantsDir, "*", "expected.json"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("got %d variants (%v), want some in %s", len(dirs), err, variantsDir)
	}
	for _, path := range dirs {
		dir := filepath.Dir(path)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			t.Parallel()
			var want struct {
				Paired    bool              `json:"paired"`
				BatchSize int               `json:"batch_size"`
				Verdicts  map[string]string `json:"verdicts"`
			}
			if err := json.Unmarshal(readVariantFile(t, path), &want); err != nil {
				t.Fatal(err)
			}
			a := fitVariant(t, dir, "train.csv")
			outs := artifact.TableFields(a.Outputs)
			observed := readVariantCSV(t, filepath.Join(dir, "observed.csv"), outs)
			var rep *Report
			var err error
			if want.Paired {
				var cands []Candidate
				if _, err := os.Stat(filepath.Join(dir, "old_train.csv")); err == nil {
					cands = append(cands, Candidate{Artifact: fitVariant(t, dir, "old_train.csv")})
				}
				raw := readVariantCSV(t, filepath.Join(dir, "raw.csv"), artifact.TableFields(a.Inputs))
				rep, err = Paired(a, raw, observed, cands)
			} else {
				rep, err = Unpaired(a, observed, UnpairedOptions{BatchSize: want.BatchSize})
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Features) != len(want.Verdicts) {
				t.Errorf("got %d columns, want %d", len(rep.Features), len(want.Verdicts))
			}
			for _, v := range rep.Features {
				if w := want.Verdicts[v.Name]; v.Verdict != w {
					t.Errorf("%s: got %s (%s), want %s", v.Name, v.Verdict, v.Explanation, w)
				}
			}
		})
	}
}

func readVariantFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fitVariant fits dir/spec.json on dir/data.
func fitVariant(t *testing.T, dir, data string) *artifact.Artifact {
	t.Helper()
	return fitSpec(t, dir, "spec.json", data, fit.Options{})
}

// fitSpec fits dir/specFile on dir/data.
func fitSpec(t *testing.T, dir, specFile, data string, opt fit.Options) *artifact.Artifact {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, specFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sp, err := spec.Parse(f, "spec.json")
	if err != nil {
		t.Fatal(err)
	}
	d, err := os.Open(filepath.Join(dir, data))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	rd, err := table.NewCSVReader(d, data, table.CSVOptions{})
	if err != nil {
		t.Fatal(err)
	}
	a, err := fit.Fit(context.Background(), sp, rd, opt)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// readVariantCSV reads the given columns of a CSV file.
func readVariantCSV(t *testing.T, path string, fields []table.Field) []table.Column {
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

// realDir holds diagnose cases built with scikit-learn 1.2.1 from rows of
// real tables (diamonds, gapminder) by generate.py there.
const realDir = "../testdata/diagnose-real"

// TestRealCases diagnoses each case of realDir (paired with raw.csv and,
// when there is one, the candidate artifact production used; or unpaired)
// and checks every observed column's verdict, the partner named for
// swapped columns, the scaler kind named by wrong_transform, the
// candidate's file and model version in stale_parameters explanations,
// and that no explanation speaks of missing values when the training
// data had none.
func TestRealCases(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join(realDir, "*", "expected.json"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("got %d cases (%v), want some in %s", len(paths), err, realDir)
	}
	for _, path := range paths {
		dir := filepath.Dir(path)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			t.Parallel()
			var want struct {
				Paired           bool              `json:"paired"`
				Verdicts         map[string]string `json:"verdicts"`
				Partners         map[string]string `json:"partners"`
				Transforms       map[string]string `json:"transforms"`
				CandidateModel   string            `json:"candidate_model"`
				CandidateVersion string            `json:"candidate_version"`
				TrainHasMissing  bool              `json:"train_has_missing"`
				// Unchecked columns may fairly get more than one verdict.
				Unchecked []string `json:"unchecked"`
			}
			if err := json.Unmarshal(readVariantFile(t, path), &want); err != nil {
				t.Fatal(err)
			}
			a := fitVariant(t, dir, "train.csv")
			observed := readAllNumeric(t, filepath.Join(dir, "observed.csv"))
			var rep *Report
			var err error
			const candFile = "candidate.json"
			var cands []Candidate
			if _, err := os.Stat(filepath.Join(dir, "candidate_spec.json")); err == nil {
				ca := fitSpec(t, dir, "candidate_spec.json", "candidate_train.csv",
					fit.Options{Model: want.CandidateModel, ModelVersion: want.CandidateVersion})
				cands = append(cands, Candidate{Artifact: ca, File: candFile})
			}
			if want.Paired {
				raw := readVariantCSV(t, filepath.Join(dir, "raw.csv"), artifact.TableFields(a.Inputs))
				rep, err = Paired(a, raw, observed, cands)
			} else {
				rep, err = Unpaired(a, observed, UnpairedOptions{Candidates: cands})
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Features) != len(want.Verdicts)+len(want.Unchecked) {
				t.Errorf("got %d columns, want %d", len(rep.Features), len(want.Verdicts)+len(want.Unchecked))
			}
			for _, v := range rep.Features {
				if w := want.Verdicts[v.Name]; v.Verdict != w && !slices.Contains(want.Unchecked, v.Name) {
					t.Errorf("%s: got %s (%s), want %s", v.Name, v.Verdict, v.Explanation, w)
				}
				if w, ok := want.Partners[v.Name]; ok && v.Evidence["partner"] != w {
					t.Errorf("%s: got partner %v, want %s", v.Name, v.Evidence["partner"], w)
				}
				if w, ok := want.Transforms[v.Name]; ok && v.Evidence["transform"] != w {
					t.Errorf("%s: got transform %v, want %s", v.Name, v.Evidence["transform"], w)
				}
				if v.Verdict == StaleParameters && want.CandidateModel != "" {
					for _, s := range []string{candFile, want.CandidateModel, want.CandidateVersion} {
						if !strings.Contains(v.Explanation, s) {
							t.Errorf("%s: explanation %q does not name %q", v.Name, v.Explanation, s)
						}
					}
				}
				if !want.TrainHasMissing && strings.Contains(strings.ToLower(v.Explanation), "missing") {
					t.Errorf("%s: explanation %q speaks of missing values; the training data had none", v.Name, v.Explanation)
				}
			}
		})
	}
}

// readAllNumeric reads every column of a CSV file as numbers.
func readAllNumeric(t *testing.T, path string) []table.Column {
	t.Helper()
	r, err := table.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	var fields []table.Field
	for _, h := range r.Header() {
		fields = append(fields, table.Field{Name: h, Kind: table.Numeric})
	}
	r.Close()
	return readVariantCSV(t, path, fields)
}
