package table

import (
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/normguard/normguard/internal/errtext"
)

// Element types of a Vector column's source, as Column.DType names them.
const (
	DTypeFloat16 = "float16"
	DTypeFloat32 = "float32"
	DTypeFloat64 = "float64"
)

// vectorRows returns the number of rows of a Vector column: len(Vec)/Dim,
// or the length of its Null mask when Dim is not yet known (every row
// missing).
func vectorRows(c *Column) int {
	if c.Dim > 0 {
		return len(c.Vec) / c.Dim
	}
	return len(c.Null)
}

// sliceVector returns a view of rows [lo, hi) of a Vector column.
func sliceVector(c *Column, lo, hi int) Column {
	out := Column{Name: c.Name, Kind: Vector, Dim: c.Dim, DType: c.DType}
	out.Vec = c.Vec[lo*c.Dim : hi*c.Dim]
	if c.Null != nil {
		out.Null = c.Null[lo:hi]
	}
	return out
}

// resizeVector sets a Vector column's length to n rows of Dim values and
// clears its Null mask.
func resizeVector(c *Column, n int) {
	c.Vec = growFloats(c.Vec, n*c.Dim)
	if c.Null != nil {
		c.Null = growBools(c.Null, n)
		clear(c.Null)
	}
}

// Row returns row i of a Vector column (a view of Vec).
func (c *Column) Row(i int) []float64 {
	return c.Vec[i*c.Dim : (i+1)*c.Dim]
}

// DimensionError reports a vector whose length differs from the column's
// dimension (set by its first vector, by the file's header, or by the spec).
type DimensionError struct {
	File   string
	Line   int64 // source line (JSONL) or 1-based data row (npy, Parquet)
	Row    bool  // Line counts data rows, not lines
	Column string
	Got    int
	Want   int
	// Where says what set Want ("the first vector, at line 2", "the spec").
	Where string
}

func (e *DimensionError) Error() string {
	unit := "line"
	if e.Row {
		unit = "row"
	}
	return fmt.Sprintf("%s: %s %d: column %s: vector has %d values, but %s has %d; every vector of a column must have the same dimension (fix or drop the row, or fit a separate column)",
		e.File, unit, e.Line, errtext.Quote(e.Column), e.Got, e.Where, e.Want)
}

// scalarFields returns fields with Vector kinds read as String, for the
// header checks of readers that also read vectors.
func scalarFields(fields []Field) []Field {
	out := make([]Field, len(fields))
	for i, f := range fields {
		if f.Kind == Vector {
			f.Kind = String
		}
		out[i] = f
	}
	return out
}

// VectorNames returns the names of the Numeric columns that hold the dim
// values of the vector column name once it is split: name_0 .. name_{dim-1}.
// Transform writes a vector column's outputs under these names.
func VectorNames(name string, dim int) []string {
	out := make([]string, dim)
	for k := range out {
		out[k] = name + "_" + strconv.Itoa(k)
	}
	return out
}

// keepVectors appends the n rows of the Vector column src to dst, which
// holds rows rows. A batch read before its column's first vector has
// dimension 0 and only missing rows; dst holds those as NaN vectors once
// the dimension is known. A batch of another dimension is a
// *DimensionError.
func keepVectors(dst, src *Column, rows, n int) error {
	if src.DType != "" {
		dst.DType = src.DType
	}
	if src.Dim > 0 && dst.Dim == 0 {
		dst.Dim = src.Dim
		dst.Vec = appendNaN(dst.Vec, rows*dst.Dim)
	}
	switch {
	case src.Dim == 0:
		dst.Vec = appendNaN(dst.Vec, n*dst.Dim)
		if dst.Null == nil {
			dst.Null = make([]bool, rows, rows+n)
		}
		for range n {
			dst.Null = append(dst.Null, true)
		}
		return nil
	case src.Dim != dst.Dim:
		return &DimensionError{Line: int64(rows) + 1, Row: true, Column: src.Name,
			Got: src.Dim, Want: dst.Dim, Where: "the column's earlier vectors"}
	}
	dst.Vec = append(dst.Vec, src.Vec[:n*src.Dim]...)
	keepNull(dst, src, rows, n)
	return nil
}

// appendNaN appends n NaN values to xs.
func appendNaN(xs []float64, n int) []float64 {
	for range n {
		xs = append(xs, math.NaN())
	}
	return xs
}

// ErrVectorValue is wrapped by the errors of readers asked to read a
// column of vectors (a JSONL array, a .npy matrix) as numbers or text.
var ErrVectorValue = errors.New("the column holds vectors")

// vectorValueError is a vector met in a column not read as vectors; its
// text is the reader's own.
type vectorValueError struct {
	column string
	err    error
}

func (e *vectorValueError) Error() string        { return e.err.Error() }
func (e *vectorValueError) Unwrap() error        { return e.err }
func (e *vectorValueError) Is(target error) bool { return target == ErrVectorValue }

// VectorColumn returns the column a reader's error says holds vectors
// (ErrVectorValue), or "": the column to read again as a Vector column.
func VectorColumn(err error) string {
	var ve *vectorValueError
	if errors.As(err, &ve) {
		return ve.column
	}
	return ""
}

// NewVectorValueError returns err marked as a column of vectors read as
// numbers or text (see VectorColumn), for readers outside this package.
func NewVectorValueError(column string, err error) error {
	return &vectorValueError{column: column, err: err}
}
