package server

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// stateFiles reads the vector state's snapshot, journal and marker as they
// are (a kill -9 leaves them so: every batch is synced before it is
// acknowledged), by extension ("" the snapshot).
func stateFiles(t *testing.T, state string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	for _, ext := range []string{"", ".journal", ".mark"} {
		data, err := os.ReadFile(state + ext)
		if err != nil {
			t.Fatal(err)
		}
		files[ext] = data
	}
	return files
}

// recoverFrom writes files as a vector state in a folder of its own,
// damages it, and starts a server on it with --state-recover, returning
// the server, its log and the state's path.
func recoverFrom(t *testing.T, f *journalFixture, files map[string][]byte, damage func(state string) error) (*httptest.Server, *bytes.Buffer, string) {
	t.Helper()
	state := filepath.Join(t.TempDir(), "monitor.db.vectors.json")
	for ext, data := range files {
		if err := os.WriteFile(state+ext, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := damage(state); err != nil {
		t.Fatal(err)
	}
	if _, err := New(Config{Registry: f.store, VectorState: state, VectorWindow: time.Hour}); err == nil {
		t.Fatal("without --state-recover: the damaged state was taken")
	}
	var log bytes.Buffer
	s, err := New(Config{Registry: f.store, VectorState: state, VectorStateRecover: true, VectorWindow: time.Hour,
		Logger: slog.New(slog.NewTextHandler(&log, nil))})
	if err != nil {
		t.Fatalf("--state-recover: %v", err)
	}
	s.vectors.now = func() time.Time { return f.now }
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return ts, &log, state
}

// keptRows is the vectors of each producer's open window in GET /vectors.
func keptRows(t *testing.T, ts *httptest.Server) map[string]int64 {
	t.Helper()
	got, _ := getVectors(t, ts)
	kept := map[string]int64{}
	for _, c := range got.Columns {
		for _, p := range c.Producers {
			kept[p.Producer] += p.Rows
		}
	}
	return kept
}

// snapshotDamages are the ways a snapshot is lost after a kill -9: the
// word the recovery's log must use for each.
var snapshotDamages = []struct {
	name, word string
	damage     func(state string) error
}{
	{"deleted", "missing", func(state string) error { return os.Remove(state) }},
	{"emptied", "unreadable", func(state string) error { return os.Truncate(state, 0) }},
	{"checksum edited", "unreadable", func(state string) error {
		data, err := os.ReadFile(state)
		if err != nil {
			return err
		}
		i := bytes.Index(data, []byte(`"crc32c":"`)) + len(`"crc32c":"`)
		if i < len(`"crc32c":"`) {
			return fmt.Errorf("no checksum in %.100s", data)
		}
		data[i] ^= 0x01 // a hex digit still, another one
		return os.WriteFile(state, data, 0o600)
	}},
}

// TestVecstateSnapshotLostJournalReplayed (attack run 32 F4): a snapshot
// deleted, emptied or with its checksum edited after a kill -9 made
// --state-recover throw away the whole journal, every batch of which
// verified: 0 of 1,000 acknowledged vectors kept. The snapshot of journal
// generation 0 is written empty before the first batch, so the journal
// holds every acknowledged vector: it is replayed onto an empty state,
// which is then the state of a server that was never stopped.
func TestVecstateSnapshotLostJournalReplayed(t *testing.T) {
	f := newJournalFixture(t, 0)
	var reader [][]float64
	for range 4 {
		reader = append(reader, f.rest...)
	}
	f.post("reader", reader[:120])
	f.now = f.now.Add(time.Hour) // the reader's first window closes
	acked := map[string]int64{}  // the open window's acknowledged vectors, counted here
	for i := 120; i < 400; i += 40 {
		f.post("reader", reader[i:i+40])
		acked["reader"] += 40
	}
	f.post("writer", f.unit[:30])
	acked["writer"] += 30
	files := stateFiles(t, f.state)
	if !bytes.Contains(files[""], []byte(`"journal_generation":0,"producers":[]`)) {
		t.Fatalf("the fixture's snapshot is not the empty one of generation 0: %.200s", files[""])
	}
	_, want := getVectors(t, f.memory)
	for _, c := range snapshotDamages {
		t.Run(c.name, func(t *testing.T) {
			ts, log, state := recoverFrom(t, f, files, c.damage)
			if _, got := getVectors(t, ts); got != want {
				t.Errorf("after --state-recover GET /vectors differs from a server never stopped:\n%.400s\nwant\n%.400s\n%s", got, want, log)
			}
			kept := keptRows(t, ts)
			for p, n := range acked {
				if kept[p] != n {
					t.Errorf("producer %s: %d vectors kept, want the %d acknowledged", p, kept[p], n)
				}
			}
			var total int64
			for _, n := range acked {
				total += n
			}
			if n := logCount(t, log, `vectors_kept=(\d+)`); n != total {
				t.Errorf("vectors_kept=%d, want the %d acknowledged\n%s", n, total, log)
			}
			if !strings.Contains(log.String(), "vectors_lost_at_least=0") {
				t.Errorf("the recovery's log does not count 0 lost against the marker\n%s", log)
			}
			for _, s := range []string{"snapshot=" + c.word, "the snapshot was " + c.word, "replayed onto an empty state"} {
				if !strings.Contains(log.String(), s) {
					t.Errorf("the recovery's log does not say %q\n%s", s, log)
				}
			}
			other := map[string]string{"missing": "unreadable", "unreadable": "missing"}[c.word]
			if strings.Contains(log.String(), "the snapshot was "+other) || strings.Contains(log.String(), "every open window") {
				t.Errorf("the recovery's log says the snapshot was %s, or that its windows are lost\n%s", other, log)
			}
			if moved, _ := filepath.Glob(state + ".journal.damaged-*"); len(moved) != 1 {
				t.Errorf("the journal's copy kept aside: %v, want one", moved)
			} else if kept, _ := os.ReadFile(moved[0]); !bytes.Equal(kept, files[".journal"]) {
				t.Errorf("the journal's copy kept aside is not the journal as it was")
			}
			// The next start reads the recovered state as it is.
			s, err := New(Config{Registry: f.store, VectorState: state, VectorWindow: time.Hour})
			if err != nil {
				t.Fatalf("the start after --state-recover: %v", err)
			}
			s.vectors.now = func() time.Time { return f.now }
			next := httptest.NewServer(s.Handler())
			defer next.Close()
			if _, got := getVectors(t, next); got != want {
				t.Errorf("the start after --state-recover:\n%.400s\nwant\n%.400s", got, want)
			}
		})
	}
	t.Run("deleted with its marker", func(t *testing.T) {
		// No marker tells which snapshot the journal followed, but one of
		// generation 0 followed the empty first snapshot.
		ts, log, _ := recoverFrom(t, f, files, func(state string) error {
			return errors.Join(os.Remove(state), os.Remove(state+".mark"))
		})
		if _, got := getVectors(t, ts); got != want {
			t.Errorf("after --state-recover GET /vectors differs from a server never stopped:\n%.400s\nwant\n%.400s\n%s", got, want, log)
		}
		for _, s := range []string{"marker was missing or unreadable", "the snapshot was missing", "replayed onto an empty state",
			"vectors_lost_at_least=\"unknown: there is no marker"} {
			if !strings.Contains(log.String(), s) {
				t.Errorf("the recovery's log does not say %q\n%s", s, log)
			}
		}
	})
}

// TestVecstateSnapshotLostLaterGeneration: a snapshot of a later
// generation than 0 is lost with what it held, but the journal of the
// marker's generation holds every batch acknowledged since it: those are
// kept, and what the snapshot held is counted lost against the marker,
// never more kept than acknowledged. A journal of another generation than
// the marker's (an older copy) is not replayed.
func TestVecstateSnapshotLostLaterGeneration(t *testing.T) {
	f := newJournalFixture(t, 1<<40) // no fold
	compactAt := func(n int64) {
		f.s.vectors.mu.Lock()
		f.s.vectors.compactAt = n
		f.s.vectors.mu.Unlock()
	}
	before := map[string]int64{} // what the snapshot of generation 1 holds
	f.post("a", f.rest[:10])
	f.post("b", f.rest[10:20])
	older := stateFiles(t, f.state)[".journal"] // the journal of generation 0, its batches folded next
	compactAt(1)
	f.post("a", f.rest[20:30])
	compactAt(1 << 40)
	before["a"], before["b"] = 20, 10
	after := map[string]int64{} // what the journal of generation 1 holds
	for i, p := range []string{"b", "a", "b", "b"} {
		f.post(p, f.rest[40+i*5:40+i*5+5])
		after[p] += 5
	}
	files := stateFiles(t, f.state)
	if !bytes.Contains(files[".mark"], []byte(`"journal_generation":1,`)) || !bytes.Contains(files[".journal"], []byte(`"generation":1,`)) {
		t.Fatalf("the fixture's marker and journal are not of generation 1: %s", files[".mark"])
	}
	for _, c := range snapshotDamages {
		t.Run(c.name, func(t *testing.T) {
			ts, log, _ := recoverFrom(t, f, files, c.damage)
			kept := keptRows(t, ts)
			var lostAll int64
			for _, p := range []string{"a", "b"} {
				if kept[p] != after[p] {
					t.Errorf("producer %s: %d vectors kept, want the %d acknowledged since the lost snapshot", p, kept[p], after[p])
				}
				lost := logCount(t, log, fmt.Sprintf(`the marker counted them.*producer \\"%s\\".* vectors_lost=(\d+)`, p))
				if lost != before[p] {
					t.Errorf("producer %s: %d vectors reported lost, want the %d the lost snapshot held\n%s", p, lost, before[p], log)
				}
				lostAll += lost
			}
			if n := logCount(t, log, `vectors_lost_at_least=(\d+)`); n != lostAll {
				t.Errorf("vectors_lost_at_least=%d, want the producers' %d\n%s", n, lostAll, log)
			}
			const want = "(generation 1, every batch acknowledged since the snapshot) were replayed onto an empty state"
			if !strings.Contains(log.String(), want) || !strings.Contains(log.String(), "the snapshot was "+c.word) {
				t.Errorf("the recovery's log does not say the snapshot was %s and %q\n%s", c.word, want, log)
			}
		})
	}
	t.Run("an older journal", func(t *testing.T) {
		// The journal of generation 0 put back: its batches are in the
		// lost snapshot, and those the marker counts since are not in it.
		old := map[string][]byte{"": files[""], ".journal": older, ".mark": files[".mark"]}
		ts, log, _ := recoverFrom(t, f, old, func(state string) error { return os.Remove(state) })
		if kept := keptRows(t, ts); len(kept) != 0 {
			t.Errorf("kept %v from a journal of another generation than the marker's; want nothing", kept)
		}
		if !strings.Contains(log.String(), "is of generation 0, but its marker") ||
			!strings.Contains(log.String(), "every open window they held is lost") {
			t.Errorf("the recovery's log does not say why the journal was not replayed\n%s", log)
		}
	})
}
