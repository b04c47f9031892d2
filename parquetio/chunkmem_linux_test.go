package parquetio

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/normguard/normguard/table"
)

// TestChunkMemRoundTrip writes row groups big enough for chunkMem's huge
// page buffers (two sets, reused from the third row group on), reads the
// file back through the reader's own mapped batch buffers, and checks
// every value bit for bit and that Close and the end of the input leave
// nothing mapped.
func TestChunkMemRoundTrip(t *testing.T) {
	rows := 3*RowGroupRows + 1234
	x := make([]float64, rows)
	y := make([]float64, rows)
	s := uint64(1)
	for i := range x {
		s = s*6364136223846793005 + 1442695040888963407
		x[i] = math.Float64frombits(s>>12 | 0x3ff0000000000000)
		y[i] = float64(i)
		if i%97 == 0 {
			y[i] = math.NaN()
		}
	}
	fields := []table.Field{{Name: "x", Kind: table.Numeric}, {Name: "y", Kind: table.Numeric}}
	path := filepath.Join(t.TempDir(), "big.parquet")
	w, err := Create(path, fields)
	if err != nil {
		t.Fatal(err)
	}
	b := &table.Batch{Rows: rows, Cols: []table.Column{numCol("x", x), numCol("y", y)}}
	if err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if len(w.mem.maps) == 0 {
		t.Fatalf("no chunk buffer was mapped")
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if w.mem.maps != nil {
		t.Fatalf("Close left %d chunk mappings", len(w.mem.maps))
	}

	r, err := Open(path, Options{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := r.Project(fields); err != nil {
		t.Fatal(err)
	}
	at := 0
	for r.Next() {
		bt := r.Batch()
		for i := range bt.Rows {
			for j, want := range [][]float64{x, y} {
				got := bt.Cols[j].Num[i]
				if math.Float64bits(got) != math.Float64bits(want[at+i]) && !(math.IsNaN(got) && math.IsNaN(want[at+i])) {
					t.Fatalf("row %d column %d: got %v, want %v", at+i, j, got, want[at+i])
				}
			}
		}
		at += bt.Rows
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	if at != rows {
		t.Fatalf("read %d rows, want %d", at, rows)
	}
	if r.own != nil {
		t.Fatalf("the reader kept its batch buffers after the input ended")
	}
	r.Close()
	if r.mem.maps != nil {
		t.Fatalf("Close left %d reader mappings", len(r.mem.maps))
	}
}

// TestChunkMemAbort checks that Abort unmaps the chunk buffers.
func TestChunkMemAbort(t *testing.T) {
	rows := RowGroupRows + 10
	x := make([]float64, rows)
	for i := range x {
		x[i] = float64(i) * 1.5
	}
	fields := []table.Field{{Name: "x", Kind: table.Numeric}}
	w, err := Create(filepath.Join(t.TempDir(), "a.parquet"), fields)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(&table.Batch{Rows: rows, Cols: []table.Column{numCol("x", x)}}); err != nil {
		t.Fatal(err)
	}
	if err := w.Abort(); err != nil {
		t.Fatal(err)
	}
	if w.mem.maps != nil {
		t.Fatalf("Abort left %d chunk mappings", len(w.mem.maps))
	}
}
