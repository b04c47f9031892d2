package table

import (
	"bytes"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// writeTable writes a small two-column table to path with Create.
func writeTable(t *testing.T, path string) error {
	t.Helper()
	fields := []Field{{Name: "x", Kind: Numeric}, {Name: "c", Kind: String}}
	w, err := Create(path, fields)
	if err != nil {
		return err
	}
	b := &Batch{Rows: 3, Cols: []Column{
		{Name: "x", Kind: Numeric, Num: []float64{1.5, -2, 1e300}},
		{Name: "c", Kind: String, Str: []string{"a", "b,c", "d"}},
	}}
	if err := w.Write(b); err != nil {
		w.Abort()
		return err
	}
	return w.Close()
}

// TestCreateIntoFIFOAndLink (attack run 8, F4): Create writes a CSV,
// compressed CSV or JSONL output into a FIFO named by --out (its reader
// gets the same bytes a file gets; it stays a FIFO), and through a
// symbolic link into the link's target (the link stays). Both were
// replaced by a regular file.
func TestCreateIntoFIFOAndLink(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"out.csv", "out.csv.gz", "out.tsv.zst", "out.jsonl"} {
		plain := filepath.Join(dir, "plain-"+name)
		if err := writeTable(t, plain); err != nil {
			t.Fatal(err)
		}
		want, _ := os.ReadFile(plain)

		fifo := filepath.Join(dir, "fifo-"+name)
		if err := syscall.Mkfifo(fifo, 0o644); err != nil {
			t.Skip("no FIFOs:", err)
		}
		got := make(chan []byte, 1)
		go func() {
			f, err := os.Open(fifo)
			if err != nil {
				got <- nil
				return
			}
			b, _ := io.ReadAll(f)
			f.Close()
			got <- b
		}()
		if err := writeTable(t, fifo); err != nil {
			t.Fatalf("%s into a FIFO: %v", name, err)
		}
		select {
		case b := <-got:
			if !bytes.Equal(b, want) {
				t.Errorf("%s: the FIFO's reader got %d bytes, want the %d a file gets", name, len(b), len(want))
			}
		case <-time.After(10 * time.Second):
			t.Errorf("%s: the FIFO's reader got nothing in 10 s", name)
		}
		if st, err := os.Lstat(fifo); err != nil || st.Mode()&fs.ModeNamedPipe == 0 {
			t.Errorf("%s: the FIFO was replaced (%v)", name, err)
		}

		target := filepath.Join(dir, "target-"+name)
		os.WriteFile(target, []byte("old"), 0o644)
		link := filepath.Join(dir, "link-"+name)
		os.Symlink(filepath.Base(target), link)
		if err := writeTable(t, link); err != nil {
			t.Fatalf("%s through a link: %v", name, err)
		}
		if b, _ := os.ReadFile(target); !bytes.Equal(b, want) {
			t.Errorf("%s: the link's target holds %d bytes, want %d", name, len(b), len(want))
		}
		if st, err := os.Lstat(link); err != nil || st.Mode()&fs.ModeSymlink == 0 {
			t.Errorf("%s: the link was replaced", name)
		}
	}
}
