package validate

import (
	"slices"

	"github.com/normguard/normguard/profile"
	"testing"
)

// TestCheckMergedEqualsCheckData validates GloVe vectors (zero vectors at
// rows 5, 40 and 70, missing ones at 12 and 61) read whole with CheckData
// and read as three parts merged in order with CheckMerged: the same
// anomalies (codes, texts, the rows of zero vectors) and counts.
func TestCheckMergedEqualsCheckData(t *testing.T) {
	all := glove(t)
	a := fitVectors(t, writeVectors(t, "train.jsonl", all[:100]), "version: 1\ncolumns:\n  - name: emb\n    type: vector\n")
	cur := mapRows(all[100:], func(i int, v []float64) []float64 {
		switch i {
		case 5, 40, 70:
			return make([]float64, len(v))
		case 12, 61:
			return nil
		}
		return v
	})
	whole, err := Read(writeVectors(t, "cur.jsonl", cur), a)
	if err != nil {
		t.Fatal(err)
	}
	want, err := CheckData(a, whole, Options{})
	if err != nil {
		t.Fatal(err)
	}
	merged := &VectorData{Column: "emb"}
	var rows int64
	for k, part := range [][][]float64{cur[:30], cur[30:31], cur[31:]} {
		d, err := Read(writeVectors(t, "part.jsonl", part), a)
		if err != nil {
			t.Fatal(err)
		}
		if err := merged.Merge(d.Vectors["emb"]); err != nil {
			t.Fatalf("part %d: %v", k, err)
		}
		rows += d.Rows
	}
	got, err := CheckMerged(a, rows, whole.Header, func(*profile.Feature, []string) (Summary, error) {
		t.Fatal("no scalar input to summarize")
		return Summary{}, nil
	}, map[string]*VectorData{"emb": merged}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Anomalies) == 0 || len(got.Anomalies) != len(want.Anomalies) {
		t.Fatalf("got %d anomalies, want %d (and some)", len(got.Anomalies), len(want.Anomalies))
	}
	if !slices.ContainsFunc(want.Anomalies, func(a Anomaly) bool { return a.Code == "zero_vectors" }) {
		t.Fatalf("CheckData finds no zero_vectors in %+v", want.Anomalies)
	}
	for i, g := range got.Anomalies {
		w := want.Anomalies[i]
		if g.Column != w.Column || g.Code != w.Code || g.Severity != w.Severity || g.Description != w.Description || g.Fix != w.Fix {
			t.Errorf("anomaly %d: got %+v, want %+v", i, g, w)
		}
	}
	if !slices.EqualFunc(got.Columns, want.Columns, func(g, w Column) bool {
		return g.Name == w.Name && g.Current.Rows == w.Current.Rows && g.Current.Missing == w.Current.Missing && g.Anomalies == w.Anomalies
	}) {
		t.Errorf("columns: got %+v, want %+v", got.Columns, want.Columns)
	}
}
