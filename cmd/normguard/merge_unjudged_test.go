package main

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/normguard/normguard/table"
)

// TestMonitorMergeWindowWithoutValues (attack run 21 F1): a service
// window whose rows all miss a feature merged as a clean window, exit 0,
// its error only in the JSON. The merge writes the timeline, then exits 2
// naming the window and the feature; the same rows with their values
// merge as before.
func TestMonitorMergeWindowWithoutValues(t *testing.T) {
	dir := t.TempDir()
	qs, art, cols, n := quickstartLater(t, dir)
	day := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	export := func(name string, blank bool) string {
		t.Helper()
		part := make([]table.Column, len(cols))
		for j, c := range cols {
			part[j] = c
			if blank && c.Name == "distance" {
				part[j].Num = make([]float64, n)
				for i := range part[j].Num {
					part[j].Num[i] = math.NaN()
				}
			}
		}
		return exportDay(t, dir, name, day, qs, part, n)
	}
	if code, _, stderr := runCLI(t, "monitor", "merge", "--artifact", art, export("full", false)); code == ExitError {
		t.Fatalf("merge of a window with every feature: exit 2: %s", stderr)
	}
	code, stdout, stderr := runCLI(t, "monitor", "merge", "--artifact", art, export("blank", true))
	if code != ExitError || !strings.Contains(stderr, "window 2026-12-06T00:00:00Z: distance:") || !strings.Contains(stdout, "2026-12-06") {
		t.Errorf("merge of a window without distance: exit %d, stderr %q; want 2 naming the window and distance after the timeline", code, stderr)
	}
}
