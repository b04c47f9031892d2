package table

import (
	"bytes"
	"strconv"
	"sync/atomic"
	"testing"
)

// TestCSVWriterWriteOwned hands batches of many chunks to WriteOwned,
// reusing each only after its release, and checks the text equals one
// Write of the same rows per batch, in order, and that release is called
// once per batch (also for a refused batch).
func TestCSVWriterWriteOwned(t *testing.T) {
	fields := []Field{{"i", Numeric}, {"s", String}}
	const batches, rows = 5, 3*csvChunkRows + 17
	fill := func(b *Batch, k int) {
		b.Cols[0].Num = b.Cols[0].Num[:0]
		b.Cols[1].Str = b.Cols[1].Str[:0]
		for i := range rows {
			b.Cols[0].Num = append(b.Cols[0].Num, float64(k*rows+i)/7)
			b.Cols[1].Str = append(b.Cols[1].Str, "r"+strconv.Itoa(k*rows+i))
		}
		b.Rows = rows
	}
	var want bytes.Buffer
	ww := NewCSVWriter(&want, fields)
	b := &Batch{Cols: NewColumns(fields)}
	for k := range batches {
		fill(b, k)
		if err := ww.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	if err := ww.Close(); err != nil {
		t.Fatal(err)
	}

	var got bytes.Buffer
	w := NewCSVWriter(&got, fields)
	free := make(chan *Batch, 2)
	free <- &Batch{Cols: NewColumns(fields)}
	free <- &Batch{Cols: NewColumns(fields)}
	var released atomic.Int32
	for k := range batches {
		b := <-free
		fill(b, k)
		if err := w.WriteOwned(b, func() { released.Add(1); free <- b }); err != nil {
			t.Fatal(err)
		}
	}
	bad := &Batch{Cols: NewColumns([]Field{{"x", Numeric}})}
	if err := w.WriteOwned(bad, func() { released.Add(1) }); err == nil {
		t.Error("WriteOwned accepted a batch of the wrong shape")
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if n := released.Load(); n != batches+1 {
		t.Errorf("release called %d times, want %d", n, batches+1)
	}
	if got.String() != want.String() {
		t.Errorf("WriteOwned wrote %d bytes unlike Write's %d", got.Len(), want.Len())
	}
}
