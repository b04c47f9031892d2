package server

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
)

// readMarkerFile decodes the vector marker beside state.
func readMarkerFile(t *testing.T, state string) vectorMarker {
	t.Helper()
	data, err := os.ReadFile(state + ".mark")
	if err != nil {
		t.Fatal(err)
	}
	var mk vectorMarker
	if err := json.Unmarshal(data, &mk); err != nil {
		t.Fatal(err)
	}
	return mk
}

// TestVecstateMarkerCountsItsFrame (attack run 36 F5): the marker written
// every 64 KiB of journal acknowledged a request's frame but counted the
// vectors from before the frame was applied, so a recovery reported 0 of
// 1,000 lost vectors that its acknowledged length covered.
func TestVecstateMarkerCountsItsFrame(t *testing.T) {
	f := newJournalFixture(t, 0)
	f.post("p", f.rest[:10])
	var big [][]float64
	for len(big) < 1000 {
		big = append(big, f.rest...)
	}
	big = big[:1000]
	f.post("p", big) // one frame of well over markEvery bytes: the marker is written again
	mk := readMarkerFile(t, f.state)
	j, err := os.ReadFile(f.state + ".journal")
	if err != nil {
		t.Fatal(err)
	}
	if mk.Acked != int64(len(j)) {
		t.Fatalf("the marker acknowledges %d bytes of a %d-byte journal; want the whole journal (the 1,000-vector frame is past markEvery)", mk.Acked, len(j))
	}
	var n int64
	for k, v := range mk.Vectors {
		if strings.HasSuffix(k, fmt.Sprintf("producer %q", "p")) {
			n += v
		}
	}
	if n != 1010 {
		t.Errorf("the marker counts %d vectors of producer p at its acknowledged length; want the 1,010 posted (%v)", n, mk.Vectors)
	}
}

// TestVecstateMarkerDamageWords (attack run 36 F8): a damaged vector
// marker was described in Go's decoder terms ("json: cannot unmarshal
// array into Go value of type server.vectorMarker"); it is described in
// the file's.
func TestVecstateMarkerDamageWords(t *testing.T) {
	f := newJournalFixture(t, 0)
	f.post("reader", f.rest[:20])
	for _, c := range []struct{ name, data, want string }{
		{"empty", ``, "it is empty (0 bytes)"},
		{"an array", "[1]\n", "it is a JSON array, where a vector marker is an object"},
		{"a string run", `{"format":"normguard-vector-mark/1","run":"1"}`, `its field "run" holds a JSON string, where a vector marker holds a number`},
		{"cut short", `{"format":"normguard-vector-mark/1","ru`, "it is cut short after 39 bytes"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if err := os.WriteFile(f.state+".mark", []byte(c.data), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := f.restart(false)
			if err == nil {
				t.Fatal("the damaged marker was taken")
			}
			msg := err.Error()
			if !strings.Contains(msg, c.want) || !strings.Contains(msg, ".mark") {
				t.Errorf("got %q, want it to name the marker and say %q", msg, c.want)
			}
			for _, goTerm := range []string{"json:", "Go value", "Go struct", "unexpected end of JSON input", "vectorMarker"} {
				if strings.Contains(msg, goTerm) {
					t.Errorf("the message names the decoder's %q: %s", goTerm, msg)
				}
			}
		})
	}
}
