package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestVecstateRecoverCountsAgainstMarker (attack run 30 F11): after
// acknowledged observations and a kill -9, a deleted or emptied journal
// was recovered as "vectors_kept=0 acknowledged_journal_bytes_lost=0
// batches_lost=0" though the marker beside it counted the acknowledged
// bytes and the vectors per producer; a journal cut before the marker's
// acknowledged length named only the cut batch's vectors, and a damaged
// header none. --state-recover now counts against the marker: per
// producer, the vectors kept and those reported lost add up to at least
// what the marker counted, and the bytes lost are at least the marker's
// acknowledged length less what survived of the journal.
func TestVecstateRecoverCountsAgainstMarker(t *testing.T) {
	vf := newVectorFixture(t, "m.db.vectors.json")
	_, ts := vf.serve(t)
	producers := []string{"p0", "p1", "p2"}
	for i := range 10 {
		postVectors(t, ts, producers[i%3], vf.rest[i*5:i*5+5])
	}
	// A restart writes the marker with what the journal holds; the
	// observations after it are not all in it (it is written every 64
	// KiB of journal), as after a kill -9.
	_, ts = vf.serve(t)
	for i := 10; i < 16; i++ {
		postVectors(t, ts, producers[i%3], vf.rest[i*5:i*5+5])
	}
	files := map[string][]byte{}
	for _, ext := range []string{"", ".journal", ".mark"} {
		data, err := os.ReadFile(vf.state + ext)
		if err != nil {
			t.Fatal(err)
		}
		files[ext] = data
	}
	var mk struct {
		Acked   int64            `json:"acked_bytes"`
		Vectors map[string]int64 `json:"vectors"`
	}
	if err := json.Unmarshal(files[".mark"], &mk); err != nil {
		t.Fatal(err)
	}
	head := int64(bytes.IndexByte(files[".journal"], '\n') + 1)
	counted := map[string]int64{} // the marker's vectors per producer
	for k, n := range mk.Vectors {
		for _, p := range producers {
			if strings.HasSuffix(k, fmt.Sprintf("producer %q", p)) {
				counted[p] += n
			}
		}
	}
	if len(counted) != 3 || mk.Acked <= head+100 || mk.Acked >= int64(len(files[".journal"])) {
		t.Fatalf("the fixture's marker counts %v and %d acknowledged bytes of a %d-byte journal; want all three producers, "+
			"and fewer bytes than the journal holds", mk.Vectors, mk.Acked, len(files[".journal"]))
	}
	mid := head + (mk.Acked-head)/2 // inside the batches the marker counted
	for _, c := range []struct {
		name    string
		damage  func(state string) error
		survive int64 // the journal bytes left: what was lost of the marker's is at least mk.Acked - survive
	}{
		{"journal deleted", func(state string) error { return os.Remove(state + ".journal") }, head},
		{"journal emptied", func(state string) error { return os.Truncate(state+".journal", 0) }, head},
		{"journal cut in the middle", func(state string) error { return os.Truncate(state+".journal", mid) }, mid},
		{"journal header damaged", func(state string) error {
			j := bytes.Clone(files[".journal"])
			j[0] = 'x'
			return os.WriteFile(state+".journal", j, 0o600)
		}, int64(len(files[".journal"]))}, // its generation, run and length verify: every batch is kept (attack run 36 F9)
		// The journal, of the marker's generation, is replayed onto an
		// empty state in place of the snapshot (attack run 32 F4): none
		// of its bytes is lost.
		{"snapshot deleted", func(state string) error { return os.Remove(state) }, int64(len(files[".journal"]))},
	} {
		t.Run(c.name, func(t *testing.T) {
			state := filepath.Join(t.TempDir(), "m.db.vectors.json")
			for ext, data := range files {
				if err := os.WriteFile(state+ext, data, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			if err := c.damage(state); err != nil {
				t.Fatal(err)
			}
			if _, err := New(Config{Registry: vf.store, VectorState: state, VectorWindow: time.Hour}); !errors.Is(err, ErrVectorStateDamaged) {
				t.Fatalf("without --state-recover: got %v, want it refused as damaged", err)
			}
			var log bytes.Buffer
			s, err := New(Config{Registry: vf.store, VectorState: state, VectorStateRecover: true, VectorWindow: time.Hour,
				Logger: slog.New(slog.NewTextHandler(&log, nil))})
			if err != nil {
				t.Fatalf("--state-recover: %v", err)
			}
			s.vectors.now = func() time.Time { return vf.now }
			srv := httptest.NewServer(s.Handler())
			defer srv.Close()
			got, _ := getVectors(t, srv)
			kept := map[string]int64{}
			for _, col := range got.Columns {
				for _, p := range col.Producers {
					kept[p.Producer] += p.Rows
				}
			}
			var lostAll int64
			for _, p := range producers {
				lost := logCount(t, &log, fmt.Sprintf(`the marker counted them.*producer \\"%s\\".* vectors_lost=(\d+)`, p))
				lostAll += lost
				if kept[p]+lost < counted[p] {
					t.Errorf("producer %s: %d vectors kept + %d reported lost < the %d the marker counted\n%s", p, kept[p], lost, counted[p], log.String())
				}
			}
			if c.name == "journal cut in the middle" && lostAll == 0 {
				t.Errorf("a journal cut inside the marker's batches: nothing reported lost\n%s", log.String())
			}
			if n := logCount(t, &log, `vectors_lost_at_least=(\d+)`); n != lostAll {
				t.Errorf("vectors_lost_at_least=%d; want the producers' %d", n, lostAll)
			}
			if n := logCount(t, &log, `acknowledged_journal_bytes_lost=(\d+)`); n < mk.Acked-c.survive {
				t.Errorf("acknowledged_journal_bytes_lost=%d; want at least the marker's %d less the %d bytes left\n%s", n, mk.Acked, c.survive, log.String())
			}
			if !strings.Contains(log.String(), "at least: against the marker m.db.vectors.json.mark") ||
				!strings.Contains(log.String(), "cannot be counted") {
				t.Errorf("the recovery's log does not say the losses are counted against the marker as a floor:\n%s", log.String())
			}
			if _, err := New(Config{Registry: vf.store, VectorState: state, VectorWindow: time.Hour}); err != nil {
				t.Errorf("the start after --state-recover: %v", err)
			}
		})
	}
}

// logCount reads the number pattern's group captures in log's first
// matching line; 0 when no line matches.
func logCount(t *testing.T, log *bytes.Buffer, pattern string) int64 {
	t.Helper()
	m := regexp.MustCompile(pattern).FindStringSubmatch(log.String())
	if m == nil {
		return 0
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestVecstateRecoverMarkerWindowsClosed: the state a recovery counts
// against the marker is the one at the marker's acknowledged length, not
// the one after the batches past it: windows closed by those batches took
// the vectors the marker counted out of the state, and were reported
// lost though every one of them was kept until its window closed.
func TestVecstateRecoverMarkerWindowsClosed(t *testing.T) {
	vf := newVectorFixture(t, "m.db.vectors.json")
	_, ts := vf.serve(t)
	postVectors(t, ts, "p0", vf.rest[:10])
	postVectors(t, ts, "p1", vf.rest[10:20])
	_, ts = vf.serve(t) // the marker counts these 20 vectors
	vf.now = vf.now.Add(2 * time.Hour)
	postVectors(t, ts, "p0", vf.rest[20:25])
	postVectors(t, ts, "p0", vf.rest[25:30])
	jp := vf.state + ".journal"
	j, err := os.ReadFile(jp)
	if err != nil {
		t.Fatal(err)
	}
	j[len(j)-20] ^= 0x40 // inside the last batch's vectors, past the marker
	if err := os.WriteFile(jp, j, 0o600); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	s, err := New(Config{Registry: vf.store, VectorState: vf.state, VectorStateRecover: true, VectorWindow: time.Hour,
		Logger: slog.New(slog.NewTextHandler(&log, nil))})
	if err != nil {
		t.Fatalf("--state-recover: %v", err)
	}
	s.vectors.mu.Lock()
	counts := s.vectors.vectorCounts()
	s.vectors.mu.Unlock()
	if n := counts[`store@v1 column "emb" producer "p0"`]; n != 5 {
		t.Fatalf("p0 holds %d vectors after the recovery; want the 5 of the batch before the damaged one (the fixture)", n)
	}
	if strings.Contains(log.String(), "the marker counted them") {
		t.Errorf("vectors the marker counted, all applied before their windows closed, reported lost:\n%s", log.String())
	}
	if n := logCount(t, &log, `vectors_lost_at_least=(\d+)`); n != 0 {
		t.Errorf("vectors_lost_at_least=%d; want 0", n)
	}
	if n := logCount(t, &log, `named by a batch.*producer \\"p0\\".* vectors_lost=(\d+)`); n != 5 {
		t.Errorf("the damaged batch names %d lost vectors; want its 5\n%s", n, log.String())
	}
}
