package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/normguard/normguard/monitor"
)

// run20Vectors writes train.jsonl (emb, x, c) and an emb+x+c artifact in
// dir and returns the artifact and a function giving a unit vector (x s).
func run20Vectors(t *testing.T, dir string) (string, func(s float64) string, *rand.Rand) {
	t.Helper()
	rng := rand.New(rand.NewPCG(2, 20))
	unit := func(s float64) string { return jsonVector(randomVector(rng, s)) }
	writeVectorTrain(dir, unit, rng)
	sp := filepath.Join(dir, "s.yaml")
	os.WriteFile(sp, []byte("version: 1\ncolumns:\n  - name: emb\n    type: vector\n    steps: []\n  - name: x\n    steps: [{standard_scaler: {}}]\n  - name: c\n    type: categorical\n    steps: [{one_hot_encoder: {}}]\n"), 0o644)
	art := filepath.Join(dir, "m.json")
	mustRun(t, "fit", "--spec", sp, "--data", filepath.Join(dir, "train.jsonl"), "--out", art, "-q")
	return art, unit, rng
}

// TestReplayVectorColumnMissingOrEmptyRun20 (attack run 20 F1): monitor
// replay left a vector column out without a word when the data had no
// such column (exit 0, in no window's missing_features, where drift
// --artifact reports emb missing_column, exit 1) and when a window's
// rows held no vector of it (that window judged clean, "0 of 2", where
// drift --artifact of its rows exits 2). The missing column is now in
// every window's missing_features, named on stderr, exit 1; the window
// without a vector is an error naming the window and the column, exit 2.
func TestReplayVectorColumnMissingOrEmptyRun20(t *testing.T) {
	dir := t.TempDir()
	art, unit, rng := run20Vectors(t, dir)
	var noemb, nullwin []string
	for i := range 400 {
		day := time.Date(2026, 1, 1+i/20, 0, 0, 0, 0, time.UTC)
		ts := day.Format("2006-01-02 15:04")
		x, c := 5+rng.NormFloat64(), string("abc"[rng.IntN(3)])
		noemb = append(noemb, fmt.Sprintf(`{"t": %q, "x": %g, "c": %q}`, ts, x, c))
		emb := unit(1)
		if day.Day() >= 5 && day.Day() <= 11 { // the week of Monday 2026-01-05
			emb = "null"
		}
		nullwin = append(nullwin, fmt.Sprintf(`{"t": %q, "emb": %s, "x": %g, "c": %q}`, ts, emb, x, c))
	}
	write := func(name string, lines []string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o644)
		return p
	}
	// (a) no emb column: as drift --artifact, exit 1 and emb listed.
	f := write("noemb.jsonl", noemb)
	if code, _, errOut := runCLI(t, "drift", "--artifact", art, "--current", f); code != ExitFound {
		t.Fatalf("drift --artifact of data without emb: exit %d, want 1\n%s", code, errOut)
	}
	code, out, errOut := runCLI(t, "monitor", "replay", "--artifact", art, "--data", f, "--time-column", "t", "--window", "7d", "--format", "json")
	if code != ExitFound {
		t.Errorf("replay of data without emb: exit %d, want 1 as drift --artifact\nstderr: %s", code, errOut)
	}
	if !strings.Contains(errOut, `no vector column "emb"`) || !strings.Contains(errOut, "missing_column") {
		t.Errorf("replay of data without emb: stderr %q, want it to name the missing vector column emb", errOut)
	}
	var tl monitor.Timeline
	if err := json.Unmarshal([]byte(out), &tl); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(tl.Windows) != 4 {
		t.Fatalf("%d windows, want 4", len(tl.Windows))
	}
	for _, w := range tl.Windows {
		if !slices.Contains(w.Report.MissingFeatures, "emb") {
			t.Errorf("window %s: missing_features %q, want emb in it", w.Start.Format(time.DateOnly), w.Report.MissingFeatures)
		}
	}
	// (b) a week whose rows all miss emb: exit 2 naming the window and emb.
	f = write("nullwin.jsonl", nullwin)
	code, out, errOut = runCLI(t, "monitor", "replay", "--artifact", art, "--data", f, "--time-column", "t", "--window", "7d")
	if code != ExitError {
		t.Errorf("replay with a week without vectors: exit %d, want 2 (drift --artifact refuses that week's rows)\nstdout: %s", code, out)
	}
	for _, want := range []string{"window 2026-01-05T00:00:00Z", `vector column "emb" has no vector in the window`, "140 rows"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("replay with a week without vectors: stderr %q, want %q", errOut, want)
		}
	}
	if out != "" {
		t.Errorf("replay refused but wrote %q", out)
	}
}
