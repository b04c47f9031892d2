package main

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/normguard/normguard/monitor"
)

// TestReplayJudgesVectorColumns (attack run 18 F11): monitor replay left
// a vector column out without a word (0 of 2 drifting, exit 0, where
// drift --artifact of a week's rows found the vectors drifting) and
// refused a vector-only artifact, saying the data had none of its inputs.
// Each window's vectors are now judged as drift --artifact judges a file
// of the window's rows: the same "vectors" entry (MMD², p-value,
// verdict), the column among the window's drifting ones, and its first
// drifting window; the weeks whose vectors are 5x too long drift.
func TestReplayJudgesVectorColumns(t *testing.T) {
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(2, 18))
	unit := func(s float64) string { return jsonVector(randomVector(rng, s)) }
	writeVectorTrain(dir, unit, rng)
	var lines []string
	week := map[int64][]string{} // the rows of each week, by its start
	for i := range 400 {
		day := time.Date(2026, 1, 1+i/20, 0, 0, 0, 0, time.UTC)
		s := 1.0
		if i >= 200 { // from 2026-01-11: every vector 5x too long
			s = 5
		}
		l := fmt.Sprintf(`{"t": %q, "emb": %s, "x": %g, "c": %q}`, day.Format("2006-01-02 15:04"), unit(s), 5+rng.NormFloat64(), string("abc"[rng.IntN(3)]))
		lines = append(lines, l)
		// The ISO week's Monday, by arithmetic: days since Monday 1970-01-05.
		days := day.Unix()/86400 - 4
		start := (days/7*7 + 4) * 86400 * int64(time.Second)
		week[start] = append(week[start], l)
	}
	prod := filepath.Join(dir, "prod.jsonl")
	os.WriteFile(prod, []byte(strings.Join(lines, "\n")+"\n"), 0o644)
	specs := map[string]string{
		"mixed":  "version: 1\ncolumns:\n  - name: emb\n    type: vector\n    steps: []\n  - name: x\n    steps: [{standard_scaler: {}}]\n  - name: c\n    type: categorical\n    steps: [{one_hot_encoder: {}}]\n",
		"vector": "version: 1\ncolumns:\n  - name: emb\n    type: vector\n    steps: []\n",
	}
	for _, kind := range []string{"mixed", "vector"} {
		sp := filepath.Join(dir, kind+".yaml")
		os.WriteFile(sp, []byte(specs[kind]), 0o644)
		art := filepath.Join(dir, kind+".json")
		mustRun(t, "fit", "--spec", sp, "--data", filepath.Join(dir, "train.jsonl"), "--out", art, "-q")
		code, out, errOut := runCLI(t, "monitor", "replay", "--artifact", art, "--data", prod, "--time-column", "t", "--window", "7d", "--format", "json")
		if code != ExitFound {
			t.Fatalf("%s: replay exit %d, want 1 (the vectors drift)\nstderr: %s", kind, code, errOut)
		}
		var tl monitor.Timeline
		if err := json.Unmarshal([]byte(out), &tl); err != nil {
			t.Fatal(err)
		}
		if len(tl.Windows) != len(week) {
			t.Fatalf("%s: %d windows, want %d", kind, len(tl.Windows), len(week))
		}
		var first *time.Time
		for _, w := range tl.Windows {
			rows := week[w.Start.UnixNano()]
			f := filepath.Join(dir, "week.jsonl")
			os.WriteFile(f, []byte(strings.Join(rows, "\n")+"\n"), 0o644)
			_, dout, derr := runCLI(t, "drift", "--artifact", art, "--current", f, "--format", "json")
			var d struct {
				Vectors []monitor.WindowVector `json:"vectors"`
			}
			if err := json.Unmarshal([]byte(dout), &d); err != nil || len(d.Vectors) != 1 {
				t.Fatalf("%s: drift of week %s: %v, %d vector columns\n%s", kind, w.Start, err, len(d.Vectors), derr)
			}
			if !reflect.DeepEqual(w.Vectors, d.Vectors) {
				t.Errorf("%s: window %s: vectors %+v, want drift --artifact's of its rows %+v", kind, w.Start.Format(time.DateOnly), w.Vectors, d.Vectors)
			}
			long := strings.Contains(strings.Join(rows, ""), `"2026-01-11`) || w.Start.After(time.Date(2026, 1, 11, 0, 0, 0, 0, time.UTC))
			if d.Vectors[0].Result.Drift != long {
				t.Errorf("%s: window %s: drift --artifact says vector drift %v; the test expects it where vectors are 5x too long (%v)", kind, w.Start.Format(time.DateOnly), d.Vectors[0].Result.Drift, long)
			}
			if got := len(w.Drifted) > 0 && w.Drifted[len(w.Drifted)-1] == "emb"; got != d.Vectors[0].Result.Drift {
				t.Errorf("%s: window %s: drifting %q, vector drift %v", kind, w.Start.Format(time.DateOnly), w.Drifted, d.Vectors[0].Result.Drift)
			}
			if d.Vectors[0].Result.Drift && first == nil {
				st := w.Start
				first = &st
			}
		}
		fd := tl.FirstDrift[len(tl.FirstDrift)-1]
		if fd.Feature != "emb" || first == nil || fd.Start == nil || !fd.Start.Equal(*first) {
			t.Errorf("%s: first drift %+v, want emb from %v", kind, tl.FirstDrift, first)
		}
		// The table counts the vector column among the judged ones.
		_, table, _ := runCLI(t, "monitor", "replay", "--artifact", art, "--data", prod, "--time-column", "t", "--window", "7d")
		n := map[string]int{"mixed": 3, "vector": 1}[kind]
		if !strings.Contains(table, fmt.Sprintf("1 of %d    emb", n)) {
			t.Errorf("%s: table\n%s\nwant emb drifting of %d judged", kind, table, n)
		}
	}
}

// randomVector draws a vector of 8 values from rng, s long.
func randomVector(rng *rand.Rand, s float64) []float64 {
	v := make([]float64, 8)
	n := 0.0
	for k := range v {
		v[k] = rng.NormFloat64()
		n += v[k] * v[k]
	}
	for k := range v {
		v[k] *= s / math.Sqrt(n)
	}
	return v
}

// writeVectorTrain writes dir/train.jsonl: 300 rows of a vector emb of
// length 1 (unit(1)), a number x about 5 and a category c (a, b or c),
// drawn from rng, in that order.
func writeVectorTrain(dir string, unit func(s float64) string, rng *rand.Rand) {
	var train strings.Builder
	for range 300 {
		fmt.Fprintf(&train, `{"emb": %s, "x": %g, "c": %q}`+"\n", unit(1), 5+rng.NormFloat64(), string("abc"[rng.IntN(3)]))
	}
	os.WriteFile(filepath.Join(dir, "train.jsonl"), []byte(train.String()), 0o644)
}
