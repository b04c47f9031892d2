package server

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/normguard/normguard/embed"
)

// TestVecstateTruncatedJournalRefused: a journal cut anywhere before its
// acknowledged length (inside a batch, or exactly between two) is refused
// naming the file, the truncation and --state-recover, and left as it
// is; --state-recover keeps every batch that verifies, keeps the damaged
// journal aside and names what it lost.
func TestVecstateTruncatedJournalRefused(t *testing.T) {
	f := newJournalFixture(t, 0)
	f.post("reader", f.rest[:50])
	f.post("writer", f.unit[:40])
	_, kept := getVectors(t, f.memory) // what the first two batches make
	jp := f.state + ".journal"
	two, err := os.ReadFile(jp)
	if err != nil {
		t.Fatal(err)
	}
	f.post("reader", f.rest[50:90])
	full, err := os.ReadFile(jp)
	if err != nil {
		t.Fatal(err)
	}
	nl := bytes.IndexByte(full, '\n') + 1
	for _, cut := range []int{nl - 5, nl + 4, 100, len(two), len(two) + 20, len(full) - 10, len(full) - 1} {
		if err := os.WriteFile(jp, full[:cut], 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := f.restart(false)
		if !errors.Is(err, ErrVectorStateDamaged) || !strings.Contains(err.Error(), f.state) || !strings.Contains(err.Error(), "--state-recover") {
			t.Fatalf("journal cut to %d of %d bytes: got %v, want it refused naming the file and --state-recover", cut, len(full), err)
		}
		if cut > nl && !strings.Contains(err.Error(), "acknowledged") {
			t.Errorf("journal cut to %d: %v, want the acknowledged length named", cut, err)
		}
		if got, _ := os.ReadFile(jp); !bytes.Equal(got, full[:cut]) {
			t.Errorf("journal cut to %d: the damaged journal was changed", cut)
		}
	}
	// Cut inside the third batch: the first two come back, the third is
	// named as lost.
	if err := os.WriteFile(jp, full[:len(full)-10], 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = f.restart(false)
	if err == nil || !strings.Contains(err.Error(), `producer "reader"`) || !strings.Contains(err.Error(), "40 vectors") {
		t.Errorf("a cut third batch: %v, want its producer and 40 vectors named", err)
	}
	ts, err := f.restart(true)
	if err != nil {
		t.Fatalf("--state-recover: %v", err)
	}
	if _, got := getVectors(t, ts); got != kept {
		t.Errorf("after --state-recover:\n%.300s\nwant the first two batches:\n%.300s", got, kept)
	}
	moved, _ := filepath.Glob(jp + ".damaged-*")
	if len(moved) != 1 {
		t.Fatalf("kept aside: %v", moved)
	}
	if got, _ := os.ReadFile(moved[0]); !bytes.Equal(got, full[:len(full)-10]) {
		t.Errorf("the journal kept aside is not the damaged one")
	}
	if _, err := f.restart(false); err != nil {
		t.Errorf("the start after --state-recover: %v", err)
	}
}

// TestVecstateUnacknowledgedTail: what a process stopped in the middle of
// saving a request leaves past the acknowledged length is cut off (a frame
// cut short, or one whose bytes did not all reach the disk), and a whole
// frame past it (stopped between the frame and its acknowledgement) is
// applied; neither is a refusal.
func TestVecstateUnacknowledgedTail(t *testing.T) {
	f := newJournalFixture(t, 0)
	f.post("reader", f.rest[:50])
	jp := f.state + ".journal"
	one, err := os.ReadFile(jp)
	if err != nil {
		t.Fatal(err)
	}
	// The marker as a process stopped in this run leaves it (each start
	// writes it again, so a crash is simulated with it put back).
	mark, err := os.ReadFile(f.state + ".mark")
	if err != nil {
		t.Fatal(err)
	}
	_, want1 := getVectors(t, f.memory)
	f.post("reader", f.rest[50:90])
	_, want2 := getVectors(t, f.memory)
	two, err := os.ReadFile(jp)
	if err != nil {
		t.Fatal(err)
	}
	frame := two[len(one):]
	// The second frame written, its acknowledgement not: the journal of
	// one batch with the second frame appended.
	if err := os.WriteFile(jp, append(append([]byte{}, one...), frame...), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f.state+".mark", mark, 0o600); err != nil {
		t.Fatal(err)
	}
	ts, err := f.restart(false)
	if err != nil {
		t.Fatalf("a whole frame past the acknowledged length: %v", err)
	}
	if _, got := getVectors(t, ts); got != want2 {
		t.Errorf("a whole frame past the acknowledged length is not applied:\n%.300s\nwant\n%.300s", got, want2)
	}
	if got, _ := os.ReadFile(jp); !sameJournal(t, got, two) {
		t.Errorf("the journal after applying it does not acknowledge it")
	}
	for name, tail := range map[string][]byte{
		"cut short":   frame[:len(frame)/2],
		"zero-filled": append(append([]byte{}, frame[:8]...), make([]byte, len(frame)-8)...),
		"length only": frame[:3],
	} {
		if err := os.WriteFile(jp, append(append([]byte{}, one...), tail...), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f.state+".mark", mark, 0o600); err != nil {
			t.Fatal(err)
		}
		ts, err := f.restart(false)
		if err != nil {
			t.Fatalf("%s: %v, want it cut off", name, err)
		}
		if _, got := getVectors(t, ts); got != want1 {
			t.Errorf("%s:\n%.300s\nwant\n%.300s", name, got, want1)
		}
		if got, _ := os.ReadFile(jp); !sameJournal(t, got, one) {
			t.Errorf("%s: not cut off", name)
		}
	}
	// The acknowledged length itself damaged: refused.
	if err := os.WriteFile(jp, bytes.Replace(one, []byte(`"acked":"0`), []byte(`"acked":"1`), 1), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := f.restart(false); !errors.Is(err, ErrVectorStateDamaged) || !strings.Contains(err.Error(), "acknowledged length") {
		t.Errorf("a damaged acknowledged length: %v", err)
	}
}

// TestVecstateSnapshotChecksum: a flipped digit that still parses (a row
// count) is refused by the snapshot's checksum.
func TestVecstateSnapshotChecksum(t *testing.T) {
	f := newJournalFixture(t, 1)
	f.post("reader", f.rest[:30])
	good, err := os.ReadFile(f.state)
	if err != nil {
		t.Fatal(err)
	}
	bad := bytes.Replace(good, []byte(`"rows":30`), []byte(`"rows":31`), 1)
	if bytes.Equal(bad, good) {
		t.Fatalf("no row count in %.200s", good)
	}
	if err := os.WriteFile(f.state, bad, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := f.restart(false); !errors.Is(err, ErrVectorStateDamaged) || !strings.Contains(err.Error(), "checksum") {
		t.Errorf("a flipped digit in the snapshot: %v", err)
	}
}

// TestVecstateNonFiniteRoundTrip: NaN and infinite floats anywhere in the
// state (a report's norms, an evidence map) come back bit for bit, and
// the value stripped is never written.
func TestVecstateNonFiniteRoundTrip(t *testing.T) {
	nan := math.Float64frombits(0x7ff8000000000123)
	prev := &vectorClosed{Start: time.Unix(0, 0).UTC(), End: time.Unix(3600, 0).UTC(), Rows: 3,
		Norms:    embed.NormStats{Count: 2, Max: math.Inf(1), Mean: math.Inf(1), Quantiles: []float64{1, nan, math.Inf(1)}},
		Verdicts: []embed.Finding{{Code: "x", Evidence: map[string]any{"mean": math.Inf(-1), "ok": 2.5, "list": []float64{math.Inf(1), 1}}}}}
	in := []vectorProducerState{{Model: "m", Version: "1", Column: "emb", Producer: "p", Previous: prev}}
	stripped, list := stripNonFinite(in)
	if len(list) != 6 {
		t.Fatalf("non-finite values found: %v, want 6", list)
	}
	if !math.IsInf(prev.Norms.Max, 1) || !math.IsInf(prev.Verdicts[0].Evidence["mean"].(float64), -1) || !math.IsInf(prev.Verdicts[0].Evidence["list"].([]float64)[0], 1) {
		t.Fatal("stripping changed the value it copied")
	}
	data, err := json.Marshal(stripped)
	if err != nil {
		t.Fatalf("the stripped copy does not encode: %v", err)
	}
	var out []vectorProducerState
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	if err := restoreNonFinite(&out, list); err != nil {
		t.Fatal(err)
	}
	p := out[0].Previous
	if !math.IsInf(p.Norms.Max, 1) || !math.IsInf(p.Norms.Mean, 1) || math.Float64bits(p.Norms.Quantiles[1]) != 0x7ff8000000000123 ||
		!math.IsInf(p.Norms.Quantiles[2], 1) || !math.IsInf(p.Verdicts[0].Evidence["mean"].(float64), -1) ||
		!math.IsInf(p.Verdicts[0].Evidence["list"].([]any)[0].(float64), 1) || p.Verdicts[0].Evidence["ok"] != 2.5 {
		t.Errorf("after the round trip: %+v %+v", p.Norms, p.Verdicts)
	}
	// A list that does not match the file is refused, not applied.
	if err := restoreNonFinite(&out, []nonFiniteAt{{Path: []string{"0", "Previous", "Rows"}, Bits: "7ff0000000000000"}}); err == nil {
		t.Error("a non-finite value on an integer field was applied")
	}
	if err := restoreNonFinite(&out, []nonFiniteAt{{Path: []string{"0", "Previous", "Norms", "Min"}, Bits: "3ff0000000000000"}}); err == nil {
		t.Error("a finite value in the non-finite list was applied")
	}
}

// hugeFixture is a journalFixture whose server in memory is at hand, so
// that states holding infinite sums (which GET /vectors cannot encode) are
// compared as the snapshot holds them.
type hugeFixture struct {
	*journalFixture
	mem  *Server
	huge [][]float64
}

func newHugeFixture(t *testing.T, compactAt int64) *hugeFixture {
	f := &hugeFixture{journalFixture: newJournalFixture(t, compactAt)}
	f.mem, _ = vectorServer(t, f.s.cfg.Registry, "", &f.now)
	for i := range 30 {
		v := append([]float64(nil), f.rest[i]...)
		for k := range v {
			v[k] *= 1e300 // finite values whose squares overflow
		}
		f.huge = append(f.huge, v)
	}
	return f
}

// post sends vs as producer to the state file's server and to f.mem.
func (f *hugeFixture) post(producer string, vs [][]float64) {
	f.t.Helper()
	rec := httptest.NewRecorder()
	f.mem.Handler().ServeHTTP(rec, httptest.NewRequest("POST", "/v1/models/store/observations?producer="+producer, bytes.NewReader(vectorBody(vs))))
	if rec.Code != 200 {
		f.t.Fatalf("%s: %d %s", producer, rec.Code, rec.Body)
	}
	if status, resp := send(f.t, "POST", f.srv.URL+"/v1/models/store/observations?producer="+producer, "", vectorBody(vs)); status != 200 {
		f.t.Fatalf("%s: %d %s", producer, status, resp)
	}
}

// state is s's vector state as JSON, its non-finite floats listed.
func vectorStateJSON(t *testing.T, s *Server) string {
	t.Helper()
	s.vectors.mu.Lock()
	st := s.vectors.stateFile(0)
	s.vectors.mu.Unlock()
	st.ID = "" // the state's identity, not what it counted: each server has its own
	p, list := stripNonFinite(st.Producers)
	st.Producers, st.NonFinite = p.([]vectorProducerState), list
	data, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// restartServer starts a server on the state file again.
func (f *hugeFixture) restartServer(recover bool) (*Server, error) {
	s, err := New(Config{Registry: f.s.cfg.Registry, VectorState: f.state, VectorStateRecover: recover, VectorWindow: time.Hour})
	if err != nil {
		return nil, err
	}
	s.vectors.now = func() time.Time { return f.now }
	return s, nil
}

// TestVecstateHugeVectors: vectors whose squares overflow make a
// checker's sums infinite. Saving, folding the journal into snapshots
// (refused while such a window is open: embed.RestoreChecker could not
// read it back, so its batches stay in the journal; done once the window
// closed into a report holding infinite norms) and restarts never fail
// and come back as the server that was never stopped holds them.
func TestVecstateHugeVectors(t *testing.T) {
	f := newHugeFixture(t, 1) // fold at every batch
	f.post("reader", f.huge[:20])
	f.post("reader", f.huge[20:])
	f.post("writer", f.rest[:10])
	want := vectorStateJSON(t, f.mem)
	if !strings.Contains(want, `"non_finite"`) {
		t.Fatalf("the fixture made no infinite sums: %.300s", want)
	}
	s, err := f.restartServer(false)
	if err != nil {
		t.Fatalf("restart with infinite sums in an open window: %v", err)
	}
	if got := vectorStateJSON(t, s); got != want {
		t.Errorf("after a restart:\n%.400s\nwant\n%.400s", got, want)
	}
	// The window closes: its report (infinite norms) is folded in.
	f.now = f.now.Add(time.Hour)
	f.post("writer", f.rest[10:20])
	st, err := os.ReadFile(f.state)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(st), `"non_finite"`) || !strings.Contains(string(st), `"Previous"`) {
		t.Errorf("the snapshot after the window closed lists no non-finite values of a report: %.400s", st)
	}
	want = vectorStateJSON(t, f.mem)
	s, err = f.restartServer(false)
	if err != nil {
		t.Fatalf("restart with infinite norms in a report: %v", err)
	}
	if got := vectorStateJSON(t, s); got != want {
		i := 0
		for i < min(len(got), len(want)) && got[i] == want[i] {
			i++
		}
		t.Errorf("after a restart, from byte %d:\n%.400s\nwant\n%.400s", i, got[max(0, i-200):], want[max(0, i-200):])
	}
}

// TestVecstateRecoverHugeJournal: the attack run's case: open windows of
// vectors with infinite sums, a flipped byte in the last batch;
// --state-recover keeps every batch that verifies (the journal is written
// again, nothing folded into a snapshot a restart could not read), and the
// start after it reads the same state.
func TestVecstateRecoverHugeJournal(t *testing.T) {
	f := newHugeFixture(t, 0)
	f.post("p1", f.huge[:20])
	f.post("w", f.rest[:4])
	kept := vectorStateJSON(t, f.mem)
	f.post("p2", f.huge[10:30])
	jp := f.state + ".journal"
	data, err := os.ReadFile(jp)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)-100] ^= 0x10
	if err := os.WriteFile(jp, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := f.restartServer(false); !errors.Is(err, ErrVectorStateDamaged) || !strings.Contains(err.Error(), `producer "p2"`) {
		t.Fatalf("a flipped byte: %v, want it refused naming producer p2", err)
	}
	s, err := f.restartServer(true)
	if err != nil {
		t.Fatalf("--state-recover: %v", err)
	}
	if got := vectorStateJSON(t, s); got != kept {
		t.Errorf("after --state-recover:\n%.300s\nwant\n%.300s", got, kept)
	}
	s, err = f.restartServer(false)
	if err != nil {
		t.Fatalf("the start after --state-recover: %v", err)
	}
	if got := vectorStateJSON(t, s); got != kept {
		t.Errorf("the start after --state-recover:\n%.300s\nwant\n%.300s", got, kept)
	}
	if moved, _ := filepath.Glob(jp + ".damaged-*"); len(moved) != 1 {
		t.Errorf("kept aside: %v", moved)
	}
}

// TestVecstateLegacyJournal: a journal of format /1 (no acknowledged
// length) is read and written again with one; a frame cut short at its
// end is refused, as it may have been acknowledged.
func TestVecstateLegacyJournal(t *testing.T) {
	f := newJournalFixture(t, 0)
	f.post("reader", f.rest[:50])
	_, want := getVectors(t, f.memory)
	jp := f.state + ".journal"
	data, err := os.ReadFile(jp)
	if err != nil {
		t.Fatal(err)
	}
	nl := bytes.IndexByte(data, '\n') + 1
	var h vectorJournalHeader
	if err := json.Unmarshal(data[:nl], &h); err != nil {
		t.Fatal(err)
	}
	old, _ := json.Marshal(map[string]any{"format": vectorJournalFormat1, "generation": h.Generation})
	legacy := append(append(old, '\n'), data[nl:]...)
	if err := os.WriteFile(jp, legacy, 0o600); err != nil {
		t.Fatal(err)
	}
	// The marker as the normguard that wrote such a journal wrote it: it
	// only says a state existed.
	legacyMark := []byte(`{"format":"normguard-vector-state/3","state":"monitor.db.vectors.json","created":"2026-12-01T00:00:00Z"}` + "\n")
	if err := os.WriteFile(f.state+".mark", legacyMark, 0o600); err != nil {
		t.Fatal(err)
	}
	ts, err := f.restart(false)
	if err != nil {
		t.Fatal(err)
	}
	if _, got := getVectors(t, ts); got != want {
		t.Errorf("a legacy journal:\n%.300s\nwant\n%.300s", got, want)
	}
	if got, _ := os.ReadFile(jp); !sameJournal(t, got, data) {
		t.Errorf("the legacy journal was not written again as %s", vectorJournalFormat)
	}
	var frame [8]byte
	binary.LittleEndian.PutUint32(frame[:], 5000)
	if err := os.WriteFile(jp, append(append([]byte{}, legacy...), frame[:]...), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f.state+".mark", legacyMark, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := f.restart(false); !errors.Is(err, ErrVectorStateDamaged) {
		t.Errorf("a legacy journal cut short: %v, want it refused", err)
	}
}

// TestVecstateFailedRecoveryChangesNothing: a recovery that cannot keep a
// copy of the damaged journal (here a folder stands where the copy goes)
// fails and leaves every file as it was; the next one succeeds.
func TestVecstateFailedRecoveryChangesNothing(t *testing.T) {
	f := newJournalFixture(t, 0)
	f.post("reader", f.rest[:50])
	f.post("reader", f.rest[50:90])
	jp := f.state + ".journal"
	full, err := os.ReadFile(jp)
	if err != nil {
		t.Fatal(err)
	}
	cut := full[:len(full)-10]
	if err := os.WriteFile(jp, cut, 0o600); err != nil {
		t.Fatal(err)
	}
	snap, err := os.ReadFile(f.state)
	if err != nil {
		t.Fatal(err)
	}
	var blocks []string
	for d := -1; d < 5; d++ {
		b := jp + ".damaged-" + time.Now().Add(time.Duration(d)*time.Second).UTC().Format("20060102T150405Z")
		if err := os.MkdirAll(filepath.Join(b, "x"), 0o755); err != nil {
			t.Fatal(err)
		}
		blocks = append(blocks, b)
	}
	if _, err := f.restart(true); err == nil || !strings.Contains(err.Error(), "nothing was changed") {
		t.Fatalf("a recovery that cannot keep a copy: %v, want it to fail changing nothing", err)
	}
	if got, _ := os.ReadFile(jp); !bytes.Equal(got, cut) {
		t.Error("the failed recovery changed the journal")
	}
	if got, _ := os.ReadFile(f.state); !bytes.Equal(got, snap) {
		t.Error("the failed recovery changed the snapshot")
	}
	for _, b := range blocks {
		os.RemoveAll(b)
	}
	if left, _ := filepath.Glob(jp + ".damaged-*"); len(left) != 0 {
		t.Errorf("left behind: %v", left)
	}
	if _, err := f.restart(true); err != nil {
		t.Fatalf("the next --state-recover: %v", err)
	}
}
