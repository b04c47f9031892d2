package registry

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
)

const testToken = "s3cret"

// authorize wraps h as a server does: writes need the bearer token. It
// records the Authorization header of every request.
type authorize struct {
	h    http.Handler
	mu   sync.Mutex
	seen []string // "METHOD auth"
}

func (a *authorize) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	auth := r.Header.Get("Authorization")
	a.mu.Lock()
	a.seen = append(a.seen, r.Method+" "+auth)
	a.mu.Unlock()
	if r.Method == http.MethodPut && auth != "Bearer "+testToken {
		WriteError(w, http.StatusUnauthorized, "unauthorized", "writes need a valid bearer token")
		return
	}
	a.h.ServeHTTP(w, r)
}

// newServer serves a fresh Local registry; writes need testToken.
func newServer(t *testing.T) (*httptest.Server, *Local, *authorize) {
	t.Helper()
	l, _ := openTemp(t)
	a := &authorize{h: Handler(l)}
	srv := httptest.NewServer(a)
	t.Cleanup(srv.Close)
	return srv, l, a
}

func TestRemoteRoundTrip(t *testing.T) {
	ctx := context.Background()
	srv, local, auth := newServer(t)
	r := Dial(srv.URL+"/", testToken, srv.Client())
	a1, a2 := fitArtifact(t, "fraud", "1", 1), fitArtifact(t, "fraud", "2", 2)

	v1, created := mustPut(t, r, "fraud", "1", a1, PutOptions{})
	if !created || !v1.Current || v1.Digest != digestOf(t, a1) || v1.Created.IsZero() {
		t.Fatalf("Put 1: got %+v created=%v, want created and current with digest %s", v1, created, digestOf(t, a1))
	}
	if _, created := mustPut(t, r, "fraud", "1", a1, PutOptions{}); created {
		t.Errorf("Put 1 again: got created=true, want false")
	}
	v2, _ := mustPut(t, r, "fraud", "2", a2, PutOptions{KeepCurrent: true})
	if v2.Current {
		t.Errorf("Put 2 with KeepCurrent: got current=true, want false")
	}
	// The server's store agrees.
	if v := mustResolve(t, local, "fraud", ""); v.Version != "1" {
		t.Errorf("server-side current: got %s, want 1", v.Version)
	}

	for _, tc := range []struct {
		version, want string
		data          []byte
	}{{"", "1", a1}, {"current", "1", a1}, {"2", "2", a2}} {
		data, v, err := r.Get(ctx, "fraud", tc.version)
		if err != nil || v.Version != tc.want || !bytes.Equal(data, tc.data) {
			t.Errorf("Get(fraud, %q) = %s (%v), want %s and its bytes", tc.version, v.Version, err, tc.want)
		}
	}
	if err := r.SetCurrent(ctx, "fraud", "2"); err != nil {
		t.Fatal(err)
	}
	if v := mustResolve(t, r, "fraud", ""); v.Version != "2" || !v.Current || v.Digest != v2.Digest {
		t.Errorf("Resolve after SetCurrent: got %+v, want 2 current", v)
	}
	ms, err := r.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := local.List(ctx)
	if !equalJSON(t, ms, want) {
		t.Errorf("List over HTTP:\ngot  %+v\nwant %+v", ms, want)
	}

	// Writes carried the token, reads did not.
	for _, s := range auth.seen {
		method, token, _ := strings.Cut(s, " ")
		if wantTok := method == http.MethodPut; (token != "") != wantTok {
			t.Errorf("%s sent Authorization %q; want it on writes only", method, token)
		}
	}
}

func equalJSON(t *testing.T, a, b any) bool {
	t.Helper()
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb)
}

