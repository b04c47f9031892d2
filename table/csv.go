package table

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/normguard/normguard/internal/errtext"
)

// DefaultBatchRows is the number of rows per batch when CSVOptions.BatchRows
// is zero.
const DefaultBatchRows = 65536

const (
	// blockSize is the size of a CSV reader's buffer once warmed up; it
	// starts at firstBlock, so small inputs stay cheap, doubles on each
	// refill up to blockSize, and grows further only when one row does not
	// fit.
	blockSize  = 4 << 20
	firstBlock = 64 << 10
	// maxRowBytes bounds the buffer growth for one row (spans are int32).
	maxRowBytes = 1 << 30
	// maxIntern bounds the distinct values a string column interns, so a
	// high-cardinality column (ids, free text) does not grow a huge map.
	maxIntern = 1 << 14
	// maxInternLen is the longest value worth interning.
	maxInternLen = 256
	// minParallelRows is the smallest chunk worth converting concurrently.
	minParallelRows = 1024
)

// ErrSyntax is wrapped by the errors a CSV reader returns for malformed
// input: ragged rows, unterminated quotes, oversized rows.
var ErrSyntax = errors.New("csv syntax error")

// ErrDelimiter is wrapped by the error a CSV reader returns for a header
// that seems to be split by another delimiter than the one it was given.
var ErrDelimiter = errors.New("wrong delimiter")

// ErrNoHeader is wrapped by the error a CSV reader returns for an input
// with no header row (an empty file or only blank lines).
var ErrNoHeader = errors.New("empty file: no header row")

// ParseError locates a problem in a CSV file: the file, the 1-based line
// (the header is line 1) and, for a cell, the column.
type ParseError struct {
	File   string
	Line   int64
	Column string // empty when the problem is not about one cell
	Err    error
	Hint   string // what the user can do about it, if anything
}

// Error formats the error as
//
//	data.csv:17: column "age": cannot parse "abc" as a number; <hint>
func (e *ParseError) Error() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "%s:%d: ", e.File, e.Line)
	if e.Column != "" {
		fmt.Fprintf(&sb, "column %s: ", errtext.Quote(e.Column))
	}
	sb.WriteString(e.Err.Error())
	if e.Hint != "" {
		sb.WriteString("; ")
		sb.WriteString(e.Hint)
	}
	return sb.String()
}

// Unwrap returns the underlying error.
func (e *ParseError) Unwrap() error { return e.Err }

// CSVOptions configures a CSV reader. The zero value is ready to use.
type CSVOptions struct {
	// BatchRows is the number of rows per batch (0 means DefaultBatchRows).
	BatchRows int
	// Workers is the number of goroutines converting a chunk's columns
	// concurrently (0 means GOMAXPROCS). Results do not depend on it.
	Workers int
	// Delimiter separates fields (0 means a comma; OpenCSV then takes the
	// path's dialect, see DialectOf).
	Delimiter byte
}

// CSVReader reads a CSV file (or another delimited text file: TSV,
// semicolon- or pipe-separated, see CSVOptions.Delimiter) as batches of
// columns. It implements Reader.
//
// It follows pandas.read_csv's defaults, which is what users of the
// scikit-learn stack expect:
//   - the first non-blank line is the header; names are taken verbatim
//     (a quoted name is unquoted) and must be unique;
//   - a UTF-8 byte order mark is skipped; lines end in LF or CRLF (a bare
//     CR is data, but a header line that bare CRs split with no LF in its
//     first 64 KiB, a file with classic-Mac CR-only line endings, is an
//     error saying so);
//   - RFC 4180 quoting: a quoted cell may hold commas, newlines and doubled
//     quotes; text after a closing quote is appended to the cell and a quote
//     inside an unquoted cell is literal, as pandas does;
//   - a cell is missing if it is empty, quoted-empty or one of pandas'
//     default NA strings ("NA", "N/A", "NaN", "null", "None", "#N/A", ...),
//     quoted or not, in numeric and string columns alike;
//   - blank lines (empty or only spaces and tabs; only spaces when tab is
//     the delimiter) are skipped, but counted in line numbers;
//   - every row must have as many fields as the header. A header that is
//     one field holding another common delimiter (";", tab, "|", ",") is an
//     error naming it, unless the first data row shows it is one column.
//
// Numeric cells are parsed after trimming spaces and tabs (a cell of only
// spaces is missing). A number is written as pandas' C parser reads one:
// an optional sign, digits with an optional point, an optional exponent,
// or "inf" / "infinity" in any case, which give ±Inf, as values beyond the
// float64 range do; the caller decides whether to accept them. Anything
// else ("4_7.4", "0x1p3", which strconv.ParseFloat would take) is text,
// and text that is not a number is a *ParseError naming the file, line
// and column.
//
// The input is read in blocks of up to 4 MiB. For the complete rows of a
// block, a scan pass records where each cell lies (cells are not copied;
// only quoted cells that need unescaping go to a side arena), then a
// conversion pass turns those spans into values column by column,
// concurrently across columns when Workers > 1. Repeated values of a string
// column share one string.
type CSVReader struct {
	textInput
	delim     byte // the field delimiter
	batchRows int
	workers   int

	header    []string
	index     map[string]int
	proj      []projection
	projected bool
	started   bool
	done      bool
	rows      int64 // data rows delivered so far

	// The rows of the current chunk: len(header) spans per row, row-major.
	// Quoted cells that needed unescaping live in arena.
	spans []span
	arena []byte
	bad   []int // per projected column: first bad chunk row, or -1
	// Buffers reused by scanSplit: the first half's row lines, the second
	// half's spans and row lines.
	split [2]plainScan

	// The fused path (csvfused.go): what it does with each header field,
	// how many projected string columns there are, the string cells'
	// spans, and how often it gave up (it stops trying at maxFusedFails).
	plan         []fusedField
	planStrs     int
	fusedChecked bool
	fusedFails   int
	fusedRows    int64 // rows read by the fused path (tests)
	strSpans     []span

	batch Batch
	err   error
}

