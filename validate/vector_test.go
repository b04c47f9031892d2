package validate

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/fit"
	"github.com/normguard/normguard/spec"
	"github.com/normguard/normguard/table"
)

// glove returns the 200 GloVe vectors of testdata/vectors/glove200.npy.
func glove(t *testing.T) [][]float64 {
	t.Helper()
	r, err := table.OpenNPY("../testdata/vectors/glove200.npy", table.NPYOptions{Column: "emb"})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	fields := []table.Field{{Name: "emb", Kind: table.Vector}}
	cols, n, err := table.ReadAll(r, fields)
	if err != nil {
		t.Fatal(err)
	}
	out := make([][]float64, n)
	for i := range out {
		out[i] = append([]float64(nil), cols[0].Row(i)...)
	}
	return out
}

// writeVectors writes vectors as JSON Lines {"id": i, "emb": [...]} (nil
// is a missing vector) and returns the path.
func writeVectors(t *testing.T, name string, vs [][]float64) string {
	t.Helper()
	var b strings.Builder
	for i, v := range vs {
		fmt.Fprintf(&b, `{"id": %d, "emb": `, i)
		if v == nil {
			b.WriteString("null}\n")
			continue
		}
		b.WriteString("[")
		for k, x := range v {
			if k > 0 {
				b.WriteString(",")
			}
			if math.IsNaN(x) {
				b.WriteString("null") // an element of null reads as NaN
				continue
			}
			b.WriteString(strconv.FormatFloat(x, 'g', -1, 64))
		}
		b.WriteString("]}\n")
	}
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func fitVectors(t *testing.T, path, specText string) *artifact.Artifact {
	t.Helper()
	sp, err := spec.Parse(strings.NewReader(specText), "v.yaml")
	if err != nil {
		t.Fatal(err)
	}
	r, err := table.Open(path)
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

func unit(v []float64) []float64 {
	s := 0.0
	for _, x := range v {
		s += x * x
	}
	out := make([]float64, len(v))
	for k, x := range v {
		out[k] = x / math.Sqrt(s)
	}
	return out
}

func mapRows(vs [][]float64, f func(i int, v []float64) []float64) [][]float64 {
	out := make([][]float64, len(vs))
	for i, v := range vs {
		out[i] = f(i, v)
	}
	return out
}

// TestVectorVerdicts fits contracts on the even rows of 200 GloVe vectors
// (raw, and unit length) and validates the odd rows as they are and broken
// in the ways the issue lists: each must give its verdict, and the clean
// rows none.
func TestVectorVerdicts(t *testing.T) {
	all := glove(t)
	var train, test [][]float64
	for i, v := range all {
		if i%2 == 0 {
			train = append(train, v)
		} else {
			test = append(test, v)
		}
	}
	const rawSpec = "version: 1\ncolumns:\n  - name: emb\n    type: vector\n    metric: dot\n"
	const unitSpec = "version: 1\ncolumns:\n  - name: emb\n    type: vector\n    metric: cosine\n"
	raw := fitVectors(t, writeVectors(t, "raw.jsonl", train), rawSpec)
	unitA := fitVectors(t, writeVectors(t, "unit.jsonl", mapRows(train, func(_ int, v []float64) []float64 { return unit(v) })), unitSpec)
	if raw.Embeddings[0].Contract.UnitLength || !unitA.Embeddings[0].Contract.UnitLength {
		t.Fatalf("unit length inferred wrong: raw %v, unit %v", raw.Embeddings[0].Contract.UnitLength, unitA.Embeddings[0].Contract.UnitLength)
	}
	unitTest := mapRows(test, func(_ int, v []float64) []float64 { return unit(v) })
	cases := []struct {
		name string
		a    *artifact.Artifact
		data [][]float64
		want string // the verdict codes, comma-separated ("" for none)
	}{
		{"raw clean", raw, test, ""},
		{"unit clean", unitA, unitTest, ""},
		{"raw fed unit", raw, unitTest, "normalized_unexpectedly"},
		{"unit fed raw", unitA, test, "not_normalized"},
		{"mixed store", unitA, mapRows(test, func(i int, v []float64) []float64 {
			if i%2 == 0 {
				return unit(v)
			}
			return v
		}), "mixed_normalization"},
		{"dimension change", raw, mapRows(test, func(_ int, v []float64) []float64 { return v[:64] }), "dimension_mismatch"},
		{"rotated", unitA, mapRows(unitTest, func(_ int, v []float64) []float64 {
			out := make([]float64, len(v))
			for k := range v {
				out[k] = v[len(v)-1-k] // a permutation: same norms, another space
			}
			return out
		}), "model_swapped"},
		{"truncated", unitA, mapRows(unitTest, func(_ int, v []float64) []float64 { return v[:64] }), "truncated_not_renormalized"},
		{"truncated renormalized", unitA, mapRows(unitTest, func(_ int, v []float64) []float64 { return unit(v[:64]) }), "dimension_mismatch"},
		{"nan and zero", raw, mapRows(test, func(i int, v []float64) []float64 {
			switch i % 10 {
			case 3:
				return make([]float64, len(v))
			case 7:
				out := append([]float64(nil), v...)
				out[5] = math.NaN()
				return out
			}
			return v
		}), "nan_vectors,zero_vectors"},
		{"float16", raw, mapRows(test, func(_ int, v []float64) []float64 {
			out := make([]float64, len(v))
			for k, x := range v {
				out[k] = roundFloat16(x)
			}
			return out
		}), "precision_loss"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Read(writeVectors(t, "cur.jsonl", tc.data), tc.a)
			if err != nil {
				t.Fatal(err)
			}
			rep, err := CheckData(tc.a, d, Options{})
			if err != nil {
				t.Fatal(err)
			}
			var codes []string
			for _, an := range rep.Anomalies {
				codes = append(codes, an.Code)
				if an.Column != "emb" || an.Fix == "" || an.Evidence == nil {
					t.Errorf("anomaly %+v: want column emb with a fix and evidence", an)
				}
			}
			got := strings.Join(codes, ",")
			if tc.want == "" && got != "" || tc.want != "" && !strings.Contains(got, tc.want) {
				t.Errorf("got verdicts %q, want %q", got, tc.want)
			}
			if last := rep.Columns[len(rep.Columns)-1]; last.Name != "emb" || last.Type != VectorType || last.Current.Rows != int64(len(tc.data)) {
				t.Errorf("got column %+v, want the vector column emb", last)
			}
		})
	}
}

// roundFloat16 rounds x to the nearest IEEE binary16 value (ties to even),
// in the normal range, exactly: a float16 has an 11-bit significand.
func roundFloat16(x float64) float64 {
	if x == 0 {
		return 0
	}
	_, e := math.Frexp(x) // x = f * 2^e, 0.5 <= |f| < 1
	scale := math.Ldexp(1, 11-e)
	return math.RoundToEven(x*scale) / scale
}

func TestVectorMissingAndUnjudged(t *testing.T) {
	all := glove(t)
	a := fitVectors(t, writeVectors(t, "raw.jsonl", all[:100]), "version: 1\ncolumns:\n  - name: emb\n    type: vector\n")
	// Every vector missing: it cannot be judged (an error, exit 2).
	d, err := Read(writeVectors(t, "none.jsonl", [][]float64{nil, nil}), a)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := CheckData(a, d, Options{}); err == nil || !strings.Contains(err.Error(), "cannot be judged") {
		t.Errorf("all missing: got %v, want an error saying it cannot be judged", err)
	}
	// No vector column: missing_column for emb, not one per dimension.
	p := filepath.Join(t.TempDir(), "other.jsonl")
	os.WriteFile(p, []byte("{\"x\": 1}\n"), 0o644)
	d, err = Read(p, a)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := CheckData(a, d, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Anomalies) != 1 || rep.Anomalies[0].Code != MissingColumn || rep.Anomalies[0].Column != "emb" {
		t.Errorf("got %+v, want one missing_column for emb", rep.Anomalies)
	}
}

// TestVectorFromDimensionColumns validates data holding a vector column's
// dimension columns (emb_0 .. emb_99, as a CSV would) instead of the
// vectors: they are judged as the vectors they form.
func TestVectorFromDimensionColumns(t *testing.T) {
	all := glove(t)
	a := fitVectors(t, writeVectors(t, "raw.jsonl", all[:100]), "version: 1\ncolumns:\n  - name: emb\n    type: vector\n")
	var b strings.Builder
	b.WriteString(strings.Join(table.VectorNames("emb", 100), ","))
	b.WriteString("\n")
	for _, v := range all[100:] {
		u := unit(v)
		for k, x := range u {
			if k > 0 {
				b.WriteString(",")
			}
			b.WriteString(strconv.FormatFloat(x, 'g', -1, 64))
		}
		b.WriteString("\n")
	}
	p := filepath.Join(t.TempDir(), "dims.csv")
	os.WriteFile(p, []byte(b.String()), 0o644)
	d, err := Read(p, a)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := CheckData(a, d, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Anomalies) == 0 || rep.Anomalies[0].Code != "normalized_unexpectedly" || rep.Anomalies[0].Column != "emb" {
		t.Errorf("got %+v, want normalized_unexpectedly for emb", rep.Anomalies)
	}
	for _, c := range rep.Columns {
		if strings.HasPrefix(c.Name, "emb_") {
			t.Errorf("dimension column %s checked one by one", c.Name)
		}
	}
}

// TestVectorCleanSplitsNoFalseAlarm fits on a random half of the 200
// GloVe vectors and validates the other half, for 20 seeds: no anomaly.
func TestVectorCleanSplitsNoFalseAlarm(t *testing.T) {
	all := glove(t)
	for seed := uint64(1); seed <= 20; seed++ {
		idx := make([]int, len(all))
		for i := range idx {
			idx[i] = i
		}
		s := seed * 0x9e3779b97f4a7c15
		for i := len(idx) - 1; i > 0; i-- { // Fisher-Yates with an xorshift generator
			s ^= s << 13
			s ^= s >> 7
			s ^= s << 17
			j := int(s % uint64(i+1))
			idx[i], idx[j] = idx[j], idx[i]
		}
		var train, test [][]float64
		for k, i := range idx {
			if k < len(idx)/2 {
				train = append(train, all[i])
			} else {
				test = append(test, all[i])
			}
		}
		a := fitVectors(t, writeVectors(t, "train.jsonl", train), "version: 1\ncolumns:\n  - name: emb\n    type: vector\n")
		d, err := Read(writeVectors(t, "test.jsonl", test), a)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := CheckData(a, d, Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, an := range rep.Anomalies {
			t.Errorf("seed %d: false alarm %s: %s", seed, an.Code, an.Description)
		}
	}
}
