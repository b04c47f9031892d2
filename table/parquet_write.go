package table

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/klauspost/compress/s2"
	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"
	"github.com/parquet-go/parquet-go/format"
)

// ParquetRowGroupRows is the number of rows in each row group a
// ParquetWriter writes (the last one may be shorter). The writer holds one
// row group's encoded pages in memory.
const ParquetRowGroupRows = 1 << 18

// parquetDictionaryMaxBytes is the size past which a string column's
// dictionary is abandoned for plain encoding for the rest of the row group
// (pyarrow's default dictionary page limit).
const parquetDictionaryMaxBytes = 1 << 20

// ParquetWriter writes batches as a Parquet file. It implements Writer.
//
// Every column is optional (nullable): a Numeric column is a DOUBLE, a
// String column a BYTE_ARRAY annotated as STRING (UTF-8) and
// dictionary-encoded, which suits categorical data (a dictionary growing
// past 1 MiB falls back to plain encoding). NaN and Null are written as
// nulls; every other value, ±Inf and -0 included, is written bit for bit.
// Pages are compressed with Snappy, the default of pandas and pyarrow; a
// row group holds ParquetRowGroupRows rows.
//
// The file is written to a temporary file beside the destination and
// renamed into place on Close; Abort removes it.
type ParquetWriter struct {
	fields  []Field
	file    *os.File
	path    string
	w       *parquet.Writer
	cols    []*parquet.ColumnWriter
	vals    [][]parquet.Value // per worker
	workers int
	rows    int // rows in the current row group
	err     error
	done    bool
}

// CreateParquet creates a Parquet writer for the file at path with the
// given columns. Standard output ("-") is not supported: Parquet files are
// not streamable.
func CreateParquet(path string, fields []Field) (*ParquetWriter, error) {
	if path == "-" {
		return nil, errors.New("stdout: parquet cannot be written to standard output; give an output file path (or use CSV for -)")
	}
	schema, err := parquetSchema(fields)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	pw := &ParquetWriter{fields: append([]Field(nil), fields...), file: f, path: path,
		workers: runtime.GOMAXPROCS(0)}
	pw.vals = make([][]parquet.Value, pw.workers)
	pw.w = parquet.NewWriter(f, schema,
		parquet.Compression(snappyCodec{}),
		parquet.DictionaryMaxBytes(parquetDictionaryMaxBytes),
		parquet.WriteBufferSize(writeBufferSize),
		parquet.CreatedBy("normguard", "", ""))
	pw.cols = pw.w.ColumnWriters()
	if len(pw.cols) != len(fields) {
		pw.removeTemp()
		return nil, fmt.Errorf("create %s: the parquet schema has %d columns for %d fields", path, len(pw.cols), len(fields))
	}
	return pw, nil
}

// parquetSchema returns the schema of a file with the given columns, in
// order.
func parquetSchema(fields []Field) (*parquet.Schema, error) {
	if len(fields) == 0 {
		return nil, errors.New("parquet write: a parquet file needs at least one column")
	}
	group := orderedGroup{fields: make([]parquet.Field, len(fields))}
	seen := make(map[string]bool, len(fields))
	for i, f := range fields {
		if seen[f.Name] {
			return nil, fmt.Errorf("parquet write: duplicate column %q", f.Name)
		}
		seen[f.Name] = true
		var node parquet.Node
		switch f.Kind {
		case Numeric:
			node = parquet.Optional(parquet.Leaf(parquet.DoubleType))
		case String:
			node = parquet.Optional(parquet.Encoded(parquet.String(), &parquet.RLEDictionary))
		default:
			return nil, fmt.Errorf("parquet write: column %q has kind %s; want numeric or categorical", f.Name, f.Kind)
		}
		group.fields[i] = namedField{Node: node, name: f.Name}
	}
	return parquet.NewSchema("schema", group), nil
}

// orderedGroup is a parquet group node whose fields keep the given order
// (parquet.Group sorts them by name).
type orderedGroup struct {
	parquet.Group
	fields []parquet.Field
}

func (g orderedGroup) Fields() []parquet.Field     { return g.fields }
func (g orderedGroup) String() string              { return "group" }
func (g orderedGroup) Compression() compress.Codec { return nil }

// namedField names a node within an orderedGroup.
type namedField struct {
	parquet.Node
	name string
}

func (f namedField) Name() string                           { return f.name }
func (f namedField) Value(base reflect.Value) reflect.Value { return reflect.Value{} }

// snappyCodec is parquet-go's Snappy codec with the fast encoder: the
// library's default spends most of a write looking for better matches,
// which buys little on float data. The output is standard Snappy.
type snappyCodec struct{}

func (snappyCodec) String() string                            { return "SNAPPY" }
func (snappyCodec) CompressionCodec() format.CompressionCodec { return format.Snappy }

func (snappyCodec) Encode(dst, src []byte) ([]byte, error) { return s2.EncodeSnappy(dst, src), nil }

func (snappyCodec) Decode(dst, src []byte) ([]byte, error) { return parquet.Snappy.Decode(dst, src) }