// projection is one requested column.
type projection struct {
	field  int // index in the header
	kind   Kind
	intern interner // String columns: repeated values share storage
	null   []bool   // String columns: mask buffer reused across batches
}

// span locates a cell's text: buf[lo:hi] when lo >= 0, else arena[^lo:hi].
type span struct{ lo, hi int32 }

// rowStatus is the outcome of scanning one row.
type rowStatus uint8

const (
	rowDone       rowStatus = iota // a row was scanned
	rowBlank                       // a blank line was skipped
	rowIncomplete                  // the buffer ends inside the row
)

// OpenCSV opens the CSV file at path ("-" reads standard input) and reads
// its header.
//
// A path ending in .gz or .zst is decompressed as it is read (see
// CompressionOf). Without opts.Delimiter the path's dialect is used
// (DialectOf): a tab for .tsv, a comma otherwise, unless SetDialect says.
func OpenCSV(path string, opts CSVOptions) (*CSVReader, error) {
	if opts.Delimiter == 0 {
		opts.Delimiter = DialectOf(path).Delimiter
	}
	return openText(path, func(src io.Reader, name string) (*CSVReader, error) {
		return NewCSVReader(src, name, opts)
	})
}

func (r *CSVReader) input() *textInput { return &r.textInput }

// EstimateRows implements RowEstimator: the rows read so far extrapolated
// to the whole file by the bytes consumed (0 when that cannot be told).
func (r *CSVReader) EstimateRows() int64 { return r.estimateRows(r.rows) }

// NewCSVReader returns a reader of the CSV text in src and reads its header.
// name identifies the source in error messages. Close does not close src.
func NewCSVReader(src io.Reader, name string, opts CSVOptions) (*CSVReader, error) {
	return newCSVReader(src, name, opts, blockSize)
}

// newCSVReader is NewCSVReader with a given block size (tests use tiny
// blocks to make rows straddle refills).
func newCSVReader(src io.Reader, name string, opts CSVOptions, block int) (*CSVReader, error) {
	r := &CSVReader{
		delim:     opts.Delimiter,
		batchRows: opts.BatchRows,
		workers:   opts.Workers,
	}
	r.rowWord, r.rowErr, r.rowHint = "row", ErrSyntax, "check for an unbalanced quote"
	r.longCell = r.findLongCell
	if r.batchRows <= 0 {
		r.batchRows = DefaultBatchRows
	}
	if r.workers <= 0 {
		r.workers = runtime.GOMAXPROCS(0)
	}
	if r.delim == 0 {
		r.delim = ','
	}
	if err := r.startText(src, name, block); err != nil {
		return nil, err
	}
	if err := r.readHeader(); err != nil {
		return nil, r.encodingHint(err)
	}
	return r, nil
}

