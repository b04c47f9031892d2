package table

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzNPY opens arbitrary bytes as a .npy file and reads it: an error or
// the rows, never a panic, and never more values than the header promises.
func FuzzNPY(f *testing.F) {
	for _, name := range []string{"small_f8_le_c.npy", "small_f8_be_c.npy", "small_f4_le_f.npy", "small_f2_le_c.npy", "small_i4.npy", "small_1d.npy"} {
		data, err := os.ReadFile(vectorsDir + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("\x93NUMPY\x01\x00\x20\x00{'descr': '<f8', 'shape': (2, 1)}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(t.TempDir(), "f.npy")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		r, err := OpenNPY(p, NPYOptions{BatchRows: 3})
		if err != nil {
			return
		}
		defer r.Close()
		var rows int64
		for r.Next() {
			b := r.Batch()
			if c := b.Cols[0]; len(c.Vec) != b.Rows*c.Dim {
				t.Fatalf("batch of %d rows holds %d values of dimension %d", b.Rows, len(c.Vec), c.Dim)
			}
			rows += int64(r.Batch().Rows)
		}
		if r.Err() == nil && rows != r.NumRows() {
			t.Fatalf("read %d rows, the header says %d", rows, r.NumRows())
		}
	})
}
