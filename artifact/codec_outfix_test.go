package artifact

import (
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestWriteFileAtomicLinkAndFIFO (attack run 8, F4): WriteFileAtomic
// writes through a symbolic link (the link stays, its target gets the
// bytes) and into a FIFO (its reader gets them; it stays a FIFO); it
// replaced both with a regular file.
func TestWriteFileAtomicLinkAndFIFO(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "real.json")
	os.WriteFile(target, []byte("old"), 0o644)
	link := filepath.Join(dir, "link.json")
	if err := os.Symlink("real.json", link); err != nil {
		t.Skip(err)
	}
	if err := WriteFileAtomic(link, []byte("new")); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Lstat(link); st.Mode()&fs.ModeSymlink == 0 {
		t.Error("the link was replaced by a regular file")
	}
	if b, _ := os.ReadFile(target); string(b) != "new" {
		t.Errorf("the link's target holds %q, want \"new\"", b)
	}
	fifo := filepath.Join(dir, "ff.json")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skip(err)
	}
	got := make(chan string, 1)
	go func() {
		f, err := os.Open(fifo)
		if err != nil {
			got <- err.Error()
			return
		}
		b, _ := io.ReadAll(f)
		f.Close()
		got <- string(b)
	}()
	if err := WriteFileAtomic(fifo, []byte(`{"x":1}`)); err != nil {
		t.Fatal(err)
	}
	if s := waitFIFO(t, got); s != `{"x":1}` {
		t.Errorf("the FIFO's reader got %q", s)
	}
	if st, _ := os.Lstat(fifo); st.Mode()&fs.ModeNamedPipe == 0 {
		t.Errorf("the FIFO became %v", st.Mode())
	}
}

// waitFIFO returns what a FIFO's reader got, or "" after 10 s (a reader
// whose FIFO was replaced waits for ever).
func waitFIFO(t *testing.T, got <-chan string) string {
	t.Helper()
	select {
	case s := <-got:
		return s
	case <-time.After(10 * time.Second):
		t.Error("the FIFO's reader got nothing in 10 s")
		return ""
	}
}
