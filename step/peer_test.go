package step

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/normguard/normguard/table"
)

// The parity vectors live in testdata/peer-vectors (copied from
// shared/peer-vectors: scikit-learn 1.2.1 output).
const peerDir = "../testdata/peer-vectors/transform"

type peerCase struct {
	Rtol        float64 `json:"rtol"`
	Atol        float64 `json:"atol"`
	ExpectError bool    `json:"expect_error"`
}

type peerSpec struct {
	Columns []struct {
		Names []string                     `json:"names"`
		Type  string                       `json:"type"`
		Steps []map[string]json.RawMessage `json:"steps"`
	} `json:"columns"`
}

// readCSV reads a peer CSV file as columns; cells are numeric when kind is
// table.Numeric (empty = NaN) and strings otherwise (empty = missing).
func readCSV(t *testing.T, path string, kinds map[string]table.Kind) map[string]table.Column {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]table.Column{}
	for j, name := range recs[0] {
		k := kinds[name]
		if k == table.KindUnknown {
			k = table.Numeric
		}
		c := table.Column{Name: name, Kind: k}
		for i, rec := range recs[1:] {
			cell := rec[j]
			if k == table.String {
				c.Str = append(c.Str, cell)
				c.Null = append(c.Null, cell == "")
				continue
			}
			v := math.NaN()
			if cell != "" {
				if v, err = strconv.ParseFloat(cell, 64); err != nil {
					t.Fatalf("%s: row %d col %s: %v", path, i+2, name, err)
				}
			}
			c.Num = append(c.Num, v)
		}
		out[name] = c
	}
	return out
}

// runPeerGroup fits the steps of one spec group on train and transforms
// test, as a scikit-learn Pipeline does.
func runPeerGroup(names []string, kind table.Kind, steps []map[string]json.RawMessage,
	train, test map[string]table.Column, fc *FitContext) ([]table.Column, error) {
	var tr, te []table.Column
	for _, n := range names {
		c := train[n]
		tr = append(tr, c.Clone())
		c = test[n]
		te = append(te, c.Clone())
	}
	for _, s := range steps {
		for name, raw := range s {
			def, ok := Lookup(name)
			if !ok {
				return nil, errors.New("unregistered step " + name)
			}
			p := def.NewParams()
			if err := json.Unmarshal(raw, p); err != nil {
				return nil, err
			}
			if err := p.Validate(); err != nil {
				return nil, err
			}
			fitted, err := p.Fit(fc, tr)
			if err != nil {
				return nil, err
			}
			if tr, err = apply(fitted, tr); err != nil {
				return nil, err
			}
			if te, err = apply(fitted, te); err != nil {
				return nil, err
			}
		}
	}
	return te, nil
}

func apply(f Fitted, in []table.Column) ([]table.Column, error) {
	n := 0
	if len(in) > 0 {
		n = in[0].Len()
	}
	outs := f.Outputs()
	out := make([]table.Column, len(outs))
	for i, o := range outs {
		out[i] = table.Column{Name: o.Name, Kind: o.Kind}
	}
	err := f.Transform(in, out, n)
	return out, err
}

// runPeerCase runs one parity case through the step chain; it skips cases
// that need steps not registered.
func runPeerCase(t *testing.T, dir string, fc *FitContext) {
	t.Helper()
	var pc peerCase
	var sp peerSpec
	mustJSON(t, filepath.Join(dir, "case.json"), &pc)
	mustJSON(t, filepath.Join(dir, "spec.json"), &sp)
	kinds := map[string]table.Kind{}
	for _, g := range sp.Columns {
		for _, n := range g.Names {
			if g.Type == "categorical" {
				kinds[n] = table.String
			} else {
				kinds[n] = table.Numeric
			}
		}
	}
	train := readCSV(t, filepath.Join(dir, "train.csv"), kinds)
	test := readCSV(t, filepath.Join(dir, "test.csv"), kinds)
	for _, g := range sp.Columns {
		for _, s := range g.Steps {
			for name := range s {
				if _, ok := Lookup(name); !ok {
					t.Skipf("step %s not implemented yet", name)
				}
			}
		}
	}
	var got []table.Column
	for _, g := range sp.Columns {
		out, err := runPeerGroup(g.Names, kinds[g.Names[0]], g.Steps, train, test, fc)
		if pc.ExpectError {
			if err == nil {
				t.Fatalf("expected an error, got none")
			}
			t.Logf("error as expected: %v", err)
			return
		}
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		got = append(got, out...)
	}
	if pc.ExpectError {
		t.Fatalf("expected an error, got none")
	}
	want := readCSV(t, filepath.Join(dir, "expected.csv"), nil)
	if len(got) != len(want) {
		t.Fatalf("got %d output columns %v, want %d", len(got), colNames(got), len(want))
	}
	for _, g := range got {
		w, ok := want[g.Name]
		if !ok {
			t.Fatalf("output column %q not in expected (%v)", g.Name, keys(want))
		}
		for i := range w.Num {
			gv, wv := g.Num[i], w.Num[i]
			if math.IsNaN(wv) != math.IsNaN(gv) || (!math.IsNaN(wv) && !(gv == wv || math.Abs(gv-wv) <= pc.Atol+pc.Rtol*math.Abs(wv))) {
				t.Fatalf("column %s row %d: got %v, want %v", g.Name, i, gv, wv)
			}
		}
	}
}

func colNames(cs []table.Column) []string { return names(cs) }

func keys(m map[string]table.Column) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func mustJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// TestPeerVectors runs every parity case whose steps are all registered,
// with several chunk sizes and worker counts.
func TestPeerVectors(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join(peerDir, "*"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no parity cases in %s", peerDir)
	}
	for _, d := range dirs {
		for _, fc := range []*FitContext{{ChunkSize: 1, Workers: 1}, {ChunkSize: 7, Workers: 2}, {}} {
			t.Run(filepath.Base(d), func(t *testing.T) { runPeerCase(t, d, fc) })
		}
	}
}
