package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestServeStateFIFO: serve given a FIFO as its state file, or finding
// one in place of the vector windows' file, exits 2 at once naming it;
// it hung before listening, deaf to SIGTERM (attack run 12).
func TestServeStateFIFO(t *testing.T) {
	for _, c := range []struct{ name, fifo string }{
		{"state", "state.db"},
		{"vector windows", "state.db.vectors.json"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			fifo := filepath.Join(dir, c.fifo)
			if err := syscall.Mkfifo(fifo, 0o600); err != nil {
				t.Skip("no FIFOs here:", err)
			}
			type result struct {
				code   int
				errOut string
			}
			done := make(chan result, 1)
			go func() {
				code, _, errOut := runCLI(t, "serve", "--registry", filepath.Join(dir, "reg"), "--addr", "127.0.0.1:0",
					"--state", filepath.Join(dir, "state.db"))
				done <- result{code, errOut}
			}()
			select {
			case r := <-done:
				if r.code != ExitError || !strings.Contains(r.errOut, "is not a regular file but a FIFO") {
					t.Errorf("exit %d, stderr %q; want 2 naming the FIFO", r.code, r.errOut)
				}
			case <-time.After(20 * time.Second):
				if f, err := os.OpenFile(fifo, os.O_RDWR, 0); err == nil {
					f.Close()
				}
				t.Fatal("serve blocked on a FIFO")
			}
		})
	}
}
