package parquetio

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/deprecated"
	"github.com/parquet-go/parquet-go/format"

	"github.com/normguard/normguard/table"
)

// ErrCorrupt is wrapped by the errors a Parquet reader returns for a file
// that is not Parquet or whose structure is damaged.
var ErrCorrupt = errors.New("not a valid parquet file")

// decodePanic is the error for a panic of the library on damaged data (it
// indexes its buffers with sizes read in the file): it says where, as far
// as known, and what is wrong in user terms. The panic's own text (Go's
// "runtime error: slice bounds out of range ...") means nothing to a user
// and is kept out of the message, in internal, for debugging.
type decodePanic struct {
	where    string // the file, and the column, row group and page when known
	internal string // the panic value
}

func (e *decodePanic) Error() string {
	return e.where + ": " + ErrCorrupt.Error() +
		": its data could not be decoded; the file is damaged, or is not a Parquet file this reader supports"
}

func (e *decodePanic) Unwrap() error { return ErrCorrupt }

// recovered returns the error for panic value p recovered while reading
// the place where names.
func recovered(where string, p any) error {
	return &decodePanic{where: where, internal: fmt.Sprint(p)}
}

// Options configures a Parquet reader. The zero value is ready to use.
type Options struct {
	// BatchRows is the largest number of rows in a batch (0 means
	// table.DefaultBatchRows). A batch never spans two row groups.
	BatchRows int
	// Workers is the number of goroutines decoding a batch's columns
	// concurrently (0 means 1). Results do not depend on it.
	Workers int
}

// Reader reads a Parquet file as batches of columns. It implements
// table.Reader.
//
// The header is the file's top-level leaf columns in schema order; nested
// (group) and repeated columns are left out of it, and projecting one is an
// error naming it. Values convert as follows (Numeric projection; String
// projection):
//
//	BOOLEAN                      0 or 1; "False" or "True" (as pandas prints them)
//	INT32, INT64                 the integer (signed or unsigned as the logical
//	                             type says; dates, times and timestamps give their
//	                             raw integer); its decimal text
//	INT32, INT64 DECIMAL(s)      unscaled * 10^-s, correctly rounded; table.AppendFloat text
//	FLOAT, DOUBLE                the value (FLOAT widened exactly); table.AppendFloat text
//	                             (FLOAT by its shortest float32 text)
//	BYTE_ARRAY, FIXED_LEN_BYTE_ARRAY  parsed as a CSV numeric cell; the bytes
//
// A null (definition level below the column's maximum) is a missing value:
// NaN in a Numeric column, Null in a String column. A Numeric projection of
// a text column parses each value as the CSV reader parses a numeric cell
// (spaces trimmed, pandas' NA strings are missing, others that are not
// numbers are a *table.CellError naming the file, row and column). INT96 and
// DECIMAL stored as bytes are refused at Project. Dictionary-encoded
// columns are converted once per dictionary, not once per row.
//
// Row groups are read column by column, page by page: each page's values
// are converted from the library's typed slices straight into the batch's
// reused buffers. A file that is not Parquet or is damaged gives an error
// wrapping ErrCorrupt and naming the file (and the column, row group and
// page where known), never a panic. A page whose header has a CRC-32 is
// checked against it (by the library, as it reads the page); a mismatch
// is an error naming the page.
type Reader struct {
	name      string
	src       io.ReaderAt
	file      *parquet.File
	closer    io.Closer
	batchRows int
	workers   int
	delivered atomic.Int64 // rows delivered, for Progress

	header  []string
	leaves  map[string]*parquet.Column // flat top-level columns
	nested  map[string]string          // other top-level columns: why they are refused
	vectors map[string]*parquet.Column // lists of numbers (vector.go)
	vec     *vectorSet                 // a projection with vector columns
	groups  []parquet.RowGroup
	cols    []*parquetColumn
	started bool
	done    bool

	group int   // index of the row group being read, -1 before the first
	left  int64 // rows of the row group not yet delivered
	rows  int64 // rows delivered so far

	batch table.Batch
	errs  []error // per projected column, reused
	// own holds each numeric projected column's batch buffer, carved
	// from one mapping of mem (ownBuffers).
	own []([]float64)
	mem chunkMem
	err error
}

