package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/normguard/normguard/registry"
	"github.com/normguard/normguard/spec"
)

// vectorRegistry fits a contract (metric dot, raw vectors) on the even
// GloVe rows into a registry as store@v1 and returns the odd rows and
// their l2-normalized copies.
func vectorRegistry(t testing.TB, dir string) (store registry.Store, rest, unit [][]float64) {
	t.Helper()
	var train [][]float64
	for i, v := range gloveRows(t) {
		if i%2 == 0 {
			train = append(train, v)
		} else {
			rest = append(rest, v)
		}
	}
	sp, err := spec.Parse(strings.NewReader("version: 1\ncolumns:\n  - name: emb\n    type: vector\n    metric: dot\n"), "v.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var rows []map[string]any
	for _, v := range train {
		rows = append(rows, map[string]any{"emb": v})
	}
	p := filepath.Join(dir, "train.jsonl")
	writeJSONLines(t, p, rows)
	reg, _ := fitAndPut(t, dir, sp, p, "store", "v1")
	for _, v := range rest {
		n := 0.0
		for _, x := range v {
			n += x * x
		}
		u := make([]float64, len(v))
		for k, x := range v {
			u[k] = x / math.Sqrt(n)
		}
		unit = append(unit, u)
	}
	return reg, rest, unit
}

// vectorServer starts a server on store and the state file, with a clock.
func vectorServer(t testing.TB, store registry.Store, state string, now *time.Time) (*Server, *httptest.Server) {
	t.Helper()
	s, err := New(Config{Registry: store, Token: "t", VectorState: state, VectorWindow: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	s.vectors.now = func() time.Time { return *now }
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return s, ts
}

// vectorFixture is the GloVe contract in a folder of its own
// (vectorRegistry), the path of a vector state file there, and the clock
// of the servers started on them, at 2026-12-04 10:20.
type vectorFixture struct {
	dir, state string
	store      registry.Store
	rest, unit [][]float64
	now        time.Time
}

// newVectorFixture makes a fixture whose state file is named name.
func newVectorFixture(t testing.TB, name string) *vectorFixture {
	t.Helper()
	dir := t.TempDir()
	vf := &vectorFixture{dir: dir, state: filepath.Join(dir, name), now: time.Date(2026, 12, 4, 10, 20, 0, 0, time.UTC)}
	vf.store, vf.rest, vf.unit = vectorRegistry(t, dir)
	return vf
}

// serve starts a server on the fixture's state file and clock.
func (vf *vectorFixture) serve(t testing.TB) (*Server, *httptest.Server) {
	t.Helper()
	return vectorServer(t, vf.store, vf.state, &vf.now)
}

// postVectors posts vs as producer's vector observations to ts, failing
// the test unless they are acknowledged.
func postVectors(t *testing.T, ts *httptest.Server, producer string, vs [][]float64) {
	t.Helper()
	if status, resp := send(t, "POST", ts.URL+"/v1/models/store/observations?producer="+producer, "", vectorBody(vs)); status != http.StatusOK {
		t.Fatalf("%s: %d %s", producer, status, resp)
	}
}

// getVectors returns GET /vectors, decoded and as bytes.
func getVectors(t *testing.T, ts *httptest.Server) (vectorsResponse, string) {
	t.Helper()
	status, body := send(t, "GET", ts.URL+"/v1/models/store/vectors", "", nil)
	if status != http.StatusOK {
		t.Fatalf("GET vectors: %d %s", status, body)
	}
	var got vectorsResponse
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	return got, string(body)
}

// TestVectorStateRestart: a server restarted on its vector state file
// reports what it reported before, and goes on exactly as a server that
// was never restarted (the reservoir and its generator come back bit for
// bit); windows close on the hour, the previous one's verdicts are kept,
// and a later restart keeps them too.
func TestVectorStateRestart(t *testing.T) {
	vf := newVectorFixture(t, "monitor.db.vectors.json")
	_, before := vf.serve(t)
	_, never := vectorServer(t, vf.store, "", &vf.now) // the same posts, no restart
	// 1,300 reader vectors (the 100 rows 13 times): the reservoir of
	// 1,000 has replaced some.
	var reader [][]float64
	for range 17 {
		reader = append(reader, vf.rest...)
	}
	for _, ts := range []*httptest.Server{before, never} {
		postVectors(t, ts, "reader", reader[:600])
		postVectors(t, ts, "reader", reader[600:1300])
		postVectors(t, ts, "writer", vf.unit[:80])
	}
	got, want := getVectors(t, before)
	if got.Window.Start != time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC) || got.Window.End != time.Date(2026, 12, 4, 11, 0, 0, 0, time.UTC) {
		t.Errorf("window %v .. %v, want 10:00 .. 11:00", got.Window.Start, got.Window.End)
	}
	c := got.Columns[0]
	if len(c.Producers) != 2 || c.Producers[0].Rows != 1300 || c.Producers[1].Rows != 80 ||
		!strings.Contains(want, "normalized_unexpectedly") || c.Pairs[0].Drift == nil {
		t.Fatalf("before the restart: %.600s", want)
	}

	_, after := vf.serve(t)
	if _, body := getVectors(t, after); body != want {
		t.Fatalf("after a restart GET /vectors differs:\n%.400s\nwant\n%.400s", body, want)
	}
	// The reservoir goes on as if there had been no restart.
	for _, ts := range []*httptest.Server{after, never} {
		postVectors(t, ts, "reader", reader[1300:])
		postVectors(t, ts, "writer", vf.unit[80:])
	}
	_, a := getVectors(t, after)
	if _, n := getVectors(t, never); a != n {
		t.Fatalf("restarted and never restarted differ:\n%.400s\n%.400s", a, n)
	}

	// The next window: the producers sent nothing there yet; each keeps
	// the report of the window before.
	_, closing := getVectors(t, after)
	vf.now = vf.now.Add(time.Hour)
	got, body := getVectors(t, after)
	var open vectorsResponse
	json.Unmarshal([]byte(closing), &open)
	if len(got.Columns[0].Producers) != 2 {
		t.Fatalf("next window: %.300s, want both producers with their previous window", body)
	}
	for i, p := range got.Columns[0].Producers {
		was := open.Columns[0].Producers[i]
		pw, _ := json.Marshal(p.Previous.Verdicts)
		ww, _ := json.Marshal(was.Verdicts)
		if p.Rows != 0 || p.Previous == nil || p.Previous.Rows != was.Rows || string(pw) != string(ww) ||
			p.Previous.Start != open.Window.Start || p.Previous.End != open.Window.End {
			t.Errorf("%s in the next window: %.300s", p.Producer, body)
		}
	}
	if len(got.Columns[0].Pairs) != 0 || !strings.Contains(body, `"start":"2026-12-04T11:00:00Z"`) {
		t.Errorf("next window: %.300s", body)
	}
	// A restart in that window (the file still holds the open window it
	// closed) reports the same.
	_, again := vf.serve(t)
	if _, b := getVectors(t, again); b != body {
		t.Errorf("restart in the next window:\n%.400s\nwant\n%.400s", b, body)
	}
	// A window later the producers are forgotten.
	vf.now = vf.now.Add(time.Hour)
	if got, body := getVectors(t, again); len(got.Columns[0].Producers) != 0 {
		t.Errorf("two windows later: %.300s", body)
	}
}

// TestVectorStateDamaged: a damaged vector state file is refused naming
// it, left as it is; VectorStateRecover moves it aside and starts empty.
func TestVectorStateDamaged(t *testing.T) {
	vf := newVectorFixture(t, "monitor.db.vectors.json")
	s0, ts := vf.serve(t)
	s0.vectors.compactAt = 1 // fold every batch into the snapshot, whose damage this test is about
	postVectors(t, ts, "reader", vf.rest[:30])
	good, err := os.ReadFile(vf.state)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ name, from, to, want string }{
		{"truncated", `}]}`, ``, "it is cut short after"},
		{"a short sample", `"sample_rows":30`, `"sample_rows":29`, "sample of 29 rows"},
		{"checker counts", `"norm_count":30`, `"norm_count":31`, "rows 30 are not nan_rows"},
		// A version the registry lacks is not damage (attack run 18 F10:
		// TestVectorStateVersionMissing).
	} {
		damaged := strings.Replace(string(good), c.from, c.to, 1)
		if damaged == string(good) {
			t.Fatalf("%s: %q is not in the file", c.name, c.from)
		}
		if c.name != "truncated" {
			// Sealed again, as a bug could write it: the checks past the
			// checksum (which alone refuses the edit) refuse it too.
			damaged = resealVectorState(t, damaged)
		}
		if err := os.WriteFile(vf.state, []byte(damaged), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := New(Config{Registry: vf.store, VectorState: vf.state})
		if !errors.Is(err, ErrVectorStateDamaged) || !strings.Contains(err.Error(), vf.state) ||
			!strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "--state-recover") {
			t.Errorf("%s: got %v, want the damage naming the file, %q and --state-recover", c.name, err, c.want)
		}
		if kept, _ := os.ReadFile(vf.state); string(kept) != damaged {
			t.Errorf("%s: the damaged file was changed", c.name)
		}
	}
	_, ts = func() (*Server, *httptest.Server) {
		s, err := New(Config{Registry: vf.store, VectorState: vf.state, VectorStateRecover: true})
		if err != nil {
			t.Fatal(err)
		}
		ts := httptest.NewServer(s.Handler())
		t.Cleanup(ts.Close)
		return s, ts
	}()
	if got, body := getVectors(t, ts); len(got.Columns[0].Producers) != 0 {
		t.Errorf("after --state-recover: %.300s", body)
	}
	if now, err := os.ReadFile(vf.state); err != nil || !strings.Contains(string(now), `"producers":[]`) {
		t.Errorf("after --state-recover %s holds %.200s (%v), want an empty state", vf.state, now, err)
	}
	if moved, _ := filepath.Glob(vf.state + ".damaged-*"); len(moved) != 1 {
		t.Errorf("moved aside: %v, want one %s.damaged-* file", moved, vf.state)
	}
}

// resealVectorState gives a hand-edited snapshot a matching checksum.
func resealVectorState(t *testing.T, data string) string {
	var env vectorStateEnvelope
	if err := json.Unmarshal([]byte(data), &env); err != nil {
		t.Fatal(err)
	}
	env.CRC = fmt.Sprintf("%08x", crc32.Checksum(env.State, castagnoli))
	out, err := json.Marshal(env)
	if err != nil {
		t.Fatal(err)
	}
	return string(out) + "\n"
}

// TestVectorStateDeleted: a state file deleted while its marker remains
// is refused (the windows it held are lost, not a first start), and
// VectorStateRecover starts empty and writes a state the next start reads.
func TestVectorStateDeleted(t *testing.T) {
	vf := newVectorFixture(t, "monitor.db.vectors.json")
	_, ts := vf.serve(t)
	postVectors(t, ts, "reader", vf.rest[:30])
	if err := os.Remove(vf.state); err != nil {
		t.Fatal(err)
	}
	_, err := New(Config{Registry: vf.store, VectorState: vf.state})
	if !errors.Is(err, ErrVectorStateDamaged) || !strings.Contains(err.Error(), "missing") || !strings.Contains(err.Error(), "--state-recover") {
		t.Fatalf("a deleted state file: got %v, want it refused as missing, naming --state-recover", err)
	}
	if _, err := New(Config{Registry: vf.store, VectorState: vf.state, VectorStateRecover: true}); err != nil {
		t.Fatalf("--state-recover: %v", err)
	}
	if _, err := New(Config{Registry: vf.store, VectorState: vf.state}); err != nil {
		t.Errorf("the start after --state-recover: %v", err)
	}
}

// TestVectorStateNotSaved: a state file that cannot be written fails the
// observation with 500 state_not_saved, not a silent acknowledgement.
func TestVectorStateNotSaved(t *testing.T) {
	dir := t.TempDir()
	store, rest, _ := vectorRegistry(t, dir)
	now := time.Date(2026, 12, 4, 10, 20, 0, 0, time.UTC)
	_, ts := vectorServer(t, store, filepath.Join(dir, "gone", "v.json"), &now)
	status, resp := send(t, "POST", ts.URL+"/v1/models/store/observations?producer=reader", "", vectorBody(rest[:3]))
	if status != http.StatusInternalServerError || !strings.Contains(string(resp), "state_not_saved") || !strings.Contains(string(resp), "gone") {
		t.Errorf("got %d %s, want 500 state_not_saved naming the folder", status, resp)
	}
}