func (r *CSVReader) readHeader() error {
	for {
		if r.pos == r.end {
			if r.eof {
				return fmt.Errorf("%s: %w", r.name, ErrNoHeader)
			}
			if err := r.fill(); err != nil {
				return err
			}
			continue
		}
		if err := r.checkCROnly(); err != nil {
			return err
		}
		st, err := r.scanRow(-1)
		if err != nil {
			return err
		}
		if st == rowDone {
			break
		}
		if st == rowIncomplete {
			r.spans, r.arena = r.spans[:0], r.arena[:0]
			if err := r.fill(); err != nil {
				return err
			}
		}
	}
	r.header = make([]string, len(r.spans))
	r.index = make(map[string]int, len(r.spans))
	for i, s := range r.spans {
		name := string(r.cell(s))
		if strings.IndexByte(name, 0) >= 0 {
			// A NUL byte is data in a cell, but no column name holds one:
			// such a header is a UTF-16 file without a byte order mark
			// (a one-column one parses without an error) or not text
			// (attack run 20: "column "x" is not in the header; the
			// header has: "x\x00"", and validate printed the raw NUL).
			return &ParseError{File: r.name, Line: 1,
				Err:  fmt.Errorf("%w: column %d of the header, %s, holds a NUL byte, which no column name can", ErrSyntax, i+1, errtext.Quote(name)),
				Hint: "the file is not UTF-8 text (binary, or in another encoding): save it as UTF-8"}
		}
		if j, dup := r.index[name]; dup {
			return fmt.Errorf("%s: duplicate column %s in the header (columns %d and %d); rename one of them",
				r.name, errtext.Quote(name), j+1, i+1)
		}
		r.header[i] = name
		r.index[name] = i
	}
	r.spans, r.arena = r.spans[:0], r.arena[:0]
	return r.checkOneField()
}

// crWindow is how far into the header line checkCROnly looks for a line
// feed before it takes a bare CR for a line ending.
const crWindow = firstBlock

// checkCROnly refuses a file with classic-Mac CR-only line endings while its
// header is read: without it, the whole file is one header line, which is
// refused for a duplicate column (a data value) or read as a header of
// every cell and no rows. It looks at the first crWindow bytes of the line
// at pos, taking quotes as scanQuotedRow does (a CR in a quoted field is
// data, a quote after a bare CR is text), and refuses the line when they
// hold a CR followed by another byte than LF, outside quotes, and no LF
// outside quotes. It decides nothing until the window is full or the
// input ends (the window, not the buffer, bounds what it reads, so the
// outcome does not depend on the block size).
func (r *CSVReader) checkCROnly() error {
	data := r.buf[r.pos:min(r.end, r.pos+crWindow)]
	full := r.eof || len(data) == crWindow
	bare, lf := scanCR(data, r.delim)
	if lf {
		return nil // the line ends with an LF (or CRLF)
	}
	if bare < 0 || !full {
		return nil
	}
	return &ParseError{File: r.name, Line: r.line,
		Err:  fmt.Errorf("%w: the file uses CR-only (classic Mac) line endings: a carriage return ends the header line and no line feed (LF) follows", ErrSyntax),
		Hint: "convert the line endings to LF or CRLF, e.g. tr '\\r' '\\n' < old.csv > new.csv"}
}

// scanCR scans data, a line from its start, up to its first line feed
// outside quotes, taking quotes as scanQuotedRow does (a CR in a quoted
// field is data, a quote after a bare CR is text). It returns the index of
// the first CR outside quotes followed by another byte than LF (-1: none)
// and whether the line feed was found.
func scanCR(data []byte, delim byte) (bare int, lf bool) {
	bare = -1
	start := true // at the start of a field
	for p := 0; p < len(data); p++ {
		switch c := data[p]; {
		case c == '"' && start:
			// Skip the quoted part: up to the first quote not doubled.
			for p++; p < len(data); p++ {
				if data[p] == '"' {
					if p+1 < len(data) && data[p+1] == '"' {
						p++
						continue
					}
					break
				}
			}
			start = false
		case c == '\n':
			return bare, true
		case c == delim:
			start = true
		case c == '\r' && p+1 < len(data) && data[p+1] != '\n':
			if bare < 0 {
				bare = p
			}
			start = false
		default:
			start = false
		}
	}
	return bare, false
}