func TestHandlerWireFormat(t *testing.T) {
	srv, local, _ := newServer(t)
	data := fitArtifact(t, "fraud", "1", 1)
	mustPut(t, local, "fraud", "1", data, PutOptions{})

	var list map[string][]map[string]json.RawMessage
	get(t, srv.URL+"/v1/models", http.StatusOK, &list)
	if len(list["models"]) != 1 {
		t.Fatalf("GET /v1/models: got %v, want one model", list)
	}
	m := list["models"][0]
	if got := slices.Sorted(maps.Keys(m)); !slices.Equal(got, []string{"current", "name", "versions"}) {
		t.Errorf("model keys: got %v, want current, name, versions", got)
	}
	var vs []map[string]any
	json.Unmarshal(m["versions"], &vs)
	if got := slices.Sorted(maps.Keys(vs[0])); !slices.Equal(got, []string{"created", "current", "digest", "model", "version"}) {
		t.Errorf("version keys: got %v, want created, current, digest, model, version", got)
	}

	resp, err := http.Get(srv.URL + "/v1/models/fraud/versions/current/artifact")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, data) {
		t.Errorf("GET artifact: %d, %d bytes, want 200 and the artifact", resp.StatusCode, len(body))
	}
	if ct, d := resp.Header.Get("Content-Type"), resp.Header.Get(DigestHeader); ct != "application/json" || d != digestOf(t, data) {
		t.Errorf("GET artifact headers: Content-Type %q, digest %q; want application/json and %s", ct, d, digestOf(t, data))
	}

	req, _ := http.NewRequest(http.MethodPut, srv.URL+"/v1/models/fraud/versions/1", bytes.NewReader(data))
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get(DigestHeader) != digestOf(t, data) {
		t.Errorf("PUT of an existing version: %d, digest header %q; want 200 and %s", resp.StatusCode, resp.Header.Get(DigestHeader), digestOf(t, data))
	}
}

func get(t *testing.T, url string, status int, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != status {
		t.Fatalf("GET %s: got %d, want %d", url, resp.StatusCode, status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}

func TestHandlerErrorsAreJSON(t *testing.T) {
	l, _ := openTemp(t)
	data := fitArtifact(t, "fraud", "1", 1)
	mustPut(t, l, "fraud", "1", data, PutOptions{})
	// Version 3 exists but is not current: a body read loosely moved
	// current to it (attack run 15).
	mustPut(t, l, "fraud", "3", fitArtifact(t, "fraud", "3", 3), PutOptions{KeepCurrent: true})
	const limit = 1000
	limited := http.MaxBytesHandler(Handler(l), limit) // as a server wraps uploads
	cases := []struct {
		name, method, path, body string
		h                        http.Handler
		status                   int
		code                     string
	}{
		{"unknown model", "GET", "/v1/models/nope", "", nil, 404, CodeNotFound},
		{"unknown version", "GET", "/v1/models/fraud/versions/9/artifact", "", nil, 404, CodeNotFound},
		{"unknown model artifact", "GET", "/v1/models/nope/versions/current/artifact", "", nil, 404, CodeNotFound},
		{"conflict", "PUT", "/v1/models/fraud/versions/1", string(fitArtifact(t, "fraud", "1", 2)), nil, 409, CodeConflict},
		{"bad model name", "GET", "/v1/models/a%20b", "", nil, 400, CodeInvalidName},
		{"dot-dot model", "GET", "/v1/models/%2e%2e/versions/1/artifact", "", nil, 400, CodeInvalidName},
		{"escaped slash", "PUT", "/v1/models/a%2Fb/versions/1", string(data), nil, 400, CodeInvalidName},
		{"unicode version", "PUT", "/v1/models/fraud/versions/%C3%BC", string(data), nil, 400, CodeInvalidName},
		{"reserved version", "PUT", "/v1/models/fraud/versions/current", string(data), nil, 400, CodeInvalidName},
		{"corrupt artifact", "PUT", "/v1/models/fraud/versions/2", string(data[:100]), nil, 400, CodeInvalidArtifact},
		{"other model's artifact", "PUT", "/v1/models/churn/versions/1", string(data), nil, 400, CodeInvalidArtifact},
		{"bad current query", "PUT", "/v1/models/fraud/versions/2?current=maybe", string(data), nil, 400, CodeBadRequest},
		{"empty current query", "PUT", "/v1/models/fraud/versions/2?current=", string(data), nil, 400, CodeBadRequest},
		{"too large", "PUT", "/v1/models/fraud/versions/2", string(data), limited, 413, CodeTooLarge},
		{"current: not JSON", "PUT", "/v1/models/fraud/current", "v1", nil, 400, CodeBadRequest},
		{"current: no version", "PUT", "/v1/models/fraud/current", `{}`, nil, 400, CodeBadRequest},
		{"current: unknown field", "PUT", "/v1/models/fraud/current", `{"version":"1","x":1}`, nil, 400, CodeBadRequest},
		{"current: unknown version", "PUT", "/v1/models/fraud/current", `{"version":"9"}`, nil, 404, CodeNotFound},
		{"current: version twice", "PUT", "/v1/models/fraud/current", `{"version":"1","version":"3"}`, nil, 400, CodeBadRequest},
		{"current: two objects", "PUT", "/v1/models/fraud/current", `{"version":"3"} {"version":"1"}`, nil, 400, CodeBadRequest},
		{"current: trailing data", "PUT", "/v1/models/fraud/current", `{"version":"3"} x`, nil, 400, CodeBadRequest},
		{"current: other spelling", "PUT", "/v1/models/fraud/current", `{"Version":"3"}`, nil, 400, CodeBadRequest},
		{"current: not a string", "PUT", "/v1/models/fraud/current", `{"version":3}`, nil, 400, CodeBadRequest},
		{"current: array", "PUT", "/v1/models/fraud/current", `[{"version":"3"}]`, nil, 400, CodeBadRequest},
		{"current: bad version", "PUT", "/v1/models/fraud/current", `{"version":"../1"}`, nil, 400, CodeInvalidName},
		{"method", "DELETE", "/v1/models/fraud", "", nil, 405, CodeMethod},
		{"method on upload", "POST", "/v1/models/fraud/versions/1", "", nil, 405, CodeMethod},
		{"unknown route", "GET", "/v1/nothing", "", nil, 404, CodeNotFound},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := tc.h
			if h == nil {
				h = Handler(l)
			}
			req := httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body))
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tc.status {
				t.Errorf("status: got %d, want %d (body %s)", rec.Code, tc.status, rec.Body)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type: got %q, want application/json", ct)
			}
			var eb errorBody
			if err := json.Unmarshal(rec.Body.Bytes(), &eb); err != nil || eb.Error.Code != tc.code || eb.Error.Message == "" {
				t.Errorf("body: got %s (%v), want code %q and a message", rec.Body, err, tc.code)
			}
		})
	}
	if v := mustResolve(t, l, "fraud", ""); v.Version != "1" || v.Digest != digestOf(t, data) {
		t.Errorf("after the refused requests: current %s %s, want 1 %s", v.Version, v.Digest, digestOf(t, data))
	}
}

