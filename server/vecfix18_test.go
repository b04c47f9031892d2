package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/normguard/normguard/monitor"
	"github.com/normguard/normguard/registry"
	"github.com/normguard/normguard/spec"
)

// TestVectorsOffRefused: with monitoring off (serve --no-monitor), vector
// observations were acknowledged 200 and kept in memory only (attack run
// 18 F4). They are refused as feature observations are: the same 404,
// code and message, and GET .../vectors too.
func TestVectorsOffRefused(t *testing.T) {
	dir := t.TempDir()
	store, rest, _ := vectorRegistry(t, dir)
	s, err := New(Config{Registry: store, Token: "t", VectorsOff: true})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	fstatus, fbody := send(t, "POST", ts.URL+"/v1/models/store/observations", "", []byte(`{"rows":[{"x":1}]}`))
	if fstatus != http.StatusNotFound {
		t.Fatalf("feature observations with monitoring off: %d %s", fstatus, fbody)
	}
	vstatus, vbody := send(t, "POST", ts.URL+"/v1/models/store/observations?producer=w", "", vectorBody(rest[:5]))
	if vstatus != http.StatusNotFound || !bytes.Equal(vbody, fbody) {
		t.Errorf("vector observations with monitoring off: %d %s; want %d %s (as feature observations)", vstatus, vbody, fstatus, fbody)
	}
	if !bytes.Contains(vbody, []byte(`"code":"not_found"`)) || !bytes.Contains(vbody, []byte("monitoring is off on this server")) {
		t.Errorf("vector observations with monitoring off: %s", vbody)
	}
	gstatus, gbody := send(t, "GET", ts.URL+"/v1/models/store/vectors", "", nil)
	if gstatus != http.StatusNotFound || !bytes.Contains(gbody, []byte("monitoring is off on this server")) {
		t.Errorf("GET vectors with monitoring off: %d %s", gstatus, gbody)
	}
	if n := producersKept(s); n != 0 {
		t.Errorf("%d producers kept in memory with monitoring off; want none", n)
	}
}

// producersKept returns how many producers s holds vectors of.
func producersKept(s *Server) int {
	s.vectors.mu.Lock()
	defer s.vectors.mu.Unlock()
	return len(s.vectors.m)
}

// mixedRegistry puts mix@1 in a registry under dir: a vector column emb
// (8 values) and features x (number) and c (categorical).
func mixedRegistry(t *testing.T, dir string) registry.Store {
	t.Helper()
	return mixedRegistryWith(t, dir, "drop")
}