// checkOneField refuses a header that is one field holding another common
// delimiter (a semicolon CSV read with commas, a TSV read as CSV), unless
// the first non-blank data row lacks that delimiter, which shows the file
// is truly one column.
func (r *CSVReader) checkOneField() error {
	if len(r.header) != 1 {
		return nil
	}
	c := otherDelimiter(r.header[0], r.delim)
	if c == 0 {
		return nil
	}
	row, err := r.peekDataLine()
	if err != nil {
		return err
	}
	if row != nil && bytes.IndexByte(row, c) < 0 {
		return nil
	}
	return &ParseError{File: r.name, Line: r.line - 1,
		Err:  fmt.Errorf("%w: the header is one field %s", ErrDelimiter, errtext.Quote(r.header[0])),
		Hint: delimiterHint("it", c)}
}

// peekDataLine returns the first non-blank line after the header without
// consuming it, reading more input as needed; nil when there is none.
func (r *CSVReader) peekDataLine() ([]byte, error) {
	p := r.pos
	for {
		data := r.buf[p:r.end]
		k := bytes.IndexByte(data, '\n')
		if k < 0 && !r.eof {
			off := p - r.pos
			if err := r.fill(); err != nil {
				return nil, err
			}
			p = r.pos + off
			continue
		}
		line := data
		if k >= 0 {
			line = data[:k]
		}
		if !r.isBlank(bytes.TrimSuffix(line, []byte{'\r'})) {
			return line, nil
		}
		if k < 0 {
			return nil, nil
		}
		p += k + 1
	}
}

// Header returns the column names in file order.
func (r *CSVReader) Header() []string {
	return append([]string(nil), r.header...)
}

// Project selects the columns batches hold, in order, and their kinds
// (Numeric or String). It must be called before the first Next; without
// it every column is read as String. The error for absent columns names
// them, the file and the header's columns.
func (r *CSVReader) Project(fields []Field) error {
	if r.started {
		return fmt.Errorf("%s: project: called after reading started", r.name)
	}
	at, err := resolveFields(r.name, "the header", r.index, r.header, fields)
	if err != nil {
		var missing []string
		for _, f := range fields {
			if _, ok := r.index[f.Name]; !ok {
				missing = append(missing, f.Name)
			}
		}
		if c := splitDelimiter(r.header, missing, r.delim); c != 0 {
			return fmt.Errorf("%w; %s", err, delimiterHint("the header", c))
		}
		return err
	}
	proj := make([]projection, len(fields))
	for i, f := range fields {
		proj[i] = projection{field: at[i], kind: f.Kind}
		if f.Kind == String {
			proj[i].intern = interner{}
		}
	}
	r.proj = proj
	r.batch.Cols = make([]Column, len(fields))
	for i, f := range fields {
		r.batch.Cols[i] = Column{Name: f.Name, Kind: f.Kind}
	}
	r.projected = true
	return nil
}

// resolveFields returns the header position of each field, checking that
// every field is in the header (where names the header in the error) and
// has a kind a reader can produce.
func resolveFields(name, where string, index map[string]int, header []string, fields []Field) ([]int, error) {
	var missing []string
	at := make([]int, len(fields))
	for i, f := range fields {
		j, ok := index[f.Name]
		if !ok {
			missing = append(missing, f.Name)
			continue
		}
		if f.Kind == Vector {
			return nil, fmt.Errorf("%s: column %s is a vector column (type: vector), but this file holds one value per cell; write the vectors as JSON Lines arrays, a Parquet list column or a .npy file", name, errtext.Quote(f.Name))
		}
		if f.Kind != Numeric && f.Kind != String {
			return nil, fmt.Errorf("%s: project: column %s has kind %s; want numeric or categorical", name, errtext.Quote(f.Name), f.Kind)
		}
		at[i] = j
	}
	if len(missing) > 0 {
		what := "column " + errtext.Quote(missing[0]) + " is"
		if len(missing) > 1 {
			what = "columns " + errtext.List(missing) + " are"
		}
		return nil, fmt.Errorf("%s: %s not in %s; the header has: %s", name, what, where, HeaderList(header))
	}
	return at, nil
}

// HeaderList renders column names for an error message: quoted and
// comma-separated, a long name shortened to its first bytes and its
// length, and all but the first 20 names counted ("and N more"); see
// errtext.List.
func HeaderList(names []string) string { return errtext.List(names) }

