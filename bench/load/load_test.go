package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// The connection client sends the prepared request bytes and reads
// answers of either framing, and dials again when the server closes.
func TestConnDo(t *testing.T) {
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Method != http.MethodPost || r.URL.Path != "/v1/models/m/transform" || r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, "unexpected "+r.Method+" "+r.URL.Path, http.StatusTeapot)
			return
		}
		switch string(body) {
		case "close":
			w.Header().Set("Connection", "close")
		case "chunked":
			w.Write(bytes.Repeat([]byte("x"), 10000))
			w.(http.Flusher).Flush()
		}
		w.Write(body)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	u, err := checkTarget(srv.URL + "/v1/models/m/transform")
	if err != nil {
		t.Fatal(err)
	}
	c := newConn(u)
	defer c.close()
	for i, tc := range []struct{ body, want string }{
		{"a", "a"}, {"bb", "bb"}, {"close", "close"}, {"chunked", strings.Repeat("x", 10000) + "chunked"}, {"c", "c"},
	} {
		status, got, err := c.do(requestBytes(u, []byte(tc.body)), 5*time.Second)
		if err != nil || status != http.StatusOK || string(got) != tc.want {
			t.Fatalf("request %d (%q): status %d, body %q (%d bytes), err %v", i, tc.body, status, got[:min(len(got), 40)], len(got), err)
		}
	}
	// One connection until the server closed it, then a second.
	if n := conns.Load(); n != 2 {
		t.Errorf("%d connections, want 2", n)
	}
}

func TestCheckTarget(t *testing.T) {
	for _, bad := range []string{"https://h/x", "h:80/x", "http://h:x/y"} {
		if _, err := checkTarget(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// A short run against a fake server counts every request once; the dump
// has them in due order, each sent at or after its due time and answered
// after it was sent.
func TestRunCountsEveryRequest(t *testing.T) {
	var got atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/transform") {
			got.Add(1)
		}
		io.Copy(io.Discard, r.Body)
		w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	dir := t.TempDir()
	rows := filepath.Join(dir, "rows.csv")
	if err := os.WriteFile(rows, []byte("a,b\n1,x\n,y\n2.5,\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, client := range []string{"conn", "std"} {
		for _, pacing := range []string{"timer", "sleep"} {
			got.Store(0)
			dump := filepath.Join(dir, client+pacing+".csv")
			o := options{url: srv.URL, model: "m", rows: rows, rate: 400, batch: 1, duration: 250 * time.Millisecond,
				workers: 4, endpoint: "transform", client: client, pacing: pacing, dump: dump, result: "t"}
			var out bytes.Buffer
			if err := run(context.Background(), o, &out); err != nil {
				t.Fatalf("%s/%s: %v\n%s", client, pacing, err, out.String())
			}
			if got.Load() != 100 || !strings.Contains(out.String(), "100 ok, 0 failed") {
				t.Errorf("%s/%s: server saw %d requests, want 100\n%s", client, pacing, got.Load(), out.String())
			}
			checkDump(t, client+"/"+pacing, dump, 100, 2.5)
		}
	}
}

// checkDump checks a -dump file of n requests due every gap ms.
func checkDump(t *testing.T, name, path string, n int, gap float64) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil || len(recs) != n+1 {
		t.Fatalf("%s: dump has %d lines (%v), want %d", name, len(recs), err, n+1)
	}
	for i, r := range recs[1:] {
		due, err1 := strconv.ParseFloat(r[0], 64)
		late, err2 := strconv.Atoi(r[1])
		lat, err3 := strconv.Atoi(r[2])
		if err := errors.Join(err1, err2, err3); err != nil {
			t.Fatalf("%s: line %d %q: %v", name, i+1, r, err)
		}
		if math.Abs(due-gap*float64(i)) > 1e-3 || late < 0 || late > lat {
			t.Fatalf("%s: line %d: due %v ms (want %v), late %d µs, latency %d µs", name, i+1, due, gap*float64(i), late, lat)
		}
	}
}