// mixedRegistryWith is mixedRegistry with the spec's remainder (drop or
// passthrough); the training rows carry an id column beside the spec's.
func mixedRegistryWith(t *testing.T, dir, remainder string) registry.Store {
	t.Helper()
	sp, err := spec.Parse(strings.NewReader("version: 1\nremainder: "+remainder+"\ncolumns:\n  - name: emb\n    type: vector\n    steps: []\n"+
		"  - name: x\n    steps: [{standard_scaler: {}}]\n  - name: c\n    type: categorical\n    steps: [{one_hot_encoder: {}}]\n"), "m.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var rows []map[string]any
	for i := range 200 {
		v := make([]float64, 8)
		v[i%8] = 1
		rows = append(rows, map[string]any{"emb": v, "x": float64(i % 10), "c": string(rune('a' + i%3)), "id": i})
	}
	p := filepath.Join(dir, "train.jsonl")
	writeJSONLines(t, p, rows)
	reg, _ := fitAndPut(t, dir, sp, p, "mix", "1")
	return reg
}

// TestVectorObservationFeaturesRefused: with ?producer=, a row's feature
// columns were dropped without a word, even invalid ones (attack run 18
// F8). The request is refused, 400 naming them, and nothing is counted;
// the vectors alone, or with a key that is no column, are still taken.
func TestVectorObservationFeaturesRefused(t *testing.T) {
	dir := t.TempDir()
	store := mixedRegistry(t, dir)
	now := time.Date(2026, 12, 4, 10, 20, 0, 0, time.UTC)
	s, ts := vectorServer(t, store, filepath.Join(dir, "m.db.vectors.json"), &now)
	url := ts.URL + "/v1/models/mix/observations?producer=w"
	const e = `[0.5,0.5,0.5,0.5,0,0,0,0]`
	for _, body := range []string{
		`{"rows":[{"emb":` + e + `,"x":5,"c":"a"}]}`,
		`{"rows":[{"emb":` + e + `},{"emb":` + e + `,"x":"zzz","c":{}}]}`,
	} {
		status, resp := send(t, "POST", url, "", []byte(body))
		msg := attackfixMessage(resp)
		if status != http.StatusBadRequest || !strings.Contains(msg, `"c", "x": feature columns of mix@1`) ||
			!strings.Contains(msg, `only the vector columns ("emb")`) || !strings.Contains(msg, "without ?producer=") {
			t.Errorf("%s: %d %s; want 400 naming c and x", body, status, resp)
		}
	}
	if status, resp := send(t, "POST", url, "", []byte(`{"rows":[{"emb":`+e+`},{"emb":`+e+`,"x":1}]}`)); !strings.Contains(attackfixMessage(resp), "row 2: ") {
		t.Errorf("features in row 2 only: %d %s; want the message to name row 2", status, resp)
	}
	if n := producersKept(s); n != 0 {
		t.Fatalf("%d producers counted after refused requests; want none", n)
	}
	status, resp := send(t, "POST", url, "", []byte(`{"rows":[{"emb":`+e+`,"id":7},{"emb":`+e+`}]}`))
	if status != http.StatusOK || !strings.Contains(string(resp), `"columns":{"emb":2}`) {
		t.Errorf("vectors with an id key: %d %s; want 200 counting 2", status, resp)
	}
}

// TestVectorStateVersionMissing (attack run 18 F10): a registry version
// the vector state names that left the registry made New refuse the
// state as damaged, advising --state-recover, which throws the
// acknowledged vectors away. It is refused naming the version and the
// repair, --state-recover does not apply (the files are left untouched
// with it too), and with the version back every vector is there; for
// vectors in the journal and in the snapshot.
func TestVectorStateVersionMissing(t *testing.T) {
	for _, folded := range []bool{false, true} {
		vf := newVectorFixture(t, "m.db.vectors.json")
		s0, ts := vf.serve(t)
		if folded {
			s0.vectors.compactAt = 1
		}
		for i := range 3 {
			postVectors(t, ts, "w", vf.rest[10*i:10*i+10])
		}
		ts.Close()
		files := map[string][]byte{}
		for _, f := range []string{vf.state, vf.state + ".journal", vf.state + ".mark"} {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			files[f] = b
		}
		vfile := filepath.Join(vf.dir, "reg", "models", "store", "versions", "v1.json")
		if err := os.Rename(vfile, vfile+".aside"); err != nil {
			t.Fatal(err)
		}
		for _, recover := range []bool{false, true} {
			reg, err := registry.Open(filepath.Join(vf.dir, "reg"))
			if err != nil {
				t.Fatal(err)
			}
			_, err = New(Config{Registry: reg, VectorState: vf.state, VectorStateRecover: recover, VectorWindow: time.Hour})
			if err == nil {
				t.Fatalf("folded %v, recover %v: started without the version", folded, recover)
			}
			msg := err.Error()
			if errors.Is(err, ErrVectorStateDamaged) || !strings.Contains(msg, "store@v1") || !strings.Contains(msg, "models/store/versions/v1.json") ||
				!strings.Contains(msg, "not damaged") || !strings.Contains(msg, "--state-recover does not apply") || strings.Contains(msg, "is damaged") {
				t.Errorf("folded %v, recover %v: %v; want the missing version and its repair, not damage", folded, recover, err)
			}
			for f, b := range files {
				if now, _ := os.ReadFile(f); !bytes.Equal(now, b) {
					t.Errorf("folded %v, recover %v: %s was changed", folded, recover, f)
				}
			}
			if moved, _ := filepath.Glob(vf.state + "*.damaged-*"); len(moved) != 0 {
				t.Errorf("folded %v, recover %v: moved aside %v", folded, recover, moved)
			}
		}
		if err := os.Rename(vfile+".aside", vfile); err != nil {
			t.Fatal(err)
		}
		reg, err := registry.Open(filepath.Join(vf.dir, "reg"))
		if err != nil {
			t.Fatal(err)
		}
		_, ts = vectorServer(t, reg, vf.state, &vf.now)
		got, _ := getVectors(t, ts)
		if ps := got.Columns[0].Producers; len(ps) != 1 || ps[0].Rows != 30 {
			t.Errorf("folded %v: with the version back, producers %+v; want w with the 30 acknowledged vectors", folded, ps)
		}
	}
}

// TestVectorMarkerGone (attack run 18 F2): a marker cut short, emptied,
// of another format or deleted was read as "no marker", which vouches
// for any state, so an older journal put back beside it started silently
// with 10 of the 40 acknowledged vectors. Each is refused (the files left
// as they are), the deleted one because the journal names the start that
// wrote a marker beside it; --state-recover starts from the state as it
// is (the older copy's 10 vectors) and writes a marker again, and the
// next start is accepted.
func TestVectorMarkerGone(t *testing.T) {
	for _, c := range []struct {
		name string
		mark func([]byte) []byte // nil: deleted
		want string
	}{
		{"cut short", func(b []byte) []byte { return b[:len(b)/2] }, "is unreadable"},
		{"emptied", func([]byte) []byte { return nil }, "is unreadable"},
		{"another format", func([]byte) []byte { return []byte(`{"format":"x","run":3}` + "\n") }, `format "x"`},
		{"deleted", nil, "is missing, but its journal"},
	} {
		t.Run(c.name, func(t *testing.T) {
			vf := newVectorFixture(t, "m.db.vectors.json")
			_, ts := vf.serve(t)
			postVectors(t, ts, "w", vf.rest[:10])
			ts.Close()
			older, err := os.ReadFile(vf.state + ".journal")
			if err != nil {
				t.Fatal(err)
			}
			_, ts = vf.serve(t)
			postVectors(t, ts, "w", vf.rest[10:40])
			ts.Close()
			mark, err := os.ReadFile(vf.state + ".mark")
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(vf.state+".journal", older, 0o600); err != nil {
				t.Fatal(err)
			}
			if c.mark == nil {
				err = os.Remove(vf.state + ".mark")
			} else {
				err = os.WriteFile(vf.state+".mark", c.mark(mark), 0o600)
			}
			if err != nil {
				t.Fatal(err)
			}
			before := map[string][]byte{}
			for _, f := range []string{vf.state, vf.state + ".journal", vf.state + ".mark"} {
				before[f], _ = os.ReadFile(f)
			}
			_, err = New(Config{Registry: vf.store, VectorState: vf.state, VectorWindow: time.Hour})
			if !errors.Is(err, ErrVectorStateDamaged) || !strings.Contains(err.Error(), "m.db.vectors.json.mark") ||
				!strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "--state-recover") {
				t.Fatalf("got %v; want it refused naming the marker (%q) and --state-recover", err, c.want)
			}
			for f, b := range before {
				if got, _ := os.ReadFile(f); !bytes.Equal(got, b) {
					t.Errorf("the refused start changed %s", filepath.Base(f))
				}
			}
			var log bytes.Buffer
			s, err := New(Config{Registry: vf.store, VectorState: vf.state, VectorStateRecover: true, VectorWindow: time.Hour,
				Logger: slog.New(slog.NewTextHandler(&log, nil))})
			if err != nil {
				t.Fatalf("--state-recover: %v", err)
			}
			s.vectors.now = func() time.Time { return vf.now }
			ts = httptest.NewServer(s.Handler())
			defer ts.Close()
			if got, body := getVectors(t, ts); len(got.Columns[0].Producers) != 1 || got.Columns[0].Producers[0].Rows != 10 {
				t.Errorf("after --state-recover: %.300s; want the older copy's 10 vectors", body)
			}
			if !strings.Contains(log.String(), "marker was") || !strings.Contains(log.String(), "vectors_kept=10") && !strings.Contains(log.String(), "vectors_in_open_window=10") {
				t.Errorf("--state-recover's log does not report it: %s", log.String())
			}
			if _, err := New(Config{Registry: vf.store, VectorState: vf.state, VectorWindow: time.Hour}); err != nil {
				t.Errorf("the start after --state-recover: %v", err)
			}
		})
	}
}

