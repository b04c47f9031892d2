package registry

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// noGet is a Local whose Get fails the test: the handler must serve
// downloads from the artifact file (OpenArtifact), not from Get's bytes.
type noGet struct {
	*Local
	t *testing.T
}

func (s noGet) Get(ctx context.Context, model, version string) ([]byte, Version, error) {
	s.t.Errorf("Get(%s@%s) was called: the download was read whole", model, version)
	return s.Local.Get(ctx, model, version)
}

// bigArtifact returns a generated artifact of about mb MiB (the wide
// shape of TestUploadMemoryIsFlat).
func bigArtifact(t *testing.T, mb int) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "big.json")
	writeBigArtifact(t, path, "", int64(mb)<<20)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// totalAlloc returns the bytes the process allocated so far.
func totalAlloc() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.TotalAlloc
}

// TestDownloadIsStreamedFromTheFile (attack run 16, F9): the handler
// read each downloaded artifact whole and held it while the client read
// it: 20 slow clients of an 80 MB artifact took the server to 2 GB. A
// download is now sent from the verified artifact file: 20 concurrent
// slow downloads of a 4 MB artifact allocate less than one artifact's
// size in all (they allocated 20 times it), and the bytes are the
// artifact's.
func TestDownloadIsStreamedFromTheFile(t *testing.T) {
	data := bigArtifact(t, 4)
	l, _ := openTemp(t)
	v, _ := mustPut(t, l, "big", "1", data, PutOptions{})
	// Older than racyMargin: the first download's verification vouches
	// for the next ones.
	blob, _ := l.blobPath(v.Digest)
	age(t, blob)
	srv := httptest.NewServer(Handler(noGet{l, t}))
	defer srv.Close()
	u := srv.URL + "/v1/models/big/versions/current/artifact"

	// download reads the artifact into buf, which holds exactly its bytes
	// (allocated by the caller: a growing buffer's copies, which depend on
	// how the reads fall, made the measurement below flaky under -race).
	download := func(slow bool, buf []byte) ([]byte, http.Header, error) {
		resp, err := http.Get(u)
		if err != nil {
			return nil, nil, err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil, nil, fmt.Errorf("status %d", resp.StatusCode)
		}
		at := 0
		if slow {
			// Read a piece, wait, read the rest: the server holds the
			// download open meanwhile.
			if at, err = io.ReadFull(resp.Body, buf[:64<<10]); err != nil {
				return nil, nil, err
			}
			time.Sleep(200 * time.Millisecond)
		}
		n, err := io.ReadFull(resp.Body, buf[at:])
		if err != nil {
			return buf[:at+n], nil, err
		}
		var one [1]byte
		if k, _ := resp.Body.Read(one[:]); k != 0 {
			return buf, nil, fmt.Errorf("the body is longer than the artifact")
		}
		return buf, resp.Header, nil
	}
	// The first download verifies the file (once: its identity is then
	// remembered).
	got, h, err := download(false, make([]byte, len(data)))
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("download: %d bytes (%v), want the %d of the artifact", len(got), err, len(data))
	}
	if h.Get(DigestHeader) != v.Digest || h.Get("Content-Length") != fmt.Sprint(len(data)) || h.Get("Normguard-Model-Version") != "1" {
		t.Errorf("headers %v, want digest %s, Content-Length %d, version 1", h, v.Digest, len(data))
	}

	const clients = 20
	// The clients' buffers are allocated before the measurement.
	bufs := make([][]byte, clients)
	for i := range bufs {
		bufs[i] = make([]byte, len(data))
	}
	runtime.GC()
	before := totalAlloc()
	var wg sync.WaitGroup
	errs := make([]error, clients)
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			bufs[i], _, errs[i] = download(true, bufs[i])
		}()
	}
	wg.Wait()
	grown := totalAlloc() - before
	for i := range clients {
		if errs[i] != nil || !bytes.Equal(bufs[i], data) {
			t.Fatalf("download %d: %d bytes (%v)", i, len(bufs[i]), errs[i])
		}
	}
	t.Logf("%d downloads of %d bytes allocated %d bytes", clients, len(data), grown)
	if grown > uint64(len(data)) {
		t.Errorf("%d downloads of %d bytes allocated %d bytes besides the clients' buffers: the server held the artifact", clients, len(data), grown)
	}

	resp, err := http.Head(u)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.ContentLength != int64(len(data)) || len(body) != 0 {
		t.Errorf("HEAD: %d, Content-Length %d, %d bytes of body; want 200, %d, none", resp.StatusCode, resp.ContentLength, len(body), len(data))
	}
}

