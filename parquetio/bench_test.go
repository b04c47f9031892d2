package parquetio

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/normguard/normguard/table"
)

// benchBatch generates rows x 22 columns in memory: 20 numeric columns
// with a few decimal digits and 2 string columns (a 7-value category and
// a 500-value code), about 1% missing, as benchCSV does.
func benchBatch(rows int) (*table.Batch, []table.Field) {
	rng := rand.New(rand.NewPCG(7, 11))
	var fields []table.Field
	for j := range 20 {
		fields = append(fields, table.Field{Name: fmt.Sprintf("x%d", j), Kind: table.Numeric})
	}
	fields = append(fields, table.Field{Name: "city", Kind: table.String}, table.Field{Name: "code", Kind: table.String})
	cities := []string{"Paris", "Lyon", "Marseille", "Toulouse", "Nice", "Nantes", "Lille"}
	codes := make([]string, 500)
	for i := range codes {
		codes[i] = fmt.Sprint("C", i)
	}
	b := &table.Batch{Rows: rows, Cols: table.NewColumns(fields)}
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
			case j == 20:
				c.Str[i] = cities[rng.IntN(len(cities))]
			default:
				c.Str[i] = codes[rng.IntN(len(codes))]
			}
		}
	}
	return b, fields
}

// benchParquetRows are the sizes benchmarked; the pipeline target is 1M.
var benchParquetRows = []int{100000, 1000000}

// writeBenchParquet writes b to path with a Writer.
func writeBenchParquet(b testing.TB, path string, batch *table.Batch, fields []table.Field) {
	w, err := Create(path, fields)
	if err != nil {
		b.Fatal(err)
	}
	for lo := 0; lo < batch.Rows; lo += table.DefaultBatchRows {
		hi := min(batch.Rows, lo+table.DefaultBatchRows)
		part := table.Batch{Rows: hi - lo, Cols: make([]table.Column, len(batch.Cols))}
		for j := range batch.Cols {
			part.Cols[j] = batch.Cols[j].Slice(lo, hi)
		}
		if err := w.Write(&part); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkParquetRead reads rows x (20 float64 + 2 string) columns; the
// bytes per op are the decoded float64 data (rows x 20 x 8).
func BenchmarkParquetRead(b *testing.B) {
	for _, rows := range benchParquetRows {
		batch, fields := benchBatch(rows)
		path := filepath.Join(b.TempDir(), "bench.parquet")
		writeBenchParquet(b, path, batch, fields)
		for _, workers := range []int{1, 2} {
			b.Run(fmt.Sprintf("rows=%d/workers=%d", rows, workers), func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(rows) * 20 * 8)
				for b.Loop() {
					r, err := Open(path, Options{Workers: workers})
					if err != nil {
						b.Fatal(err)
					}
					if err := r.Project(fields); err != nil {
						b.Fatal(err)
					}
					n := 0
					for r.Next() {
						n += r.Batch().Rows
					}
					if r.Err() != nil || n != rows {
						b.Fatalf("got %d rows, %v; want %d rows", n, r.Err(), rows)
					}
					r.Close()
				}
			})
		}
	}
}

// BenchmarkParquetWrite writes rows x (20 float64 + 2 string) columns to a
// file; the bytes per op are the float64 data (rows x 20 x 8).
func BenchmarkParquetWrite(b *testing.B) {
	for _, rows := range benchParquetRows {
		batch, fields := benchBatch(rows)
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