// Next reads the next batch of up to BatchRows rows. It returns false at
// the end of the input or on error (see Err).
func (r *CSVReader) Next() bool {
	if r.err != nil || r.done {
		return false
	}
	if !r.projected {
		fields := make([]Field, len(r.header))
		for i, h := range r.header {
			fields[i] = Field{Name: h, Kind: String}
		}
		if err := r.Project(fields); err != nil {
			r.err = err
			return false
		}
	}
	r.started = true
	b := &r.batch
	b.Start = r.rows
	b.Lines = b.Lines[:0]
	n := 0
	for n < r.batchRows {
		if r.fusedFails < maxFusedFails {
			rows, ok := r.parseFused(n)
			if ok {
				n += rows
			} else if rows < 0 {
				r.fusedFails++
			}
		}
		lo := n
		var more bool
		var err error
		n, more, err = r.scanChunk(n)
		if err != nil {
			r.err = err
			return false
		}
		if n > lo {
			if err := r.convert(lo, n); err != nil {
				r.err = err
				return false
			}
		}
		if !more {
			break
		}
		if err := r.fill(); err != nil {
			r.err = err
			return false
		}
	}
	r.finishBatch(n)
	if n == 0 {
		r.done = true
		r.release()
		return false
	}
	r.rows += int64(n)
	return true
}

// scanChunk finds the field boundaries of the complete rows in the buffer,
// up to the batch's capacity, recording each row's line in the batch. It
// returns the batch's new row count and whether more input must be read to
// go on.
func (r *CSVReader) scanChunk(n int) (int, bool, error) {
	r.spans, r.arena = r.spans[:0], r.arena[:0]
	want := len(r.header)
	if r.workers > 1 && n < r.batchRows {
		rows, ok, err := r.scanSplit(r.batchRows-n, want)
		if err != nil {
			return n, false, err
		}
		if ok {
			n += rows
		}
	}
	for n < r.batchRows {
		if r.pos == r.end {
			return n, !r.eof, nil
		}
		nspans, narena, line := len(r.spans), len(r.arena), r.line
		st, err := r.scanRow(want)
		if err != nil {
			return n, false, err
		}
		switch st {
		case rowIncomplete:
			r.spans, r.arena = r.spans[:nspans], r.arena[:narena]
			return n, true, nil
		case rowDone:
			r.batch.Lines = append(r.batch.Lines, line)
			n++
		}
	}
	return n, false, nil
}

// scanRow scans the row at buf[pos], appending its cells to spans. want is
// the expected number of fields (-1: any). On rowIncomplete nothing is
// consumed but spans and arena may have grown; the caller truncates them.
func (r *CSVReader) scanRow(want int) (rowStatus, error) {
	data := r.buf[r.pos:r.end]
	next := bytes.IndexByte(data, '\n')
	var line []byte
	if next < 0 {
		if !r.eof {
			return rowIncomplete, nil
		}
		line, next = data, len(data)
	} else {
		line, next = data[:next], next+1
	}
	if bytes.IndexByte(line, '"') >= 0 {
		return r.scanQuotedRow(want)
	}
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	if r.isBlank(line) {
		r.pos += next
		r.line++
		return rowBlank, nil
	}
	if len(line) > MaxCellBytes {
		if err := r.findLongCell(line, r.line); err != nil {
			return rowDone, err
		}
	}
	first := len(r.spans)
	base := r.pos
	lo := 0
	delim := r.delim
	for i, c := range line {
		if c == delim {
			r.spans = append(r.spans, span{int32(base + lo), int32(base + i)})
			lo = i + 1
		}
	}
	r.spans = append(r.spans, span{int32(base + lo), int32(base + len(line))})
	if err := r.checkFields(want, len(r.spans)-first, r.line, line); err != nil {
		return rowDone, err
	}
	r.pos += next
	r.line++
	return rowDone, nil
}

