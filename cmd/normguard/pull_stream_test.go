package main

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPullRefusedLeavesNothing (attack run 16, F5): pull streams the
// download into its temporary output file and verifies it there; a
// server sending bytes that are not the version's artifact, or
// announcing more than an artifact may hold, is refused, --out is left
// as it was and no temporary file stays behind. A good download is
// written whole.
func TestPullRefusedLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	good := fitGood(t, dir)
	data := readFile(t, good)
	digest := artifactDigest(t, good)
	model := fmt.Sprintf(`{"name": "m", "current": "1", "versions": [{"model": "m", "version": "1", "digest": %q, "current": true}]}`, digest)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		base, rest, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		switch {
		case rest == "v1/models/m":
			w.Write([]byte(model))
		case base == "good":
			w.Write(data)
		case base == "other":
			w.Write(bytes.Replace(data, []byte(`"format"`), []byte(`"formet"`), 1))
		case base == "huge":
			w.Header().Set("Content-Length", fmt.Sprint(int64(8)<<30))
			w.WriteHeader(http.StatusOK)
			w.Write(data[:100])
		}
	}))
	defer srv.Close()
	out := filepath.Join(dir, "out")
	if err := os.Mkdir(out, 0o755); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(out, "m.json")
	for _, c := range []struct{ base, want string }{
		{"other", "the download is not a valid artifact"},
		{"huge", "announces 8589934592 bytes"},
	} {
		os.WriteFile(file, []byte("old"), 0o644)
		code, _, stderr := runCLI(t, "pull", "m@1", "--registry", srv.URL+"/"+c.base, "--out", file)
		if code != ExitError || !strings.Contains(stderr, c.want) {
			t.Errorf("%s: exit %d, stderr %q; want exit %d and %q", c.base, code, stderr, ExitError, c.want)
		}
		if got := string(readFile(t, file)); got != "old" {
			t.Errorf("%s: --out now holds %.40q, want it left as it was", c.base, got)
		}
		if es := dirEntries(t, out); len(es) != 1 {
			t.Errorf("%s: the output folder holds %v, want m.json alone", c.base, es)
		}
	}
	code, stdout, stderr := runCLI(t, "pull", "m@1", "--registry", srv.URL+"/good", "--out", file)
	if code != ExitOK || !bytes.Equal(readFile(t, file), data) || !strings.Contains(stdout, "pulled m@1 "+digest) {
		t.Errorf("good: exit %d (%s), %q; want the artifact written", code, stderr, stdout)
	}
	code, stdout, _ = runCLI(t, "pull", "m@1", "--registry", srv.URL+"/good", "--out", "-")
	if code != ExitOK || stdout != string(data) {
		t.Errorf("good to stdout: exit %d, %d bytes; want the artifact", code, len(stdout))
	}
	if es := dirEntries(t, out); len(es) != 1 {
		t.Errorf("the output folder holds %v, want m.json alone", es)
	}
}
