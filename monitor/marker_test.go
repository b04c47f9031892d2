package monitor

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestServedCopyRefused: a copy of the state file taken while the service
// runs holds the generation its marker records (written at Open), so the
// older-copy check by generation cannot tell it apart. An attack run saw
// such a backup, restored after 10 more rows were acknowledged and the
// service stopped, start silently with 5 of 15 rows and its marker
// rewritten to 5. The checkpoint count the file and the marker share
// tells it apart: it is refused naming both counts, the marker is left as
// it was, and --state-recover reports the rows the copy lacks as lost.
func TestServedCopyRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "monitor.db")
	a := testArtifact(t)
	m, err := Open(path, damageOptions(func() time.Time { return t0 }))
	if err != nil {
		t.Fatal(err)
	}
	var kept int64
	for i := range 5 {
		cols, n := crashBatch(i)
		if err := m.Observe(context.Background(), "m", a, StageInput, cols, n); err != nil {
			t.Fatal(err)
		}
		kept += int64(n)
	}
	backup, err := os.ReadFile(path) // an online backup: committed, not yet checkpointed
	if err != nil {
		t.Fatal(err)
	}
	var added int64
	for i := 5; i < 15; i++ {
		cols, n := crashBatch(i)
		if err := m.Observe(context.Background(), "m", a, StageInput, cols, n); err != nil {
			t.Fatal(err)
		}
		added += int64(n)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	mark, err := os.ReadFile(markerPath(path))
	if err != nil {
		t.Fatal(err)
	}
	mk, err := readMarker(path)
	if err != nil || mk.Generation != 1 || mk.total() != kept+added {
		t.Fatalf("marker %+v, %v: want generation 1 counting %d rows", mk, err, kept+added)
	}
	if err := os.WriteFile(path, backup, 0o600); err != nil { // restore the backup
		t.Fatal(err)
	}
	_, err = Open(path, damageOptions(nil))
	var de *DamageError
	if !errors.As(err, &de) || !strings.Contains(err.Error(), "is an older copy (checkpoint 0)") ||
		!strings.Contains(err.Error(), fmt.Sprintf("at checkpoint %d", mk.Checkpoints)) || !strings.Contains(err.Error(), "--state-recover") {
		t.Fatalf("a backup taken while served: got %v, want a DamageError saying it is an older copy, naming both checkpoints", err)
	}
	if now, _ := os.ReadFile(markerPath(path)); string(now) != string(mark) {
		t.Errorf("the refused start rewrote the marker")
	}
	if _, err := OpenReadOnly(path, damageOptions(nil)); !errors.As(err, &de) || !strings.Contains(err.Error(), "older copy") {
		t.Errorf("read-only: got %v, want the same refusal", err)
	}
	rep, err := Recover(path, damageOptions(nil))
	if err != nil {
		t.Fatal(err)
	}
	want := StageRecovery{Model: "m", Stage: StageInput, RowsKept: kept, RowsLost: added, Counted: true}
	if len(rep.Stages) != 1 || rep.Stages[0] != want {
		t.Fatalf("recovery stages: got %+v, want %+v", rep.Stages, want)
	}
	if !strings.Contains(rep.String(), fmt.Sprintf("%d acknowledged rows lost", added)) {
		t.Errorf("the report does not say the later rows were lost:\n%s", rep)
	}
	startsAfterRecovery(t, path)
}