// scanQuotedRow scans a row holding at least one quote: the general,
// slower path.
func (r *CSVReader) scanQuotedRow(want int) (rowStatus, error) {
	buf := r.buf[:r.end]
	p := r.pos
	first := len(r.spans)
	newlines := int64(0)
	for {
		var s span
		if p < len(buf) && buf[p] == '"' {
			// Find the closing quote, unescaping doubled quotes into the arena.
			start := p
			segLo, q := p+1, p+1
			escaped, alo := false, 0
			for {
				k := bytes.IndexByte(buf[q:], '"')
				if k < 0 {
					if !r.eof {
						return rowIncomplete, nil
					}
					return rowDone, &ParseError{File: r.name, Line: r.line + newlines,
						Err:  fmt.Errorf("%w: quoted field never closed before the end of the file", ErrSyntax),
						Hint: "add the missing closing quote"}
				}
				q += k
				if q+1 == len(buf) && !r.eof {
					return rowIncomplete, nil // cannot tell "" from a closing quote yet
				}
				if q+1 < len(buf) && buf[q+1] == '"' {
					if !escaped {
						escaped, alo = true, len(r.arena)
					}
					r.arena = append(r.arena, buf[segLo:q+1]...)
					q += 2
					segLo = q
					continue
				}
				break
			}
			newlines += int64(bytes.Count(buf[start:q], []byte{'\n'}))
			// Text after the closing quote up to the delimiter is kept.
			e, ok := r.runEnd(buf, q+1)
			if !ok {
				return rowIncomplete, nil
			}
			tail := trimCR(buf, q+1, e)
			if escaped || tail > q+1 {
				if !escaped {
					alo = len(r.arena)
				}
				r.arena = append(r.arena, buf[segLo:q]...)
				r.arena = append(r.arena, buf[q+1:tail]...)
				s = span{int32(^alo), int32(len(r.arena))}
			} else {
				s = span{int32(segLo), int32(q)}
			}
			p = e
		} else {
			e, ok := r.runEnd(buf, p)
			if !ok {
				return rowIncomplete, nil
			}
			s = span{int32(p), int32(trimCR(buf, p, e))}
			p = e
		}
		r.spans = append(r.spans, s)
		if p < len(buf) && buf[p] == r.delim {
			p++
			continue
		}
		if p < len(buf) {
			p++ // the '\n'
		}
		break
	}
	if p-r.pos > MaxCellBytes {
		if err := r.findLongCell(buf[r.pos:p], r.line); err != nil {
			return rowDone, err
		}
	}
	if err := r.checkFields(want, len(r.spans)-first, r.line, buf[r.pos:p]); err != nil {
		return rowDone, err
	}
	r.pos = p
	r.line += 1 + newlines
	return rowDone, nil
}

// findLongCell returns the error for the first cell of data longer than
// MaxCellBytes (its text in the file, quotes included), or nil when there
// is none. data holds rows from the start of the one at line; it may end
// inside a row or a cell (the unread input fill holds), so a cell still
// growing counts by what is there. Quotes are taken as scanQuotedRow takes
// them: they open a quoted cell only at its start.
//
// A data row with more fields than the header is refused here too, before
// its cells' spans are recorded: a 60 MB line of 31 million empty cells
// took 1.2 GB to be told it has too many.
func (r *CSVReader) findLongCell(data []byte, line int64) error {
	field, newlines := 0, int64(0)
	rowLine := line
	for p := 0; p < len(data); {
		start := p
		if data[p] == '"' {
			// The closing quote: the first one not doubled.
			q := p + 1
			for {
				k := bytes.IndexByte(data[q:], '"')
				if k < 0 {
					q = len(data)
					break
				}
				q += k
				if q+1 < len(data) && data[q+1] == '"' {
					q += 2
					continue
				}
				break
			}
			newlines += int64(bytes.Count(data[p:q], []byte{'\n'}))
			p = min(q+1, len(data))
		}
		for p < len(data) && data[p] != r.delim && data[p] != '\n' {
			p++
		}
		if p-start > MaxCellBytes {
			return r.longCellError(rowLine, field)
		}
		switch {
		case p == len(data):
		case data[p] == r.delim:
			field++
			if len(r.header) > 0 && field == len(r.header) {
				return &ParseError{File: r.name, Line: rowLine,
					Err:  fmt.Errorf("%w: row has more fields than the header's %d", ErrSyntax, len(r.header)),
					Hint: "quote values that contain commas, and give every row one value per column"}
			}
		default: // the row's '\n'
			field = 0
			newlines++
			rowLine = line + newlines
		}
		p++
	}
	return nil
}

// longCellError is the error for a cell over MaxCellBytes in the given
// field (0-based) of the row at line: the column's name, or while the
// header is read, the field's number.
func (r *CSVReader) longCellError(line int64, field int) error {
	e := &ParseError{File: r.name, Line: line,
		Err:  fmt.Errorf("%w: more than %d bytes (16 MiB), the most a cell may hold", ErrCellTooLong, MaxCellBytes),
		Hint: "check the file for an unbalanced quote; shorten or leave out the long values"}
	if field < len(r.header) {
		e.Column = r.header[field]
	} else {
		e.Err = fmt.Errorf("%w: field %d holds more than %d bytes (16 MiB), the most a cell may hold", ErrCellTooLong, field+1, MaxCellBytes)
	}
	return e
}

// runEnd returns the index of the delimiter or '\n' ending the unquoted
// text at buf[p:], or len(buf) at the end of the input; ok is false when
// the buffer ends first and more input may follow.
func (r *CSVReader) runEnd(buf []byte, p int) (e int, ok bool) {
	delim := r.delim
	for e = p; e < len(buf); e++ {
		if c := buf[e]; c == delim || c == '\n' {
			return e, true
		}
	}
	return e, r.eof
}

