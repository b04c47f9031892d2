package parquetio

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parquet-go/parquet-go/deprecated"
	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"

	"github.com/normguard/normguard/table"
	"github.com/normguard/normguard/timings"
)

// RowGroupRows is the number of rows in each row group a
// Writer writes (the last one may be shorter). The writer holds one
// row group's encoded pages in memory.
const RowGroupRows = 1 << 18

// parquetDictionaryMaxBytes is the size past which a string column's
// dictionary is abandoned for plain encoding for the rest of the row group
// (pyarrow's default dictionary page limit).
const parquetDictionaryMaxBytes = 1 << 20

// Writer writes batches as a Parquet file. It implements table.Writer.
//
// Every column is optional (nullable): a table.Numeric column is a DOUBLE, a
// table.String column a BYTE_ARRAY annotated as STRING (UTF-8) and
// dictionary-encoded, which suits categorical data (a dictionary growing
// past 1 MiB falls back to plain encoding for the rest of the row group).
// NaN and Null are written as nulls; every other value, ±Inf and -0
// included, is written bit for bit. Pages are compressed with Snappy, the
// default of pandas and pyarrow; a row group holds RowGroupRows
// rows. Chunks carry null counts, and DOUBLE chunks their minimum and
// maximum; every page carries the CRC-32 of its bytes.
//
// Pages are encoded by the writer itself (see columnEncoder), the columns
// of a batch concurrently on up to GOMAXPROCS goroutines; the file's bytes
// do not depend on the number of goroutines or on how rows are split into
// batches.
//
// The file is written to a temporary file beside the destination and
// renamed into place on Close; Abort removes it.
type Writer struct {
	fields []table.Field
	tmp    *tempFile
	path   string
	out    *bufio.Writer
	offset int64 // the file's size once the pending writes are done
	enc    []*columnEncoder
	groups []format.RowGroup
	// A row group's chunks are written by a goroutine while the next
	// one is encoded; flushed receives its result, and its
	// chunks' buffers go back to the encoders afterwards.
	flushed chan error
	spare   []*encodedChunk
	errs    []error // per column, reused
	workers int
	mem     chunkMem // the encoders' chunk buffers
	tim     atomic.Pointer[timings.Recorder]
	rows    int // rows in the current row group
	err     error
	done    bool
}

// SetTimings makes the writer record its "format" stage (encoding pages,
// in Write) and its "write" stage (writing row groups to the file, on
// another goroutine) in rec.
func (pw *Writer) SetTimings(rec *timings.Recorder) { pw.tim.Store(rec) }

// writeBufferSize is the buffer between the writer and its file.
const writeBufferSize = 1 << 20

// parquetMagic starts and ends a Parquet file.
const parquetMagic = "PAR1"