// TestVectorMarkerMissingFirstStart: a brand-new state, and a first start
// stopped after its journal and snapshot but before its marker (nothing
// acknowledged yet), start without a marker.
func TestVectorMarkerMissingFirstStart(t *testing.T) {
	vf := newVectorFixture(t, "m.db.vectors.json")
	s, ts := vf.serve(t)
	s.vectors.mu.Lock()
	s.vectors.gen = 0
	if err := s.vectors.newJournal(); err != nil {
		t.Fatal(err)
	}
	if err := s.vectors.snapshot(0); err != nil {
		t.Fatal(err)
	}
	s.vectors.jf.Close()
	s.vectors.mu.Unlock()
	ts.Close()
	if _, err := os.Stat(vf.state + ".mark"); err == nil {
		t.Fatal("a marker was written")
	}
	_, ts = vf.serve(t)
	postVectors(t, ts, "w", vf.rest[:5])
}

// TestVectorObservationPassthroughKept (attack run 20 F2): with remainder
// passthrough, an id column is an output of the artifact but not a
// feature: ?producer= rows carrying it are counted as before the feature
// refusal, while a feature column beside the vectors is still refused.
func TestVectorObservationPassthroughKept(t *testing.T) {
	dir := t.TempDir()
	store := mixedRegistryWith(t, dir, "passthrough")
	now := time.Date(2026, 12, 4, 10, 20, 0, 0, time.UTC)
	_, ts := vectorServer(t, store, filepath.Join(dir, "m.db.vectors.json"), &now)
	url := ts.URL + "/v1/models/mix/observations?producer=w"
	const e = `[0.5,0.5,0.5,0.5,0,0,0,0]`
	status, resp := send(t, "POST", url, "", []byte(`{"rows":[{"emb":`+e+`,"id":7},{"emb":`+e+`,"id":8},{"emb":`+e+`}]}`))
	if status != http.StatusOK || !strings.Contains(string(resp), `"columns":{"emb":3}`) {
		t.Errorf("vectors with a passthrough id: %d %s; want 200 counting 3", status, resp)
	}
	status, resp = send(t, "POST", url, "", []byte(`{"rows":[{"emb":`+e+`,"id":9,"x":5}]}`))
	if msg := attackfixMessage(resp); status != http.StatusBadRequest || !strings.Contains(msg, `"x": feature columns of mix@1`) {
		t.Errorf("a feature beside the vectors: %d %s; want 400 naming x only", status, resp)
	}
}

