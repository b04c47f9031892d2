package table

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
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
// Write cuts a batch into chunks of rows, which a pool of GOMAXPROCS
// format goroutines turns into text (each chunk's text depends on its rows
// only, so it is the same for any count) and a writing goroutine hands to
// the output in order. Chunks of one batch and of the next are formatted
// without a barrier between them: a core that finishes a chunk takes the
// next one, and the kernel's write of one chunk overlaps with the
// formatting of the following ones. WriteOwned (OwningWriter) lets the
// caller fill its next batch while this one is formatted.
//
// A writer made by CreateCSV writes to a temporary file beside the
// destination and renames it into place on Close; Abort removes it.
type CSVWriter struct {
	fields []Field
	delim  byte      // the field delimiter
	quotes [256]bool // the bytes that make a string cell quoted
	tmp    *tempFile // the temporary file, nil when writing to a plain io.Writer
	err    error
	done   bool

	queue chan *csvJob // chunks in output order, for the writing goroutine
	jobs  chan *csvJob // chunks to format, for the format goroutines
	bufs  chan []byte  // text buffers, one taken per chunk in flight
	wdone chan error   // the writing goroutine's first error, sent when it exits
	start sync.Once    // starts the format goroutines
	abort atomic.Bool  // set by Abort: the writing goroutine drops what is queued
	tim   atomic.Pointer[timings.Recorder]
}

// csvJob is one chunk of rows: the rows [lo, hi) of b, formatted into
// text by a format goroutine (or by Write itself for a one-chunk batch),
// then written by the writing goroutine once done receives.
type csvJob struct {
	b      *Batch
	lo, hi int
	text   []byte
	owner  *ownedBatch
	done   chan struct{} // receives when text is complete
}

// ownedBatch counts the chunks of a batch still to format; the last one
// calls release, handing the batch back to its owner.
type ownedBatch struct {
	pending atomic.Int32
	release func()
}

func (o *ownedBatch) finish() {
	if o.pending.Add(-1) == 0 {
		o.release()
	}
}

// SetTimings makes the writer record its "format" stage (turning batches
// into text) and its "write" stage (handing the text to the file) in rec.
func (cw *CSVWriter) SetTimings(rec *timings.Recorder) { cw.tim.Store(rec) }

// csvChunkRows is the number of rows formatted as one piece of text.
const csvChunkRows = 8192

// csvBuffers returns how many chunks may be in flight (queued, being
// formatted, or formatted and waiting to be written) for workers format
// goroutines: enough that every core has a chunk while the writing
// goroutine writes another and the next is queued, few enough that the
// text held stays small (about 3.4 MB a chunk for 22 numeric columns).
func csvBuffers(workers int) int { return 2*workers + 2 }

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
	workers := runtime.GOMAXPROCS(0)
	nbuf := csvBuffers(workers)
	cw := &CSVWriter{
		fields: append([]Field(nil), fields...),
		delim:  delim,
		queue:  make(chan *csvJob, nbuf),
		jobs:   make(chan *csvJob, nbuf),
		bufs:   make(chan []byte, nbuf),
		wdone:  make(chan error, 1),
	}
	for _, c := range []byte{delim, '"', '\r', '\n'} {
		cw.quotes[c] = true
	}
	for range nbuf {
		cw.bufs <- nil
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
	header := &csvJob{text: append(<-cw.bufs, line...), done: make(chan struct{}, 1)}
	header.text = append(header.text, '\n')
	header.done <- struct{}{}
	cw.queue <- header
	return cw
}

// drain writes queued text to w in order until the queue closes, then
// reports the first error. After an error it keeps draining (discarding)
// so that Write never blocks forever.
func (cw *CSVWriter) drain(w io.Writer) {
	var err error
	bw := bufio.NewWriterSize(w, writeBufferSize)
	for j := range cw.queue {
		<-j.done
		if err == nil && !cw.abort.Load() {
			t0 := time.Now()
			_, err = bw.Write(j.text)
			cw.tim.Load().Since("write", t0)
		}
		text := j.text[:0]
		if cap(text) > 64<<20 {
			text = nil // an outsized chunk (very long strings): not kept
		}
		cw.bufs <- text
	}
	if err == nil {
		t0 := time.Now()
		err = bw.Flush()
		cw.tim.Load().Since("write", t0)
	}
	cw.wdone <- err
}

