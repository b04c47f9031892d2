package transform_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/normguard/normguard/fit"
	"github.com/normguard/normguard/spec"
	"github.com/normguard/normguard/table"
	"github.com/normguard/normguard/transform"
)

// streamCSV is a CSV of n rows with a numeric and a passthrough column.
func streamCSV(n int) string {
	var sb strings.Builder
	sb.WriteString("x,s\n")
	for i := range n {
		fmt.Fprintf(&sb, "%d.5,s%d\n", i%97, i)
	}
	return sb.String()
}

// streamTransformer fits a standard scaler on x with s passed through.
func streamTransformer(t *testing.T, csv string) *transform.Transformer {
	t.Helper()
	sp, err := spec.Parse(strings.NewReader("version: 1\nremainder: passthrough\ncolumns:\n  - name: x\n    type: numeric\n    steps: [standard_scaler]\n"), "s.yaml")
	if err != nil {
		t.Fatal(err)
	}
	r, err := table.NewCSVReader(strings.NewReader(csv), "train.csv", table.CSVOptions{})
	if err != nil {
		t.Fatal(err)
	}
	a, err := fit.Fit(context.Background(), sp, r, fit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tr, err := transform.New(a)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// streamInto transforms csv in batches of batchRows into a CSV writer.
func streamInto(t *testing.T, tr *transform.Transformer, csv string, batchRows int, w table.Writer) (int64, error) {
	t.Helper()
	r, err := table.NewCSVReader(strings.NewReader(csv), "in.csv", table.CSVOptions{BatchRows: batchRows})
	if err != nil {
		t.Fatal(err)
	}
	return tr.Stream(context.Background(), r, w, "in.csv")
}

// TestStreamSameTextAnyBatchSize checks that the pipelined Stream (the
// writer on another goroutine, passthrough columns copied out of the
// reader's reused buffers) writes the same text for batches of 1, 7 and
// all rows.
func TestStreamSameTextAnyBatchSize(t *testing.T) {
	csv := streamCSV(5000)
	tr := streamTransformer(t, csv)
	var want []byte
	for _, rows := range []int{5000, 7, 1} {
		var buf bytes.Buffer
		w := table.NewCSVWriter(&buf, tr.Outputs())
		n, err := streamInto(t, tr, csv, rows, w)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if n != 5000 {
			t.Errorf("batches of %d: got %d rows, want 5000", rows, n)
		}
		if want == nil {
			want = buf.Bytes()
			if !bytes.Contains(want, []byte(",s4999\n")) {
				t.Fatalf("output lacks the last passthrough value:\n%s", want[len(want)-100:])
			}
			continue
		}
		if !bytes.Equal(buf.Bytes(), want) {
			t.Errorf("batches of %d rows: output differs from one batch", rows)
		}
	}
}

// failingWriter fails its second Write.
type failingWriter struct {
	writes int
	rows   int64
}

var errDiskFull = errors.New("disk full")

func (w *failingWriter) Write(b *table.Batch) error {
	if w.writes++; w.writes == 2 {
		return errDiskFull
	}
	w.rows += int64(b.Rows)
	return nil
}
func (w *failingWriter) Close() error { return nil }
func (w *failingWriter) Abort() error { return nil }

// TestStreamWriteError checks that a failing writer ends the stream with
// its error and the rows written before it, without hanging.
func TestStreamWriteError(t *testing.T) {
	csv := streamCSV(5000)
	tr := streamTransformer(t, csv)
	w := &failingWriter{}
	n, err := streamInto(t, tr, csv, 100, w)
	if !errors.Is(err, errDiskFull) {
		t.Fatalf("got %v, want the writer's error", err)
	}
	if n != 100 || w.rows != 100 {
		t.Errorf("got %d rows reported and %d written, want 100 and 100", n, w.rows)
	}
}

// sizedReader serves a whole table in batches of the given sizes, each a
// copy of its rows.
type sizedReader struct {
	all   *table.Batch
	sizes []int
	at, k int
	cur   table.Batch
}

func (r *sizedReader) Header() []string {
	var h []string
	for _, c := range r.all.Cols {
		h = append(h, c.Name)
	}
	return h
}
func (r *sizedReader) Project([]table.Field) error { return nil }
func (r *sizedReader) Next() bool {
	if r.k == len(r.sizes) || r.at == r.all.Rows {
		return false
	}
	n := min(r.sizes[r.k], r.all.Rows-r.at)
	r.cur = table.Batch{Rows: n, Start: int64(r.at), Cols: make([]table.Column, len(r.all.Cols))}
	for j := range r.all.Cols {
		s := r.all.Cols[j].Slice(r.at, r.at+n)
		c := table.Column{Name: s.Name, Kind: s.Kind}
		c.Num = append([]float64(nil), s.Num...)
		c.Str = append([]string(nil), s.Str...)
		r.cur.Cols[j] = c
	}
	r.at += n
	r.k++
	return true
}
func (r *sizedReader) Batch() *table.Batch { return &r.cur }
func (r *sizedReader) Err() error          { return nil }
func (r *sizedReader) Close() error        { return nil }

// plainWriter hides a writer's WriteOwned, so Stream takes its path for
// writers that are done with a batch when Write returns.
type plainWriter struct{ table.Writer }

// TestStreamBatchesOfGrowingSize streams batches that grow and shrink (the
// output batches' storage is cut again when a batch outgrows it) through
// a writer that owns batches until it has formatted them and through one
// that does not: both write the text of the table in one batch.
func TestStreamBatchesOfGrowingSize(t *testing.T) {
	const n = 9000
	csv := streamCSV(n)
	tr := streamTransformer(t, csv)
	r, err := table.NewCSVReader(strings.NewReader(csv), "in.csv", table.CSVOptions{BatchRows: n})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Project(tr.Inputs()); err != nil || !r.Next() {
		t.Fatal(err, r.Err())
	}
	all := r.Batch()
	var want bytes.Buffer
	w := table.NewCSVWriter(&want, tr.Outputs())
	if _, err := streamInto(t, tr, csv, n, w); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	sizes := []int{3, 100, 20, 4000, 17, 4500, 1, 359}
	for _, owning := range []bool{true, false} {
		var buf bytes.Buffer
		var w table.Writer = table.NewCSVWriter(&buf, tr.Outputs())
		if !owning {
			w = plainWriter{w}
		}
		got, err := tr.Stream(context.Background(), &sizedReader{all: all, sizes: sizes}, w, "in.csv")
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if got != n || !bytes.Equal(buf.Bytes(), want.Bytes()) {
			t.Errorf("owning writer %v: %d rows, same text %v; want %d rows and the text of one batch", owning, got, bytes.Equal(buf.Bytes(), want.Bytes()), n)
		}
	}
}
