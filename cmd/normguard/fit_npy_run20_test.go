package main

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFitAndReplayNPYMessagesRun20 (attack run 20 F4): fit of a lone .npy
// into a spec with a vector column and a feature said to rename the file
// after the vector column (it was already read as that column), and
// monitor replay of a .npy named its column after the file's stem
// ("[train_dump]") where the other commands read it as the artifact's
// vector column. fit now says a .npy holds one vector column only, so
// the feature needs another file; replay says a .npy has no time column.
func TestFitAndReplayNPYMessagesRun20(t *testing.T) {
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(4, 20))
	rows := make([][]float64, 300)
	for i := range rows {
		rows[i] = make([]float64, 8)
		for k := range rows[i] {
			rows[i][k] = rng.NormFloat64()
		}
	}
	npy := filepath.Join(dir, "train_dump.npy")
	writeNPYFloat32(t, npy, rows, 8)
	s2 := filepath.Join(dir, "s2.yaml")
	os.WriteFile(s2, []byte("version: 1\ncolumns:\n  - name: emb\n    type: vector\n    steps: []\n  - name: x\n    steps: [{standard_scaler: {}}]\n"), 0o644)
	code, _, errOut := runCLI(t, "fit", "--spec", s2, "--data", npy, "--out", filepath.Join(dir, "o2.json"))
	if code != ExitError {
		t.Fatalf("fit emb+x of a .npy: exit %d, want 2", code)
	}
	for _, want := range []string{`one vector column only, read as "emb"`, `feature columns "x"`, "JSON Lines or Parquet"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("fit emb+x of a .npy: %q, want %q", errOut, want)
		}
	}
	if strings.Contains(errOut, "rename") {
		t.Errorf("fit emb+x of a .npy: %q advises a rename that fixes nothing", errOut)
	}
	s1 := filepath.Join(dir, "s1.yaml")
	os.WriteFile(s1, []byte("version: 1\ncolumns:\n  - name: emb\n    type: vector\n    steps: []\n"), 0o644)
	art := filepath.Join(dir, "v.json")
	mustRun(t, "fit", "-q", "--spec", s1, "--data", npy, "--out", art)
	code, out, errOut := runCLI(t, "monitor", "replay", "--artifact", art, "--data", npy, "--time-column", "t", "--window", "7d")
	if code != ExitError || out != "" {
		t.Fatalf("replay of a .npy: exit %d, stdout %q; want 2 and nothing", code, out)
	}
	for _, want := range []string{"is a .npy file", `read as "emb"`, `no time column "t"`} {
		if !strings.Contains(errOut, want) {
			t.Errorf("replay of a .npy: %q, want %q", errOut, want)
		}
	}
	if strings.Contains(errOut, "train_dump]") || strings.Contains(errOut, `"train_dump"`) {
		t.Errorf("replay of a .npy: %q names the column after the file's stem", errOut)
	}
}
