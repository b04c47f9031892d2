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
)

// TestMonitorMergeRefusesDamagedExports: `monitor export` writes a digest
// of the export's content; `monitor merge` exits 2 on an export whose
// bytes no longer match it, and on an export without a digest (written
// before digests) whose content is not consistent, naming the file and
// the JSON path of the field. The same export without its digest merges
// to the same timeline.
func TestMonitorMergeRefusesDamagedExports(t *testing.T) {
	dir := t.TempDir()
	qs, art, cols, n := quickstartLater(t, dir)
	state := filepath.Join(dir, "m.db")
	mon, err := monitor.Open(state, monitor.Options{EvalInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if err := mon.Observe(context.Background(), "flights", qs.Artifact, monitor.StageInput, cols, n); err != nil {
		t.Fatal(err)
	}
	if err := mon.Close(); err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(dir, "good.json")
	mustRun(t, "monitor", "export", "--state", state, "--out", good)
	raw := readFile(t, good)
	if !bytes.Contains(raw, []byte(`"digest": "sha256:`)) {
		t.Fatalf("monitor export wrote no digest:\n%.400s", raw)
	}
	code, wantTL, stderr := runCLI(t, "monitor", "merge", "--artifact", art, "--format", "json", good)
	if code == ExitError {
		t.Fatalf("merge of the export: exit %d: %s", code, stderr)
	}
	// edit decodes the export, lets change edit it (without its digest
	// when drop is set) and writes it to a file of its own.
	edit := func(name string, drop bool, change func(ex map[string]any)) string {
		t.Helper()
		var ex map[string]any
		if err := json.Unmarshal(raw, &ex); err != nil {
			t.Fatal(err)
		}
		if drop {
			delete(ex, "digest")
		}
		change(ex)
		b, err := json.MarshalIndent(ex, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	window := func(ex map[string]any) map[string]any { return ex["windows"].([]any)[0].(map[string]any) }
	old := edit("old.json", true, func(map[string]any) {})
	if code, tl, stderr := runCLI(t, "monitor", "merge", "--artifact", art, "--format", "json", old); code == ExitError || tl != wantTL {
		t.Errorf("merge of the export without its digest: exit %d (%s), timeline differs: %v", code, stderr, tl != wantTL)
	}
	for _, tc := range []struct {
		name   string
		drop   bool
		change func(ex map[string]any)
		want   string
	}{
		{"rows.json", false, func(ex map[string]any) { window(ex)["rows"] = window(ex)["rows"].(float64) + 1 }, "rows.json: digest: sha256:"},
		{"negative.json", true, func(ex map[string]any) { window(ex)["rows"] = -5 }, "negative.json: windows[0].rows: -5 must be >= 0"},
		{"twice.json", true, func(ex map[string]any) {
			w := window(ex)
			w["features"] = append(w["features"].([]any), w["features"].([]any)[0])
		}, `twice.json: windows[0].features[5].name: "delay" is listed twice in the window (features[0] too)`},
		{"unseen.json", true, func(ex map[string]any) {
			window(ex)["features"].([]any)[2].(map[string]any)["unseen"] = -1
		}, "unseen.json: windows[0].features[2].unseen: -1 must be >= 0"},
	} {
		p := edit(tc.name, tc.drop, tc.change)
		code, _, stderr := runCLI(t, "monitor", "merge", "--artifact", art, p)
		if code != ExitError || !strings.Contains(stderr, tc.want) {
			t.Errorf("merge of %s: exit %d, stderr %q; want %d and %q", tc.name, code, stderr, ExitError, tc.want)
		}
	}
}
