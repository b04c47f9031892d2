package table

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"testing"
)

// benchCSV generates a rows x 22 CSV: 20 numeric columns with a few decimal
// digits and 2 string columns (a low-cardinality category and an id-like
// code), about 1% empty cells; about 170 bytes a row.
func benchCSV(rows int) ([]byte, []Field) {
	rng := rand.New(rand.NewPCG(7, 11))
	var fields []Field
	for j := 0; j < 20; j++ {
		fields = append(fields, Field{Name: fmt.Sprintf("x%d", j), Kind: Numeric})
	}
	fields = append(fields, Field{Name: "city", Kind: String}, Field{Name: "code", Kind: String})
	cities := []string{"Paris", "Lyon", "Marseille", "Toulouse", "Nice", "Nantes", "Lille"}
	var buf []byte
	for j, f := range fields {
		if j > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, f.Name...)
	}
	buf = append(buf, '\n')
	for i := 0; i < rows; i++ {
		for j := 0; j < 22; j++ {
			if j > 0 {
				buf = append(buf, ',')
			}
			if rng.IntN(100) == 0 {
				continue
			}
			switch {
			case j < 20:
				buf = strconv.AppendFloat(buf, rng.NormFloat64()*float64(j*j+1)*10, 'f', 2+j%3, 64)
			case j == 20:
				buf = append(buf, cities[rng.IntN(len(cities))]...)
			default:
				buf = append(buf, 'C')
				buf = strconv.AppendInt(buf, int64(rng.IntN(500)), 10)
			}
		}
		buf = append(buf, '\n')
	}
	return buf, fields
}

var benchSizes = []int{1000, 100000}

func BenchmarkCSVRead(b *testing.B) {
	for _, rows := range benchSizes {
		data, fields := benchCSV(rows)
		for _, workers := range []int{1, 2} {
			benchRead(b, data, fields, rows, workers)
		}
	}
}

func benchRead(b *testing.B, data []byte, fields []Field, rows, workers int) {
	b.Run(fmt.Sprintf("rows=%d/workers=%d", rows, workers), func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			r, err := NewCSVReader(bytes.NewReader(data), "bench.csv", CSVOptions{Workers: workers})
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
		}
	})
}

func BenchmarkCSVWrite(b *testing.B) {
	for _, rows := range benchSizes {
		data, fields := benchCSV(rows)
		r, err := NewCSVReader(bytes.NewReader(data), "bench.csv", CSVOptions{BatchRows: rows})
		if err != nil {
			b.Fatal(err)
		}
		r.Project(fields)
		if !r.Next() {
			b.Fatal(r.Err())
		}
		batch := r.Batch()
		var out countWriter
		w := NewCSVWriter(&out, fields)
		w.Write(batch)
		w.Close()
		b.Run(fmt.Sprintf("rows=%d", rows), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(out.n)
			for b.Loop() {
				w := NewCSVWriter(io.Discard, fields)
				if err := w.Write(batch); err != nil {
					b.Fatal(err)
				}
				if err := w.Close(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}
