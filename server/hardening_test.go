package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/normguard/normguard/monitor"
	"github.com/normguard/normguard/registry"
)

// noRedirects is a client that reports redirects instead of following
// them.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// errorCode returns the code of a JSON error body, or "" when the body is
// not one.
func errorCode(body []byte) string {
	var e struct {
		Error struct{ Code string } `json:"error"`
	}
	if json.Unmarshal(body, &e) != nil {
		return ""
	}
	return e.Error.Code
}

func send(t *testing.T, method, url, token string, body []byte) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := noRedirects.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, data
}

// TestUncleanPathsRefused: "..", "." and "//" in a path, and an encoded
// slash, get a JSON 400, never a redirect or a misleading 405.
func TestUncleanPathsRefused(t *testing.T) {
	s, done := benchServer(t)
	defer done()
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	for _, c := range []struct{ method, path string }{
		{"PUT", "/v1/models/m/versions/.."},
		{"PUT", "/v1/models/m/versions/."},
		{"GET", "/v1/models/../models"},
		{"GET", "/v1/models//flight-delay"},
		{"GET", "//v1/models"},
		{"POST", "/v1/models/flight-delay/%2e%2e/transform"},
		{"GET", "/v1/models/flight-delay/drift/.."},
		// attack run 15: one segment of two, answered 405 naming the
		// path that takes POST.
		{"POST", "/v1/models/flight-delay%2Ftransform"},
		{"GET", "/v1/models/flight-delay%2fversions%2f1"},
	} {
		status, body := send(t, c.method, ts.URL+c.path, "t", nil)
		if status != http.StatusBadRequest || errorCode(body) != "bad_path" {
			t.Errorf("%s %s: got %d %s, want 400 bad_path", c.method, c.path, status, body)
		}
	}
	if status, _ := send(t, "GET", ts.URL+"/v1/models", "", nil); status != http.StatusOK {
		t.Errorf("GET /v1/models: %d, want 200", status)
	}
}

// TestAuthAll: with AuthAll, /transform and /observations need the token.
func TestAuthAll(t *testing.T) {
	s, done := benchServer(t)
	defer done()
	s.cfg.AuthAll = true
	s.handler = s.routes()
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	body := benchBody(2)
	for _, path := range []string{"/v1/models/flight-delay/transform", "/v1/models/flight-delay/versions/v1/transform", "/v1/models/flight-delay/observations"} {
		if status, resp := send(t, "POST", ts.URL+path, "", body); status != http.StatusUnauthorized || errorCode(resp) != "unauthorized" {
			t.Errorf("%s without token: %d %s, want 401 unauthorized", path, status, resp)
		}
		if status, resp := send(t, "POST", ts.URL+path, "wrong", body); status != http.StatusUnauthorized {
			t.Errorf("%s with a wrong token: %d %s, want 401", path, status, resp)
		}
		if status, resp := send(t, "POST", ts.URL+path, "t", body); status != http.StatusOK {
			t.Errorf("%s with the token: %d %s, want 200", path, status, resp)
		}
	}
	if status, _ := send(t, "GET", ts.URL+"/v1/models/flight-delay/drift", "", nil); status != http.StatusOK {
		t.Errorf("GET drift: %d, want 200 without a token", status)
	}
}

// vmRSS returns the process's resident set size in bytes, from
// /proc/self/status (0 where there is none).
func vmRSS() int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// TestLongCategoricalValuesStayBounded posts, 30 times, a row whose
// categorical values are 1 MB strings: every post is accepted, the heap
// and RSS stay within bounds, the state file stays small, and the values
// are counted in normguard_values_truncated_total.
func TestLongCategoricalValuesStayBounded(t *testing.T) {
	s, done := benchServer(t)
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	heap := func() uint64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	const rounds, size = 30, 1 << 20
	heap0, rss0 := heap(), vmRSS()
	var maxRSS int64
	for i := 0; i < rounds; i++ {
		long := strings.Repeat(string(rune('A'+i%26)), size)
		body := fmt.Sprintf(`{"rows":[{"date":"2001-06-01 00:05","delay":12,"distance":1235,"origin":%q,"destination":%q}]}`, long, long+"x")
		status, resp := send(t, "POST", ts.URL+"/v1/models/flight-delay/observations", "", []byte(body))
		if status != http.StatusOK {
			t.Fatalf("post %d: %d %s", i, status, resp)
		}
		maxRSS = max(maxRSS, vmRSS())
	}
	heap1 := heap()
	const heapBound, rssBound = 32 << 20, 256 << 20
	if heap1 > heap0+heapBound {
		t.Errorf("heap grew from %d to %d bytes, want under %d more", heap0, heap1, heapBound)
	}
	if rss0 > 0 && maxRSS > rss0+rssBound {
		t.Errorf("RSS grew from %d to %d bytes, want under %d more", rss0, maxRSS, rssBound)
	}
	_, metrics := send(t, "GET", ts.URL+"/metrics", "", nil)
	if !strings.Contains(string(metrics), fmt.Sprintf("normguard_values_truncated_total %d", 2*rounds)) {
		t.Errorf("metrics: want normguard_values_truncated_total %d", 2*rounds)
	}
	done()
	path := filepath.Join(filepath.Dir(s.cfg.Registry.(*registry.Local).Dir()), "monitor.db")
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	const fileBound = 4 << 20
	if st.Size() > fileBound {
		t.Errorf("state file is %d bytes, want under %d", st.Size(), fileBound)
	}
	t.Logf("heap %d -> %d, RSS %d -> max %d, state file %d bytes", heap0, heap1, rss0, maxRSS, st.Size())
}

