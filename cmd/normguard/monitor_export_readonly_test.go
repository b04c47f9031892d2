package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/normguard/normguard/monitor"
)

// TestMonitorExportLeavesStateAlone: `monitor export --state F` opened F
// read-write: each run changed it, counted its generation up and wrote a
// marker beside it. An attack run looked at an offline backup three times,
// which made it look newer than the live state's marker: restored, it
// started silently with 5 of 15 acknowledged rows. The export now leaves
// the file and its marker byte for byte as they are and creates no
// marker, so the restored backup is refused as an older copy.
func TestMonitorExportLeavesStateAlone(t *testing.T) {
	dir := t.TempDir()
	qs, _, cols, n := quickstartLater(t, dir)
	live := filepath.Join(dir, "live", "monitor.db")
	backup := filepath.Join(dir, "backup", "monitor.db")
	for _, d := range []string{filepath.Dir(live), filepath.Dir(backup)} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	observe := func() {
		t.Helper()
		mon, err := monitor.Open(live, monitor.Options{EvalInterval: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		if err := mon.Observe(context.Background(), "flights", qs.Artifact, monitor.StageInput, cols, n); err != nil {
			t.Fatal(err)
		}
		if err := mon.Close(); err != nil {
			t.Fatal(err)
		}
	}
	observe()
	if err := os.WriteFile(backup, readFile(t, live), 0o600); err != nil { // an offline backup
		t.Fatal(err)
	}
	observe() // rows acknowledged after the backup
	liveFile, liveMark := readFile(t, live), readFile(t, live+".mark")
	backupFile := readFile(t, backup)
	var first string
	for i := range 3 { // look at the backup
		out := mustRun(t, "monitor", "export", "--state", backup)
		if first == "" {
			first = out
		} else if out != first {
			t.Errorf("export %d of the backup differs from the first", i)
		}
	}
	if !bytes.Equal(readFile(t, backup), backupFile) {
		t.Errorf("monitor export changed the backup")
	}
	if _, err := os.Stat(backup + ".mark"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("monitor export created a marker beside the backup (%v)", err)
	}
	// Restored beside the live marker, the backup (as the looks left it)
	// is refused: it lacks the rows acknowledged since, which the marker
	// counts.
	restored := filepath.Join(dir, "restored", "monitor.db")
	if err := os.MkdirAll(filepath.Dir(restored), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(restored, readFile(t, backup), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(restored+".mark", liveMark, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := monitor.Open(restored, monitor.Options{EvalInterval: time.Hour}); !errors.Is(err, monitor.ErrDamaged) || !strings.Contains(err.Error(), "older copy") {
		t.Fatalf("the restored backup: got %v, want it refused as an older copy", err)
	}
	// So does its export: it checks the file as serve does.
	code, _, stderr := runCLI(t, "monitor", "export", "--state", restored)
	if code != ExitError || !strings.Contains(stderr, "older copy") {
		t.Errorf("export of the restored backup: exit %d, stderr %q; want exit 2 naming the older copy", code, stderr)
	}
	// The live state file and its marker are left as they are too.
	mustRun(t, "monitor", "export", "--state", live)
	if !bytes.Equal(readFile(t, live), liveFile) || !bytes.Equal(readFile(t, live+".mark"), liveMark) {
		t.Errorf("monitor export changed the live state file or its marker")
	}
}
