package table

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/normguard/normguard/timings"
)

// writeBufferSize is the CSV writer's buffer size.
const writeBufferSize = 1 << 20

// CSVWriter writes batches as CSV. It implements Writer.
//
// The first line is the header. Numeric cells are written by AppendFloat
// (NaN as an empty cell). String cells are quoted when they contain a
// comma, a quote, CR or LF, or equal one of the NA strings the reader
// treats as missing; a missing string is an empty cell. A present empty
// string is also written as an empty cell, so it reads back as missing:
// CSV read the pandas way cannot tell the two apart. In a one-column table
// an empty or blank cell is written as "" so that the line is not skipped
// as blank when read back.
//
// Write formats a batch's rows on up to GOMAXPROCS goroutines (contiguous
// row ranges, so the text is the same for any count) and hands the text to
// a background goroutine that writes it, so formatting the next batch
// overlaps with the kernel's write of this one.
//
// A writer made by CreateCSV writes to a temporary file beside the
// destination and renames it into place on Close; Abort removes it.
type CSVWriter struct {
	fields []Field
	delim  byte      // the field delimiter
	quote  string    // characters that make a string cell quoted
	tmp    *tempFile // the temporary file, nil when writing to a plain io.Writer
	err    error
	done   bool

	queue chan []byte // formatted text, in order, for the writing goroutine
	wdone chan error  // the writing goroutine's first error, sent when it exits
	pool  sync.Pool   // *[]byte text buffers
	tim   atomic.Pointer[timings.Recorder]
}

// SetTimings makes the writer record its "format" stage (turning batches
// into text) and its "write" stage (handing the text to the file) in rec.
func (cw *CSVWriter) SetTimings(rec *timings.Recorder) { cw.tim.Store(rec) }

// csvChunkRows is the number of rows formatted as one piece of text.
const csvChunkRows = 8192

// CreateCSV creates a CSV writer for the file at path ("-" writes standard
// output, without atomicity) and writes the header. The path's dialect
// (DialectOf) gives the delimiter: a tab for .tsv. A path ending in .gz or
// .zst is compressed as it is written (see CompressionOf).
func CreateCSV(path string, fields []Field) (*CSVWriter, error) {
	delim := DialectOf(path).Delimiter
	if path == "-" {
		return NewCSVWriterDelimited(os.Stdout, fields, delim), nil
	}
	tf, err := createOutput(path)
	if err != nil {
		return nil, err
	}
	cw := NewCSVWriterDelimited(tf.writer(), fields, delim)
	cw.tmp = tf
	return cw, nil
}

// NewCSVWriter returns a writer of CSV text to w and queues the header.
// Close flushes everything; it does not close w.
func NewCSVWriter(w io.Writer, fields []Field) *CSVWriter {
	return NewCSVWriterDelimited(w, fields, ',')
}

// NewCSVWriterDelimited is NewCSVWriter with another field delimiter (0
// means a comma): a tab writes TSV. Cells holding the delimiter are quoted.
func NewCSVWriterDelimited(w io.Writer, fields []Field, delim byte) *CSVWriter {
	if delim == 0 {
		delim = ','
	}
	cw := &CSVWriter{
		fields: append([]Field(nil), fields...),
		delim:  delim,
		quote:  string(delim) + "\"\r\n",
		queue:  make(chan []byte, 2),
		wdone:  make(chan error, 1),
	}
	go cw.drain(w)
	single := len(fields) == 1
	var line []byte
	for i, f := range fields {
		if i > 0 {
			line = append(line, delim)
		}
		// A leading byte order mark would be stripped by a reader: quote it.
		quote := i == 0 && strings.HasPrefix(f.Name, "\xEF\xBB\xBF")
		line = cw.appendCell(line, f.Name, single, quote)
	}
	cw.queue <- append(line, '\n')
	return cw
}

// drain writes queued text to w in order until the queue closes, then
// reports the first error. After an error it keeps draining (discarding)
// so that Write never blocks forever.
func (cw *CSVWriter) drain(w io.Writer) {
	var err error
	bw := bufio.NewWriterSize(w, writeBufferSize)
	for text := range cw.queue {
		if err == nil {
			t0 := time.Now()
			_, err = bw.Write(text)
			cw.tim.Load().Since("write", t0)
		}
		cw.putBuf(text)
	}
	if err == nil {
		t0 := time.Now()
		err = bw.Flush()
		cw.tim.Load().Since("write", t0)
	}
	cw.wdone <- err
}

func (cw *CSVWriter) getBuf() []byte {
	if p, ok := cw.pool.Get().(*[]byte); ok {
		return (*p)[:0]
	}
	return make([]byte, 0, 4<<20)
}

func (cw *CSVWriter) putBuf(b []byte) {
	if cap(b) <= 64<<20 {
		cw.pool.Put(&b)
	}
}

