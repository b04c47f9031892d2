package server

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"hash/crc32"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/normguard/normguard/registry"
)

// journalFixture posts the same batches to a server on a state file and to
// one in memory, and returns both with the state file's path.
type journalFixture struct {
	*vectorFixture
	t           *testing.T
	srv, memory *httptest.Server
	s           *Server
}

func newJournalFixture(t *testing.T, compactAt int64) *journalFixture {
	f := &journalFixture{vectorFixture: newVectorFixture(t, "monitor.db.vectors.json"), t: t}
	f.s, f.srv = f.serve(t)
	f.s.vectors.compactAt = compactAt
	_, f.memory = vectorServer(t, f.store, "", &f.now)
	return f
}

// post sends vs as producer to both servers.
func (f *journalFixture) post(producer string, vs [][]float64) {
	f.t.Helper()
	for _, ts := range []*httptest.Server{f.srv, f.memory} {
		if status, resp := send(f.t, "POST", ts.URL+"/v1/models/store/observations?producer="+producer, "", vectorBody(vs)); status != http.StatusOK {
			f.t.Fatalf("%s: %d %s", producer, status, resp)
		}
	}
}

// restart starts a server on the state file again.
func (f *journalFixture) restart(recover bool) (*httptest.Server, error) {
	s, err := New(Config{Registry: f.s.cfg.Registry, VectorState: f.state, VectorStateRecover: recover, VectorWindow: time.Hour})
	if err != nil {
		return nil, err
	}
	s.vectors.now = func() time.Time { return f.now }
	ts := httptest.NewServer(s.Handler())
	f.t.Cleanup(ts.Close)
	return ts, nil
}

// TestVectorJournalReplay: batches saved in the journal, some folded into
// snapshots on the way, come back bit for bit at a restart, across a
// window change; saving a batch writes that batch, not the whole state.
func TestVectorJournalReplay(t *testing.T) {
	for _, compactAt := range []int64{0, 150_000, 1} {
		f := newJournalFixture(t, compactAt)
		var reader [][]float64
		for range 13 {
			reader = append(reader, f.rest...)
		}
		f.post("reader", reader[:300])
		f.now = f.now.Add(time.Hour) // the reader's first window closes
		before, _ := os.Stat(f.state)
		f.post("reader", reader[300:700])
		f.post("writer", f.unit[:40])
		for i := 700; i < 1300; i += 100 {
			f.post("reader", reader[i:i+100])
		}
		after, _ := os.Stat(f.state)
		if compactAt == 0 && (before == nil || after == nil || !after.ModTime().Equal(before.ModTime())) {
			t.Errorf("compactAt 0: the snapshot was rewritten by small batches (%v, %v)", before, after)
		}
		_, want := getVectors(t, f.memory)
		ts, err := f.restart(false)
		if err != nil {
			t.Fatalf("compactAt %d: restart: %v", compactAt, err)
		}
		if _, got := getVectors(t, ts); got != want {
			t.Fatalf("compactAt %d: after a restart:\n%.400s\nwant\n%.400s", compactAt, got, want)
		}
		if !strings.Contains(want, `"previous"`) || !strings.Contains(want, `"rows":1000`) {
			t.Fatalf("compactAt %d: the fixture did not reach a previous window and 1,000 rows: %.400s", compactAt, want)
		}
	}
}