// TestVectorDimensionColumnsNamed (attack run 21 F2): a ?producer= row
// holding the vector as its dimension columns (emb_0 ... emb_7) was
// refused as holding "feature columns", with the advice to post them
// without ?producer=, where nothing judges them. It is told there is no
// vector column and to send each vector as one array.
func TestVectorDimensionColumnsNamed(t *testing.T) {
	dir := t.TempDir()
	store := mixedRegistry(t, dir)
	now := time.Date(2026, 12, 4, 10, 20, 0, 0, time.UTC)
	_, ts := vectorServer(t, store, filepath.Join(dir, "m.db.vectors.json"), &now)
	body := `{"rows":[{"emb_0":1,"emb_1":0,"emb_2":0,"emb_3":0,"emb_4":0,"emb_5":0,"emb_6":0,"emb_7":0}]}`
	status, resp := send(t, "POST", ts.URL+"/v1/models/mix/observations?producer=w", "", []byte(body))
	msg := attackfixMessage(resp)
	if status != http.StatusBadRequest || strings.Contains(msg, "feature columns") || !strings.Contains(msg, "no row holds a vector column") ||
		!strings.Contains(msg, `{"emb": [0.1, ...]}`) {
		t.Errorf("dimension columns with a producer: %d %s; want 400 saying to send the vector as one array under emb", status, resp)
	}
}