// Open opens the Parquet file at path and reads its schema.
func Open(path string, opts Options) (*Reader, error) {
	if path == "-" {
		return nil, errors.New("stdin: parquet cannot be read from standard input; pass a file path")
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	r, err := NewReader(f, st.Size(), path, opts)
	if err != nil {
		f.Close()
		return nil, err
	}
	r.closer = f
	return r, nil
}

// NewReader returns a reader of the Parquet data of the given size in
// src and reads its schema. name identifies the source in error messages.
// Close does not close src.
func NewReader(src io.ReaderAt, size int64, name string, opts Options) (r *Reader, err error) {
	defer func() {
		if p := recover(); p != nil {
			r, err = nil, recovered(name, p)
		}
	}()
	footer, err := checkParquetFrame(src, size)
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %v", name, ErrCorrupt, err)
	}
	f, err := parquet.OpenFile(src, size,
		parquet.SkipPageIndex(true),
		parquet.SkipBloomFilters(true),
		parquet.ReadBufferSize(parquetReadBuffer))
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %v", name, ErrCorrupt, err)
	}
	r = &Reader{
		name:      name,
		src:       src,
		file:      f,
		batchRows: opts.BatchRows,
		workers:   max(opts.Workers, 1),
		leaves:    make(map[string]*parquet.Column),
		nested:    make(map[string]string),
		vectors:   make(map[string]*parquet.Column),
		groups:    f.RowGroups(),
		group:     -1,
	}
	if r.batchRows <= 0 {
		r.batchRows = table.DefaultBatchRows
	}
	var total int64
	for _, g := range r.groups {
		if g.NumRows() < 0 || len(g.ColumnChunks()) != len(f.Schema().Columns()) {
			return nil, fmt.Errorf("%s: %w: row group with %d rows and %d column chunks (the schema has %d leaf columns)",
				name, ErrCorrupt, g.NumRows(), len(g.ColumnChunks()), len(f.Schema().Columns()))
		}
		total += g.NumRows()
	}
	if err := checkChunks(f.Metadata(), size, footer); err != nil {
		return nil, fmt.Errorf("%s: %w: %v; the file's footer is damaged: restore it from a good copy or write it again", name, ErrCorrupt, err)
	}
	if total != f.NumRows() {
		return nil, fmt.Errorf("%s: %w: the row groups hold %d rows, the footer says %d", name, ErrCorrupt, total, f.NumRows())
	}
	for _, c := range f.Root().Columns() {
		name := c.Name()
		if _, dup := r.leaves[name]; dup || r.nested[name] != "" {
			return nil, fmt.Errorf("%s: duplicate column %q in the schema", r.name, name)
		}
		if (!c.Leaf() || c.Repeated()) && vectorLeaf(c) != nil {
			r.vectors[name] = c
			r.header = append(r.header, name)
			continue
		}
		switch {
		case !c.Leaf():
			r.nested[name] = "a nested (group) column"
		case c.Repeated():
			r.nested[name] = "a repeated column"
		default:
			r.leaves[name] = c
			r.header = append(r.header, name)
		}
	}
	return r, nil
}

// parquetReadBuffer is the size of the buffer each column chunk's pages are
// read through.
const parquetReadBuffer = 256 << 10

// Header returns the flat top-level column names in schema order.
func (r *Reader) Header() []string {
	return append([]string(nil), r.header...)
}

// NumRows returns the number of rows in the file, from its footer.
func (r *Reader) NumRows() int64 { return r.file.NumRows() }

// Progress implements Progresser: rows delivered and the file's row count.
func (r *Reader) Progress() (done, total int64) {
	return r.delivered.Load(), r.NumRows()
}