// Write appends the batch's rows. Its columns must match the writer's
// fields by name and kind, in order, and hold b.Rows rows each. The batch
// may be reused as soon as Write returns.
func (cw *CSVWriter) Write(b *Batch) error {
	done := make(chan struct{})
	if err := cw.WriteOwned(b, func() { close(done) }); err != nil {
		return err
	}
	<-done
	return nil
}

// WriteOwned is Write that may return before the batch is formatted: it
// queues the batch's chunks and calls release, from a format goroutine,
// once the last of them is formatted; until then b must not change. It
// returns when every chunk is queued (at most csvBuffers chunks are in
// flight, so a caller far ahead waits here). On an error release is called
// before WriteOwned returns.
func (cw *CSVWriter) WriteOwned(b *Batch, release func()) error {
	if err := cw.writable(b); err != nil {
		release()
		return err
	}
	chunks := (b.Rows + csvChunkRows - 1) / csvChunkRows
	if chunks > 1 {
		cw.start.Do(cw.startWorkers)
	}
	ob := &ownedBatch{release: release}
	ob.pending.Store(int32(chunks) + 1)
	for c := range chunks {
		lo := c * csvChunkRows
		j := &csvJob{b: b, lo: lo, hi: min(lo+csvChunkRows, b.Rows), owner: ob, done: make(chan struct{}, 1)}
		j.text = <-cw.bufs
		cw.queue <- j
		if chunks == 1 {
			cw.format(j) // one chunk: no goroutine to hand it to
		} else {
			cw.jobs <- j
		}
	}
	ob.finish()
	return nil
}

// writable reports why b cannot be written, if it cannot.
func (cw *CSVWriter) writable(b *Batch) error {
	if cw.done {
		return errors.New("csv write: writer already closed")
	}
	if cw.err != nil {
		return cw.err
	}
	return cw.check(b)
}

// startWorkers starts the format goroutines, which run until Close or
// Abort closes jobs.
func (cw *CSVWriter) startWorkers() {
	for range runtime.GOMAXPROCS(0) {
		go func() {
			for j := range cw.jobs {
				cw.format(j)
			}
		}()
	}
}

// format turns a chunk into text and hands it to the writing goroutine.
func (cw *CSVWriter) format(j *csvJob) {
	t0 := time.Now()
	if need := (j.hi - j.lo) * len(j.b.Cols) * 24; cap(j.text) < need {
		j.text = make([]byte, 0, need) // about 24 bytes a cell; append grows it if not
	}
	j.text = cw.appendRows(j.text, j.b, j.lo, j.hi)
	cw.tim.Load().Since("format", t0)
	owner := j.owner
	j.b, j.owner = nil, nil
	// Release before signalling the text: the writing goroutine, and so
	// Close, then finishes only after every batch has been handed back.
	owner.finish()
	j.done <- struct{}{}
}

// appendRows appends rows [lo, hi) of b as CSV lines to dst. Numbers go
// through appendFloatWide, which writes whole words into dst's spare
// capacity: dst is the writer's own chunk buffer.
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
				if cap(dst)-len(dst) < wideRoom {
					dst = slices.Grow(dst, wideRoom)
				}
				n := len(dst)
				dst = appendFloatWide(dst, c.Num[i])
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
		for i := 0; i < len(s) && !quote; i++ {
			quote = cw.quotes[s[i]]
		}
		quote = quote || len(s) <= maxNALen && isNAString(s) && s != "" ||
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
	close(cw.jobs)
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
	cw.abort.Store(true)
	close(cw.queue)
	close(cw.jobs)
	<-cw.wdone
	if cw.tmp == nil {
		return nil
	}
	return cw.tmp.remove()
}