// trimCR returns the end of the text buf[p:e] without the CR of a CRLF line
// ending (or of a final CR at the end of the input).
func trimCR(buf []byte, p, e int) int {
	if e > p && buf[e-1] == '\r' && (e == len(buf) || buf[e] == '\n') {
		return e - 1
	}
	return e
}

// checkFields refuses a row of got fields when the header has want (-1:
// any). row is the row's text in the file: when it holds a bare CR, the
// file's lines end in CR only from there on (a header ending in LF, rows
// in CR), and the error says so rather than only count fields.
func (r *CSVReader) checkFields(want, got int, line int64, row []byte) error {
	if want < 0 || got == want {
		return nil
	}
	if r.noBOM == "UTF-16LE" && line > 1 && len(bytes.Trim(row, "\x00")) == 0 {
		// The NUL after the last line feed: in UTF-16LE it is the second
		// byte of the last line's ending, not a line past it.
		line--
	}
	if bare, _ := scanCR(row, r.delim); bare >= 0 {
		return &ParseError{File: r.name, Line: line,
			Err:  fmt.Errorf("%w: row has %d fields, the header has %d: a carriage return (CR) with no line feed (LF) after it ends a line inside the row, so the file's lines end in CR only (classic Mac) from here on", ErrSyntax, got, want),
			Hint: "convert the line endings to LF or CRLF, e.g. tr '\\r' '\\n' < old.csv > new.csv"}
	}
	return &ParseError{File: r.name, Line: line,
		Err:  fmt.Errorf("%w: row has %d fields, the header has %d", ErrSyntax, got, want),
		Hint: "quote values that contain commas, and give every row one value per column"}
}

// isBlank reports whether a line holds only spaces and tabs (only spaces
// when tab is the delimiter: there a line of tabs is a row of empty cells).
func (r *CSVReader) isBlank(line []byte) bool {
	tab := byte('\t')
	if r.delim == '\t' {
		tab = ' '
	}
	for _, c := range line {
		if c != ' ' && c != tab {
			return false
		}
	}
	return true
}

// cell returns the text a span locates.
func (r *CSVReader) cell(s span) []byte {
	if s.lo >= 0 {
		return r.buf[s.lo:s.hi]
	}
	return r.arena[^s.lo:s.hi]
}

// convert fills rows [lo, hi) of the batch's columns from the current
// chunk's spans, column by column. On bad cells it reports the one on the
// earliest row (then the earliest projected column), so the error does not
// depend on the conversion order.
func (r *CSVReader) convert(lo, hi int) error {
	r.bad = r.bad[:0]
	for range r.proj {
		r.bad = append(r.bad, -1)
	}
	if r.workers > 1 && len(r.proj) > 1 && hi-lo >= minParallelRows {
		// Columns are independent: each has its own output buffers and
		// intern table, and the input is only read.
		var next atomic.Int64
		var wg sync.WaitGroup
		for range min(r.workers, len(r.proj)) {
			wg.Go(func() {
				for j := int(next.Add(1) - 1); j < len(r.proj); j = int(next.Add(1) - 1) {
					r.bad[j] = r.convertColumn(j, lo, hi)
				}
			})
		}
		wg.Wait()
	} else {
		for j := range r.proj {
			r.bad[j] = r.convertColumn(j, lo, hi)
		}
	}
	badRow, badCol := -1, -1
	for j, bad := range r.bad {
		if bad >= 0 && (badRow < 0 || bad < badRow) {
			badRow, badCol = bad, j
		}
	}
	if badRow < 0 {
		return nil
	}
	text := r.cell(r.spans[badRow*len(r.header)+r.proj[badCol].field])
	return &ParseError{File: r.name, Line: r.batch.Lines[lo+badRow], Column: r.batch.Cols[badCol].Name,
		Err:  fmt.Errorf("cannot parse %s as a number", errtext.QuoteBytes(text)),
		Hint: "declare the column `type: categorical` in the spec or fix the value"}
}

// convertColumn fills rows [lo, hi) of projected column j. It returns the
// chunk row of the first cell that is not a number, or -1.
func (r *CSVReader) convertColumn(j, lo, hi int) int {
	p := &r.proj[j]
	c := &r.batch.Cols[j]
	if p.kind == Numeric {
		c.Num = extendFloats(c.Num, lo, hi, r.batchRows)
		return r.parseNumbers(c.Num[lo:hi], p.field)
	}
	c.Str = extendStrings(c.Str, lo, hi, r.batchRows)
	p.null = extendBools(p.null, lo, hi, r.batchRows)
	r.internStrings(c.Str[lo:hi], p.null[lo:hi], p)
	return -1
}

