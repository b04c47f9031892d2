package main

import (
	"encoding/csv"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// peerDir holds the scikit-learn 1.2.1 parity cases (copied from
// shared/peer-vectors; see testdata/README.md).
const peerDir = "../../testdata/peer-vectors/transform"

type peerCase struct {
	Rtol         float64 `json:"rtol"`
	Atol         float64 `json:"atol"`
	ExpectError  bool    `json:"expect_error"`
	SklearnError string  `json:"sklearn_error"`
}

// TestPeerVectorsCLI runs every parity case through `normguard fit` and
// `normguard transform` and compares with scikit-learn's output by column
// name, within the case's tolerance. Cases that scikit-learn refuses must
// exit 2 with a message and leave no output file.
func TestPeerVectorsCLI(t *testing.T) {
	dirs, _ := filepath.Glob(filepath.Join(peerDir, "*"))
	if len(dirs) == 0 {
		t.Fatal("no parity cases found")
	}
	for _, d := range dirs {
		t.Run(filepath.Base(d), func(t *testing.T) {
			var pc peerCase
			if err := json.Unmarshal(readFile(t, filepath.Join(d, "case.json")), &pc); err != nil {
				t.Fatal(err)
			}
			tmp := t.TempDir()
			art := filepath.Join(tmp, "a.json")
			out := filepath.Join(tmp, "out.csv")
			code, _, errOut := runCLI(t, "fit", "--spec", filepath.Join(d, "spec.json"), "--data", filepath.Join(d, "train.csv"), "--out", art)
			if code == ExitOK {
				code, _, errOut = runCLI(t, "transform", "--artifact", art, "--in", filepath.Join(d, "test.csv"), "--out", out)
			}
			if pc.ExpectError {
				if code != ExitError {
					t.Fatalf("exit %d, want %d (scikit-learn: %s)", code, ExitError, pc.SklearnError)
				}
				if _, err := os.Stat(out); err == nil {
					t.Fatalf("output file written despite the error")
				}
				if got := dirEntries(t, tmp); len(got) > 1 || (len(got) == 1 && got[0] != "a.json") {
					t.Fatalf("leftover files %v", got)
				}
				assertNamesProblem(t, errOut)
				return
			}
			if code != ExitOK {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			compareCSV(t, out, filepath.Join(d, "expected.csv"), pc.Rtol, pc.Atol)
		})
	}
}

// assertNamesProblem checks that an error message names a column or value.
func assertNamesProblem(t *testing.T, msg string) {
	t.Helper()
	if !strings.Contains(msg, `"`) {
		t.Fatalf("error message names no column or value: %s", msg)
	}
	t.Logf("error: %s", strings.TrimSpace(msg))
}

func readCSVFile(t *testing.T, path string) ([]string, [][]string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return recs[0], recs[1:]
}

// compareCSV compares got with want column by column (by name), numeric
// cells within atol + rtol*|want|, empty cells as NaN.
func compareCSV(t *testing.T, gotPath, wantPath string, rtol, atol float64) {
	t.Helper()
	gh, grows := readCSVFile(t, gotPath)
	wh, wrows := readCSVFile(t, wantPath)
	if strings.Join(gh, ",") != strings.Join(wh, ",") {
		t.Fatalf("columns:\n got %v\nwant %v", gh, wh)
	}
	if len(grows) != len(wrows) {
		t.Fatalf("got %d rows, want %d", len(grows), len(wrows))
	}
	for i := range wrows {
		for j := range wh {
			g, w := parseCell(t, grows[i][j]), parseCell(t, wrows[i][j])
			if math.IsNaN(w) != math.IsNaN(g) || (!math.IsNaN(w) && g != w && math.Abs(g-w) > atol+rtol*math.Abs(w)) {
				t.Fatalf("row %d column %s: got %s, want %s", i+1, wh[j], grows[i][j], wrows[i][j])
			}
		}
	}
}

func parseCell(t *testing.T, s string) float64 {
	t.Helper()
	switch s {
	case "", "nan", "NaN":
		return math.NaN()
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("cell %q: %v", s, err)
	}
	return v
}