func TestRemoteErrors(t *testing.T) {
	ctx := context.Background()
	srv, local, _ := newServer(t)
	data := fitArtifact(t, "fraud", "1", 1)
	mustPut(t, local, "fraud", "1", data, PutOptions{})
	r := Dial(srv.URL, testToken, nil)
	noToken := Dial(srv.URL, "", nil)
	wrongToken := Dial(srv.URL, "nope", nil)
	cases := []struct {
		name string
		call func() error
		is   error
		want string
	}{
		{"unknown model", func() error { _, err := r.Resolve(ctx, "nope", ""); return err }, ErrNotFound, `no model "nope"`},
		{"unknown version", func() error { _, _, err := r.Get(ctx, "fraud", "9"); return err }, ErrNotFound, `no version "9"`},
		{"conflict", func() error {
			_, _, err := r.Put(ctx, "fraud", "1", fitArtifact(t, "fraud", "", 2), PutOptions{})
			return err
		}, ErrConflict, "immutable"},
		{"invalid artifact", func() error { _, _, err := r.Put(ctx, "fraud", "2", data[:10], PutOptions{}); return err }, ErrInvalidArtifact, "truncated"},
		{"invalid name (client side)", func() error { _, _, err := r.Put(ctx, "../x", "2", data, PutOptions{}); return err }, ErrInvalidName, `"../x"`},
		{"set current unknown", func() error { return r.SetCurrent(ctx, "fraud", "9") }, ErrNotFound, `no version "9"`},
		{"no token", func() error { _, _, err := noToken.Put(ctx, "fraud", "2", data, PutOptions{}); return err }, ErrUnauthorized, "NORMGUARD_TOKEN"},
		{"wrong token", func() error { return wrongToken.SetCurrent(ctx, "fraud", "1") }, ErrUnauthorized, "NORMGUARD_TOKEN"},
	}
	for _, tc := range cases {
		err := tc.call()
		// Names are checked before any request; server answers name the URL.
		clientSide := errors.Is(tc.is, ErrInvalidName)
		if !errors.Is(err, tc.is) || !strings.Contains(err.Error(), tc.want) || !clientSide && !strings.Contains(err.Error(), srv.URL) {
			t.Errorf("%s: got %v, want %v naming %s and saying %s", tc.name, err, tc.is, srv.URL, tc.want)
		}
	}
	// Reads need no token.
	if _, _, err := noToken.Get(ctx, "fraud", ""); err != nil {
		t.Errorf("Get without a token: %v", err)
	}
}

func TestRemoteUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	ln.Close()
	_, err = Dial(url, "", nil).List(context.Background())
	if err == nil || !strings.Contains(err.Error(), "cannot reach") || !strings.Contains(err.Error(), url) {
		t.Errorf("got %v, want an error saying the server at %s cannot be reached", err, url)
	}
}

func TestRemoteForeignAnswers(t *testing.T) {
	ctx := context.Background()
	data := fitArtifact(t, "fraud", "1", 1)
	other := fitArtifact(t, "fraud", "1", 2)
	l, _ := openTemp(t)
	mustPut(t, l, "fraud", "1", data, PutOptions{})
	reg := Handler(l)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /proxy-error/v1/models", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "502 bad gateway from the proxy", http.StatusBadGateway)
	})
	mux.HandleFunc("GET /html/v1/models", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("<html>hello</html>"))
	})
	// A server sending other bytes than the version it lists.
	mux.HandleFunc("GET /tamper/v1/models/fraud", func(w http.ResponseWriter, r *http.Request) {
		r.URL.Path = strings.TrimPrefix(r.URL.Path, "/tamper")
		reg.ServeHTTP(w, r)
	})
	mux.HandleFunc("GET /tamper/v1/models/fraud/versions/1/artifact", func(w http.ResponseWriter, r *http.Request) {
		w.Write(other)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	cases := []struct {
		name, base string
		call       func(*Remote) error
		want       string
	}{
		{"plain-text error", "/proxy-error", func(r *Remote) error { _, err := r.List(ctx); return err }, "502 bad gateway from the proxy (HTTP 502)"},
		{"not JSON", "/html", func(r *Remote) error { _, err := r.List(ctx); return err }, "is this a normguard server?"},
		{"other bytes", "/tamper", func(r *Remote) error { _, _, err := r.Get(ctx, "fraud", ""); return err }, "the server sent artifact " + digestOf(t, other)},
	}
	for _, tc := range cases {
		if err := tc.call(Dial(srv.URL+tc.base, "", nil)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error saying %q", tc.name, err, tc.want)
		}
	}
}

func TestOpenTarget(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		target string
		remote bool
	}{
		{"http://localhost:8080", true},
		{"HTTPS://example.com/reg", true},
		{dir, false},
		{"./http-folder", false},
	}
	for _, tc := range cases {
		target := tc.target
		if target == "./http-folder" {
			target = dir + "/http-folder"
		}
		s, err := OpenTarget(target, "tok")
		if err != nil {
			t.Fatalf("OpenTarget(%s): %v", target, err)
		}
		_, isRemote := s.(*Remote)
		if isRemote != tc.remote {
			t.Errorf("OpenTarget(%s): got %T, want remote=%v", target, s, tc.remote)
		}
	}
}

// listOnly hides Local's Model method, so Handler falls back to List.
type listOnly struct{ Store }

func TestHandlerModel(t *testing.T) {
	l, _ := openTemp(t)
	mustPut(t, l, "fraud", "1", fitArtifact(t, "fraud", "1", 1), PutOptions{})
	mustPut(t, l, "fraud", "2", fitArtifact(t, "fraud", "2", 2), PutOptions{KeepCurrent: true})
	mustPut(t, l, "other", "1", fitArtifact(t, "", "", 3), PutOptions{})
	want, _ := l.List(context.Background())
	for name, s := range map[string]Store{"Local": l, "List fallback": listOnly{l}} {
		srv := httptest.NewServer(Handler(s))
		var m Model
		get(t, srv.URL+"/v1/models/fraud", http.StatusOK, &m)
		if !equalJSON(t, m, want[0]) {
			t.Errorf("%s: GET /v1/models/fraud = %+v, want %+v", name, m, want[0])
		}
		var eb errorBody
		get(t, srv.URL+"/v1/models/nope", http.StatusNotFound, &eb)
		if eb.Error.Code != CodeNotFound {
			t.Errorf("%s: GET /v1/models/nope: code %q, want %q", name, eb.Error.Code, CodeNotFound)
		}
		srv.Close()
	}
}
