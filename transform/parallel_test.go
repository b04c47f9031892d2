package transform_test

import (
	"bytes"
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/fit"
	"github.com/normguard/normguard/spec"
	"github.com/normguard/normguard/table"
	"github.com/normguard/normguard/transform"
)

// replicate returns a CSV with the header of src and its data rows
// repeated until it has at least rows rows.
func replicate(t *testing.T, path string, rows int) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	var out strings.Builder
	out.WriteString(lines[0] + "\n")
	for n := 0; n < rows; {
		for _, l := range lines[1:] {
			out.WriteString(l + "\n")
			n++
		}
	}
	return out.String()
}

func readAll(t *testing.T, csv string, tr *transform.Transformer) *table.Batch {
	t.Helper()
	r, err := table.NewCSVReader(strings.NewReader(csv), "in.csv", table.CSVOptions{BatchRows: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Project(tr.Inputs()); err != nil {
		t.Fatal(err)
	}
	if !r.Next() {
		t.Fatalf("no rows: %v", r.Err())
	}
	return r.Batch()
}

// TestParallelSameBits checks, on every parity case, that fitting with one
// or three workers gives the same artifact bytes, and that transforming a
// large batch with one or three goroutines gives the same bits.
func TestParallelSameBits(t *testing.T) {
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
			train := replicate(t, filepath.Join(d, "train.csv"), 20000)
			var arts [][]byte
			var a *artifact.Artifact
			for _, workers := range []int{1, 3} {
				r, err := table.NewCSVReader(strings.NewReader(train), "train.csv", table.CSVOptions{})
				if err != nil {
					t.Fatal(err)
				}
				a, err = fit.Fit(context.Background(), sp, r, fit.Options{Workers: workers})
				if err != nil {
					t.Skipf("fit refused (an expect_error case): %v", err)
				}
				b, err := artifact.Encode(a)
				if err != nil {
					t.Fatal(err)
				}
				arts = append(arts, b)
			}
			if !bytes.Equal(arts[0], arts[1]) {
				t.Fatalf("artifact with 3 workers differs from 1 worker")
			}
			test := replicate(t, filepath.Join(d, "test.csv"), 20000)
			var outs []*table.Batch
			for _, workers := range []int{1, 3} {
				tr, err := transform.New(a)
				if err != nil {
					t.Fatal(err)
				}
				tr.Workers = workers
				out := tr.NewOutput()
				if err := tr.Batch(readAll(t, test, tr), out, "test.csv"); err != nil {
					if workers == 1 {
						t.Skipf("transform refused (an expect_error case): %v", err)
					}
					t.Fatal(err)
				}
				outs = append(outs, out)
			}
			for j := range outs[0].Cols {
				g, w := outs[1].Cols[j], outs[0].Cols[j]
				for i := range w.Num {
					if math.Float64bits(g.Num[i]) != math.Float64bits(w.Num[i]) && !(math.IsNaN(g.Num[i]) && math.IsNaN(w.Num[i])) {
						t.Fatalf("column %s row %d: 3 workers give %v, 1 worker %v", w.Name, i, g.Num[i], w.Num[i])
					}
				}
				for i := range w.Str {
					if g.Str[i] != w.Str[i] || g.IsMissing(i) != w.IsMissing(i) {
						t.Fatalf("column %s row %d: 3 workers give %q, 1 worker %q", w.Name, i, g.Str[i], w.Str[i])
					}
				}
			}
		})
	}
}