// TestPanicInHandlerIs500: a handler that panics answers a JSON 500, the
// panic is logged with its stack, and the server goes on serving.
func TestPanicInHandlerIs500(t *testing.T) {
	var logs bytes.Buffer
	s := &Server{log: slog.New(slog.NewTextHandler(&logs, nil))}
	h := s.recoverPanics(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/bug" {
			var m map[string]int
			m["x"]++ // a nil map write: a bug
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	}))
	ts := httptest.NewServer(h)
	defer ts.Close()
	status, body := send(t, "GET", ts.URL+"/bug", "", nil)
	if status != http.StatusInternalServerError || errorCode(body) != "internal" {
		t.Errorf("got %d %s, want 500 internal", status, body)
	}
	if !strings.Contains(logs.String(), "goroutine") {
		t.Errorf("log %q: want the stack", logs.String())
	}
	if status, _ := send(t, "GET", ts.URL+"/ok", "", nil); status != http.StatusOK {
		t.Errorf("after the panic: %d, want 200", status)
	}
}

// TestUploadStreamsToDisk: an upload through the server is stored without
// temporary files left, and one over the limit answers 413 and leaves
// none either.
func TestUploadStreamsToDisk(t *testing.T) {
	s, done := benchServer(t)
	defer done()
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	local := s.cfg.Registry.(*registry.Local)
	art, _, err := local.Get(context.Background(), "flight-delay", "v1")
	if err != nil {
		t.Fatal(err)
	}
	if status, resp := send(t, "PUT", ts.URL+"/v1/models/flight-delay/versions/v2", "t", art); status != http.StatusCreated {
		t.Fatalf("upload: %d %s", status, resp)
	}
	s.cfg.MaxArtifactBytes = int64(len(art) / 2)
	s.handler = s.routes()
	ts2 := httptest.NewServer(s.Handler())
	defer ts2.Close()
	if status, resp := send(t, "PUT", ts2.URL+"/v1/models/flight-delay/versions/v3", "t", art); status != http.StatusRequestEntityTooLarge || errorCode(resp) != "too_large" {
		t.Errorf("upload over the limit: %d %s, want 413 too_large", status, resp)
	}
	if status, resp := send(t, "PUT", ts.URL+"/v1/models/flight-delay/versions/v4", "t", art[:len(art)-10]); status != http.StatusBadRequest || errorCode(resp) != "invalid_artifact" {
		t.Errorf("truncated upload: %d %s, want 400 invalid_artifact", status, resp)
	}
	entries, err := os.ReadDir(filepath.Join(local.Dir(), "blobs", "sha256"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("temporary file left: %s", e.Name())
		}
	}
}

// TestObservationsOverBudget: once the model's window state is over the
// monitor's MaxModelBytes, /observations answers 429 over_budget (bad
// input from a client, not a server failure) and the drop is counted.
func TestObservationsOverBudget(t *testing.T) {
	s, done := benchServer(t)
	defer done()
	local := s.cfg.Registry.(*registry.Local)
	mon, err := monitor.Open(filepath.Join(t.TempDir(), "small.db"), monitor.Options{MaxModelBytes: 4 << 10})
	if err != nil {
		t.Fatal(err)
	}
	defer mon.Close()
	s2, err := New(Config{Registry: local, Monitor: mon, Token: "t"})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s2.Handler())
	defer ts.Close()
	var over int
	for i := 0; i < 50 && over == 0; i++ {
		status, resp := send(t, "POST", ts.URL+"/v1/models/flight-delay/observations", "", benchBody(20))
		switch {
		case status == http.StatusTooManyRequests && errorCode(resp) == "over_budget":
			over++
		case status != http.StatusOK:
			t.Fatalf("post %d: %d %s", i, status, resp)
		}
	}
	if over == 0 {
		t.Fatal("never over the 4 KiB budget")
	}
	_, metrics := send(t, "GET", ts.URL+"/metrics", "", nil)
	if !strings.Contains(string(metrics), "normguard_observations_dropped_total 1") {
		t.Errorf("metrics: want normguard_observations_dropped_total 1")
	}
}

// TestEncodedBodyRefused: a gzip body was refused as "invalid JSON body at
// byte 0" (attack run 4): it is a 415 naming the encoding.
func TestEncodedBodyRefused(t *testing.T) {
	s, done := benchServer(t)
	defer done()
	req := httptest.NewRequest("POST", "/v1/models/flight-delay/transform", strings.NewReader("\x1f\x8b\x08"))
	req.Header.Set("Content-Encoding", "gzip")
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusUnsupportedMediaType || !strings.Contains(rec.Body.String(), `"unsupported_encoding"`) || !strings.Contains(rec.Body.String(), "gzip") {
		t.Errorf("gzip body: %d %s, want 415 unsupported_encoding", rec.Code, rec.Body)
	}
	// Every value is checked (attack run 6: "identity", then "gzip").
	req = httptest.NewRequest("POST", "/v1/models/flight-delay/transform", strings.NewReader("\x1f\x8b\x08"))
	req.Header.Add("Content-Encoding", "identity")
	req.Header.Add("Content-Encoding", "gzip")
	rec = httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusUnsupportedMediaType {
		t.Errorf("identity then gzip: %d %s, want 415", rec.Code, rec.Body)
	}
	req = httptest.NewRequest("POST", "/v1/models/flight-delay/transform", bytes.NewReader(benchBody(1)))
	req.Header.Set("Content-Encoding", "identity")
	rec = httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Errorf("identity body: %d %s, want 200", rec.Code, rec.Body)
	}
}
