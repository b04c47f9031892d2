package server

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/normguard/normguard/registry"
)

// heldRequest starts a request whose body of n bytes is sent only when
// release is called; it returns once the server has the request (its
// first bytes read) and a function waiting for the answer's status.
func heldRequest(t *testing.T, method, url string, n int, first []byte) (release func(), status func() int) {
	t.Helper()
	pr, pw := io.Pipe()
	req, err := http.NewRequest(method, url, pr)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = int64(n)
	req.Header.Set("Authorization", "Bearer t")
	done := make(chan int, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- -1
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	if _, err := pw.Write(first); err != nil { // blocks until the handler reads
		t.Fatal(err)
	}
	rest := make([]byte, n-len(first))
	for i := range rest {
		rest[i] = ' '
	}
	return func() { pw.Write(rest); pw.Close() }, func() int { return <-done }
}

// waitReserved waits until the server holds n bytes of bodies in flight.
func waitReserved(t *testing.T, s *Server, n int64) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); s.bodies.inUse() != n; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d bytes reserved, want %d", s.bodies.inUse(), n)
		}
	}
}

// TestBodyBudget: while transform/observations bodies in flight hold the
// budget, another request that does not fit is answered 503 busy with
// Retry-After before its body is read, and counted; once the first is
// answered the same request goes through. A body declared over the limit
// is 413 at once.
func TestBodyBudget(t *testing.T) {
	s, done := benchServer(t)
	defer done()
	local := s.cfg.Registry.(*registry.Local)
	s2, err := New(Config{Registry: local, Monitor: s.cfg.Monitor, Token: "t", MaxBodyBytes: 4000, MaxInflightBodyBytes: 6000})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s2.Handler())
	defer ts.Close()
	url := ts.URL + "/v1/models/flight-delay/transform"
	body := benchBody(20) // about 1,800 bytes
	if len(body) > 3000 {
		t.Fatalf("body of %d bytes, want one under half the budget", len(body))
	}

	release, status := heldRequest(t, "POST", url, 4000, body[:100])
	waitReserved(t, s2, 4000)
	// 4,000 held: a 1,800-byte request still fits (5,800 of 6,000).
	if st, resp := send(t, "POST", url, "", body); st != http.StatusOK {
		t.Fatalf("request within the budget: %d %s", st, resp)
	}
	release2, status2 := heldRequest(t, "POST", ts.URL+"/v1/models/flight-delay/observations", 1500, body[:100])
	waitReserved(t, s2, 5500)
	// 5,500 held now: the 1,800-byte request does not fit.
	req, _ := http.NewRequest("POST", url, strings.NewReader(string(body)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || errorCode(got) != "busy" || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("over the budget: %d %s (Retry-After %q), want 503 busy with Retry-After", resp.StatusCode, got, resp.Header.Get("Retry-After"))
	}
	release()
	release2()
	if st := status(); st != http.StatusBadRequest { // the padded body is not valid rows
		t.Errorf("held request: %d, want 400", st)
	}
	if st := status2(); st != http.StatusBadRequest {
		t.Errorf("held observations: %d, want 400", st)
	}
	if st, resp := send(t, "POST", url, "", body); st != http.StatusOK {
		t.Fatalf("after the others were answered: %d %s", st, resp)
	}
	if st, resp := send(t, "POST", url, "", make([]byte, 4001)); st != http.StatusRequestEntityTooLarge || errorCode(resp) != "too_large" {
		t.Errorf("declared over the limit: %d %s, want 413 too_large", st, resp)
	}
	if s2.bodies.inUse() != 0 {
		t.Errorf("%d bytes still reserved after every request was answered", s2.bodies.inUse())
	}
	_, metrics := send(t, "GET", ts.URL+"/metrics", "", nil)
	if !strings.Contains(string(metrics), `normguard_busy_refusals_total{limit="body_budget"} 1`) {
		t.Errorf("metrics: want normguard_busy_refusals_total{limit=\"body_budget\"} 1")
	}
}

