package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// sameJournal tells whether the journal got is want as written again by a
// later start: the same generation, acknowledged length and frames, and
// any run (each start writes its number into the header).
func sameJournal(t *testing.T, got, want []byte) bool {
	t.Helper()
	head := func(b []byte) (vectorJournalHeader, []byte, bool) {
		var h vectorJournalHeader
		nl := bytes.IndexByte(b, '\n')
		if nl < 0 || json.Unmarshal(b[:nl], &h) != nil {
			return h, nil, false
		}
		return h, b[nl+1:], true
	}
	hg, fg, ok1 := head(got)
	hw, fw, ok2 := head(want)
	if !ok1 || !ok2 || hg.Format != vectorJournalFormat || hg.Generation != hw.Generation || !bytes.Equal(fg, fw) {
		return false
	}
	run, err := parseRun(hg.Run)
	if err != nil {
		return false
	}
	n, err := parseAcked(hg.Generation, run, true, hg.Acked)
	return err == nil && n == int64(len(got))
}

// TestVectorStateOlderCopyRefused: an older copy of the vector journal, of
// the snapshot, or of both, put back in place of the current files (a
// restored backup, a rolled-back volume) is refused at start naming the
// file and what to do, and left untouched; it was accepted, and the
// observations acknowledged after the copy were silently gone (attack run
// 16, F6). --state-recover starts from the copy and logs what its marker
// counted that the copy lacks. A restart of the current files, and a
// copy taken and put back within one run before more was acknowledged,
// are accepted.
func TestVectorStateOlderCopyRefused(t *testing.T) {
	read := func(p string) []byte {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	write := func(p string, b []byte) {
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		name      string
		compactAt int64
		files     []string // the files put back
		want      string
	}{
		{"journal, from a run before", 0, []string{".journal"}, "from before the last start"},
		{"journal and snapshot, from a run before", 0, []string{"", ".journal"}, "from before the last start"},
		{"journal, of an older generation", 1, []string{".journal"}, "older copy of the journal"},
		{"snapshot, of an older generation", 1, []string{""}, "older copy of the snapshot"},
		{"journal and snapshot, of an older generation", 1, []string{"", ".journal"}, "older copy of the snapshot"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newJournalFixture(t, c.compactAt)
			f.post("reader", f.rest[:40])
			// The server stopped; a backup of the files is taken.
			if _, err := f.restart(false); err != nil {
				t.Fatal(err)
			}
			backup := map[string][]byte{}
			for _, suffix := range c.files {
				backup[suffix] = read(f.state + suffix)
			}
			_, kept := getVectors(t, f.memory)
			// The next run acknowledges more (folding its journal into
			// snapshots with compactAt 1).
			s, err := New(Config{Registry: f.s.cfg.Registry, VectorState: f.state, VectorWindow: time.Hour})
			if err != nil {
				t.Fatal(err)
			}
			s.vectors.now = func() time.Time { return f.now }
			s.vectors.compactAt = c.compactAt
			ts := httptest.NewServer(s.Handler())
			defer ts.Close()
			for i := range 4 {
				if status, resp := send(t, "POST", ts.URL+"/v1/models/store/observations?producer=reader", "", vectorBody(f.rest[i*10:i*10+40])); status != 200 {
					t.Fatalf("%d %s", status, resp)
				}
			}
			for suffix, b := range backup {
				write(f.state+suffix, b)
			}
			before := map[string][]byte{}
			for _, suffix := range []string{"", ".journal", ".mark"} {
				before[suffix] = read(f.state + suffix)
			}
			_, err = f.restart(false)
			if !errors.Is(err, ErrVectorStateDamaged) || !strings.Contains(err.Error(), f.state) || !strings.Contains(err.Error(), c.want) ||
				!strings.Contains(err.Error(), "--state-recover") || !strings.Contains(err.Error(), "older copy") {
				t.Fatalf("got %v, want it refused as an older copy (%q) naming the file and --state-recover", err, c.want)
			}
			for suffix, b := range before {
				if !bytes.Equal(read(f.state+suffix), b) {
					t.Errorf("the refused start changed %s", filepath.Base(f.state+suffix))
				}
			}
			// --state-recover starts from the copy.
			ts, err = f.restart(true)
			if err != nil {
				t.Fatalf("--state-recover: %v", err)
			}
			got, body := getVectors(t, ts)
			if c.compactAt == 0 && body != kept {
				t.Errorf("after --state-recover:\n%.300s\nwant the copy's 40 vectors:\n%.300s", body, kept)
			}
			// (An older journal behind a snapshot that holds every batch
			// lacks nothing: refused as an older copy all the same.)
			if _, snap := backup[""]; (snap || c.compactAt == 0) && len(got.Columns[0].Producers) > 0 && got.Columns[0].Producers[0].Rows >= 200 {
				t.Errorf("after --state-recover: %d vectors, want fewer than 200", got.Columns[0].Producers[0].Rows)
			}
			if _, err := f.restart(false); err != nil {
				t.Errorf("the start after --state-recover: %v", err)
			}
		})
	}

	// The current files, restarted, and a copy taken within a run and put
	// back before anything more was acknowledged, are accepted.
	f := newJournalFixture(t, 0)
	f.post("reader", f.rest[:40])
	for range 3 {
		if _, err := f.restart(false); err != nil {
			t.Fatalf("a restart of the current files: %v", err)
		}
	}
	j, m := read(f.state+".journal"), read(f.state+".mark")
	write(f.state+".journal", j)
	write(f.state+".mark", m)
	if _, err := f.restart(false); err != nil {
		t.Errorf("the same files put back: %v", err)
	}
}