// Write appends the batch's rows. Its columns must match the writer's
// fields by name and kind, in order, and hold b.Rows rows each.
func (pw *ParquetWriter) Write(b *Batch) error {
	if pw.done {
		return errors.New("parquet write: writer already closed")
	}
	if pw.err != nil {
		return pw.err
	}
	if err := checkBatch("parquet write", pw.fields, b); err != nil {
		return err
	}
	for lo := 0; lo < b.Rows; {
		hi := min(b.Rows, lo+ParquetRowGroupRows-pw.rows)
		if err := pw.writeColumns(b, lo, hi); err != nil {
			pw.err = err
			return err
		}
		pw.rows += hi - lo
		lo = hi
		if pw.rows == ParquetRowGroupRows {
			if err := pw.w.Flush(); err != nil {
				pw.err = fmt.Errorf("parquet write: %w", err)
				return pw.err
			}
			pw.rows = 0
		}
	}
	return nil
}

// writeColumns writes rows [lo, hi) of the batch's columns, concurrently
// across columns when there are several CPUs: each column writer encodes
// and compresses its own pages, so the file's bytes do not depend on it.
func (pw *ParquetWriter) writeColumns(b *Batch, lo, hi int) error {
	workers := min(pw.workers, len(b.Cols))
	if workers <= 1 || hi-lo < minParallelRows {
		for j := range b.Cols {
			if err := pw.writeColumn(0, j, &b.Cols[j], lo, hi); err != nil {
				return fmt.Errorf("parquet write: column %q: %w", b.Cols[j].Name, err)
			}
		}
		return nil
	}
	errs := make([]error, len(b.Cols))
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for j := int(next.Add(1) - 1); j < len(b.Cols); j = int(next.Add(1) - 1) {
				errs[j] = pw.writeColumn(w, j, &b.Cols[j], lo, hi)
			}
		})
	}
	wg.Wait()
	for j, err := range errs {
		if err != nil {
			return fmt.Errorf("parquet write: column %q: %w", b.Cols[j].Name, err)
		}
	}
	return nil
}

// writeColumn writes rows [lo, hi) of column c, the writer's column j,
// using worker w's value buffer. Rows go in chunks of writeChunk values,
// small enough for the buffer to stay in cache.
func (pw *ParquetWriter) writeColumn(w, j int, c *Column, lo, hi int) error {
	const writeChunk = 2048
	if cap(pw.vals[w]) < writeChunk {
		pw.vals[w] = make([]parquet.Value, writeChunk)
	}
	null := parquet.NullValue().Level(0, 0, j)
	for ; lo < hi; lo += writeChunk {
		n := min(writeChunk, hi-lo)
		vals := pw.vals[w][:n]
		if c.Kind == Numeric {
			for i, v := range c.Num[lo : lo+n] {
				if v != v { // NaN
					vals[i] = null
				} else {
					vals[i] = parquet.DoubleValue(v).Level(0, 1, j)
				}
			}
		} else {
			var nulls []bool
			if c.Null != nil {
				nulls = c.Null[lo : lo+n]
			}
			for i, s := range c.Str[lo : lo+n] {
				if nulls != nil && nulls[i] {
					vals[i] = null
				} else {
					// The column buffer copies the bytes; s is not retained.
					b := unsafe.Slice(unsafe.StringData(s), len(s))
					vals[i] = parquet.ByteArrayValue(b).Level(0, 1, j)
				}
			}
		}
		if _, err := pw.cols[j].WriteRowValues(vals); err != nil {
			return err
		}
	}
	return nil
}

// checkBatch validates a batch against a writer's fields.
func checkBatch(op string, fields []Field, b *Batch) error {
	if len(b.Cols) != len(fields) {
		return fmt.Errorf("%s: batch has %d columns, the writer has %d", op, len(b.Cols), len(fields))
	}
	for j, f := range fields {
		c := &b.Cols[j]
		if c.Name != f.Name || c.Kind != f.Kind {
			return fmt.Errorf("%s: column %d is %q (%s), want %q (%s)", op, j+1, c.Name, c.Kind, f.Name, f.Kind)
		}
		if c.Len() < b.Rows || (c.Kind == String && c.Null != nil && len(c.Null) < b.Rows) {
			return fmt.Errorf("%s: column %q has %d rows, the batch has %d", op, c.Name, c.Len(), b.Rows)
		}
	}
	return nil
}

// Close writes the last row group and the footer, syncs the file and
// renames it into place. After a failed Write the output is discarded and
// the error returned. Close after Close or Abort does nothing.
func (pw *ParquetWriter) Close() error {
	if pw.done {
		return nil
	}
	pw.done = true
	if pw.err == nil {
		if err := pw.w.Close(); err != nil {
			pw.err = fmt.Errorf("parquet write: %w", err)
		}
	}
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

// commit syncs the temporary file and renames it over the destination,
// keeping the destination's permissions when it exists.
func (pw *ParquetWriter) commit() error {
	mode := fs.FileMode(0o644)
	if st, err := os.Stat(pw.path); err == nil {
		mode = st.Mode().Perm()
	}
	if err := pw.file.Chmod(mode); err != nil {
		return err
	}
	if err := pw.file.Sync(); err != nil {
		return err
	}
	if err := pw.file.Close(); err != nil {
		return err
	}
	return os.Rename(pw.file.Name(), pw.path)
}

// Abort discards the output: the temporary file is removed and the
// destination left untouched. Abort after Close or Abort does nothing.
func (pw *ParquetWriter) Abort() error {
	if pw.done {
		return nil
	}
	pw.done = true
	return pw.removeTemp()
}

func (pw *ParquetWriter) removeTemp() error {
	pw.file.Close()
	if err := os.Remove(pw.file.Name()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

var (
	_ Writer = (*ParquetWriter)(nil)
	_ Reader = (*ParquetReader)(nil)
)