// TestDownloadChecksTheFile: a download served from the artifact file
// keeps every check Get makes (a regular file, the version's digest,
// this model's artifact), also once the file verified before: a file
// changed since is verified again, and a verified file named by another
// model's version is refused.
func TestDownloadChecksTheFile(t *testing.T) {
	ctx := context.Background()
	l, dir := openTemp(t)
	one, two := fitArtifact(t, "m1", "1", 1), fitArtifact(t, "m1", "2", 2)
	v1, _ := mustPut(t, l, "m1", "1", one, PutOptions{})
	v2, _ := mustPut(t, l, "m1", "2", two, PutOptions{})
	mustPut(t, l, "m2", "1", fitArtifact(t, "", "", 3), PutOptions{})
	srv := httptest.NewServer(Handler(noGet{l, t}))
	defer srv.Close()
	status := func(path string) (int, string) {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var eb errorBody
		if json.Unmarshal(b, &eb) == nil && eb.Error.Code != "" {
			return resp.StatusCode, eb.Error.Code + ": " + eb.Error.Message
		}
		return resp.StatusCode, string(b)
	}
	p1, _ := l.blobPath(v1.Digest)
	p2, _ := l.blobPath(v2.Digest)
	age(t, p1)
	for _, p := range []string{"/v1/models/m1/versions/1/artifact", "/v1/models/m1/versions/2/artifact"} {
		if code, body := status(p); code != http.StatusOK {
			t.Fatalf("GET %s: %d %s", p, code, body)
		}
	}
	cases := []struct {
		name   string
		damage func()
		want   string
	}{
		{"replaced by version 1's", func() { writeFile(t, p2, one) }, "not the " + v2.Digest + " the version records"},
		{"cut short in place", func() { writeFile(t, p2, two[:len(two)/2]) }, "is damaged"},
		{"missing", func() { os.Remove(p2) }, "is missing from the registry folder"},
		{"a folder", func() { os.Remove(p2); os.Mkdir(p2, 0o755) }, "not a regular file"},
		// m2's version file copied from m1's: its blob verified for
		// m1 is not served as m2's.
		// Changed in place within its modification time: the
		// verification of a file that recent vouched for nothing.
		{"changed keeping its time", func() {
			os.Remove(p2)
			writeFile(t, p2, two)
			st, err := os.Stat(p2)
			if err != nil {
				t.Fatal(err)
			}
			if code, body := status("/v1/models/m1/versions/2/artifact"); code != http.StatusOK {
				t.Fatalf("a fresh artifact: %d %s", code, body)
			}
			f, err := os.OpenFile(p2, os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			f.WriteAt([]byte("XX"), int64(len(two)/2))
			f.Close()
			os.Chtimes(p2, st.ModTime(), st.ModTime())
		}, "read m1@2: the stored artifact"},
		{"another model's", func() {
			writeFile(t, filepath.Join(dir, "models/m2/versions/1.json"), mustRead(t, filepath.Join(dir, "models/m1/versions/1.json")))
			l.versions = map[versionKey]versionFile{}
		}, `fitted for model "m1"`},
	}
	for _, c := range cases {
		os.RemoveAll(p2)
		writeFile(t, p2, two)
		age(t, p2)
		if code, body := status("/v1/models/m1/versions/2/artifact"); code != http.StatusOK {
			t.Fatalf("%s: the intact artifact: %d %s", c.name, code, body)
		}
		c.damage()
		path := "/v1/models/m1/versions/2/artifact"
		if strings.HasPrefix(c.name, "another") {
			path = "/v1/models/m2/versions/1/artifact"
		}
		code, body := status(path)
		if code != http.StatusServiceUnavailable || !strings.Contains(body, CodeDamaged) || !strings.Contains(body, c.want) {
			t.Errorf("%s: GET %s: %d %s; want 503 %s saying %q", c.name, path, code, body, CodeDamaged, c.want)
		}
		// Local.GetTo refuses it alike.
		f := tempFile(t)
		m, version := "m1", "2"
		if strings.HasPrefix(c.name, "another") {
			m, version = "m2", "1"
		}
		if _, err := l.GetTo(ctx, m, version, f); !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: GetTo: %v; want ErrDamaged saying %q", c.name, err, c.want)
		}
	}
}

