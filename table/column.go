// Package table holds normguard's columnar data model and the readers and
// writers that move tables between files and memory.
//
// Data flows as batches of columns: numeric columns are []float64 with NaN
// marking a missing value, string columns are []string with a parallel
// null mask. Readers are iterators (Next, Batch, Err) that reuse their
// buffers; writers commit their output atomically.
//
// Open and Create choose the format from the file name: .csv, .tsv,
// .jsonl and .parquet, where the text formats may end in .gz (gzip) or
// .zst (zstd) and are then decompressed as read and compressed as written;
// Parquet compresses its own pages and is never wrapped. A CSV or TSV's
// delimiter is its dialect: a tab for .tsv, a comma otherwise, unless
// SetDialect names another for that path. The dialect belongs to the path
// rather than to an option of Open so that a command line's --delimiter
// reaches every reader of the file, including library code that takes only
// a path; readers opened directly (OpenCSV, NewCSVReader) take it in
// CSVOptions. A header that is one field holding another common delimiter
// is an error that names the delimiter to pass.
package table

import "math"

// Kind is the type of a column's values.
type Kind uint8

const (
	// KindUnknown means the kind has not been decided (to be inferred).
	KindUnknown Kind = iota
	// Numeric columns hold float64 values; NaN marks a missing value.
	Numeric
	// String columns hold text; Null marks a missing value.
	String
	// Vector columns hold one fixed-length vector of float64 per row, row
	// after row in Vec (Dim values each); Null marks a missing vector.
	Vector
)

// String returns the kind's name as the spec spells it.
func (k Kind) String() string {
	switch k {
	case Numeric:
		return "numeric"
	case String:
		return "categorical"
	case Vector:
		return "vector"
	default:
		return "unknown"
	}
}

// Field names a column and its kind.
type Field struct {
	Name string
	Kind Kind
}

// Column is one column of a batch.
//
// A Numeric column uses Num (NaN = missing). A String column uses Str and
// Null: Null is either nil (no value missing) or has one entry per row,
// true where the value is missing (Str holds "" there). A Vector column
// uses Vec, Dim values per row in row-major order, and Null as a String
// column does (a missing row's values are NaN); DType names the element
// type the source stored ("float32", "float64", "float16", or "" when the
// source does not say, as JSON numbers).
type Column struct {
	Name  string
	Kind  Kind
	Num   []float64
	Str   []string
	Null  []bool
	Dim   int
	Vec   []float64
	DType string
}

// Len returns the number of rows in the column.
func (c *Column) Len() int {
	if c.Kind == String {
		return len(c.Str)
	}
	if c.Kind == Vector {
		return vectorRows(c)
	}
	return len(c.Num)
}

// IsMissing reports whether row i holds a missing value.
func (c *Column) IsMissing(i int) bool {
	if c.Kind == String || c.Kind == Vector {
		return c.Null != nil && c.Null[i]
	}
	return math.IsNaN(c.Num[i])
}

// Resize sets the column's length to n rows, reusing its buffers when they
// are large enough. Contents are unspecified after a resize, except that a
// String column's Null mask is cleared (all present).
func (c *Column) Resize(n int) {
	if c.Kind == Vector {
		resizeVector(c, n)
		return
	}
	if c.Kind == String {
		c.Str = growStrings(c.Str, n)
		if c.Null != nil {
			c.Null = growBools(c.Null, n)
			clear(c.Null)
		}
		return
	}
	c.Num = growFloats(c.Num, n)
}

// SetNull marks row i of a String column as missing, allocating the mask
// on first use.
func (c *Column) SetNull(i int) {
	if c.Null == nil {
		c.Null = make([]bool, len(c.Str))
	}
	c.Null[i] = true
	c.Str[i] = ""
}

// Clone returns a deep copy of the column.
func (c *Column) Clone() Column {
	out := Column{Name: c.Name, Kind: c.Kind, Dim: c.Dim, DType: c.DType}
	if c.Vec != nil {
		out.Vec = append([]float64(nil), c.Vec...)
	}
	if c.Num != nil {
		out.Num = append([]float64(nil), c.Num...)
	}
	if c.Str != nil {
		out.Str = append([]string(nil), c.Str...)
	}
	if c.Null != nil {
		out.Null = append([]bool(nil), c.Null...)
	}
	return out
}

// Slice returns a view of rows [lo, hi) that shares the column's storage.
func (c *Column) Slice(lo, hi int) Column {
	out := Column{Name: c.Name, Kind: c.Kind}
	if c.Kind == Vector {
		return sliceVector(c, lo, hi)
	}
	if c.Kind == String {
		out.Str = c.Str[lo:hi]
		if c.Null != nil {
			out.Null = c.Null[lo:hi]
		}
		return out
	}
	out.Num = c.Num[lo:hi]
	return out
}

// Batch is a set of equally long columns read from or written to a table.
type Batch struct {
	Cols []Column
	// Rows is the number of rows in every column.
	Rows int
	// Lines, when not nil, gives the source line of each row (1-based; the
	// header is line 1 of a CSV file). Readers without lines leave it nil
	// and Start locates the rows instead.
	Lines []int64
	// Start is the 0-based index of the batch's first data row in its source.
	Start int64
}

// Line returns a human-readable location of row i: the source line when
// known, else the 1-based data row number.
func (b *Batch) Line(i int) int64 {
	if b.Lines != nil && i < len(b.Lines) {
		return b.Lines[i]
	}
	return b.Start + int64(i) + 1
}

// Col returns the column with the given name, or nil.
func (b *Batch) Col(name string) *Column {
	for i := range b.Cols {
		if b.Cols[i].Name == name {
			return &b.Cols[i]
		}
	}
	return nil
}

func growFloats(s []float64, n int) []float64 {
	if cap(s) >= n {
		return s[:n]
	}
	return make([]float64, n)
}

func growStrings(s []string, n int) []string {
	if cap(s) >= n {
		return s[:n]
	}
	return make([]string, n)
}

func growBools(s []bool, n int) []bool {
	if cap(s) >= n {
		return s[:n]
	}
	return make([]bool, n)
}

// NewColumns returns empty columns with the fields' names and kinds.
func NewColumns(fields []Field) []Column {
	cols := make([]Column, len(fields))
	for i, f := range fields {
		cols[i] = Column{Name: f.Name, Kind: f.Kind}
	}
	return cols
}
