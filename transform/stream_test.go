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
