package transform_test

import (
	"context"
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

const vectorsJSONL = "../testdata/vectors/glove41.jsonl"

func vectorArtifact(t *testing.T) *artifact.Artifact {
	t.Helper()
	sp, err := spec.Parse(strings.NewReader("version: 1\nremainder: passthrough\ncolumns:\n  - name: emb\n    type: vector\n    steps: [{normalizer: {}}, {standard_scaler: {}}]\n"), "v.yaml")
	if err != nil {
		t.Fatal(err)
	}
	r, err := table.Open(vectorsJSONL)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	a, err := fit.Fit(context.Background(), sp, r, fit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestVectorRowsEqualStream transforms the same vectors from a JSONL file
// (Stream) and as row maps holding arrays (Rows, the HTTP and library
// form): the outputs must be the same bits.
func TestVectorRowsEqualStream(t *testing.T) {
	a := vectorArtifact(t)
	tr, err := transform.New(a)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "out.jsonl")
	r, err := table.Open(vectorsJSONL)
	if err != nil {
		t.Fatal(err)
	}
	w, err := table.Create(out, tr.Outputs())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Stream(context.Background(), r, w, vectorsJSONL); err != nil {
		t.Fatal(err)
	}
	r.Close()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	sr, _ := table.Open(out)
	defer sr.Close()
	fields := tr.Outputs()
	sr.Project(fields)
	streamed, n, err := table.ReadAll(sr, fields)
	if err != nil {
		t.Fatal(err)
	}

	// The same rows as maps with arrays, as encoding/json decodes them.
	vr, _ := table.Open(vectorsJSONL)
	defer vr.Close()
	vf := []table.Field{{Name: "id", Kind: table.String}, {Name: "emb", Kind: table.Vector}}
	vr.Project(vf)
	vcols, _, err := table.ReadAll(vr, vf)
	if err != nil {
		t.Fatal(err)
	}
	rows := make([]map[string]any, n)
	for i := range rows {
		arr := make([]any, vcols[1].Dim)
		for k, x := range vcols[1].Row(i) {
			arr[k] = x
		}
		rows[i] = map[string]any{"id": vcols[0].Str[i], "emb": arr}
	}
	got, err := tr.Rows(rows)
	if err != nil {
		t.Fatal(err)
	}
	if got.Rows != n || len(got.Cols) != 101 || got.Cols[100].Name != "id" {
		t.Fatalf("got %d rows x %d columns, want %d x 101 ending with id", got.Rows, len(got.Cols), n)
	}
	for j := range 100 {
		for i := range n {
			if a, b := got.Cols[j].Num[i], streamed[j].Num[i]; a != b {
				t.Fatalf("column %s row %d: Rows gives %v, Stream %v", got.Cols[j].Name, i, a, b)
			}
		}
	}
	// A vector of another length is an error naming both dimensions.
	rows[3]["emb"] = []any{1.0, 2.0}
	if _, err := tr.Rows(rows); err == nil || !strings.Contains(err.Error(), "has 2 values, the artifact's contract 100") {
		t.Errorf("got %v, want an error naming 2 and 100", err)
	}
	_ = os.Remove(out)
}