// Write appends the batch's rows. Its columns must match the writer's
// fields by name and kind, in order, and hold b.Rows rows each. The batch
// may be reused as soon as Write returns.
func (cw *CSVWriter) Write(b *Batch) error {
	if cw.done {
		return errors.New("csv write: writer already closed")
	}
	if cw.err != nil {
		return cw.err
	}
	if err := cw.check(b); err != nil {
		return err
	}
	// Format chunks of rows, as many at a time as there are cores, and
	// queue them in order: the writing goroutine writes one group while
	// the next is formatted. Chunk buffers are recycled.
	chunks := (b.Rows + csvChunkRows - 1) / csvChunkRows
	workers := max(1, min(runtime.GOMAXPROCS(0), chunks))
	texts := make([][]byte, workers)
	tim := cw.tim.Load()
	for first := 0; first < chunks; first += workers {
		t0 := time.Now()
		k := min(workers, chunks-first)
		var wg sync.WaitGroup
		for c := 0; c < k; c++ {
			lo := (first + c) * csvChunkRows
			hi := min(lo+csvChunkRows, b.Rows)
			buf := cw.getBuf()
			if k == 1 {
				texts[c] = cw.appendRows(buf, b, lo, hi)
				break
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				texts[c] = cw.appendRows(buf, b, lo, hi)
			}()
		}
		wg.Wait()
		tim.Since("format", t0)
		for _, t := range texts[:k] {
			cw.queue <- t
		}
	}
	return nil
}

// appendRows appends rows [lo, hi) of b as CSV lines to dst.
func (cw *CSVWriter) appendRows(dst []byte, b *Batch, lo, hi int) []byte {
	single := len(b.Cols) == 1
	delim := cw.delim
	for i := lo; i < hi; i++ {
		for j := range b.Cols {
			if j > 0 {
				dst = append(dst, delim)
			}
			c := &b.Cols[j]
			switch {
			case c.Kind == Numeric:
				n := len(dst)
				dst = AppendFloat(dst, c.Num[i])
				if single && len(dst) == n {
					dst = append(dst, `""`...)
				}
			case c.Null != nil && c.Null[i]:
				if single {
					dst = append(dst, `""`...)
				}
			default:
				dst = cw.appendCell(dst, c.Str[i], single, false)
			}
		}
		dst = append(dst, '\n')
	}
	return dst
}

// check validates a batch against the writer's fields.
func (cw *CSVWriter) check(b *Batch) error {
	if len(b.Cols) != len(cw.fields) {
		return fmt.Errorf("csv write: batch has %d columns, the writer has %d", len(b.Cols), len(cw.fields))
	}
	for j, f := range cw.fields {
		c := &b.Cols[j]
		if c.Name != f.Name || c.Kind != f.Kind {
			return fmt.Errorf("csv write: column %d is %q (%s), want %q (%s)", j+1, c.Name, c.Kind, f.Name, f.Kind)
		}
		if c.Len() < b.Rows || (c.Kind == String && c.Null != nil && len(c.Null) < b.Rows) {
			return fmt.Errorf("csv write: column %q has %d rows, the batch has %d", c.Name, c.Len(), b.Rows)
		}
	}
	return nil
}

// appendCell appends a string cell, quoting it when a reader would
// otherwise split, unescape or drop it.
func (cw *CSVWriter) appendCell(dst []byte, s string, single, quote bool) []byte {
	if !quote {
		quote = strings.ContainsAny(s, cw.quote) || isNAString(s) && s != "" ||
			single && strings.Trim(s, " \t") == ""
	}
	if !quote {
		return append(dst, s...)
	}
	dst = append(dst, '"')
	for {
		i := strings.IndexByte(s, '"')
		if i < 0 {
			break
		}
		dst = append(dst, s[:i+1]...)
		dst = append(dst, '"')
		s = s[i+1:]
	}
	dst = append(dst, s...)
	return append(dst, '"')
}

// Close flushes the output and, for a file, syncs it and renames it into
// place. After a failed Write the output is discarded and the error
// returned. Close after Close or Abort does nothing.
func (cw *CSVWriter) Close() error {
	if cw.done {
		return nil
	}
	cw.done = true
	close(cw.queue)
	if err := <-cw.wdone; err != nil && cw.err == nil {
		cw.err = fmt.Errorf("csv write: %w", err)
	}
	if cw.tmp == nil {
		return cw.err
	}
	if cw.err != nil {
		cw.tmp.remove()
		return cw.err
	}
	return cw.tmp.commit()
}

// Abort discards the output: for a file, the temporary file is removed and
// the destination left untouched. Abort after Close or Abort does nothing.
func (cw *CSVWriter) Abort() error {
	if cw.done {
		return nil
	}
	cw.done = true
	close(cw.queue)
	<-cw.wdone
	if cw.tmp == nil {
		return nil
	}
	return cw.tmp.remove()
}
