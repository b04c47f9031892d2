package fit

import (
	"bytes"
	"context"
	"math"
	"strings"
	"testing"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/spec"
	"github.com/normguard/normguard/table"
)

const vectorsDir = "../testdata/vectors/"

// parityTol bounds |got - want| / max(1, |want|) against scikit-learn.
const parityTol = 1e-12

func fitVectors(t *testing.T, specText, path string, opt Options, batch int) (*artifact.Artifact, *table.Batch) {
	t.Helper()
	sp, err := spec.Parse(strings.NewReader(specText), "v.yaml")
	if err != nil {
		t.Fatal(err)
	}
	r, err := table.OpenWith(path, table.OpenOptions{BatchRows: batch})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	a, out, err := FitTransform(context.Background(), sp, r, opt)
	if err != nil {
		t.Fatal(err)
	}
	return a, out
}

func readRef(t *testing.T, name string) []float64 {
	t.Helper()
	r, err := table.OpenNPY(vectorsDir+"ref_"+name+".npy", table.NPYOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	cols, _, err := table.ReadAll(r, []table.Field{{Name: r.Header()[0], Kind: table.Vector}})
	if err != nil {
		t.Fatal(err)
	}
	return cols[0].Vec
}

// TestVectorStepsMatchScikitLearn fits vector steps on 41 GloVe vectors
// (one of them zero) and compares fit_transform with scikit-learn's
// Normalizer and StandardScaler on the matrix of the vectors
// (testdata/vectors/generate.py).
func TestVectorStepsMatchScikitLearn(t *testing.T) {
	cases := []struct{ ref, steps string }{
		{"normalizer_l2", "[{normalizer: {norm: l2}}]"},
		{"normalizer_l1", "[{normalizer: {norm: l1}}]"},
		{"normalizer_max", "[{normalizer: {norm: max}}]"},
		{"standard_scaler", "[{standard_scaler: {}}]"},
		{"normalizer_l2_standard_scaler", "[{normalizer: {}}, {standard_scaler: {}}]"},
	}
	for _, tc := range cases {
		t.Run(tc.ref, func(t *testing.T) {
			a, out := fitVectors(t, "version: 1\ncolumns:\n  - name: emb\n    type: vector\n    dimension: 100\n    steps: "+tc.steps+"\n",
				vectorsDir+"glove41.jsonl", Options{}, 0)
			want := readRef(t, tc.ref)
			if out.Rows != 41 || len(out.Cols) != 100 {
				t.Fatalf("got %d rows x %d columns, want 41 x 100", out.Rows, len(out.Cols))
			}
			if out.Cols[0].Name != "emb_0" || out.Cols[99].Name != "emb_99" || a.Outputs[5].Name != "emb_5" {
				t.Fatalf("got output names %q .. %q, want emb_0 .. emb_99", out.Cols[0].Name, out.Cols[99].Name)
			}
			worst := 0.0
			for i := range out.Rows {
				for k := range 100 {
					got, w := out.Cols[k].Num[i], want[i*100+k]
					if d := math.Abs(got-w) / math.Max(1, math.Abs(w)); d > worst {
						worst = d
					}
				}
			}
			t.Logf("largest relative difference from scikit-learn: %g", worst)
			if worst > parityTol {
				t.Errorf("largest relative difference from scikit-learn %g, want <= %g", worst, parityTol)
			}
		})
	}
}

// TestVectorFitSameBytes fits the same vectors from JSON Lines and from
// .npy under several batch sizes and worker counts: the artifacts must be
// byte-identical (the JSONL holds the .npy's float32 values).
func TestVectorFitSameBytes(t *testing.T) {
	const sp = "version: 1\ncolumns:\n  - name: glove200\n    type: vector\n    metric: dot\n    embedding_model: glove@6B-100d\n    steps: [{normalizer: {}}, {standard_scaler: {}}]\n"
	var first []byte
	for _, batch := range []int{1, 7, 200, 0} {
		for _, workers := range []int{1, 3} {
			a, _ := fitVectors(t, sp, vectorsDir+"glove200.npy", Options{Workers: workers}, batch)
			enc, err := artifact.Encode(a)
			if err != nil {
				t.Fatal(err)
			}
			if first == nil {
				first = enc
				e := a.Embedding("glove200")
				if e == nil || e.Contract.Dimension != 100 || e.Contract.Dtype != "float32" || e.Contract.Model != "glove" || e.Contract.Revision != "6B-100d" || e.Contract.Metric != "dot" {
					t.Fatalf("got embedding %+v", e)
				}
				if e.Contract.UnitLength {
					t.Errorf("GloVe vectors (norms 2.3 to 10.3) inferred as unit length")
				}
				continue
			}
			if !bytes.Equal(first, enc) {
				t.Fatalf("batch %d workers %d: artifact bytes differ", batch, workers)
			}
		}
	}
	if _, err := artifact.Decode(first, "a.json"); err != nil {
		t.Fatalf("decode: %v", err)
	}
}

func TestVectorFitErrors(t *testing.T) {
	cases := []struct{ name, spec, data, want string }{
		{"nan element", "version: 1\ncolumns:\n  - name: emb\n    type: vector\n",
			`{"emb": [1, 2]}` + "\n" + `{"emb": null}` + "\n" + `{"emb": [3, null]}` + "\n", "data row 3 holds NaN"},
		{"spec dimension", "version: 1\ncolumns:\n  - name: emb\n    type: vector\n    dimension: 3\n",
			`{"emb": [1, 2]}` + "\n", "has 2 values per vector, but the spec's columns[0].dimension says 3"},
		{"all missing", "version: 1\ncolumns:\n  - name: emb\n    type: vector\n",
			`{"emb": null}` + "\n", "has no vector (every row is missing)"},
		{"dimension name clash", "version: 1\nremainder: passthrough\ncolumns:\n  - name: emb\n    type: vector\n",
			`{"emb": [1, 2], "emb_1": 5}` + "\n", `the data already has a column "emb_1"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sp, err := spec.Parse(strings.NewReader(tc.spec), "v.yaml")
			if err != nil {
				t.Fatal(err)
			}
			r, err := table.NewJSONLReader(strings.NewReader(tc.data), "d.jsonl", table.JSONLOptions{})
			if err != nil {
				t.Fatal(err)
			}
			_, err = Fit(context.Background(), sp, r, Options{Source: "d.jsonl"})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}
