package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestVectorsTooLarge: vectors of finite values near the float64 limit
// (two rows of 1.7e308; rows of 1e160, whose squares overflow) are an
// anomaly in validate (nan_vectors: too large to compare, exit 1; it said
// "no anomaly"), and drift refuses them (exit 2) instead of a drift verdict
// on an MMD² of NaN; fit refuses them too.
func TestVectorsTooLarge(t *testing.T) {
	dir := t.TempDir()
	all := gloveVectors(t)
	trainP := writeVectorsJSONL(t, dir, "train.jsonl", "emb", all[:150])
	specP := filepath.Join(dir, "s.yaml")
	os.WriteFile(specP, []byte("version: 1\ncolumns:\n  - name: emb\n    type: vector\n"), 0o644)
	art := filepath.Join(dir, "a.json")
	mustRun(t, "fit", "--spec", specP, "--data", trainP, "--out", art, "-q")
	fill := func(n int, x float64) [][]float64 {
		out := make([][]float64, n)
		for i := range out {
			out[i] = make([]float64, 100)
			for k := range out[i] {
				out[i][k] = x
			}
		}
		return out
	}
	for _, tc := range []struct {
		name string
		vs   [][]float64
		rows string
	}{
		{"1.7e308", fill(2, 1.7e308), "rows [0 1]"},
		{"1e160", fill(5, 1e160), "rows [0 1 2 3 4]"},
		{"mixed", append(append([][]float64(nil), all[150:200]...), fill(2, 1.7e308)...), "rows [50 51]"},
	} {
		p := writeVectorsJSONL(t, dir, "cur.jsonl", "emb", tc.vs)
		code, stdout, stderr := runCLI(t, "validate", "--artifact", art, "--data", p)
		if code != ExitFound || !strings.Contains(stdout, "nan_vectors") || !strings.Contains(stdout, "too large to compare") || !strings.Contains(stdout, tc.rows) {
			t.Errorf("%s: validate exit %d, want 1 with nan_vectors too large to compare, %s\nstdout: %s\nstderr: %s", tc.name, code, tc.rows, stdout, stderr)
		}
		for _, args := range [][]string{
			{"drift", "--artifact", art, "--current", p},
			{"drift", "--reference", trainP, "--current", p},
			{"fit", "--spec", specP, "--data", p, "--out", filepath.Join(dir, "b.json")},
		} {
			code, stdout, stderr := runCLI(t, args...)
			if code != ExitError || !strings.Contains(stderr, "values too large to compare") || strings.Contains(stdout, "DRIFT") {
				t.Errorf("%s: %s: exit %d, want 2 saying values too large to compare\nstdout: %s\nstderr: %s", tc.name, strings.Join(args[:2], " "), code, stdout, stderr)
			}
		}
	}
}
