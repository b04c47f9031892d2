package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/normguard/normguard/registry"
)

// TestPullOfADamagedStoredArtifact (attack run 18, F1): pull of an
// artifact whose file in the server's registry folder changed in place
// said "digest mismatch ... refit or fetch it again", advice for the
// holder of an artifact file. It now says that the registry's stored file
// of model@version is damaged, names the server, and tells what the
// registry's owner should do (push it again), whether the server refuses
// it (503), cuts the answer, or (a server that does not check) sends
// other bytes whole.
func TestPullOfADamagedStoredArtifact(t *testing.T) {
	dir := t.TempDir()
	data := readFile(t, fitGood(t, dir))
	digest := artifactDigest(t, filepath.Join(dir, "good.json"))
	l, err := registry.Open(filepath.Join(dir, "reg"))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := l.Put(context.Background(), "m", "1", data, registry.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	blob := filepath.Join(dir, "reg", "blobs", "sha256", strings.TrimPrefix(digest, "sha256:")+".json")
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(blob, old, old); err != nil {
		t.Fatal(err)
	}
	if len(data) <= 32<<10 {
		t.Fatalf("the artifact is %d bytes: this test wants more than a download's piece (32 KiB)", len(data))
	}
	reg := registry.Handler(l)
	// The same bytes with one digit changed: same size.
	i := bytes.Index(data, []byte(`"mean_"`))
	i += bytes.IndexAny(data[i:], "123456789")
	changed := bytes.Clone(data)
	changed[i] = '0' + (changed[i]-'0')%9 + 1
	model := fmt.Sprintf(`{"name": "m", "current": "1", "versions": [{"model": "m", "version": "1", "digest": %q, "current": true}]}`, digest)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		base, rest, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		switch {
		case base == "serve":
			r.URL.Path = "/" + rest
			reg.ServeHTTP(w, r)
		case rest == "v1/models/m":
			w.Write([]byte(model))
		case base == "whole": // a server that does not check what it sends
			w.Write(changed)
		case base == "cut": // a server that cuts the answer
			w.Header().Set("Content-Length", fmt.Sprint(len(data)))
			w.WriteHeader(http.StatusOK)
			w.Write(data[:len(data)/2])
		}
	}))
	defer srv.Close()
	out := filepath.Join(dir, "out.json")
	if code, _, stderr := runCLI(t, "pull", "m@1", "--registry", srv.URL+"/serve", "--out", out); code != ExitOK {
		t.Fatalf("the intact artifact: exit %d, %s", code, stderr)
	}

	// The stored file changes in place, keeping its size and time.
	f, err := os.OpenFile(blob, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt(changed[i:i+1], int64(i))
	f.Close()
	os.Chtimes(blob, old, old)

	owner := "the registry's owner should push m@1 again from its artifact file (`normguard push FILE --registry " + srv.URL
	for _, c := range []struct {
		base string
		want []string
	}{
		// The server finds it as it sends it (the artifact is more than
		// the 32 KiB piece a download holds back): it cuts the answer,
		// then refuses the file (503).
		{"serve", []string{"registry GET " + srv.URL + "/serve/v1/models/m/versions/1/artifact: the server ended the answer after", "of the " + fmt.Sprint(len(data)) + " bytes it announced", "its stored artifact of m@1 no longer verifies", owner}},
		{"serve", []string{"registry GET " + srv.URL + "/serve/v1/models/m/versions/1/artifact", "registry damaged: read m@1: the stored artifact " + blob + " is damaged", "push m@1 again from its artifact file", "(HTTP 503)"}},
		{"cut", []string{"registry GET " + srv.URL + "/cut/v1/models/m/versions/1/artifact: the server ended the answer after " + fmt.Sprint(len(data)/2) + " of the " + fmt.Sprint(len(data)) + " bytes it announced", "its stored artifact of m@1 no longer verifies", owner}},
		{"whole", []string{"registry GET " + srv.URL + "/whole/v1/models/m/versions/1/artifact: the download is not a valid artifact", "digest mismatch", "the registry's stored file of m@1 is damaged", owner}},
	} {
		code, _, stderr := runCLI(t, "pull", "m@1", "--registry", srv.URL+"/"+c.base, "--out", out)
		if code != ExitError {
			t.Errorf("%s: exit %d, want %d", c.base, code, ExitError)
		}
		for _, w := range c.want {
			if !strings.Contains(stderr, w) {
				t.Errorf("%s: stderr %q\nwant it to say %q", c.base, stderr, w)
			}
		}
		if strings.Contains(stderr, "refit or fetch it again") {
			t.Errorf("%s: stderr %q: advice for an artifact file, not for a registry's stored file", c.base, stderr)
		}
		if !bytes.Equal(readFile(t, out), data) {
			t.Errorf("%s: --out changed", c.base)
		}
	}
}
