package server

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/normguard/normguard/monitor"
	"github.com/normguard/normguard/quickstart"
)

// TestPeersHostileAnswers: a peer's window state is asked uncompressed
// and bounded (attack run 9: Go's client asked for gzip and inflated it
// unseen, so a 1 MB answer cost the replica about 700 MB a /drift, and
// eight concurrent /drift requests, which need no token, ran it out of
// memory). A gzip-encoded answer and one past MaxPeerExportBytes are a
// 502 peer_invalid_export naming the peer; merges run one at a time.
func TestPeersHostileAnswers(t *testing.T) {
	dir := t.TempDir()
	if _, err := quickstart.Run(context.Background(), filepath.Join(dir, "qs"), io.Discard); err != nil {
		t.Fatal(err)
	}
	art, err := os.ReadFile(filepath.Join(dir, "qs", quickstart.Files.Artifact))
	if err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(bytes.Repeat([]byte(" "), 16<<20))
	zw.Close()
	askedIdentity := false
	peers := map[string]http.HandlerFunc{
		"gzip": func(w http.ResponseWriter, r *http.Request) {
			askedIdentity = r.Header.Get("Accept-Encoding") == "identity"
			w.Header().Set("Content-Encoding", "gzip")
			w.Write(gz.Bytes())
		},
		"endless": func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, `{"format": 2, "windows": [`)
			space := bytes.Repeat([]byte(" "), 1<<20)
			for i := int64(0); i <= maxPeerExport>>20+1; i++ {
				if _, err := w.Write(space); err != nil {
					return
				}
			}
		},
	}
	defer func(m int64) { maxPeerExport = m }(maxPeerExport)
	maxPeerExport = 4 << 20 // the bound's logic, without 64 MB through the race detector
	for name, h := range peers {
		peer := httptest.NewServer(h)
		a := peerServer(t, art, []string{peer.URL})
		send(t, http.MethodPost, a.URL+"/v1/models/flight-delay/observations", "", flightRows(1, 20))
		code, out := send(t, http.MethodGet, a.URL+"/v1/models/flight-delay/drift", "", nil)
		want := map[string]string{"gzip": "gzip-encoded", "endless": "larger than 4194304 bytes"}[name]
		if code != http.StatusBadGateway || !bytes.Contains(out, []byte("peer_invalid_export")) || !bytes.Contains(out, []byte(want)) || !bytes.Contains(out, []byte(peer.URL)) {
			t.Errorf("%s peer: %d %.400s; want 502 peer_invalid_export saying %q and naming the peer", name, code, out, want)
		}
		peer.Close()
	}
	if !askedIdentity {
		t.Error("the peer was not asked for an uncompressed answer (Accept-Encoding: identity)")
	}

	// A merge waits for the one running; its deadline passed, it is a 503.
	busy := &Server{merging: make(chan struct{}, 1)}
	busy.merging <- struct{}{}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = busy.mergeSlot(ctx)
	var ae *apiError
	if !errors.As(err, &ae) || ae.status != http.StatusServiceUnavailable || !strings.Contains(ae.Error(), "another /drift") {
		t.Errorf("a merge while another runs, its deadline passed: %v, want 503 busy", err)
	}
}

// TestPeersWindowAhead: a peer's window that starts ahead of this
// replica's clock by more than a window and an hour (a forged export, or
// a peer whose clock runs ahead) is a 502 naming it: a window dated 2199
// became the latest and took over /drift, and the real open window was
// never judged (attack run 9, F2).
func TestPeersWindowAhead(t *testing.T) {
	dir := t.TempDir()
	if _, err := quickstart.Run(context.Background(), filepath.Join(dir, "qs"), io.Discard); err != nil {
		t.Fatal(err)
	}
	art, err := os.ReadFile(filepath.Join(dir, "qs", quickstart.Files.Artifact))
	if err != nil {
		t.Fatal(err)
	}
	at := func(t time.Time) func() time.Time { return func() time.Time { return t } }
	now := time.Date(2026, 3, 5, 10, 30, 0, 0, time.UTC)
	for _, c := range []struct {
		peerAhead time.Duration
		want      int
	}{{time.Hour, http.StatusOK}, {3 * time.Hour, http.StatusBadGateway}} {
		b, _ := peerServerWith(t, art, nil, monitor.Options{Now: at(now.Add(c.peerAhead)), Window: time.Hour, EvalInterval: time.Hour})
		a, _ := peerServerWith(t, art, []string{b.URL}, monitor.Options{Now: at(now), Window: time.Hour, EvalInterval: time.Hour})
		for _, u := range []string{a.URL, b.URL} {
			if code, out := send(t, http.MethodPost, u+"/v1/models/flight-delay/observations", "", flightRows(3, 20)); code != http.StatusOK {
				t.Fatalf("observations: %d %s", code, out)
			}
		}
		code, out := send(t, http.MethodGet, a.URL+"/v1/models/flight-delay/drift", "", nil)
		if code != c.want {
			t.Errorf("peer %v ahead: %d %.300s, want %d", c.peerAhead, code, out, c.want)
		}
		if c.want != http.StatusOK && (!bytes.Contains(out, []byte("peer_invalid_export")) || !bytes.Contains(out, []byte("ahead of this replica's clock"))) {
			t.Errorf("peer %v ahead: %s, want peer_invalid_export naming the clock", c.peerAhead, out)
		}
	}
}
