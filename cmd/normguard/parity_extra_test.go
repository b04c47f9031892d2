package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// parityExtraDir holds parity cases beyond the shared peer vectors, made
// by testdata/parity-extra/generate.py with scikit-learn 1.2.1.
const parityExtraDir = "../../testdata/parity-extra"

// TestParityExtraCLI runs every extra parity case through `normguard fit`
// and `normguard transform` and compares with scikit-learn's output by
// column name and order, within the case's tolerance.
func TestParityExtraCLI(t *testing.T) {
	dirs, _ := filepath.Glob(filepath.Join(parityExtraDir, "*", "case.json"))
	if len(dirs) == 0 {
		t.Fatal("no extra parity cases found")
	}
	for _, c := range dirs {
		d := filepath.Dir(c)
		t.Run(filepath.Base(d), func(t *testing.T) {
			var pc peerCase
			if err := json.Unmarshal(readFile(t, c), &pc); err != nil {
				t.Fatal(err)
			}
			tmp := t.TempDir()
			art := filepath.Join(tmp, "a.json")
			out := filepath.Join(tmp, "out.csv")
			code, _, errOut := runCLI(t, "fit", "--spec", filepath.Join(d, "spec.json"), "--data", filepath.Join(d, "train.csv"), "--out", art)
			if code == ExitOK {
				code, _, errOut = runCLI(t, "transform", "--artifact", art, "--in", filepath.Join(d, "test.csv"), "--out", out)
			}
			if code != ExitOK {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			compareCSV(t, out, filepath.Join(d, "expected.csv"), pc.Rtol, pc.Atol)
			compareBinEdges(t, c, art)
		})
	}
}

// An imputer with a missing_values placeholder has no ONNX form yet: the
// export must refuse it rather than write a graph that imputes NaN only.
func TestExportRefusesImputerPlaceholder(t *testing.T) {
	d := filepath.Join(parityExtraDir, "simple_imputer__missing_values_0_mean")
	tmp := t.TempDir()
	art := filepath.Join(tmp, "a.json")
	out := filepath.Join(tmp, "m.onnx")
	if code, _, errOut := runCLI(t, "fit", "--spec", filepath.Join(d, "spec.json"), "--data", filepath.Join(d, "train.csv"), "--out", art); code != ExitOK {
		t.Fatalf("fit: exit %d: %s", code, errOut)
	}
	code, _, errOut := runCLI(t, "export", "--artifact", art, "--format", "onnx", "--out", out)
	if code != ExitError || !strings.Contains(errOut, "missing_values") {
		t.Fatalf("export: exit %d, want %d naming missing_values: %s", code, ExitError, errOut)
	}
	if _, err := os.Stat(out); err == nil {
		t.Fatal("an ONNX file was written despite the refusal")
	}
}

// compareBinEdges checks, when the case records scikit-learn's fitted
// bin_edges_, that the artifact holds the same edges bit for bit.
func compareBinEdges(t *testing.T, casePath, artPath string) {
	t.Helper()
	var c struct {
		Fitted struct {
			BinEdges [][]float64 `json:"bin_edges_"`
		} `json:"fitted"`
	}
	if err := json.Unmarshal(readFile(t, casePath), &c); err != nil {
		t.Fatal(err)
	}
	if c.Fitted.BinEdges == nil {
		return
	}
	var art any
	if err := json.Unmarshal(readFile(t, artPath), &art); err != nil {
		t.Fatal(err)
	}
	got := findKey(art, "bin_edges_")
	b, _ := json.Marshal(got)
	var edges [][]float64
	if err := json.Unmarshal(b, &edges); err != nil || len(edges) != len(c.Fitted.BinEdges) {
		t.Fatalf("artifact bin_edges_ %s, want %d columns (%v)", b, len(c.Fitted.BinEdges), err)
	}
	for j, want := range c.Fitted.BinEdges {
		if len(edges[j]) != len(want) {
			t.Fatalf("column %d: got edges %v, want %v", j, edges[j], want)
		}
		for i := range want {
			if edges[j][i] != want[i] {
				t.Fatalf("column %d edge %d: got %v, want %v", j, i, edges[j][i], want[i])
			}
		}
	}
}

// findKey returns the first value stored under key in a decoded JSON
// document, depth first.
func findKey(v any, key string) any {
	switch v := v.(type) {
	case map[string]any:
		if x, ok := v[key]; ok {
			return x
		}
		for _, x := range v {
			if r := findKey(x, key); r != nil {
				return r
			}
		}
	case []any:
		for _, x := range v {
			if r := findKey(x, key); r != nil {
				return r
			}
		}
	}
	return nil
}