// TestUploadSlots: with MaxUploads uploads being received, another is
// answered 503 busy with Retry-After; once one is answered, uploads go
// through again.
func TestUploadSlots(t *testing.T) {
	s, done := benchServer(t)
	defer done()
	local := s.cfg.Registry.(*registry.Local)
	s2, err := New(Config{Registry: local, Monitor: s.cfg.Monitor, Token: "t", MaxUploads: 1})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s2.Handler())
	defer ts.Close()
	art, _, err := local.Get(context.Background(), "flight-delay", "v1")
	if err != nil {
		t.Fatal(err)
	}
	release, status := heldRequest(t, "PUT", ts.URL+"/v1/models/flight-delay/versions/held", len(art)+10, art[:100])
	for deadline := time.Now().Add(5 * time.Second); len(s2.uploads) != 1; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the held upload never took its slot")
		}
	}
	st, resp := send(t, "PUT", ts.URL+"/v1/models/flight-delay/versions/v2", "t", art)
	if st != http.StatusServiceUnavailable || errorCode(resp) != "busy" {
		t.Fatalf("second upload at once: %d %s, want 503 busy", st, resp)
	}
	release()
	if st := status(); st != http.StatusBadRequest { // trailing spaces: not canonical
		t.Errorf("held upload: %d, want 400", st)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		st, resp = send(t, "PUT", ts.URL+"/v1/models/flight-delay/versions/v2", "t", art)
		if st != http.StatusServiceUnavailable || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if st != http.StatusCreated {
		t.Fatalf("upload after the held one: %d %s, want 201", st, resp)
	}
}

// TestChunkedBodyReservedAsRead: a body sent without a length reserves
// its bytes as they arrive: it goes through while they fit beside the
// bodies in flight, and is answered 503 busy with Retry-After once they
// do not; nothing stays reserved afterwards.
func TestChunkedBodyReservedAsRead(t *testing.T) {
	s, done := benchServer(t)
	defer done()
	local := s.cfg.Registry.(*registry.Local)
	s2, err := New(Config{Registry: local, Monitor: s.cfg.Monitor, Token: "t", MaxBodyBytes: 4000, MaxInflightBodyBytes: 6000})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s2.Handler())
	defer ts.Close()
	url := ts.URL + "/v1/models/flight-delay/transform"
	release, status := heldRequest(t, "POST", url, 4000, benchBody(1)[:50])
	waitReserved(t, s2, 4000)
	chunked := func(body []byte) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequest("POST", url, io.MultiReader(strings.NewReader(string(body)))) // no length: chunked
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, data
	}
	if resp, data := chunked(benchBody(10)); resp.StatusCode != http.StatusOK {
		t.Errorf("a 900-byte chunked body beside 4,000 held: %d %s, want 200", resp.StatusCode, data)
	}
	resp, data := chunked(benchBody(30))
	if resp.StatusCode != http.StatusServiceUnavailable || errorCode(data) != "busy" || resp.Header.Get("Retry-After") == "" {
		t.Errorf("a 2,700-byte chunked body beside 4,000 held: %d %s, want 503 busy with Retry-After", resp.StatusCode, data)
	}
	release()
	status()
	waitReserved(t, s2, 0)
}

// TestUploadOutlivesServerTimeouts: an upload that takes longer than the
// server's ReadTimeout and WriteTimeout (a slow link, or a wait for other
// uploads' decoding) still gets its answer.
func TestUploadOutlivesServerTimeouts(t *testing.T) {
	s, done := benchServer(t)
	defer done()
	local := s.cfg.Registry.(*registry.Local)
	srv, err := New(Config{Registry: local, Token: "t", ReadTimeout: 300 * time.Millisecond, WriteTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()
	defer func() {
		cancel()
		<-served
	}()
	art, _, err := local.Get(context.Background(), "flight-delay", "v1")
	if err != nil {
		t.Fatal(err)
	}
	pr, pw := io.Pipe()
	go func() { // the body in 8 parts over about a second
		step := (len(art) + 7) / 8
		for i := 0; i < len(art); i += step {
			pw.Write(art[i:min(i+step, len(art))])
			time.Sleep(150 * time.Millisecond)
		}
		pw.Close()
	}()
	req, _ := http.NewRequest("PUT", "http://"+ln.Addr().String()+"/v1/models/flight-delay/versions/slow", pr)
	req.ContentLength = int64(len(art))
	req.Header.Set("Authorization", "Bearer t")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("slow upload: %v, want an answer", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("slow upload: %d %s, want 201", resp.StatusCode, body)
	}
}