// TestCheckpointCountAhead: a crash between a checkpoint's transaction and
// the marker's write leaves the file a checkpoint ahead of its marker,
// which is accepted; a marker written before the count was kept (none in
// it) vouches as before, and the next Open records the file's count.
func TestCheckpointCountAhead(t *testing.T) {
	path := filepath.Join(t.TempDir(), "monitor.db")
	buildDamageState(t, path)
	m, err := Open(path, damageOptions(nil))
	if err != nil {
		t.Fatal(err)
	}
	m.Close()
	before, err := readMarker(path)
	if err != nil || before.Checkpoints == 0 {
		t.Fatalf("marker %+v, %v: want a checkpoint count", before, err)
	}
	// The marker as it was before the last checkpoint: its count one
	// behind the file's.
	behind := *before
	behind.Checkpoints--
	writeTestMarker(t, path, behind)
	m, err = Open(path, damageOptions(nil))
	if err != nil {
		t.Fatalf("a file one checkpoint ahead of its marker: %v", err)
	}
	m.Close()
	// A marker of an earlier normguard: no count.
	old, err := readMarker(path)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(markerPath(path))
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	delete(raw, "checkpoints")
	if data, err = json.Marshal(raw); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(markerPath(path), data, 0o600); err != nil {
		t.Fatal(err)
	}
	m, err = Open(path, damageOptions(nil))
	if err != nil {
		t.Fatalf("a marker without a checkpoint count: %v", err)
	}
	m.Close()
	if mk, err := readMarker(path); err != nil || mk.Checkpoints < old.Checkpoints {
		t.Errorf("marker %+v, %v: want the file's checkpoint count (at least %d)", mk, err, old.Checkpoints)
	}
}

// writeTestMarker writes mk as the marker of the state file at path.
func writeTestMarker(t *testing.T, path string, mk marker) {
	t.Helper()
	data, err := json.Marshal(mk)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(markerPath(path), data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestOpenReadOnlyChangesNothing: `monitor export` opened the state file
// read-write: each look at a backup counted its generation up and wrote a
// marker beside it, until the backup looked newer than the live marker
// and restoring it lost rows silently (attack run 4). OpenReadOnly leaves
// the file and its marker byte for byte as they are, creates no marker,
// reads the same state Open does, refuses writes, and refuses what Open
// refuses.
func TestOpenReadOnlyChangesNothing(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "monitor.db")
	rows := buildDamageState(t, path)
	file, mark := readBoth(t, path)
	var first []byte
	for i := range 3 {
		m, err := OpenReadOnly(path, damageOptions(nil))
		if err != nil {
			t.Fatalf("look %d: %v", i, err)
		}
		got, _ := stateOf(t, m)
		for model, n := range rows {
			if got[model] == 0 && n > 0 {
				t.Errorf("look %d: model %s: no rows", i, model)
			}
		}
		ex, err := m.ExportHistory("")
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Observe(context.Background(), "m", testArtifact(t), StageInput, nil, 1); !errors.Is(err, errReadOnly) {
			t.Errorf("look %d: Observe: got %v, want it refused", i, err)
		}
		if err := m.Close(); err != nil {
			t.Fatal(err)
		}
		data, err := json.Marshal(ex)
		if err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first = data
		}
		f, k := readBoth(t, path)
		if !bytes.Equal(f, file) || !bytes.Equal(k, mark) {
			t.Fatalf("look %d changed the file (%v) or its marker (%v)", i, !bytes.Equal(f, file), !bytes.Equal(k, mark))
		}
	}
	// What Open reads is what OpenReadOnly read.
	m, err := Open(path, damageOptions(nil))
	if err != nil {
		t.Fatal(err)
	}
	ex, err := m.ExportHistory("")
	m.Close()
	if err != nil {
		t.Fatal(err)
	}
	if data, _ := json.Marshal(ex); !bytes.Equal(data, first) {
		t.Errorf("read-only export differs from the read-write one")
	}

	// A backup without a marker: none is created.
	backup := filepath.Join(t.TempDir(), "monitor.db")
	file, _ = readBoth(t, path)
	if err := os.WriteFile(backup, file, 0o600); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		m, err := OpenReadOnly(backup, damageOptions(nil))
		if err != nil {
			t.Fatal(err)
		}
		m.Close()
	}
	if _, err := os.Stat(markerPath(backup)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a look at a backup created its marker (%v)", err)
	}
	if f, _ := readBoth(t, backup); !bytes.Equal(f, file) {
		t.Errorf("a look at a backup changed it")
	}
	// A file that is not there, an emptied one and a truncated one are
	// refused, and not created.
	gone := filepath.Join(t.TempDir(), "monitor.db")
	if _, err := OpenReadOnly(gone, damageOptions(nil)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a missing file: got %v", err)
	}
	if _, err := os.Stat(gone); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a look at a missing file created it")
	}
	for _, size := range []int{0, len(file) / 2} {
		if err := os.WriteFile(backup, file[:size], 0o600); err != nil {
			t.Fatal(err)
		}
		var de *DamageError
		if _, err := OpenReadOnly(backup, damageOptions(nil)); !errors.As(err, &de) {
			t.Errorf("a file cut to %d bytes: got %v, want a DamageError", size, err)
		}
	}
}

