package fit

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/normguard/normguard/spec"
	"github.com/normguard/normguard/table"
	"github.com/normguard/normguard/transform"
)

// TestFitTransformSameAsTransform checks, on every scikit-learn parity
// case, that the training data FitTransform returns (its steps applied in
// place where they map columns one to one, or into recycled storage) is
// bit for bit what transforming the training data with the artifact
// gives.
func TestFitTransformSameAsTransform(t *testing.T) {
	dirs, _ := filepath.Glob("../testdata/peer-vectors/transform/*")
	if len(dirs) == 0 {
		t.Fatal("no parity cases")
	}
	for _, d := range dirs {
		t.Run(filepath.Base(d), func(t *testing.T) {
			sp, err := spec.ParseFile(filepath.Join(d, "spec.json"))
			if err != nil {
				t.Fatal(err)
			}
			data, err := os.ReadFile(filepath.Join(d, "train.csv"))
			if err != nil {
				t.Fatal(err)
			}
			open := func(fields []table.Field) table.Reader {
				r, err := table.NewCSVReader(strings.NewReader(string(data)), "train.csv", table.CSVOptions{})
				if err != nil {
					t.Fatal(err)
				}
				if fields != nil {
					if err := r.Project(fields); err != nil {
						t.Fatal(err)
					}
				}
				return r
			}
			a, got, err := FitTransform(context.Background(), sp, open(nil), Options{Workers: 2})
			if err != nil {
				t.Skipf("fit refused (an expect_error case): %v", err)
			}
			tr, err := transform.New(a)
			if err != nil {
				t.Fatal(err)
			}
			r := open(tr.Inputs())
			in, rows, err := table.ReadAll(r, tr.Inputs())
			if err != nil {
				t.Fatal(err)
			}
			want := tr.NewOutput()
			if err := tr.Batch(&table.Batch{Cols: in, Rows: rows}, want, "train.csv"); err != nil {
				t.Skipf("transform of the training data refused: %v", err)
			}
			if got.Rows != want.Rows || len(got.Cols) != len(want.Cols) {
				t.Fatalf("got %d rows x %d columns, want %d x %d", got.Rows, len(got.Cols), want.Rows, len(want.Cols))
			}
			for j := range want.Cols {
				g, w := &got.Cols[j], &want.Cols[j]
				for i := range w.Num {
					if math.Float64bits(g.Num[i]) != math.Float64bits(w.Num[i]) {
						t.Fatalf("column %s row %d: fit gives %v, transform %v", w.Name, i, g.Num[i], w.Num[i])
					}
				}
				for i := range w.Str {
					if g.Str[i] != w.Str[i] || g.IsMissing(i) != w.IsMissing(i) {
						t.Fatalf("column %s row %d: fit gives %q, transform %q", w.Name, i, g.Str[i], w.Str[i])
					}
				}
			}
		})
	}
}
