package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/normguard/normguard/quickstart"
)

// TestServeRefusesDamagedState: a monitoring store truncated (to half, or
// to 0 bytes) or deleted stops serve with exit 2 and a message naming the
// file and --state-recover; with --state-recover it starts and reports the
// loss (for the deleted file, the 10 rows its marker counted).
func TestServeRefusesDamagedState(t *testing.T) {
	dir, art := flights(t)
	for _, keep := range []string{"half", "none", "deleted"} {
		t.Run(keep, func(t *testing.T) {
			reg := t.TempDir()
			s := startServer(t, reg)
			pushFlights(t, s, "v1", art)
			header, recs := csvRows(t, filepath.Join(dir, quickstart.Files.Later))
			s.mustDo("POST", "/v1/models/flight-delay/observations", "", rowsJSON(header, recs[:10], nil), 200)
			s.stop()
			state := filepath.Join(reg, "monitor.db")
			data, err := os.ReadFile(state)
			if err != nil {
				t.Fatal(err)
			}
			n := len(data) / 2
			if keep == "none" {
				n = 0
			}
			if err := os.WriteFile(state, data[:n], 0o600); err != nil {
				t.Fatal(err)
			}
			if keep == "deleted" {
				if err := os.Remove(state); err != nil {
					t.Fatal(err)
				}
			}

			cmd := exec.Command(os.Args[0], "serve", "--registry", reg, "--addr", "127.0.0.1:0")
			cmd.Env = append(os.Environ(), "NORMGUARD_TEST_MAIN=1")
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			done := make(chan error, 1)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			go func() { done <- cmd.Wait() }()
			select {
			case err = <-done:
			case <-time.After(30 * time.Second):
				cmd.Process.Kill()
				t.Fatal("serve started on a damaged store")
			}
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 2 {
				t.Fatalf("serve on a damaged store: got %v, want exit 2; stderr: %s", err, stderr.String())
			}
			if msg := stderr.String(); !strings.Contains(msg, state) || !strings.Contains(msg, "--state-recover") || strings.Contains(msg, "panic") {
				t.Errorf("stderr %q: want the file named and --state-recover, no panic", msg)
			}

			s = startServer(t, reg, "--state-recover")
			s.mustDo("GET", "/healthz", "", nil, 200)
			s.stop()
			if keep == "deleted" {
				if msg := s.stderr.String(); !strings.Contains(msg, "starting "+state+" empty") || !strings.Contains(msg, "10 acknowledged rows lost") {
					t.Errorf("stderr %q: want the file started empty and its 10 rows reported lost", msg)
				}
				return
			}
			if !strings.Contains(s.stderr.String(), "recovered "+state) {
				t.Errorf("stderr %q: want the recovery report", s.stderr.String())
			}
			moved, _ := filepath.Glob(state + ".damaged-*")
			if len(moved) != 1 {
				t.Errorf("damaged copies: %v, want one", moved)
			}
		})
	}
}