// age sets the modification time of path an hour back.
func age(t *testing.T, path string) {
	t.Helper()
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(path, old, old); err != nil {
		t.Fatal(err)
	}
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func tempFile(t *testing.T) *os.File {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "got")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// TestGetToWritesTheVerifiedArtifact: GetTo writes the artifact into the
// file, from a folder and from a server, for a named version and the
// current one; a server sending other bytes, bytes that are no
// artifact, or another model's artifact is refused.
func TestGetToWritesTheVerifiedArtifact(t *testing.T) {
	ctx := context.Background()
	l, _ := openTemp(t)
	one, two := fitArtifact(t, "fraud", "1", 1), fitArtifact(t, "fraud", "2", 2)
	mustPut(t, l, "fraud", "1", one, PutOptions{})
	mustPut(t, l, "fraud", "2", two, PutOptions{KeepCurrent: true})
	srv := httptest.NewServer(Handler(l))
	defer srv.Close()
	for name, g := range map[string]FileGetter{"Local": l, "Remote": Dial(srv.URL, "", nil)} {
		for version, want := range map[string][]byte{"": one, "current": one, "1": one, "2": two} {
			f := tempFile(t)
			f.WriteString("stale bytes that must go")
			v, err := g.GetTo(ctx, "fraud", version, f)
			if err != nil {
				t.Fatalf("%s GetTo(fraud@%s): %v", name, version, err)
			}
			got := mustRead(t, f.Name())
			if !bytes.Equal(got, want) || v.Digest != digestOf(t, want) {
				t.Errorf("%s GetTo(fraud@%s): %d bytes, version %+v; want the %d bytes of %s", name, version, len(got), v, len(want), digestOf(t, want))
			}
		}
	}

	reg := Handler(l)
	other := fitArtifact(t, "other", "1", 4)
	mux := http.NewServeMux()
	mux.Handle("GET /v1/models/fraud", reg)
	for path, body := range map[string][]byte{
		"/tamper": two, "/garbage": []byte(`{"not": "an artifact"}`), "/foreign": other,
	} {
		mux.HandleFunc("GET "+path+"/v1/models/fraud", func(w http.ResponseWriter, r *http.Request) {
			// The listing names the foreign artifact's digest, so that
			// only the model check refuses it.
			if path == "/foreign" {
				fmt.Fprintf(w, `{"name": "fraud", "current": "1", "versions": [{"model": "fraud", "version": "1", "digest": %q, "current": true}]}`, digestOf(t, other))
				return
			}
			r.URL.Path = strings.TrimPrefix(r.URL.Path, path)
			reg.ServeHTTP(w, r)
		})
		mux.HandleFunc("GET "+path+"/v1/models/fraud/versions/1/artifact", func(w http.ResponseWriter, r *http.Request) {
			w.Write(body)
		})
	}
	hostile := httptest.NewServer(mux)
	defer hostile.Close()
	for path, want := range map[string]string{
		"/tamper":  "the server sent artifact " + digestOf(t, two),
		"/garbage": "the download is not a valid artifact",
		"/foreign": `the server sent an artifact fitted for model "other" as fraud@1`,
	} {
		f := tempFile(t)
		if _, err := Dial(hostile.URL+path, "", nil).GetTo(ctx, "fraud", "1", f); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: GetTo: %v; want %q", path, err, want)
		}
	}
}