// Project selects the columns batches hold, in order, and their kinds
// (table.Numeric or table.String). It must be called before the first Next; without it
// every header column is read in its natural kind (numbers and booleans
// table.Numeric, byte arrays table.String). Absent columns are an error naming them
// and listing the header; nested, repeated or unsupported columns are an
// error naming them.
func (r *Reader) Project(fields []table.Field) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = recovered(r.name, p)
		}
	}()
	if r.started {
		return fmt.Errorf("%s: project: called after reading started", r.name)
	}
	if hasVector(fields) {
		return r.projectVectors(fields)
	}
	r.vec = nil
	var missing []string
	cols := make([]*parquetColumn, len(fields))
	for i, f := range fields {
		c, ok := r.leaves[f.Name]
		if !ok {
			if r.vectors[f.Name] != nil {
				return table.NewVectorValueError(f.Name, fmt.Errorf("%s: column %q is a list of numbers (a vector column); declare it `type: vector` in the spec", r.name, f.Name))
			}
			if why := r.nested[f.Name]; why != "" {
				return fmt.Errorf("%s: column %q is %s; normguard reads flat columns only: flatten it or leave it out of the spec", r.name, f.Name, why)
			}
			missing = append(missing, strconv.Quote(f.Name))
			continue
		}
		if f.Kind != table.Numeric && f.Kind != table.String {
			return fmt.Errorf("%s: project: column %q has kind %s; want numeric or categorical", r.name, f.Name, f.Kind)
		}
		pc, err := newParquetColumn(r.name, c, f)
		if err != nil {
			return err
		}
		cols[i] = pc
	}
	if len(missing) > 0 {
		what := "column " + missing[0] + " is"
		if len(missing) > 1 {
			what = "columns " + strings.Join(missing, ", ") + " are"
		}
		return fmt.Errorf("%s: %s not in the file; its columns are: %s", r.name, what, table.HeaderList(r.header))
	}
	r.closePages()
	r.cols = cols
	r.batch.Cols = table.NewColumns(fields)
	r.errs = make([]error, len(fields))
	return nil
}

// naturalFields returns the header's columns in their natural kinds.
func (r *Reader) naturalFields() []table.Field {
	fields := make([]table.Field, len(r.header))
	for i, h := range r.header {
		if r.vectors[h] != nil {
			fields[i] = table.Field{Name: h, Kind: table.Vector}
			continue
		}
		kind := table.Numeric
		switch r.leaves[h].Type().Kind() {
		case parquet.ByteArray, parquet.FixedLenByteArray:
			kind = table.String
		}
		fields[i] = table.Field{Name: h, Kind: kind}
	}
	return fields
}

// Next reads the next batch of up to BatchRows rows of the current row
// group. It returns false at the end of the file or on error (see Err).
func (r *Reader) Next() (ok bool) {
	if r.err != nil || r.done {
		return false
	}
	defer func() {
		if p := recover(); p != nil {
			r.err = recovered(r.name, p)
			ok = false
		}
	}()
	if r.cols == nil && !r.started {
		if err := r.Project(r.naturalFields()); err != nil {
			r.err = err
			return false
		}
	}
	r.started = true
	for r.left == 0 {
		if r.group+1 >= len(r.groups) {
			r.done = true
			r.closePages()
			r.release()
			return false
		}
		r.group++
		g := r.groups[r.group]
		r.left = g.NumRows()
		chunks := g.ColumnChunks()
		meta := r.file.Metadata().RowGroups[r.group].Columns
		for _, c := range r.cols {
			if err := checkPages(r.src, &meta[c.leaf].MetaData); err != nil {
				r.err = fmt.Errorf("%s: column %q, row group %d: %w: %v", r.name, c.name, r.group, ErrCorrupt, err)
				return false
			}
			c.startChunk(chunks[c.leaf], r.group, r.src, &meta[c.leaf].MetaData)
		}
	}
	n := int(min(int64(r.batchRows), r.left))
	if r.own == nil && r.vec == nil {
		r.ownBuffers()
	}
	b := &r.batch
	b.Start, b.Rows, b.Lines = r.rows, n, nil
	if err := r.fill(n); err != nil {
		r.err = err
		return false
	}
	if r.vec != nil {
		if err := r.nextVectors(n); err != nil {
			r.err = err
			return false
		}
	}
	r.left -= int64(n)
	r.rows += int64(n)
	r.delivered.Store(r.rows)
	return true
}