// TestOpenReadOnlyRefusesWhatOpenRefuses flips a byte of every page of a
// state file and checks that OpenReadOnly refuses the file exactly when
// Open does (a DamageError), leaving it unchanged.
func TestOpenReadOnlyRefusesWhatOpenRefuses(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.db")
	buildDamageState(t, good)
	// Each copy gets the marker beside it: a writable Open refuses a file
	// that was written beside a marker without one (attack run 18), while
	// a read-only look at a file copied alone reads it.
	mark, err := os.ReadFile(markerPath(good))
	if err != nil {
		t.Fatal(err)
	}
	intact, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	const page = 4096
	for off := 0; off < len(intact); off += page {
		damaged := append([]byte(nil), intact...)
		at := off + page/2 + 17
		if at >= len(damaged) {
			at = len(damaged) - 1
		}
		damaged[at] ^= 0x5a
		ro := filepath.Join(dir, fmt.Sprintf("ro-%d.db", off))
		rw := filepath.Join(dir, fmt.Sprintf("rw-%d.db", off))
		for _, p := range []string{ro, rw} {
			if err := os.WriteFile(p, damaged, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(markerPath(p), mark, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		var de *DamageError
		mr, rerr := OpenReadOnly(ro, damageOptions(nil))
		if rerr == nil {
			mr.Close()
		} else if !errors.As(rerr, &de) {
			t.Errorf("page at %d: read-only: %v, want a DamageError", off, rerr)
		}
		if now, _ := os.ReadFile(ro); !bytes.Equal(now, damaged) {
			t.Errorf("page at %d: the read-only look changed the file", off)
		}
		mw, werr := Open(rw, damageOptions(nil))
		if werr == nil {
			mw.Close()
		}
		if (rerr == nil) != (werr == nil) {
			t.Errorf("page at %d: read-only: %v; read-write: %v", off, rerr, werr)
		}
	}
}

// TestOpenReadOnlyV1: a file of the format before checksums is read as
// Open reads it (converted in memory only) and left as it is.
func TestOpenReadOnlyV1(t *testing.T) {
	data, err := os.ReadFile("../testdata/state-v1/monitor.db")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ro, rw := filepath.Join(dir, "ro.db"), filepath.Join(dir, "rw.db")
	for _, p := range []string{ro, rw} {
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	clock := func() time.Time { return t0.Add(2 * time.Hour) }
	m, err := OpenReadOnly(ro, damageOptions(clock))
	if err != nil {
		t.Fatal(err)
	}
	gotRows, got := stateOf(t, m)
	m.Close()
	m, err = Open(rw, damageOptions(clock))
	if err != nil {
		t.Fatal(err)
	}
	wantRows, want := stateOf(t, m)
	m.Close()
	if got != want || gotRows["m"] != wantRows["m"] || wantRows["m"] == 0 {
		t.Errorf("read-only: %v rows, read-write: %v rows; history equal: %v", gotRows, wantRows, got == want)
	}
	if now, _ := os.ReadFile(ro); !bytes.Equal(now, data) {
		t.Errorf("the read-only look converted the file")
	}
	if _, err := os.Stat(markerPath(ro)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the read-only look created a marker (%v)", err)
	}
}

// readBoth reads the state file at path and its marker (nil when none).
func readBoth(t *testing.T, path string) (file, mark []byte) {
	t.Helper()
	file, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	mark, err = os.ReadFile(markerPath(path))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	return file, mark
}
