package main

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestInspectVectorOnce checks that inspect prints a vector column once in
// the groups, the training profile and the outputs (emb[100]), not one line
// per dimension. The expected counts and norms are computed here from the
// GloVe vectors the artifact is fitted on.
func TestInspectVectorOnce(t *testing.T) {
	dir := t.TempDir()
	vs := gloveVectors(t)[:60]
	sum := 0.0
	for _, v := range vs {
		s := 0.0
		for _, x := range v {
			s += x * x
		}
		sum += math.Sqrt(s)
	}
	meanNorm := sum / float64(len(vs))
	data := writeVectorsJSONL(t, dir, "train.jsonl", "emb", append(vs, nil)) // one row without a vector
	specP := filepath.Join(dir, "s.yaml")
	if err := os.WriteFile(specP, []byte("version: 1\ncolumns:\n  - name: emb\n    type: vector\n    steps: [standard_scaler]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	art := filepath.Join(dir, "a.json")
	mustRun(t, "fit", "--spec", specP, "--data", data, "--out", art, "-q")
	got := mustRun(t, "inspect", art)

	if !strings.Contains(got, "group 0: emb[100] (") || strings.Contains(got, "emb_0, emb_1") {
		t.Errorf("the group is not named emb[100]:\n%.1500s", got)
	}
	_, prof, ok := strings.Cut(got, "training profile (raw inputs)\n")
	if !ok {
		t.Fatalf("no training profile:\n%s", got)
	}
	prof, _, _ = strings.Cut(prof, "\n\n")
	lines := strings.Split(strings.TrimSpace(prof), "\n")
	want := fmt.Sprintf("emb[100]                 vector      n=60 missing=1 norms mean=%.4g ", meanNorm)
	if len(lines) != 1 || !strings.Contains(lines[0], want) || !strings.Contains(lines[0], "100-d float64, metric cosine") {
		t.Errorf("training profile:\n%s\nwant one line with %q", prof, want)
	}
	_, outs, _ := strings.Cut(got, "\noutputs\n")
	outLines := strings.Split(strings.TrimSpace(outs), "\n")
	if len(outLines) != 1 || !strings.Contains(outLines[0], "emb_0 .. emb_99 (emb[100])") || !strings.Contains(outLines[0], "(outputs 0..99)") {
		t.Errorf("outputs:\n%s\nwant one line emb_0 .. emb_99 (emb[100]) ... (outputs 0..99)", outs)
	}
}
