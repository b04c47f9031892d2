package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/normguard/normguard/monitor"
	"github.com/normguard/normguard/quickstart"
	"github.com/normguard/normguard/table"
)

// TestMonitorMergeRefusesDoubleCounts: `monitor merge` exits 2, naming
// both files, on one export given twice (the same file, a copy, the copy
// without its digest), and, naming the file and the JSON path, on an
// export edited and digested again: window rows ×1000, a window shifted
// off the day's grid, an overlapping window, a feature dropped, all
// features dropped, the model renamed beside the original. Two replicas'
// exports merge to the rows of both.
func TestMonitorMergeRefusesDoubleCounts(t *testing.T) {
	dir := t.TempDir()
	qs, art, cols, n := quickstartLater(t, dir)
	// Two replicas, each fed half of the rows, in one day's window.
	day := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	var exports []string
	half := n / 2
	for i, rng := range [][2]int{{0, half}, {half, n}} {
		part := make([]table.Column, len(cols))
		for j, c := range cols {
			part[j] = table.Column{Name: c.Name, Kind: c.Kind}
			if c.Kind == table.String {
				part[j].Str = c.Str[rng[0]:rng[1]]
				if c.Null != nil {
					part[j].Null = c.Null[rng[0]:rng[1]]
				}
			} else {
				part[j].Num = c.Num[rng[0]:rng[1]]
			}
		}
		exports = append(exports, exportDay(t, dir, string(rune('a'+i)), day, qs, part, rng[1]-rng[0]))
	}
	rowsOf := func(tl string) int64 {
		t.Helper()
		var v monitor.Timeline
		if err := json.Unmarshal([]byte(tl), &v); err != nil {
			t.Fatalf("%v: %.300s", err, tl)
		}
		return v.Rows
	}
	code, tl, stderr := runCLI(t, "monitor", "merge", "--artifact", art, "--format", "json", exports[0], exports[1])
	if code == ExitError || rowsOf(tl) != int64(n) {
		t.Fatalf("merge of two replicas: exit %d (%s), want their %d rows", code, stderr, n)
	}

	raw := readFile(t, exports[0])
	write := func(name string, b []byte) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// edit decodes the export, lets change edit it and encodes it again
	// with a digest of the edited content.
	edit := func(name string, change func(ex *monitor.Export)) string {
		t.Helper()
		var ex monitor.Export
		if err := json.Unmarshal(raw, &ex); err != nil {
			t.Fatal(err)
		}
		change(&ex)
		b, err := json.MarshalIndent(ex, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		return write(name, b)
	}
	cp := write("copy.json", raw)
	var plain map[string]any
	if err := json.Unmarshal(raw, &plain); err != nil {
		t.Fatal(err)
	}
	delete(plain, "digest")
	noDigest, _ := json.Marshal(plain)
	old := write("old.json", noDigest)
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"the same file", []string{exports[0], exports[0]}, []string{exports[0] + " and " + exports[0] + " are the same file"}},
		{"the same file by two paths", []string{exports[0], dir + string(os.PathSeparator) + "." + string(os.PathSeparator) + "a.json"}, []string{"are the same file"}},
		{"a copy", []string{exports[0], cp}, []string{exports[0] + " and " + cp + " hold the same window state", "count twice"}},
		{"a copy without its digest", []string{old, exports[1], exports[0]}, []string{old + " and " + exports[0] + " hold the same window state"}},
		{"rows x1000", []string{edit("x1000.json", func(ex *monitor.Export) { ex.Windows[0].Rows *= 1000 }), exports[1]}, []string{"x1000.json: windows[0].rows: ", "counting the most rows"}},
		{"shifted 1h", []string{edit("shift.json", func(ex *monitor.Export) {
			ex.Windows[0].Start, ex.Windows[0].End = ex.Windows[0].Start.Add(time.Hour), ex.Windows[0].End.Add(time.Hour)
		}), exports[1]}, []string{"shift.json: windows[0].start: ", "not on the grid of the window's length 1d"}},
		{"overlapping", []string{edit("overlap.json", func(ex *monitor.Export) {
			w := ex.Windows[0]
			w.Start, w.End = w.Start.Add(12*time.Hour), w.End.Add(12*time.Hour)
			ex.Windows = append(ex.Windows, w)
		}), exports[1]}, []string{"overlap.json: windows[1].start: ", "overlaps windows[0]"}},
		{"a feature dropped", []string{edit("drop.json", func(ex *monitor.Export) { ex.Windows[0].Features = ex.Windows[0].Features[1:] }), exports[1]},
			[]string{`drop.json: windows[0].features: lack "delay"`}},
		{"all features dropped", []string{edit("none.json", func(ex *monitor.Export) { ex.Windows[0].Features = nil }), exports[1]},
			[]string{"none.json: windows[0].rows: ", "lists no feature"}},
		{"the model renamed", []string{exports[1], edit("m2.json", func(ex *monitor.Export) { ex.Windows[0].Model = "m2" })},
			[]string{`m2.json: windows[0].model: "m2", but ` + exports[1] + ` windows[0]`, `fitted for model "flight-delay"`}},
	} {
		code, _, stderr := runCLI(t, append([]string{"monitor", "merge", "--artifact", art}, tc.args...)...)
		if code != ExitError {
			t.Errorf("%s: exit %d, want %d; stderr %q", tc.name, code, ExitError, stderr)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(stderr, w) {
				t.Errorf("%s: stderr %q lacks %q", tc.name, stderr, w)
			}
		}
	}
	if bytes.Contains(raw, []byte(`"store"`)) {
		t.Errorf("monitor export names a store: the merge of replicas' exports would not be the export of one store")
	}
}

// exportDay feeds the n rows of part to flight-delay in a state
// dir/name.db whose clock stands at day, in windows of a day, and
// exports it to dir/name.json, whose path it returns.
func exportDay(t *testing.T, dir, name string, day time.Time, qs *quickstart.Result, part []table.Column, n int) string {
	t.Helper()
	state := filepath.Join(dir, name+".db")
	mon, err := monitor.Open(state, monitor.Options{EvalInterval: time.Hour, Window: 24 * time.Hour, Now: func() time.Time { return day }})
	if err != nil {
		t.Fatal(err)
	}
	if err := mon.Observe(context.Background(), "flight-delay", qs.Artifact, monitor.StageInput, part, n); err != nil {
		t.Fatal(err)
	}
	if err := mon.Close(); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, name+".json")
	mustRun(t, "monitor", "export", "--state", state, "--out", out)
	return out
}
