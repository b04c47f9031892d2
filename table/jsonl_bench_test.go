package table

import (
	"bytes"
	"fmt"
	"io"
	"testing"
)

// benchJSONL returns benchCSV's table (rows x 22: 20 numeric columns, 2
// string columns, about 1% missing) as one batch and as JSON Lines text,
// about 370 bytes a row.
func benchJSONL(b *testing.B, rows int) ([]byte, *Batch, []Field) {
	b.Helper()
	data, fields := benchCSV(rows)
	r, err := NewCSVReader(bytes.NewReader(data), "bench.csv", CSVOptions{BatchRows: rows})
	if err != nil {
		b.Fatal(err)
	}
	if err := r.Project(fields); err != nil {
		b.Fatal(err)
	}
	if !r.Next() {
		b.Fatal(r.Err())
	}
	batch := r.Batch()
	var out bytes.Buffer
	w := NewJSONLWriter(&out, fields)
	if err := w.Write(batch); err != nil {
		b.Fatal(err)
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	return out.Bytes(), batch, fields
}

func BenchmarkJSONLRead(b *testing.B) {
	for _, rows := range benchSizes {
		data, _, fields := benchJSONL(b, rows)
		b.Run(fmt.Sprintf("rows=%d", rows), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				r, err := NewJSONLReader(bytes.NewReader(data), "bench.jsonl", JSONLOptions{})
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
}

func BenchmarkJSONLWrite(b *testing.B) {
	for _, rows := range benchSizes {
		data, batch, fields := benchJSONL(b, rows)
		b.Run(fmt.Sprintf("rows=%d", rows), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				w := NewJSONLWriter(io.Discard, fields)
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
