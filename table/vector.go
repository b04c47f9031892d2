package table

import (
	"fmt"
	"strconv"
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
	return fmt.Sprintf("%s: %s %d: column %q: vector has %d values, but %s has %d; every vector of a column must have the same dimension (fix or drop the row, or fit a separate column)",
		e.File, unit, e.Line, e.Column, e.Got, e.Where, e.Want)
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
