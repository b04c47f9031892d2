package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
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

// TestVecstateJournalHeaderDamaged (attack run 36 F9): a journal whose
// header line was damaged was recovered as the snapshot alone, every
// batch behind the header dropped though each verified, and counted as
// batches_lost=0. Where the header's generation, run and acknowledged
// length still verify under their checksum the batches are kept; where
// they do not, each batch that verifies is counted lost.
func TestVecstateJournalHeaderDamaged(t *testing.T) {
	f := newJournalFixture(t, 0)
	posted := map[string]int64{"p": 10 + 30, "q": 20}
	f.post("p", f.rest[:10])
	f.post("q", f.rest[10:30])
	f.post("p", f.rest[30:60])
	files := stateFiles(t, f.state)
	nl := bytes.IndexByte(files[".journal"], '\n')
	damageHeader := func(edit func(head []byte)) func(state string) error {
		return func(state string) error {
			j := bytes.Clone(files[".journal"])
			edit(j[:nl])
			return os.WriteFile(state+".journal", j, 0o600)
		}
	}
	t.Run("format bit flipped", func(t *testing.T) {
		ts, log, _ := recoverFrom(t, f, files, damageHeader(func(head []byte) { head[3] ^= 0x01 }))
		kept := keptRows(t, ts)
		for p, n := range posted {
			if kept[p] != n {
				t.Errorf("producer %s: %d vectors kept; want the %d posted (each batch verifies)\n%s", p, kept[p], n, log)
			}
		}
		if n := logCount(t, log, `batches_lost=(\d+)`); n != 0 {
			t.Errorf("batches_lost=%d; want 0", n)
		}
	})
	t.Run("whole header overwritten", func(t *testing.T) {
		ts, log, _ := recoverFrom(t, f, files, damageHeader(func(head []byte) {
			for i := range head {
				head[i] = 'x'
			}
		}))
		if kept := keptRows(t, ts); kept["p"]+kept["q"] != 0 {
			t.Errorf("kept %v of a journal whose generation cannot be read; want nothing kept beyond the empty snapshot", kept)
		}
		if n := logCount(t, log, `batches_lost=(\d+)`); n != 3 {
			t.Errorf("batches_lost=%d; want the 3 batches behind the header\n%s", n, log)
		}
		var named int64
		for _, p := range []string{"p", "q"} {
			for _, m := range regexp.MustCompile(`(?m)^.*named by a batch.*producer \\"`+p+`\\".*vectors_lost=(\d+)`).FindAllStringSubmatch(log.String(), -1) {
				n, _ := strconv.ParseInt(m[1], 10, 64)
				named += n
			}
		}
		if named != posted["p"]+posted["q"] {
			t.Errorf("the batches named lost count %d vectors; want the %d posted\n%s", named, posted["p"]+posted["q"], log)
		}
	})
}

// TestVecstateAnotherStatesFiles (attack run 36 F1): another server's
// vector journal (and snapshot) copied beside a state's marker was taken
// as the state's own, silently: its vectors reported as this server's and
// this one's lost unreported. The files carry the state's id; another's
// is refused at start naming the file, and --state-recover leaves it out.
func TestVecstateAnotherStatesFiles(t *testing.T) {
	a := newJournalFixture(t, 0)
	a.post("a", a.rest[:30])
	own := stateFiles(t, a.state)
	// Another server B on the same registry: its first run, as A's (the
	// same start number and generation), or with each batch folded into
	// its snapshot.
	other := func(compactAt int64) map[string][]byte {
		state := filepath.Join(t.TempDir(), "monitor.db.vectors.json")
		bs, b := vectorServer(t, a.store, state, &a.now)
		bs.vectors.compactAt = compactAt
		postVectors(t, b, "a", a.rest[:50])
		postVectors(t, b, "evil", a.rest[50:100])
		return stateFiles(t, state)
	}
	for _, c := range []struct {
		name, file string
		compactAt  int64
	}{
		{"journal", ".journal", 0},
		{"snapshot", "", 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			other := other(c.compactAt)
			files := map[string][]byte{".mark": own[".mark"], "": own[""], ".journal": own[".journal"]}
			files[c.file] = other[c.file]
			if c.file == "" {
				files[".journal"] = other[".journal"] // a clean stop's copy: both
			}
			state := filepath.Join(t.TempDir(), "monitor.db.vectors.json")
			for ext, data := range files {
				if err := os.WriteFile(state+ext, data, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			_, err := New(Config{Registry: a.store, VectorState: state, VectorWindow: time.Hour})
			if !errors.Is(err, ErrVectorStateDamaged) || !strings.Contains(err.Error(), filepath.Base(state+c.file)+" belongs to another vector state") {
				t.Fatalf("got %v; want it refused, naming %s as another state's", err, filepath.Base(state+c.file))
			}
			var log bytes.Buffer
			s, err := New(Config{Registry: a.store, VectorState: state, VectorStateRecover: true, VectorWindow: time.Hour,
				Logger: slog.New(slog.NewTextHandler(&log, nil))})
			if err != nil {
				t.Fatalf("--state-recover: %v", err)
			}
			s.vectors.now = func() time.Time { return a.now }
			ts := httptest.NewServer(s.Handler())
			defer ts.Close()
			if kept := keptRows(t, ts); kept["evil"] != 0 || kept["a"] > 30 {
				t.Errorf("kept %v; want none of the other state's vectors (evil 0, a at most this state's 30)\n%s", kept, log.String())
			}
		})
	}
}
