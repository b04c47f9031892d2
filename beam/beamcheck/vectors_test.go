package beamcheck

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/normguard/normguard/drift"
	"github.com/normguard/normguard/table"
)

// gloveRows reads the GloVe vectors the embed package tests with
// (embed/testdata/README.md: 2,000 x 100, float32).
func gloveRows(t *testing.T) [][]float64 {
	t.Helper()
	r, err := table.Open(filepath.Join("..", "..", "embed", "testdata", "glove100d_2k.npy"))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	f := []table.Field{{Name: r.Header()[0], Kind: table.Vector}}
	if err := r.Project(f); err != nil {
		t.Fatal(err)
	}
	cols, n, err := table.ReadAll(r, f)
	if err != nil {
		t.Fatal(err)
	}
	out := make([][]float64, n)
	for i := range out {
		out[i] = cols[0].Row(i)
	}
	return out
}

// vecRow is one row of the vector test data: a scalar a, a label, and
// the vector (nil: missing).
type vecRow struct {
	a   float64
	tag string
	emb []float64
}

func vecRows(vs [][]float64) []vecRow {
	out := make([]vecRow, len(vs))
	for i, v := range vs {
		out[i] = vecRow{a: float64(i%97) / 7, tag: []string{"x", "y", "z"}[i%3], emb: v}
	}
	return out
}

func fmtVec(b *strings.Builder, v []float64) {
	b.WriteString("[")
	for k, x := range v {
		if k > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.FormatFloat(x, 'g', -1, 64))
	}
	b.WriteString("]")
}

