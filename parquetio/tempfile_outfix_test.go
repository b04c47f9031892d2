package parquetio

import (
	"bytes"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/normguard/normguard/table"
)

// TestCreateIntoFIFO (attack run 8, F4): a Parquet output named by a FIFO
// is written into it, with no fsync (which a FIFO refuses): its reader
// gets the bytes a file gets, and it stays a FIFO. It was replaced by a
// regular file.
func TestCreateIntoFIFO(t *testing.T) {
	dir := t.TempDir()
	fields := []table.Field{{Name: "x", Kind: table.Numeric}, {Name: "c", Kind: table.String}}
	write := func(path string) error {
		w, err := Create(path, fields)
		if err != nil {
			return err
		}
		b := &table.Batch{Rows: 3, Cols: []table.Column{
			{Name: "x", Kind: table.Numeric, Num: []float64{1.5, -2, 1e300}},
			{Name: "c", Kind: table.String, Str: []string{"a", "b", "a"}},
		}}
		if err := w.Write(b); err != nil {
			w.Abort()
			return err
		}
		return w.Close()
	}
	plain := filepath.Join(dir, "plain.parquet")
	if err := write(plain); err != nil {
		t.Fatal(err)
	}
	want, _ := os.ReadFile(plain)
	fifo := filepath.Join(dir, "ff.parquet")
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
	if err := write(fifo); err != nil {
		t.Fatal(err)
	}
	select {
	case b := <-got:
		if !bytes.Equal(b, want) {
			t.Errorf("the FIFO's reader got %d bytes, want the %d a file gets", len(b), len(want))
		}
	case <-time.After(10 * time.Second):
		t.Error("the FIFO's reader got nothing in 10 s")
	}
	if st, err := os.Lstat(fifo); err != nil || st.Mode()&fs.ModeNamedPipe == 0 {
		t.Errorf("the FIFO was replaced (%v)", err)
	}
}