// TestVectorJournalTornTail: a frame cut short (a write never
// acknowledged) is cut off at the restart; what was acknowledged stays.
func TestVectorJournalTornTail(t *testing.T) {
	f := newJournalFixture(t, 0)
	f.post("reader", f.rest[:50])
	f.post("reader", f.rest[50:90])
	_, want := getVectors(t, f.memory)
	j, err := os.OpenFile(f.state+".journal", os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	var head [8]byte
	binary.LittleEndian.PutUint32(head[:], 5000)
	j.Write(append(head[:], `{"model":"sto`...))
	j.Close()
	ts, err := f.restart(false)
	if err != nil {
		t.Fatalf("a torn last frame: %v, want it cut off", err)
	}
	if _, got := getVectors(t, ts); got != want {
		t.Fatalf("after cutting a torn frame:\n%.300s\nwant\n%.300s", got, want)
	}
}

// TestVectorJournalDamaged: a flipped byte in a batch is refused naming
// the batch; --state-recover keeps the snapshot and the batches before it
// and moves the journal aside. A missing journal is refused too.
func TestVectorJournalDamaged(t *testing.T) {
	f := newJournalFixture(t, 0)
	f.post("reader", f.rest[:50])
	_, kept := getVectors(t, f.memory)
	f.post("reader", f.rest[50:90])
	jp := f.state + ".journal"
	data, err := os.ReadFile(jp)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)-20] ^= 0x40 // inside the second batch's vectors
	if err := os.WriteFile(jp, data, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = f.restart(false)
	if !errors.Is(err, ErrVectorStateDamaged) || !strings.Contains(err.Error(), "batch 2") || !strings.Contains(err.Error(), "checksum") {
		t.Fatalf("a flipped byte: got %v, want batch 2's checksum named", err)
	}
	ts, err := f.restart(true)
	if err != nil {
		t.Fatalf("--state-recover: %v", err)
	}
	if _, got := getVectors(t, ts); got != kept {
		t.Errorf("after --state-recover:\n%.300s\nwant the first batch only:\n%.300s", got, kept)
	}
	if moved, _ := filepath.Glob(jp + ".damaged-*"); len(moved) != 1 {
		t.Errorf("moved aside: %v", moved)
	}
	if _, err := f.restart(false); err != nil {
		t.Errorf("the start after --state-recover: %v", err)
	}

	os.Remove(jp)
	if _, err := f.restart(false); !errors.Is(err, ErrVectorStateDamaged) || !strings.Contains(err.Error(), "journal") || !strings.Contains(err.Error(), "missing") {
		t.Errorf("a missing journal: got %v", err)
	}
}

// TestVectorJournalStale: a journal older than the snapshot (the process
// stopped between writing a snapshot and starting its journal) holds
// batches the snapshot has: it is not applied twice.
func TestVectorJournalStale(t *testing.T) {
	f := newJournalFixture(t, 0)
	f.post("reader", f.rest[:60])
	old, err := os.ReadFile(f.state + ".journal")
	if err != nil {
		t.Fatal(err)
	}
	mark, err := os.ReadFile(f.state + ".mark")
	if err != nil {
		t.Fatal(err)
	}
	f.s.vectors.mu.Lock()
	f.s.vectors.compactAt = 1
	f.s.vectors.compact()
	f.s.vectors.mu.Unlock()
	// As if the new journal never replaced it: the marker, written after
	// the new journal, is the one before too.
	if err := os.WriteFile(f.state+".journal", old, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f.state+".mark", mark, 0o600); err != nil {
		t.Fatal(err)
	}
	_, want := getVectors(t, f.memory)
	ts, err := f.restart(false)
	if err != nil {
		t.Fatal(err)
	}
	if _, got := getVectors(t, ts); got != want {
		t.Fatalf("a stale journal:\n%.300s\nwant\n%.300s", got, want)
	}
}

// journalSeed is a vector state of three batches whose journal's frames
// a test replaces.
type journalSeed struct {
	store            registry.Store
	now              time.Time
	header, snapshot []byte // the journal's first line, the snapshot
	firstFrame       []byte // the seed's first frame's payload
}

func newJournalSeed(t testing.TB) *journalSeed {
	dir := t.TempDir()
	store, rest, _ := vectorRegistry(t, dir)
	now := time.Date(2026, 12, 4, 10, 20, 0, 0, time.UTC)
	seed := filepath.Join(dir, "seed.json")
	_, ts := vectorServer(t, store, seed, &now)
	resp, err := http.Post(ts.URL+"/v1/models/store/observations?producer=reader", "application/json", bytes.NewReader(vectorBody(rest[:3])))
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("seeding: %v %v", resp, err)
	}
	resp.Body.Close()
	data, err := os.ReadFile(seed + ".journal")
	if err != nil {
		t.Fatal(err)
	}
	snapshot, err := os.ReadFile(seed)
	if err != nil {
		t.Fatal(err)
	}
	nl := strings.IndexByte(string(data), '\n') + 1
	return &journalSeed{store: store, now: now, header: data[:nl], snapshot: snapshot, firstFrame: data[nl+8:]}
}