// TestRemoteRefusesAnEndlessArtifact (attack run 16, F5): a registry URL
// answering an endless artifact body took `pull` to 2.7 GB before "larger
// than 1073741824 bytes" (io.ReadAll). The body now streams into the file
// and is refused once it passes the bound (here 32 MiB), having allocated
// a small part of it; one announcing more than the bound is refused
// before a byte is read.
func TestRemoteRefusesAnEndlessArtifact(t *testing.T) {
	defer func(m int64) { maxDownload = m }(maxDownload)
	maxDownload = 32 << 20
	model := `{"name": "a", "current": "1", "versions": [{"model": "a", "version": "1", "digest": "sha256:` + strings.Repeat("0", 64) + `", "current": true}]}`
	chunk := bytes.Repeat([]byte("a"), 1<<20)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/endless/v1/models/a", "/announced/v1/models/a":
			w.Write([]byte(model))
		case "/endless/v1/models/a/versions/1/artifact":
			w.Write([]byte(`{"format": "normguard.artifact", "x": "`))
			for {
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
		case "/announced/v1/models/a/versions/1/artifact":
			w.Header().Set("Content-Length", fmt.Sprint(8<<30))
			w.WriteHeader(http.StatusOK)
			w.Write([]byte(`{"format": "normguard.artifact"`))
			w.(http.Flusher).Flush()
			<-r.Context().Done() // sends nothing more
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	ctx := context.Background()

	f := tempFile(t)
	runtime.GC()
	before := totalAlloc()
	_, err := Dial(srv.URL+"/endless", "", nil).GetTo(ctx, "a", "1", f)
	alloc := totalAlloc() - before
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("larger than %d bytes", maxDownload)) {
		t.Fatalf("endless body: %v; want a refusal past %d bytes", err, maxDownload)
	}
	t.Logf("an endless body refused past %d bytes allocated %d bytes", maxDownload, alloc)
	// The server's writes count too (its chunk is allocated once).
	if alloc > uint64(maxDownload)/4 {
		t.Errorf("an endless body refused past %d bytes allocated %d bytes: it was held in memory", maxDownload, alloc)
	}
	if st, err := f.Stat(); err != nil || st.Size() > maxDownload+1 {
		t.Errorf("the file holds %v bytes (%v), want at most %d", st.Size(), err, maxDownload+1)
	}
	_, _, err = Dial(srv.URL+"/endless", "", nil).Get(ctx, "a", "1")
	if err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("Get of an endless body: %v; want a refusal past the bound", err)
	}

	start := time.Now()
	_, err = Dial(srv.URL+"/announced", "", nil).GetTo(ctx, "a", "1", tempFile(t))
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("announces %d bytes", 8<<30)) {
		t.Errorf("announced 8 GiB: %v; want a refusal naming the Content-Length", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("announced 8 GiB: refused after %v, want at once", d)
	}
}

// TestJSONAnswerPastTheBound (attack run 16, F8b): a JSON answer past the
// client's bound said "the answer is not the expected JSON (unexpected
// EOF)"; the client stopped reading at its own bound, and says so.
func TestJSONAnswerPastTheBound(t *testing.T) {
	defer func(m int64) { maxJSONAnswer = m }(maxJSONAnswer)
	maxJSONAnswer = 1 << 20
	item := []byte(strings.Repeat(`{"name": "a", "current": "1", "versions": []},`, 100))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/endless/v1/models":
			w.Write([]byte(`{"models": [`))
			for {
				if _, err := w.Write(item); err != nil {
					return
				}
			}
		case "/cut/v1/models":
			w.Write([]byte(`{"models": [`))
		}
	}))
	defer srv.Close()
	_, err := Dial(srv.URL+"/endless", "", nil).List(context.Background())
	if err == nil || !strings.Contains(err.Error(), "the answer is larger than the 1048576 bytes (1 MiB) this client reads of a JSON answer") {
		t.Errorf("endless listing: %v; want it to name the client's bound", err)
	}
	_, err = Dial(srv.URL+"/cut", "", nil).List(context.Background())
	if err == nil || !strings.Contains(err.Error(), "not the expected JSON (unexpected EOF)") {
		t.Errorf("cut listing: %v; want it called not the expected JSON", err)
	}
}
