package monitor

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestMarkerDeletedOlderCopyRefused (attack run 18 F2): an older copy of
// the state file put back with its marker deleted started silently with
// the copy's rows (3 of 8 batches), the missing marker vouching for any
// file. The file records that it was written beside a marker (its
// checkpoint count, and its generation once opened twice): it is refused
// naming the marker; --state-recover starts from it, reporting the rows
// it holds, and the next Open is accepted. A file with no such record (a
// new one, or one written before markers) still opens without a marker,
// and OpenReadOnly still reads a file copied without its marker.
func TestMarkerDeletedOlderCopyRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "monitor.db")
	a := testArtifact(t)
	observe := func(from, to int) int64 {
		m, err := Open(path, damageOptions(func() time.Time { return t0 }))
		if err != nil {
			t.Fatal(err)
		}
		var n int64
		for i := from; i < to; i++ {
			cols, rows := crashBatch(i)
			if err := m.Observe(context.Background(), "m", a, StageInput, cols, rows); err != nil {
				t.Fatal(err)
			}
			n += int64(rows)
		}
		if err := m.Close(); err != nil {
			t.Fatal(err)
		}
		return n
	}
	kept := observe(0, 3)
	older, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	observe(3, 8)
	if err := os.WriteFile(path, older, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(markerPath(path)); err != nil {
		t.Fatal(err)
	}
	_, err = Open(path, damageOptions(nil))
	var de *DamageError
	if !errors.As(err, &de) || !strings.Contains(err.Error(), markerPath(path)+" is missing") || !strings.Contains(err.Error(), "--state-recover") {
		t.Fatalf("an older copy with its marker deleted: got %v, want a DamageError naming the missing marker and --state-recover", err)
	}
	if now, _ := os.ReadFile(path); string(now) != string(older) {
		t.Error("the refused Open changed the file")
	}
	if _, err := os.Stat(markerPath(path)); err == nil {
		t.Error("the refused Open wrote a marker")
	}
	// A copy inspected read-only without its marker: read as before.
	ro, err := OpenReadOnly(path, damageOptions(nil))
	if err != nil {
		t.Fatalf("read-only without a marker: %v", err)
	}
	ro.Close()
	rep, err := Recover(path, damageOptions(nil))
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Stages) != 1 || rep.Stages[0].RowsKept != kept || rep.Stages[0].Model != "m" {
		t.Errorf("recovery stages %+v, want model m with the copy's %d rows kept", rep.Stages, kept)
	}
	startsAfterRecovery(t, path)

	// A new file, opened and closed with nothing observed, then its
	// marker deleted: nothing was checkpointed, and it opens.
	fresh := filepath.Join(t.TempDir(), "monitor.db")
	m, err := Open(fresh, damageOptions(nil))
	if err != nil {
		t.Fatal(err)
	}
	m.Close()
	if err := os.Remove(markerPath(fresh)); err != nil {
		t.Fatal(err)
	}
	if m, err := Open(fresh, damageOptions(nil)); err != nil {
		t.Errorf("a first start's file without its marker: %v", err)
	} else {
		m.Close()
	}
}
