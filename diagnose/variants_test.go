package diagnose

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
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
				var cands []*artifact.Artifact
				if _, err := os.Stat(filepath.Join(dir, "old_train.csv")); err == nil {
					cands = append(cands, fitVariant(t, dir, "old_train.csv"))
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
	f, err := os.Open(filepath.Join(dir, "spec.json"))
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
	a, err := fit.Fit(context.Background(), sp, rd, fit.Options{})
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
