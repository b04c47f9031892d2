package monitor

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestStateFIFORefused: a FIFO named as the state file, or put in place
// of its marker, is refused at once naming it; opened plainly it hung
// serve before it listened, deaf to SIGTERM (attack run 12).
func TestStateFIFORefused(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "state.db")
	if err := syscall.Mkfifo(state, 0o600); err != nil {
		t.Skip("no FIFOs here:", err)
	}
	for _, c := range []struct{ name, path, prep string }{
		{"the state file a FIFO", state, ""},
		{"the marker a FIFO", filepath.Join(dir, "gone.db"), filepath.Join(dir, "gone.db.mark")},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.prep != "" {
				if err := syscall.Mkfifo(c.prep, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			done := make(chan error, 1)
			go func() {
				m, err := Open(c.path, Options{})
				if err == nil {
					m.Close()
				}
				done <- err
			}()
			select {
			case err := <-done:
				if err == nil || !strings.Contains(err.Error(), "is not a regular file but a FIFO") {
					t.Errorf("Open: %v, want a refusal naming the FIFO", err)
				}
			case <-time.After(10 * time.Second):
				// Unblock the open so the test ends.
				if f, err := os.OpenFile(c.path, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
					f.Close()
				}
				t.Fatal("Open blocked on a FIFO")
			}
		})
	}
}
