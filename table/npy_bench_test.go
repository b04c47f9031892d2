package table

import (
	"fmt"
	"path/filepath"
	"testing"
)

// BenchmarkNPYRead streams a float32 .npy of 768-dimensional vectors in C
// and Fortran order; B/op stays near one batch (about a million values)
// whatever the file's size.
func BenchmarkNPYRead(b *testing.B) {
	for _, rows := range []int{10_000, 100_000} {
		for _, fortran := range []bool{false, true} {
			b.Run(fmt.Sprintf("rows=%d/fortran=%v", rows, fortran), func(b *testing.B) {
				p := filepath.Join(b.TempDir(), "emb.npy")
				writeNPY(b, p, rows, 768, fortran)
				b.SetBytes(int64(rows) * 768 * 4)
				b.ReportAllocs()
				b.ResetTimer()
				for b.Loop() {
					r, err := OpenNPY(p, NPYOptions{})
					if err != nil {
						b.Fatal(err)
					}
					for r.Next() {
					}
					if err := r.Err(); err != nil {
						b.Fatal(err)
					}
					r.Close()
				}
			})
		}
	}
}
