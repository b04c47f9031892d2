package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/normguard/normguard/monitor"
	"github.com/normguard/normguard/quickstart"
	"github.com/normguard/normguard/registry"
)

// quickstartArtifact returns the quickstart's artifact bytes (model
// flight-delay).
func quickstartArtifact(t *testing.T) []byte {
	t.Helper()
	dir := t.TempDir()
	if _, err := quickstart.Run(context.Background(), filepath.Join(dir, "qs"), io.Discard); err != nil {
		t.Fatal(err)
	}
	art, err := os.ReadFile(filepath.Join(dir, "qs", quickstart.Files.Artifact))
	if err != nil {
		t.Fatal(err)
	}
	return art
}

// syncBuffer is a log destination safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// peersOfItself starts a server whose peers are given by peers(its own
// URL), logging to the returned buffer.
func peersOfItself(t *testing.T, art []byte, peers func(self string) []string) (*httptest.Server, *syncBuffer) {
	t.Helper()
	dir := t.TempDir()
	store, err := registry.Open(filepath.Join(dir, "reg"))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := store.Put(context.Background(), "flight-delay", "v1", art, registry.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	mon, err := monitor.Open(filepath.Join(dir, "monitor.db"), monitor.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var h http.Handler
	var ready sync.WaitGroup
	ready.Add(1)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ready.Wait()
		h.ServeHTTP(w, r)
	}))
	logs := &syncBuffer{}
	s, err := New(Config{Registry: store, Monitor: mon, Token: "t", Peers: peers(ts.URL), Logger: slog.New(slog.NewTextHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	h = s.Handler()
	ready.Done()
	t.Cleanup(func() { ts.Close(); mon.Close() })
	return ts, logs
}

// TestPeersListedTwiceRefused: --peers naming one replica twice, spelled
// alike or not (a trailing slash, the host's case, the default port), is
// refused when the server is made, naming both; distinct replicas are not.
func TestPeersListedTwiceRefused(t *testing.T) {
	dir := t.TempDir()
	store, err := registry.Open(filepath.Join(dir, "reg"))
	if err != nil {
		t.Fatal(err)
	}
	mon, err := monitor.Open(filepath.Join(dir, "monitor.db"), monitor.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer mon.Close()
	for _, tc := range []struct {
		peers []string
		want  string // "" accepted
	}{
		{[]string{"http://h:8080", "http://h:8080/"}, `"http://h:8080" and "http://h:8080/", the same replica (http://h:8080)`},
		{[]string{"http://h:8080/", "HTTP://H:8080//"}, "the same replica (http://h:8080)"},
		{[]string{"http://h", "http://h:80"}, "the same replica (http://h:80)"},
		{[]string{"https://h/base/", "https://h:443/base"}, "the same replica (https://h:443/base)"},
		{[]string{"http://[::1]:9/", "http://[::1]:9"}, "the same replica (http://[::1]:9)"},
		{[]string{"http://h:8080", "http://h:8081", "https://h:8080", "http://h:8080/other"}, ""},
		{[]string{"http://h:8080?x=1"}, "no query or fragment"},
		{[]string{"http://u:p@h:8080"}, "not a user in the URL"},
		{[]string{"ftp://h"}, "http or https"},
	} {
		_, err := New(Config{Registry: store, Monitor: mon, Token: "t", Peers: tc.peers})
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%q: %v", tc.peers, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%q: got %v, want an error with %q", tc.peers, err, tc.want)
		}
	}
}

// TestPeersItselfSkipped: a server listed among its own peers (by its
// URL, or by another name of it) merges its window once: /drift reports
// the rows posted, not twice them, names the peer as skipped, and the log
// says so once.
func TestPeersItselfSkipped(t *testing.T) {
	art := quickstartArtifact(t)
	for _, tc := range []struct {
		name  string
		peers func(self string) []string
	}{
		{"its own URL", func(self string) []string { return []string{self} }},
		{"another name", func(self string) []string {
			u, _ := url.Parse(self)
			return []string{"http://localhost:" + u.Port()}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts, logs := peersOfItself(t, art, tc.peers)
			if code, out := send(t, http.MethodPost, ts.URL+"/v1/models/flight-delay/observations", "", flightRows(1, 9)); code != http.StatusOK {
				t.Fatalf("observations: %d %s", code, out)
			}
			for i := 0; i < 2; i++ {
				code, out := send(t, http.MethodGet, ts.URL+"/v1/models/flight-delay/drift", "", nil)
				if code != http.StatusOK {
					t.Fatalf("drift: %d %s", code, out)
				}
				var ans struct {
					Window   monitor.Window `json:"window"`
					Replicas []peerState    `json:"replicas"`
				}
				if err := json.Unmarshal(out, &ans); err != nil {
					t.Fatal(err)
				}
				if ans.Window.Rows != 9 || len(ans.Replicas) != 2 || ans.Replicas[0].Rows != 9 || ans.Replicas[1].Skipped == "" || ans.Replicas[1].Rows != 0 {
					t.Errorf("window rows %d, replicas %+v; want 9 rows, this replica's and the peer skipped", ans.Window.Rows, ans.Replicas)
				}
			}
			if n := strings.Count(logs.String(), "--peers lists this server itself"); n != 1 {
				t.Errorf("log has %d lines about the server itself, want 1:\n%s", n, logs.String())
			}
		})
	}
}

// TestPeersSameReplicaTwice: two names of one other replica (not the same
// URL normalized) make /drift fail with 502 peer_duplicate naming both,
// rather than count its rows twice; the same replica once merges.
func TestPeersSameReplicaTwice(t *testing.T) {
	art := quickstartArtifact(t)
	b := peerServer(t, art, nil)
	u, err := url.Parse(b.URL)
	if err != nil {
		t.Fatal(err)
	}
	alias := "http://localhost:" + u.Port()
	a := peerServer(t, art, []string{b.URL, alias})
	for _, ts := range []*httptest.Server{a, b} {
		if code, out := send(t, http.MethodPost, ts.URL+"/v1/models/flight-delay/observations", "", flightRows(2, 9)); code != http.StatusOK {
			t.Fatalf("observations: %d %s", code, out)
		}
	}
	code, out := send(t, http.MethodGet, a.URL+"/v1/models/flight-delay/drift", "", nil)
	if code != http.StatusBadGateway || !bytes.Contains(out, []byte(`"peer_duplicate"`)) || !bytes.Contains(out, []byte("peer "+b.URL)) ||
		!bytes.Contains(out, []byte("peer "+alias)) || !bytes.Contains(out, []byte("same monitoring store")) {
		t.Errorf("drift with one replica listed under two names: %d %s; want 502 peer_duplicate naming both", code, out)
	}
	once := peerServer(t, art, []string{b.URL})
	send(t, http.MethodPost, once.URL+"/v1/models/flight-delay/observations", "", flightRows(3, 9))
	if code, out := send(t, http.MethodGet, once.URL+"/v1/models/flight-delay/drift", "", nil); code != http.StatusOK || !bytes.Contains(out, []byte(`"rows":18`)) {
		t.Errorf("drift with the replica once: %d %.300s; want 200 with 18 rows", code, out)
	}
}

// TestPeersInflatedExportRefused: a peer answering an export whose window
// rows were multiplied by 1000 (and digested again) makes /drift fail with
// 502 peer_invalid_export naming the peer and windows[0].rows; so does a
// peer answering windows of another model.
func TestPeersInflatedExportRefused(t *testing.T) {
	art := quickstartArtifact(t)
	src := peerServer(t, art, nil)
	send(t, http.MethodPost, src.URL+"/v1/models/flight-delay/observations", "", flightRows(4, 20))
	code, raw := send(t, http.MethodGet, src.URL+"/v1/models/flight-delay/window-state", "t", nil)
	if code != http.StatusOK {
		t.Fatalf("window-state: %d %s", code, raw)
	}
	for _, tc := range []struct {
		name string
		edit func(ex *monitor.Export)
		want string
	}{
		{"rows x1000", func(ex *monitor.Export) { ex.Windows[0].Rows *= 1000 }, "windows[0].rows: 20000, but its feature counting the most rows"},
		{"another model", func(ex *monitor.Export) { ex.Windows[0].Model = "other" }, `windows[0].model: "other", but the peer was asked for the windows of model "flight-delay"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ex monitor.Export
			if err := json.Unmarshal(raw, &ex); err != nil {
				t.Fatal(err)
			}
			ex.Store = "fake" // another replica
			tc.edit(&ex)
			body, err := json.Marshal(ex) // digested again
			if err != nil {
				t.Fatal(err)
			}
			fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.Write(body)
			}))
			defer fake.Close()
			a := peerServer(t, art, []string{fake.URL})
			send(t, http.MethodPost, a.URL+"/v1/models/flight-delay/observations", "", flightRows(5, 9))
			code, out := send(t, http.MethodGet, a.URL+"/v1/models/flight-delay/drift", "", nil)
			var ans struct {
				Error struct{ Code, Message string } `json:"error"`
			}
			json.Unmarshal(out, &ans)
			if code != http.StatusBadGateway || ans.Error.Code != "peer_invalid_export" || !strings.Contains(ans.Error.Message, fake.URL) || !strings.Contains(ans.Error.Message, tc.want) {
				t.Errorf("drift: %d %s\nwant 502 peer_invalid_export naming %s and %q", code, out, fake.URL, tc.want)
			}
		})
	}
}
