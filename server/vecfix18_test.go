package server

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"
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
	s.vectors.mu.Lock()
	n := len(s.vectors.m)
	s.vectors.mu.Unlock()
	if n != 0 {
		t.Errorf("%d producers kept in memory with monitoring off; want none", n)
	}
}