// ownBuffers maps the numeric projected columns' batch buffers at once,
// huge pages where whole ones fit (chunkMem): 11 MB of them for the
// benchmark table, 2,800 page faults of about 12 µs in this VM on the
// Go heap. Columns the caller lends storage for do not use them after
// the first batch.
func (r *Reader) ownBuffers() {
	rows := 0
	for _, g := range r.groups {
		rows = max(rows, int(min(int64(r.batchRows), g.NumRows())))
	}
	k := 0
	for _, c := range r.cols {
		if c.want == table.Numeric {
			k++
		}
	}
	r.own = make([][]float64, len(r.cols))
	if rows == 0 || k == 0 || rows > maxOwnRows/k {
		return
	}
	b := r.mem.bytes(rows * k * 8)
	b = b[:cap(b)]
	all := unsafe.Slice((*float64)(unsafe.Pointer(unsafe.SliceData(b))), len(b)/8)
	for j, c := range r.cols {
		if c.want == table.Numeric {
			r.own[j], all = all[:0:rows], all[rows:]
		}
	}
}

// maxOwnRows bounds the values ownBuffers maps (128 MiB of them); past
// it batch buffers are allocated one by one.
const maxOwnRows = 1 << 24

// fill reads the next n rows of every projected column into the batch,
// concurrently across columns when Workers > 1. On errors it reports the
// one on the earliest row (errors not about a row first, then the earliest
// projected column), so the error does not depend on the decoding order.
func (r *Reader) fill(n int) error {
	clear(r.errs)
	if r.workers > 1 && len(r.cols) > 1 && n >= minParallelRows {
		// Columns are independent: each has its own pages, buffers and
		// intern table; the file is only read through ReadAt.
		var next atomic.Int64
		var wg sync.WaitGroup
		for range min(r.workers, len(r.cols)) {
			wg.Go(func() {
				for j := int(next.Add(1) - 1); j < len(r.cols); j = int(next.Add(1) - 1) {
					r.errs[j] = r.fillColumn(j, n)
				}
			})
		}
		wg.Wait()
	} else {
		for j := range r.cols {
			r.errs[j] = r.fillColumn(j, n)
		}
	}
	var first error
	firstRow := int64(0)
	for _, err := range r.errs {
		if err == nil {
			continue
		}
		row := int64(-1)
		var ce *table.CellError
		if errors.As(err, &ce) {
			row = ce.Row
		}
		if first == nil || row < firstRow {
			first, firstRow = err, row
		}
	}
	return first
}

// fillColumn reads the next n rows of projected column j into the batch,
// turning a library panic on damaged data into an error.
func (r *Reader) fillColumn(j, n int) (err error) {
	defer func() {
		if p := recover(); p != nil {
			c := r.cols[j]
			err = recovered(fmt.Sprintf("%s: column %q, row group %d", r.name, c.name, c.group), p)
		}
	}()
	c := &r.batch.Cols[j]
	pc := r.cols[j]
	if c.Kind == table.Numeric {
		if cap(c.Num) < n && j < len(r.own) && cap(r.own[j]) >= n {
			c.Num = r.own[j]
		}
		c.Num = resize(c.Num, n)
		return pc.readNumeric(c.Num, r.rows)
	}
	c.Str = resize(c.Str, n)
	pc.null = resize(pc.null, n)
	if err := pc.readString(c.Str, pc.null, r.rows); err != nil {
		return err
	}
	c.Null = nil
	if slices.Contains(pc.null, true) {
		c.Null = pc.null
	}
	return nil
}

