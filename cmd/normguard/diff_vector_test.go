package main

import (
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestVectorDiff: diff names a vector group by its column, collapses its
// per-dimension parameters to one line each, leaves out the contract's
// raw values and dimension profiles, and compares the contracts: metric,
// model, number of vectors, norm mean (the vectors doubled: twice the
// norms) and the distance between the mean vectors (doubled: the norm of
// A's mean vector), computed here from the data.
func TestVectorDiff(t *testing.T) {
	dir := t.TempDir()
	all := gloveVectors(t)
	var a, b [][]float64
	for i, v := range all {
		if i%2 != 0 {
			continue
		}
		a = append(a, v)
		d := make([]float64, len(v))
		for k, x := range v {
			d[k] = 2 * x
		}
		b = append(b, d)
	}
	aP := writeVectorsJSONL(t, dir, "a.jsonl", "emb", a)
	bP := writeVectorsJSONL(t, dir, "b.jsonl", "emb", b)
	specA := filepath.Join(dir, "a.yaml")
	specB := filepath.Join(dir, "b.yaml")
	os.WriteFile(specA, []byte("version: 1\ncolumns:\n  - name: emb\n    type: vector\n    metric: dot\n    steps: [{standard_scaler: {}}]\n"), 0o644)
	os.WriteFile(specB, []byte("version: 1\ncolumns:\n  - name: emb\n    type: vector\n    metric: cosine\n    embedding_model: glove@6B-100d\n    steps: [{standard_scaler: {}}]\n"), 0o644)
	artA, artB := filepath.Join(dir, "a.json"), filepath.Join(dir, "b.json")
	mustRun(t, "fit", "--spec", specA, "--data", aP, "--out", artA, "-q")
	mustRun(t, "fit", "--spec", specB, "--data", bP, "--out", artB, "-q")

	var normSum float64
	mean := make([]float64, len(a[0]))
	for _, v := range a {
		var s float64
		for k, x := range v {
			s += x * x
			mean[k] += x / float64(len(a))
		}
		normSum += math.Sqrt(s)
	}
	var m2 float64
	for _, x := range mean {
		m2 += x * x
	}
	g := func(x float64) string { return strconv.FormatFloat(x, 'g', 4, 64) }
	normMean := normSum / float64(len(a))

	code, out, _ := runCLI(t, "diff", artA, artB)
	if code != 1 {
		t.Fatalf("diff exit %d, want 1:\n%s", code, out)
	}
	for _, want := range []string{
		"~ emb[100].standard_scaler.mean_: (per dimension) -> 100 dimensions changed",
		"vectors:\n",
		"~ emb.metric: dot -> cosine",
		"~ emb.model: (not named) -> glove@6B-100d",
		"~ emb.norm_mean: " + g(normMean) + " -> " + g(2*normMean),
		"~ emb.mean_vector: moved " + g(math.Sqrt(m2)) + " (L2)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("diff lacks %q:\n%s", want, out)
		}
	}
	for _, bad := range []string{"embeddings", "emb_0,emb_1", "profile.inputs[emb_", "emb_0 ", "emb.vectors"} {
		if strings.Contains(out, bad) {
			t.Errorf("diff shows %q:\n%s", bad, out)
		}
	}
}
