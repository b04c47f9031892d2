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

// TestVectorSamplerEqualsRead draws the sample of 2,500 vectors (some
// missing) in three runs of present vectors and merges them: the sample
// Read keeps, vector for vector, in the same order.
func TestVectorSamplerEqualsRead(t *testing.T) {
	all := glove(t)
	a := fitVectors(t, writeVectors(t, "train.jsonl", all[:100]), "version: 1\ncolumns:\n  - name: emb\n    type: vector\n")
	cur := make([][]float64, 2500)
	var present [][]float64
	for i := range cur {
		if i%37 == 5 {
			continue // missing
		}
		v := make([]float64, len(all[i%200]))
		for k, x := range all[i%200] {
			v[k] = x * (1 + float64(i)/4096)
		}
		cur[i] = v
		present = append(present, v)
	}
	d, err := Read(writeVectors(t, "cur.jsonl", cur), a)
	if err != nil {
		t.Fatal(err)
	}
	want := d.Vectors["emb"].Sample
	if len(want) != VectorSampleSize {
		t.Fatalf("Read kept %d vectors, want %d", len(want), VectorSampleSize)
	}
	for _, cuts := range [][]int{{0, len(present)}, {0, 700, 1800, len(present)}, {0, 1, 999, 1000, 1001, 2000, len(present)}} {
		var parts [][]SampledVector
		for k := 1; k < len(cuts); k++ {
			s := NewVectorSampler(int64(cuts[k-1]))
			for _, v := range present[cuts[k-1]:cuts[k]] {
				s.Add(v)
			}
			parts = append(parts, s.Slots)
		}
		slices.Reverse(parts) // merge order does not matter
		got, err := MergeSamples(parts...)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.EqualFunc(got, want, slices.Equal[[]float64]) {
			t.Fatalf("cuts %v: the merged sample differs from Read's", cuts)
		}
	}
	if _, err := MergeSamples([]SampledVector{{Slot: 1, Vec: []float64{1}}}); err == nil {
		t.Error("a sample with slot 0 unfilled merged without an error")
	}
}

// TestXorshiftJump checks the jump against stepping one by one.
func TestXorshiftJump(t *testing.T) {
	x := uint64(sampleSeed)
	for n := int64(0); n <= 3000; n++ {
		if got := xorshiftJump(sampleSeed, n); got != x {
			t.Fatalf("jump %d: got %#x, want %#x", n, got, x)
		}
		x = xorshiftStep(x)
	}
}