func writeVecJSONL(t *testing.T, path string, rows []vecRow) {
	t.Helper()
	var b strings.Builder
	for _, r := range rows {
		fmt.Fprintf(&b, `{"a": %s, "tag": %q, "emb": `, strconv.FormatFloat(r.a, 'g', -1, 64), r.tag)
		if r.emb == nil {
			b.WriteString("null")
		} else {
			fmtVec(&b, r.emb)
		}
		b.WriteString("}\n")
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// writeVecCSV writes the vectors as their dimension columns emb_0 ..
// emb_{d-1} (a missing vector: empty cells).
func writeVecCSV(t *testing.T, path string, rows []vecRow, dim int) {
	t.Helper()
	var b strings.Builder
	b.WriteString("a,tag")
	for k := range dim {
		fmt.Fprintf(&b, ",emb_%d", k)
	}
	b.WriteString("\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "%s,%s", strconv.FormatFloat(r.a, 'g', -1, 64), r.tag)
		for k := range dim {
			b.WriteString(",")
			if r.emb != nil {
				b.WriteString(strconv.FormatFloat(r.emb[k], 'g', -1, 64))
			}
		}
		b.WriteString("\n")
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// evidenceTolerance bounds the relative difference of the floating-point
// evidence of vector findings (norm means, per-dimension moments): the
// Beam job adds the same float64 terms grouped by range, the local
// command by batch, so the last bits may differ. Counts, codes and texts
// must be equal.
const evidenceTolerance = 1e-9

// sameReport compares two JSON reports: equal, except that numbers may
// differ by evidenceTolerance.
func sameReport(got, want []byte) error {
	if bytes.Equal(got, want) {
		return nil
	}
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		return fmt.Errorf("got: %w", err)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		return fmt.Errorf("want: %w", err)
	}
	return sameJSON("", g, w)
}

func sameJSON(at string, g, w any) error {
	switch w := w.(type) {
	case float64:
		x, ok := g.(float64)
		if !ok || math.Abs(x-w) > evidenceTolerance*math.Max(1, math.Abs(w)) {
			return fmt.Errorf("%s: got %v, want %v", at, g, w)
		}
		return nil
	case map[string]any:
		x, ok := g.(map[string]any)
		if !ok || len(x) != len(w) {
			return fmt.Errorf("%s: got %v, want %v", at, g, w)
		}
		for k, v := range w {
			if err := sameJSON(at+"."+k, x[k], v); err != nil {
				return err
			}
		}
		return nil
	case []any:
		x, ok := g.([]any)
		if !ok || len(x) != len(w) {
			return fmt.Errorf("%s: got %v, want %v", at, g, w)
		}
		for i := range w {
			if err := sameJSON(fmt.Sprintf("%s[%d]", at, i), x[i], w[i]); err != nil {
				return err
			}
		}
		return nil
	}
	if !reflect.DeepEqual(g, w) {
		return fmt.Errorf("%s: got %v, want %v", at, g, w)
	}
	return nil
}

// TestVectorsOnPrism compares normguard-beam validate and drift on GloVe
// vectors (a vector column in JSON Lines, or its dimension columns in a
// CSV) on 1, 3 and 17 ranges with the local command on the whole file:
// the same anomalies (codes, counts, the rows of zero vectors, texts),
// evidence numbers within evidenceTolerance, the same exit status; drift's
// vector part (MMD² and the rest, on the sample the ranges draw) equal
// byte for byte, as is drift with the vector column excluded.
func TestVectorsOnPrism(t *testing.T) {
	dir := t.TempDir()
	glove := gloveRows(t)
	const dim = 100
	train := filepath.Join(dir, "train.jsonl")
	writeVecJSONL(t, train, vecRows(glove[:1000]))
	specP := filepath.Join(dir, "spec.yaml")
	if err := os.WriteFile(specP, []byte("version: 1\nremainder: passthrough\ncolumns:\n  - name: a\n    steps: [standard_scaler]\n  - name: emb\n    type: vector\n    steps: [{normalizer: {norm: l2}}]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	art := filepath.Join(dir, "a.json")
	if out, code := local(t, "fit", "--spec", specP, "--data", train, "--out", art, "-q"); code != 0 {
		t.Fatalf("fit: exit %d: %s", code, out)
	}

	// 1,500 current vectors, more than the 1,000 of drift's sample (so
	// the ranges draw a reservoir sample): the 1,000 GloVe vectors the
	// training did not see, then 500 of them again, scaled by 1.001.
	cur := slices.Clone(glove[1000:2000])
	for _, v := range glove[1000:1500] {
		u := make([]float64, len(v))
		for k, x := range v {
			u[k] = x * 1.001
		}
		cur = append(cur, u)
	}
	clean := vecRows(cur)
	// Broken: half the vectors scaled to unit length (mixed
	// normalization), zero vectors in rows 7, 350 and 590, missing
	// vectors in every 50th row.
	broken := vecRows(cur)
	for i := range broken {
		switch {
		case i == 7 || i == 350 || i == 590:
			broken[i].emb = make([]float64, dim)
		case i%50 == 3:
			broken[i].emb = nil
		case i%2 == 1:
			v := broken[i].emb
			var ss float64
			for _, x := range v {
				ss += x * x
			}
			u := make([]float64, dim)
			for k, x := range v {
				u[k] = x / math.Sqrt(ss)
			}
			broken[i].emb = u
		}
	}
	type layout struct {
		name   string
		csv    bool
		shards func(dir string, rows []vecRow) (string, int64)
	}
	layouts := []layout{
		{"1 range", false, func(dir string, rows []vecRow) (string, int64) {
			p := filepath.Join(dir, "one.jsonl")
			writeVecJSONL(t, p, rows)
			return p, -1
		}},
		{"3 files", false, func(dir string, rows []vecRow) (string, int64) {
			writeVecJSONL(t, filepath.Join(dir, "part-0.jsonl"), rows[:100])
			writeVecJSONL(t, filepath.Join(dir, "part-1.jsonl"), rows[100:1051])
			writeVecJSONL(t, filepath.Join(dir, "part-2.jsonl"), rows[1051:])
			return filepath.Join(dir, "part-*"), -1
		}},
		{"17 ranges of one file", false, func(dir string, rows []vecRow) (string, int64) {
			p := filepath.Join(dir, "cut.jsonl")
			writeVecJSONL(t, p, rows)
			st, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			return p, st.Size() / 17
		}},
		{"dimension columns, 17 ranges of one CSV", true, func(dir string, rows []vecRow) (string, int64) {
			p := filepath.Join(dir, "cut.csv")
			writeVecCSV(t, p, rows, dim)
			st, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			return p, st.Size() / 17
		}},
	}
	for di, ds := range []struct {
		name       string
		rows       []vecRow
		wantStatus int
	}{{"clean", clean, 0}, {"broken", broken, 1}} {
		for li, l := range layouts {
			sub := filepath.Join(dir, fmt.Sprintf("d%dl%d", di, li))
			if err := os.Mkdir(sub, 0o755); err != nil {
				t.Fatal(err)
			}
			all := filepath.Join(sub, "all.jsonl")
			if l.csv {
				all = filepath.Join(sub, "all.csv")
				writeVecCSV(t, all, ds.rows, dim)
			} else {
				writeVecJSONL(t, all, ds.rows)
			}
			pattern, split := l.shards(sub, ds.rows)
			for _, cmd := range []string{Validate, Drift} {
				t.Run(cmd+"/"+ds.name+"/"+l.name, func(t *testing.T) {
					flag := "--data"
					if cmd == Drift {
						flag = "--current"
					}
					want, wantStatus := local(t, cmd, "--artifact", art, flag, all, "--format", "json")
					// (drift: the training took the frequent words, the
					// current data the rarer ones, so the vectors drift even
					// when clean)
					if cmd == Validate && wantStatus != ds.wantStatus {
						t.Fatalf("local %s: exit %d, want %d:\n%s", cmd, wantStatus, ds.wantStatus, want)
					}
					if ds.name == "broken" {
						for _, code := range []string{`"mixed_normalization"`, `"zero_vectors"`} {
							if !bytes.Contains(want, []byte(code)) {
								t.Fatalf("local %s does not report %s:\n%s", cmd, code, want)
							}
						}
					}
					if cmd == Drift && !l.csv && !bytes.Contains(want, []byte(`"mmd2"`)) {
						t.Fatalf("local drift compares no vector column:\n%s", want)
					}
					res, err := Run(context.Background(), "prism", Options{Command: cmd, Artifact: art, Data: pattern,
						SplitBytes: split, Format: "json", Method: "auto", Bins: drift.DefaultBins, DriftShare: drift.DefaultDriftShare,
						Result: filepath.Join(t.TempDir(), "result.json")})
					if err != nil {
						t.Fatal(err)
					}
					if res.Status != wantStatus {
						t.Errorf("exit status %d (%s), want %d", res.Status, res.Message, wantStatus)
					}
					if err := sameReport(res.Output, want); err != nil {
						t.Fatalf("report differs from the local command's: %v\ngot  %s\nwant %s", err, res.Output, want)
					}
					if !bytes.Equal(res.Output, want) {
						t.Logf("evidence equal within %g, not byte for byte", evidenceTolerance)
					}
					if cmd == Drift {
						// The vector drift is computed from the same sample:
						// equal byte for byte.
						var g, w struct{ Vectors json.RawMessage }
						if err := json.Unmarshal(res.Output, &g); err != nil {
							t.Fatal(err)
						}
						if err := json.Unmarshal(want, &w); err != nil {
							t.Fatal(err)
						}
						if !bytes.Equal(g.Vectors, w.Vectors) {
							t.Fatalf("vector drift differs:\ngot  %s\nwant %s", g.Vectors, w.Vectors)
						}
					}
				})
			}
		}
	}

	t.Run("drift --exclude emb", func(t *testing.T) {
		p := filepath.Join(dir, "cur.jsonl")
		writeVecJSONL(t, p, broken)
		want, wantStatus := local(t, "drift", "--artifact", art, "--current", p, "--exclude", "emb", "--format", "json")
		res, err := Run(context.Background(), "prism", Options{Command: Drift, Artifact: art, Data: p, Format: "json", Method: "auto",
			Bins: drift.DefaultBins, DriftShare: drift.DefaultDriftShare, Exclude: []string{"emb"}, SplitBytes: 40_000,
			Result: filepath.Join(t.TempDir(), "result.json")})
		if err != nil {
			t.Fatal(err)
		}
		if res.Status != wantStatus || !bytes.Equal(res.Output, want) {
			t.Fatalf("status %d (%s), want %d; report\ngot  %s\nwant %s", res.Status, res.Message, wantStatus, res.Output, want)
		}
	})
}

var (
	genVecDir    = flag.String("gen-vec-dir", "", "TestGenerateVectors: write the vector data set here")
	genVecRows   = flag.Int("gen-vec-rows", 200_000, "TestGenerateVectors: current rows")
	genVecShards = flag.Int("gen-vec-shards", 16, "TestGenerateVectors: JSON Lines shards")
)

// TestGenerateVectors writes bench.sh's vector data set: a spec with a
// scalar and a 100-d vector column, train.jsonl (the first 1,000 GloVe
// vectors of embed/testdata), and current rows (the other 1,000 vectors
// repeated, each copy with its own small noise, every 7th scaled to unit
// length) as all.jsonl and as shards/part-NNN.jsonl; it is skipped
// unless -gen-vec-dir is given.
func TestGenerateVectors(t *testing.T) {
	if *genVecDir == "" {
		t.Skip("pass -gen-vec-dir DIR to write the vector benchmark's data set")
	}
	if err := os.MkdirAll(filepath.Join(*genVecDir, "shards"), 0o755); err != nil {
		t.Fatal(err)
	}
	glove := gloveRows(t)
	writeVecJSONL(t, filepath.Join(*genVecDir, "train.jsonl"), vecRows(glove[:1000]))
	if err := os.WriteFile(filepath.Join(*genVecDir, "spec.yaml"), []byte("version: 1\nremainder: passthrough\ncolumns:\n  - name: a\n    steps: [standard_scaler]\n  - name: emb\n    type: vector\n    steps: [{normalizer: {norm: l2}}]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(9, 9))
	vs := make([][]float64, *genVecRows)
	for i := range vs {
		src := glove[1000+i%1000]
		v := make([]float64, len(src))
		for k, x := range src {
			v[k] = float64(float32(x + 0.01*rng.NormFloat64()))
		}
		if i%7 == 0 {
			var ss float64
			for _, x := range v {
				ss += x * x
			}
			for k := range v {
				v[k] /= math.Sqrt(ss)
			}
		}
		vs[i] = v
	}
	rows := vecRows(vs)
	writeVecJSONL(t, filepath.Join(*genVecDir, "all.jsonl"), rows)
	per := (len(rows) + *genVecShards - 1) / *genVecShards
	for i := 0; i*per < len(rows); i++ {
		writeVecJSONL(t, filepath.Join(*genVecDir, "shards", fmt.Sprintf("part-%03d.jsonl", i)), rows[i*per:min((i+1)*per, len(rows))])
	}
}