// Create creates a Parquet writer for the file at path with the
// given columns. Standard output ("-") is not supported: Parquet files are
// not streamable.
func Create(path string, fields []table.Field) (*Writer, error) {
	if path == "-" {
		return nil, errors.New("stdout: parquet cannot be written to standard output; give an output file path (or use CSV for -)")
	}
	if err := checkParquetFields(fields); err != nil {
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	tf, err := createTemp(path)
	if err != nil {
		return nil, err
	}
	f := tf.file
	pw := &Writer{fields: append([]table.Field(nil), fields...), tmp: tf, path: path,
		out:     bufio.NewWriterSize(f, writeBufferSize),
		enc:     make([]*columnEncoder, len(fields)),
		errs:    make([]error, len(fields)),
		workers: runtime.GOMAXPROCS(0)}
	for j, fd := range fields {
		pw.enc[j] = newColumnEncoder(fd.Kind)
		pw.enc[j].mem = &pw.mem
	}
	if _, err := pw.out.WriteString(parquetMagic); err != nil {
		pw.removeTemp()
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	pw.offset = int64(len(parquetMagic))
	return pw, nil
}

// checkParquetFields checks that the columns can be written: at least
// one, named uniquely, each numeric or categorical.
func checkParquetFields(fields []table.Field) error {
	if len(fields) == 0 {
		return errors.New("parquet write: a parquet file needs at least one column")
	}
	seen := make(map[string]bool, len(fields))
	for _, f := range fields {
		if seen[f.Name] {
			return fmt.Errorf("parquet write: duplicate column %q", f.Name)
		}
		seen[f.Name] = true
		if f.Kind != table.Numeric && f.Kind != table.String {
			return fmt.Errorf("parquet write: column %q has kind %s; want numeric or categorical", f.Name, f.Kind)
		}
	}
	return nil
}

// parquetSchema returns the schema elements of a file with the given
// columns: the root, then one optional leaf per column, in order.
func parquetSchema(fields []table.Field) []format.SchemaElement {
	schema := make([]format.SchemaElement, 1, len(fields)+1)
	schema[0] = format.SchemaElement{Name: "schema"}
	schema[0].NumChildren.Set(int32(len(fields)))
	for _, f := range fields {
		e := format.SchemaElement{Name: f.Name}
		e.RepetitionType.Set(format.Optional)
		if f.Kind == table.Numeric {
			e.Type.Set(format.Double)
		} else {
			e.Type.Set(format.ByteArray)
			e.ConvertedType.Set(deprecated.UTF8)
			e.LogicalType.Value = &format.StringType{}
		}
		schema = append(schema, e)
	}
	return schema
}

// Write appends the batch's rows. Its columns must match the writer's
// fields by name and kind, in order, and hold b.Rows rows each.
func (pw *Writer) Write(b *table.Batch) error {
	if pw.done {
		return errors.New("parquet write: writer already closed")
	}
	if pw.err != nil {
		return pw.err
	}
	if err := checkBatch("parquet write", pw.fields, b); err != nil {
		return err
	}
	t0 := time.Now()
	defer func() { pw.tim.Load().Since("format", t0) }()
	for lo := 0; lo < b.Rows; {
		hi := min(b.Rows, lo+RowGroupRows-pw.rows)
		if err := pw.forColumns(hi-lo, func(j int) error { return pw.enc[j].appendColumn(&b.Cols[j], lo, hi) }); err != nil {
			pw.err = err
			return err
		}
		pw.rows += hi - lo
		lo = hi
		if pw.rows == RowGroupRows {
			if err := pw.flushRowGroup(); err != nil {
				pw.err = err
				return err
			}
		}
	}
	return nil
}

// forColumns runs fn for every column, concurrently across columns when
// there are several CPUs and rows are worth it, and returns the error of
// the first column that failed, naming it.
func (pw *Writer) forColumns(rows int, fn func(j int) error) error {
	clear(pw.errs)
	if workers := min(pw.workers, len(pw.enc)); workers > 1 && rows >= minParallelRows {
		var next atomic.Int64
		var wg sync.WaitGroup
		for range workers {
			wg.Go(func() {
				for j := int(next.Add(1) - 1); j < len(pw.enc); j = int(next.Add(1) - 1) {
					pw.errs[j] = fn(j)
				}
			})
		}
		wg.Wait()
	} else {
		for j := range pw.enc {
			pw.errs[j] = fn(j)
		}
	}
	for j, err := range pw.errs {
		if err != nil {
			return fmt.Errorf("parquet write: column %q: %w", pw.fields[j].Name, err)
		}
	}
	return nil
}

// flushRowGroup ends the current row group: its column chunks are
// finished, their metadata kept for the footer, and a goroutine writes
// them in column order while the next row group is encoded.
func (pw *Writer) flushRowGroup() error {
	if err := pw.forColumns(pw.rows, func(j int) error { return pw.enc[j].finish() }); err != nil {
		return err
	}
	g := format.RowGroup{
		Columns:    make([]format.ColumnChunk, len(pw.enc)),
		NumRows:    int64(pw.rows),
		FileOffset: pw.offset,
	}
	if len(pw.groups) <= math.MaxInt16 {
		g.Ordinal = int16(len(pw.groups))
	}
	for j, e := range pw.enc {
		m := e.metadata(pw.fields[j].Name, pw.offset)
		g.Columns[j] = format.ColumnChunk{FileOffset: pw.offset, MetaData: m}
		g.TotalByteSize += m.TotalUncompressedSize
		g.TotalCompressedSize += m.TotalCompressedSize
		pw.offset += m.TotalCompressedSize
	}
	pw.groups = append(pw.groups, g)
	pw.rows = 0

	if err := pw.wait(); err != nil {
		return err
	}
	chunks := make([]*encodedChunk, len(pw.enc))
	for j, e := range pw.enc {
		chunks[j] = e.chunk
		e.chunk = new(encodedChunk)
		if pw.spare != nil {
			e.chunk = pw.spare[j]
		}
		e.reset()
	}
	pw.spare = chunks
	pw.flushed = make(chan error, 1)
	tim := pw.tim.Load()
	go func() {
		defer tim.Since("write", time.Now())
		for _, c := range chunks {
			if err := c.writeTo(pw.out); err != nil {
				pw.flushed <- err
				return
			}
		}
		err := pw.out.Flush()
		if err == nil {
			pw.tmp.earlySync()
		}
		pw.flushed <- err
	}()
	return nil
}

// wait waits for the row group being written, if any, and returns its
// error.
func (pw *Writer) wait() error {
	if pw.flushed == nil {
		return nil
	}
	err := <-pw.flushed
	pw.flushed = nil
	if err != nil {
		return fmt.Errorf("parquet write: %w", err)
	}
	return nil
}

// writeFooter writes the last row group, the file metadata and the
// closing magic bytes, and flushes the buffer.
func (pw *Writer) writeFooter() error {
	if pw.rows > 0 {
		if err := pw.flushRowGroup(); err != nil {
			return err
		}
	}
	md := format.FileMetaData{
		Version:      2,
		Schema:       parquetSchema(pw.fields),
		RowGroups:    pw.groups,
		CreatedBy:    writerName,
		ColumnOrders: make([]format.ColumnOrder, len(pw.fields)),
	}
	for _, g := range pw.groups {
		md.NumRows += g.NumRows
	}
	for j := range md.ColumnOrders {
		md.ColumnOrders[j].Value = &format.TypeDefinedOrder{}
	}
	var protocol thrift.CompactProtocol
	footer, err := thrift.Marshal(&protocol, &md)
	if err != nil {
		return fmt.Errorf("parquet write: %w", err)
	}
	if err := pw.wait(); err != nil {
		return err
	}
	footer = binary.LittleEndian.AppendUint32(footer, uint32(len(footer)))
	footer = append(footer, parquetMagic...)
	if _, err := pw.out.Write(footer); err != nil {
		return fmt.Errorf("parquet write: %w", err)
	}
	if err := pw.out.Flush(); err != nil {
		return fmt.Errorf("parquet write: %w", err)
	}
	return nil
}

// checkBatch validates a batch against a writer's fields.
func checkBatch(op string, fields []table.Field, b *table.Batch) error {
	if len(b.Cols) != len(fields) {
		return fmt.Errorf("%s: batch has %d columns, the writer has %d", op, len(b.Cols), len(fields))
	}
	for j, f := range fields {
		c := &b.Cols[j]
		if c.Name != f.Name || c.Kind != f.Kind {
			return fmt.Errorf("%s: column %d is %q (%s), want %q (%s)", op, j+1, c.Name, c.Kind, f.Name, f.Kind)
		}
		if c.Len() < b.Rows || (c.Kind == table.String && c.Null != nil && len(c.Null) < b.Rows) {
			return fmt.Errorf("%s: column %q has %d rows, the batch has %d", op, c.Name, c.Len(), b.Rows)
		}
	}
	return nil
}

// Close writes the last row group and the footer, syncs the file and
// renames it into place. After a failed Write the output is discarded and
// the error returned. Close after Close or Abort does nothing.
func (pw *Writer) Close() error {
	if pw.done {
		return nil
	}
	pw.done = true
	if pw.err == nil {
		pw.err = pw.writeFooter()
	}
	pw.wait()
	pw.dropChunks()
	if pw.err != nil {
		pw.removeTemp()
		return pw.err
	}
	if err := pw.commit(); err != nil {
		pw.removeTemp()
		return fmt.Errorf("write %s: %w", pw.path, err)
	}
	return nil
}

// commit syncs the temporary file and renames it over the destination.
func (pw *Writer) commit() error { return pw.tmp.rename() }

// Abort discards the output: the temporary file is removed and the
// destination left untouched. Abort after Close or Abort does nothing.
func (pw *Writer) Abort() error {
	if pw.done {
		return nil
	}
	pw.done = true
	return pw.removeTemp()
}

// removeTemp removes the temporary file, once the row group being written
// to it, if any, is done.
func (pw *Writer) removeTemp() error {
	pw.wait()
	pw.dropChunks()
	return pw.tmp.remove()
}

// dropChunks unmaps the chunk buffers once no row group is being
// written: nothing uses them after Close or Abort.
func (pw *Writer) dropChunks() {
	for _, e := range pw.enc {
		e.chunk = nil
	}
	pw.spare = nil
	pw.mem.release()
}

var (
	_ table.Writer = (*Writer)(nil)
	_ table.Reader = (*Reader)(nil)
)

// writerName is the created_by the Writer records in a file's footer.
const writerName = "normguard"