// TestVectorDimsWithFeaturesRefused (attack run 21 F2): a feature
// observation holding a vector's dimension columns beside the features
// was acknowledged and the vector judged nowhere. It is refused naming
// the vector column and ?producer=, nothing counted; the features alone
// are taken.
func TestVectorDimsWithFeaturesRefused(t *testing.T) {
	dir := t.TempDir()
	store := mixedRegistry(t, dir)
	mon, err := monitor.Open(filepath.Join(dir, "monitor.db"), monitor.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer mon.Close()
	s, err := New(Config{Registry: store, Token: "t", Monitor: mon})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	url := ts.URL + "/v1/models/mix/observations"
	for _, body := range []string{
		`{"rows":[{"x":5,"c":"a","emb_3":0.5}]}`,
		`{"rows":[{"x":5,"c":"a"},{"x":1,"c":"b","emb_0":1,"emb_1":0}]}`,
	} {
		status, resp := send(t, "POST", url, "", []byte(body))
		if msg := attackfixMessage(resp); status != http.StatusBadRequest || !strings.Contains(msg, `is a dimension column of the vector column "emb" of mix@1`) ||
			!strings.Contains(msg, "?producer=NAME") {
			t.Errorf("%s: %d %s; want 400 naming emb and ?producer=", body, status, resp)
		}
	}
	if status, resp := send(t, "POST", url, "", []byte(`{"rows":[{"x":5,"c":"a"},{"x":1,"c":"b","emb_0":null}]}`)); status != http.StatusOK ||
		!strings.Contains(string(resp), `"accepted":2`) {
		t.Errorf("features alone (a null dimension cell): %d %s; want 200 accepting 2", status, resp)
	}
	// A misspelt model is named as missing, not as one waiting for rows
	// (attack run 22).
	if status, body := send(t, "GET", ts.URL+"/v1/models/mixx/drift", "", nil); status != http.StatusNotFound || !strings.Contains(string(body), `no model \"mixx\" in the registry`) {
		t.Errorf("GET drift of an unknown model: %d %s; want 404 naming no such model", status, body)
	}
	// /drift judges the features and says where the vector column is
	// judged (attack run 22 F8: it said nothing of it).
	status, body := send(t, "GET", ts.URL+"/v1/models/mix/drift", "", nil)
	var got driftResponse
	if err := json.Unmarshal(body, &got); status != http.StatusOK || err != nil {
		t.Fatalf("GET drift: %d %s %v", status, body, err)
	}
	if len(got.VectorColumns) != 1 || got.VectorColumns[0].Column != "emb" || got.VectorColumns[0].JudgeAt != "/v1/models/mix/vectors" ||
		!strings.Contains(got.VectorColumns[0].Note, "/transform requests are not monitored") {
		t.Errorf("vector_columns: %+v; want emb, judged at /v1/models/mix/vectors, /transform's vectors not monitored", got.VectorColumns)
	}
}