// start writes the seed's snapshot and a journal of one frame holding
// payload (with a valid checksum, as a bug or a hand edit could leave it)
// to a new state file and starts a server on it.
func (js *journalSeed) start(t *testing.T, payload []byte) (*Server, error) {
	t.Helper()
	state := filepath.Join(t.TempDir(), "v.json")
	frame := make([]byte, 8, 8+len(payload))
	binary.LittleEndian.PutUint32(frame, uint32(len(payload)))
	binary.LittleEndian.PutUint32(frame[4:], crc32.Checksum(payload, castagnoli))
	frame = append(frame, payload...)
	if err := os.WriteFile(state, js.snapshot, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(state+".journal", append(append([]byte{}, js.header...), frame...), 0o600); err != nil {
		t.Fatal(err)
	}
	return New(Config{Registry: js.store, VectorState: state, VectorWindow: time.Hour})
}

// FuzzVectorJournal: whatever a journal frame holds, reading the state
// back refuses it as damage or applies it; it never panics.
func FuzzVectorJournal(f *testing.F) {
	js := newJournalSeed(f)
	f.Add(js.firstFrame)
	f.Add([]byte(`{"model":"store","version":"v1","producer":"x","start":"2026-12-04T10:00:00Z","end":"2026-12-04T11:00:00Z","columns":[{"column":"emb","rows":1,"dimension":1,"data":"AAAAAAAA8D8="}]}`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		s, err := js.start(t, payload)
		if err != nil {
			// A frame naming a version the registry lacks, with a sound
			// digest, reads as a version removed from the registry: refused
			// with that repair, by design not damage (attack run 18 F10).
			var missing *vectorVersionMissing
			if !errors.Is(err, ErrVectorStateDamaged) && !errors.As(err, &missing) {
				t.Fatalf("not a damage: %v", err)
			}
			return
		}
		s.vectors.now = func() time.Time { return js.now }
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/v1/models/store/vectors", nil))
		if rec.Code != http.StatusOK {
			t.Fatalf("GET vectors after a journal that was read back: %d %s", rec.Code, rec.Body)
		}
	})
}

// TestVectorJournalDigestNotADigest (CI fuzz smoke, FuzzVectorJournal): a
// frame naming a model version the registry lacks is a version removed
// from the registry (vectorVersionMissing, the state left untouched) only
// when its artifact digest is one an artifact can have; with an empty or
// malformed digest no artifact ever had, the frame is damage, which
// --state-recover can drop.
func TestVectorJournalDigestNotADigest(t *testing.T) {
	js := newJournalSeed(t)
	var frame map[string]any
	if err := json.Unmarshal(js.firstFrame, &frame); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		digest  string
		damaged bool
	}{
		{"", true},
		{"sha256:xyz", true},
		{"sha256:" + strings.Repeat("A", 64), true},
		{"md5:" + strings.Repeat("a", 64), true},
		{"sha256:" + strings.Repeat("a", 64), false},
	} {
		frame["model"], frame["version"], frame["artifact_digest"] = "gone", "v1", tc.digest
		payload, err := json.Marshal(frame)
		if err != nil {
			t.Fatal(err)
		}
		_, err = js.start(t, payload)
		var missing *vectorVersionMissing
		switch {
		case tc.damaged && (!errors.Is(err, ErrVectorStateDamaged) || !strings.Contains(err.Error(), "not sha256:<64 hex digits>")):
			t.Errorf("digest %q: got %v, want the state damaged, naming the digest", tc.digest, err)
		case !tc.damaged && !errors.As(err, &missing):
			t.Errorf("digest %q: got %v, want the version missing from the registry", tc.digest, err)
		}
	}
}

// TestVectorDimensionBound: a producer's vectors must have the contract's
// dimension: longer or shorter ones, within maxVectorDim or past it, are
// refused with a 400 naming dimension_mismatch and both dimensions, so
// that a producer cannot make the server keep a reservoir of enormous
// vectors, nor fix its dimension for the window at a wrong one.
func TestVectorDimensionBound(t *testing.T) {
	f := newJournalFixture(t, 0)
	long := func(d int) [][]float64 {
		v := make([]float64, d)
		for i := range v {
			v[i] = float64(i%7) / 7
		}
		return [][]float64{v, v}
	}
	most := maxVectorDim(100) // the GloVe contract's dimension
	if most != 1124 {
		t.Fatalf("maxVectorDim(100) = %d, want 2 x 100 or 100 + 1,024, the larger", most)
	}
	for _, c := range []struct {
		d    int
		name string
	}{{99, "99"}, {most, "1124"}, {most + 1, "1125"}} {
		d := c.d
		status, resp := send(t, "POST", f.srv.URL+"/v1/models/store/observations?producer=wide", "", vectorBody(long(d)))
		if status != http.StatusBadRequest || !strings.Contains(string(resp), "dimension_mismatch") || !strings.Contains(string(resp), "a vector of "+c.name+" values") {
			t.Errorf("vectors of %d values: %d %s, want 400 naming the dimensions", d, status, resp)
		}
	}
	if got, body := getVectors(t, f.srv); len(got.Columns[0].Producers) != 0 {
		t.Errorf("after vectors of other dimensions: %.400s, want no producer", body)
	}
}
