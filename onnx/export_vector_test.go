package onnx

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/fit"
	"github.com/normguard/normguard/spec"
	"github.com/normguard/normguard/table"
)

// readVectors reads the vector column name of a data file as rows x d
// values.
func readVectors(t *testing.T, path, name string) ([]float64, int) {
	t.Helper()
	r, err := table.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	fields := []table.Field{{Name: name, Kind: table.Vector}}
	if err := r.Project(fields); err != nil {
		t.Fatal(err)
	}
	cols, rows, err := table.ReadAll(r, fields)
	if err != nil {
		t.Fatal(err)
	}
	return cols[0].Vec, rows
}

// TestExportVectorInput exports a vector column's normalizer and
// standard_scaler with one [N, 100] input and compares ONNX Runtime's
// features with scikit-learn's Normalizer then StandardScaler on the 41
// GloVe vectors (testdata/vectors/generate.py wrote the reference).
func TestExportVectorInput(t *testing.T) {
	const vecDir = "../testdata/vectors/"
	sp, err := spec.Parse(strings.NewReader("version: 1\ncolumns:\n  - name: emb\n    type: vector\n    steps: [{normalizer: {}}, {standard_scaler: {}}]\n"), "v.yaml")
	if err != nil {
		t.Fatal(err)
	}
	r, err := table.Open(vecDir + "glove41.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	a, err := fit.Fit(context.Background(), sp, r, fit.Options{})
	r.Close()
	if err != nil {
		t.Fatal(err)
	}
	data, err := artifact.Encode(a)
	if err != nil {
		t.Fatal(err)
	}
	if a, err = artifact.Decode(data, "v.json"); err != nil {
		t.Fatal(err)
	}
	ex, err := Export(a, ExportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if in := ex.Model.Graph.Input; len(in) != 1 || in[0].GetName() != "emb" ||
		in[0].GetType().GetTensorType().GetShape().GetDim()[1].GetDimValue() != 100 {
		t.Fatalf("graph inputs %v, want one input emb of shape [N, 100]", in)
	}
	vals, rows := readVectors(t, vecDir+"glove41.jsonl", "emb")
	want, _ := readVectors(t, vecDir+"ref_normalizer_l2_standard_scaler.npy", "ref_normalizer_l2_standard_scaler")
	in := ortTensor{Type: "double", Dims: []int64{int64(rows), 100}, Data: make([]string, len(vals))}
	for i, x := range vals {
		in.Data[i] = fmt.Sprintf("%016x", math.Float64bits(x))
	}
	got := runORT(t, ex.Model, map[string]ortTensor{"emb": in})[FeaturesOutput].floats(t)
	if len(got) != len(want) || len(want) != 41*100 {
		t.Fatalf("got %d features, reference %d, want 4100", len(got), len(want))
	}
	for i := range want {
		if d := math.Abs(got[i]-want[i]) / math.Max(1, math.Abs(want[i])); d > 1e-12 {
			t.Fatalf("row %d dimension %d: ONNX %v, scikit-learn %v", i/100, i%100, got[i], want[i])
		}
	}
}