// Batch returns the current batch; its buffers are reused by Next.
func (r *Reader) Batch() *table.Batch {
	if r.vec != nil {
		return r.vec.assemble(&r.batch)
	}
	return &r.batch
}

// Err returns the first error met, if any.
func (r *Reader) Err() error { return r.err }

// Close releases the pages being read and closes the file Open
// opened; it does not close a source passed to NewReader.
func (r *Reader) Close() error {
	r.done = true
	r.closePages()
	r.own = nil
	r.mem.release()
	if r.closer == nil {
		return nil
	}
	c := r.closer
	r.closer = nil
	return c.Close()
}

// release drops the buffers reading used once the input has ended:
// `normguard fit` keeps its reader open (closed by a defer) while it
// computes the statistics, and these would stay live on the heap all that
// time. A vector projection keeps its own.
func (r *Reader) release() {
	if r.vec != nil {
		return
	}
	for _, c := range r.cols {
		c.release()
	}
	for j := range r.batch.Cols {
		c := &r.batch.Cols[j]
		c.Num, c.Str, c.Null = nil, nil, nil
	}
	r.own = nil
	r.mem.discard()
}

func (r *Reader) closePages() {
	for _, c := range r.cols {
		c.closePages()
	}
}

// decimalScale returns the scale of a DECIMAL column, or -1 for another
// type.
func decimalScale(t parquet.Type) int32 {
	if lt := t.LogicalType(); lt != nil {
		if d, ok := lt.Value.(*format.DecimalType); ok {
			return d.Scale
		}
	}
	return -1
}

// isUnsigned reports whether an integer column holds unsigned values.
func isUnsigned(t parquet.Type) bool {
	if lt := t.LogicalType(); lt != nil {
		if it, ok := lt.Value.(*format.IntType); ok {
			return !it.IsSigned
		}
	}
	return false
}

// LendNumeric implements table.Lender: the next batch decodes projected
// column j into buf when it holds the batch.
func (r *Reader) LendNumeric(j int, buf []float64) {
	if r.vec != nil {
		if j = r.vec.flat[j]; j < 0 {
			return
		}
	}
	r.batch.Cols[j].Num = buf[:0]
}

// TimeUnit tells whether header column name holds Parquet dates or
// timestamps (the DATE or TIMESTAMP logical type, or the legacy DATE and
// TIMESTAMP_MILLIS/MICROS converted types), which the reader gives as their
// raw integers, and what one unit of that integer is: a day for DATE, a
// millisecond, microsecond or nanosecond for a timestamp. The integer
// counts units since 1970-01-01 (UTC for a timestamp adjusted to UTC, the
// wall clock for one that is not).
func (r *Reader) TimeUnit(name string) (unit time.Duration, ok bool) {
	c, found := r.leaves[name]
	if !found {
		return 0, false
	}
	t := c.Type()
	if k := t.Kind(); k != parquet.Int32 && k != parquet.Int64 {
		return 0, false
	}
	if lt := t.LogicalType(); lt != nil {
		switch v := lt.Value.(type) {
		case *format.DateType:
			return 24 * time.Hour, true
		case *format.TimestampType:
			switch v.Unit.Value.(type) {
			case *format.MilliSeconds:
				return time.Millisecond, true
			case *format.MicroSeconds:
				return time.Microsecond, true
			case *format.NanoSeconds:
				return time.Nanosecond, true
			}
		}
	}
	if ct := t.ConvertedType(); ct != nil {
		switch *ct {
		case deprecated.Date:
			return 24 * time.Hour, true
		case deprecated.TimestampMillis:
			return time.Millisecond, true
		case deprecated.TimestampMicros:
			return time.Microsecond, true
		}
	}
	return 0, false
}
