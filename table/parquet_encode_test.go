package table

import (
	"slices"
	"unsafe"
	"github.com/klauspost/compress/s2"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// encodeBenchBatch is rows x (20 numeric + 2 string) columns: numbers with
// a few decimal digits, about 1% missing, and string columns drawing from
// 50 and 5000 distinct values.
func encodeBenchBatch(rows int) (*Batch, []Field) {
	rng := rand.New(rand.NewPCG(5, 8))
	var fields []Field
	for j := range 20 {
		fields = append(fields, Field{Name: fmt.Sprintf("x%d", j), Kind: Numeric})
	}
	fields = append(fields, Field{Name: "cat50", Kind: String}, Field{Name: "cat5000", Kind: String})
	levels := [2][]string{make([]string, 50), make([]string, 5000)}
	for k := range levels {
		for i := range levels[k] {
			levels[k][i] = fmt.Sprintf("level-%d-%d", k, i)
		}
	}
	b := &Batch{Rows: rows, Cols: NewColumns(fields)}
	for j := range b.Cols {
		c := &b.Cols[j]
		c.Resize(rows)
		for i := range rows {
			missing := rng.IntN(100) == 0
			switch {
			case j < 20 && missing:
				c.Num[i] = math.NaN()
			case j < 20:
				scale := math.Pow10(2 + j%3)
				c.Num[i] = math.Round(rng.NormFloat64()*float64(j*j+1)*10*scale) / scale
			case missing:
				c.SetNull(i)
			default:
				l := levels[j-20]
				c.Str[i] = l[rng.IntN(len(l))]
			}
		}
	}
	return b, fields
}

// BenchmarkParquetEncode writes 1M x (20 float64 + 2 strings of 50 and
// 5000 distinct values) to a file, in batches of DefaultBatchRows.
func BenchmarkParquetEncode(b *testing.B) {
	for _, rows := range []int{100000, 1000000} {
		batch, fields := encodeBenchBatch(rows)
		dir := b.TempDir()
		b.Run(fmt.Sprintf("rows=%d", rows), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(rows) * 20 * 8)
			path := filepath.Join(dir, "bench.parquet")
			for b.Loop() {
				writeBenchParquet(b, path, batch, fields)
			}
			if st, err := os.Stat(path); err == nil {
				b.ReportMetric(float64(st.Size())/float64(rows), "file-bytes/row")
			}
		})
	}
}

func BenchmarkScratchSnappy(b *testing.B) {
	batch, _ := encodeBenchBatch(1 << 16)
	for _, col := range []int{0, 5, 19, -1} {
		x := batch.Cols[max(col, 0)].Num
		if col < 0 {
			x = slices.Clone(x)
			for i := range x {
				x[i] = (x[i] - 0.123) / 3.7
			}
		}
		raw := unsafe.Slice((*byte)(unsafe.Pointer(&x[0])), 8<<16)
		for _, size := range []int{4096, 16384, 65536, 262144} {
			b.Run(fmt.Sprintf("col=%d/block=%d", col, size), func(b *testing.B) {
				b.SetBytes(int64(len(raw)))
				dst := make([]byte, s2.MaxEncodedLen(size))
				n := 0
				for b.Loop() {
					n = 0
					for lo := 0; lo < len(raw); lo += size {
						n += len(s2.EncodeSnappy(dst, raw[lo:lo+size]))
					}
				}
				b.ReportMetric(float64(n)/float64(len(raw)), "ratio")
			})
		}
	}
}
