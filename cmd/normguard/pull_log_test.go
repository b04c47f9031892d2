package main

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestPullLongAnswerLogsNothingRaw (attack run 18, F7e): a registry
// answer holding more bytes than its Content-Length made Go's HTTP client
// log "Unsolicited response received on idle HTTP channel starting with
// ..." and 1,000 bytes of the artifact to stderr (the log package's
// default output), ahead of normguard's own error. The log package's
// output is discarded: stderr holds normguard's error alone, one line.
func TestPullLongAnswerLogsNothingRaw(t *testing.T) {
	dir := t.TempDir()
	data := readFile(t, fitGood(t, dir))
	digest := artifactDigest(t, filepath.Join(dir, "good.json"))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	model := fmt.Sprintf(`{"name": "m", "current": "1", "versions": [{"model": "m", "version": "1", "digest": %q, "current": true}]}`, digest)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				req, err := http.ReadRequest(bufio.NewReader(c))
				if err != nil {
					return
				}
				if strings.HasSuffix(req.URL.Path, "/artifact") {
					// 1,000 bytes more than the Content-Length says.
					fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n", len(data)-1000)
					c.Write(data)
					time.Sleep(500 * time.Millisecond)
					return
				}
				fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(model), model)
			}()
		}
	}()
	cmd := exec.Command(os.Args[0], "pull", "m@1", "--registry", "http://"+ln.Addr().String(), "--out", filepath.Join(dir, "out.json"))
	cmd.Env = append(os.Environ(), "NORMGUARD_TEST_MAIN=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err = cmd.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != ExitError {
		t.Fatalf("pull: %v, stderr %s; want exit %d", err, &stderr, ExitError)
	}
	got := stderr.String()
	if strings.Contains(got, "Unsolicited response") || strings.Contains(got, `"format"`) {
		t.Errorf("stderr holds the HTTP client's log line and the artifact's bytes:\n%.400s", got)
	}
	if lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n"); len(lines) != 1 || !strings.HasPrefix(lines[0], "normguard: pull m@1 from http://"+ln.Addr().String()+": registry GET ") {
		t.Errorf("stderr %q; want normguard's error alone, one line naming the pull and the request", got)
	}
	// normguard's error says what happened and what to do, without the
	// advice for an artifact file of one's own ("fetch or refit it").
	for _, want := range []string{"the download is not a valid artifact", "the registry's stored file of m@1 is damaged", "the registry's owner should push m@1 again"} {
		if !strings.Contains(got, want) {
			t.Errorf("stderr %q; want it to say %q", got, want)
		}
	}
	if strings.Contains(got, "refit") {
		t.Errorf("stderr %q: advice for an artifact file, not a registry's stored one", got)
	}
	if _, err := os.Stat(filepath.Join(dir, "out.json")); !os.IsNotExist(err) {
		t.Errorf("--out was written (%v)", err)
	}
}
