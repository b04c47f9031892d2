package server

import (
	"strings"
	"testing"

	"github.com/normguard/normguard/monitor"
)

// TestUnprofiledNote: /drift says why its report counts fewer rows than
// the window when the model's artifact changed mid-window, and says
// nothing otherwise.
func TestUnprofiledNote(t *testing.T) {
	if n := unprofiledNote(monitor.Window{Rows: 200}); n != "" {
		t.Errorf("no change: note %q, want none", n)
	}
	n := unprofiledNote(monitor.Window{Rows: 200, Unprofiled: 120})
	for _, want := range []string{"120 of the window's 200 rows", "covers the 80 rows since"} {
		if !strings.Contains(n, want) {
			t.Errorf("note %q lacks %q", n, want)
		}
	}
	// A version profiling x differently under the same name: no row is
	// unprofiled, but x is judged on the rows since only.
	n = unprofiledNote(monitor.Window{Rows: 50, Restarted: []monitor.RestartedFeature{{Name: "x", Rows: 20}}})
	for _, want := range []string{"1 feature(s) started again", "x on 20 of the window's 50 rows", "anomalies judge them on the window's counts only"} {
		if !strings.Contains(n, want) {
			t.Errorf("note %q lacks %q", n, want)
		}
	}
}