// parseNumbers converts field f of the chunk's rows into dst. It returns the
// index of the first cell that is not a number, or -1.
func (r *CSVReader) parseNumbers(dst []float64, f int) int {
	nf := len(r.header)
	for i := range dst {
		v, ok := parseNumber(r.cell(r.spans[i*nf+f]))
		if !ok {
			return i
		}
		dst[i] = v
	}
	return -1
}

// internStrings converts field p.field of the chunk's rows into dst and the
// missing mask, sharing storage between repeated values.
func (r *CSVReader) internStrings(dst []string, null []bool, p *projection) {
	nf := len(r.header)
	for i := range dst {
		dst[i], null[i] = p.internCell(r.cell(r.spans[i*nf+p.field]))
	}
}

// internCell returns a string cell's value, sharing storage with earlier
// equal values, or null true when it is missing.
func (p *projection) internCell(b []byte) (s string, null bool) {
	if isNA(b) {
		return "", true
	}
	return p.intern.of(b), false
}

// interner makes repeated values of a string column share one string.
type interner map[string]string

// of returns b as a string, the one given earlier for the same text when
// there was one (up to maxIntern distinct values of at most maxInternLen
// bytes are kept).
func (t interner) of(b []byte) string {
	if s, ok := t[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(t) < maxIntern && len(s) <= maxInternLen {
		t[s] = s
	}
	return s
}

// finishBatch sets the batch's columns to n rows.
func (r *CSVReader) finishBatch(n int) {
	b := &r.batch
	b.Rows = n
	for j := range r.proj {
		c := &b.Cols[j]
		if r.proj[j].kind == Numeric {
			c.Num = c.Num[:min(n, len(c.Num))]
			continue
		}
		c.Str = c.Str[:min(n, len(c.Str))]
		c.Null = nil
		if null := r.proj[j].null[:min(n, len(r.proj[j].null))]; slices.Contains(null, true) {
			c.Null = null
		}
	}
}

// release drops the reader's buffers once the input is exhausted. A
// reader usually stays open (a deferred Close) while its caller works on
// what it read, as fit does with whole columns; the text block, the
// cells' spans and the batch's own columns (about 15 MB) would otherwise
// stay on the heap all that time.
func (r *CSVReader) release() {
	r.buf, r.spans, r.arena, r.bad, r.strSpans = nil, nil, nil, nil, nil
	r.split = [2]plainScan{}
	for j := range r.proj {
		r.proj[j].null, r.proj[j].intern = nil, nil
	}
	for j := range r.batch.Cols {
		c := &r.batch.Cols[j]
		c.Num, c.Str, c.Null = nil, nil, nil
	}
	r.batch.Lines = nil
}

// Batch returns the current batch; its buffers are reused by Next.
func (r *CSVReader) Batch() *Batch { return &r.batch }

// Err returns the first error met, if any.
func (r *CSVReader) Err() error { return r.encodingHint(r.err) }

// Close closes the file OpenCSV opened; it does not close a reader passed to
// NewCSVReader.
func (r *CSVReader) Close() error {
	r.done = true
	return r.closeText()
}

// extendFloats makes s at least hi long, keeping s[:lo].
func extendFloats(s []float64, lo, hi, capHint int) []float64 {
	if cap(s) >= hi {
		return s[:hi]
	}
	out := make([]float64, hi, max(hi, min(2*cap(s), capHint)))
	copy(out, s[:lo])
	return out
}

func extendStrings(s []string, lo, hi, capHint int) []string {
	if cap(s) >= hi {
		return s[:hi]
	}
	out := make([]string, hi, max(hi, min(2*cap(s), capHint)))
	copy(out, s[:lo])
	return out
}

func extendBools(s []bool, lo, hi, capHint int) []bool {
	if cap(s) >= hi {
		return s[:hi]
	}
	out := make([]bool, hi, max(hi, min(2*cap(s), capHint)))
	copy(out, s[:lo])
	return out
}

// LendNumeric implements Lender: the next batch decodes projected column j
// into buf when it holds the batch.
func (r *CSVReader) LendNumeric(j int, buf []float64) { r.batch.Cols[j].Num = buf[:0] }
