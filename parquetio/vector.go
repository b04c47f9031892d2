package parquetio

import (
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"

	"github.com/normguard/normguard/table"
)

// Vector columns. A Parquet LIST of FLOAT or DOUBLE (what pyarrow writes
// for list<float32>, list<float64> and fixed_size_list<..., d>, with the
// standard three-level layout or the legacy repeated leaf) is a vector
// column: it is in the header, and a table.Vector projection reads each
// row's list as one vector. A null or empty list is a missing vector; a
// null element is NaN; a list of another length than the column's first
// is a *table.DimensionError naming the row. The column's values are read
// row group by row group, page by page, a batch at a time, alongside the
// flat columns.

// vectorLeaf returns the float leaf of a top-level list column c, or nil
// when c is not a list of numbers.
func vectorLeaf(c *parquet.Column) *parquet.Column {
	leaf := c
	for !leaf.Leaf() {
		kids := leaf.Columns()
		if len(kids) != 1 {
			return nil
		}
		leaf = kids[0]
	}
	if leaf.MaxRepetitionLevel() != 1 {
		return nil
	}
	switch leaf.Type().Kind() {
	case parquet.Float, parquet.Double:
		return leaf
	}
	return nil
}

// vectorSet is the state of a projection with vector columns: the flat
// fields go through the Reader's own columns, the vectors through
// vectorColumns, and batches are assembled in the projection's order.
type vectorSet struct {
	fields []table.Field
	flat   []int // fields index -> index among the flat projected columns, -1 for a vector
	vecs   []*vectorColumn
	at     []int // fields index -> index in vecs, -1 for a flat column
	batch  table.Batch
}

// vectorColumn reads one list column row by row.
type vectorColumn struct {
	file     string
	name     string
	leaf     *parquet.Column
	dtype    string
	nullable bool // elements may be null (def maxDef-1 is a null element)
	maxDef   int

	groups []parquet.RowGroup
	group  int
	src    io.ReaderAt          // the file, to locate a damaged page
	meta   *format.FileMetaData // its footer
	pages  parquet.Pages
	pageNo int // data pages read from the chunk
	vals   []parquet.Value
	pos, n int
	row    int64 // rows read
	dim    int
	dimRow int64
	col    table.Column
}

// projectVectors projects fields holding vector columns: the flat ones on
// r itself, the vector ones on their own readers.
func (r *Reader) projectVectors(fields []table.Field) error {
	vs := &vectorSet{fields: fields, flat: make([]int, len(fields)), at: make([]int, len(fields))}
	var flat []table.Field
	for i, f := range fields {
		if f.Kind != table.Vector {
			vs.flat[i], vs.at[i] = len(flat), -1
			flat = append(flat, f)
			continue
		}
		c := r.vectors[f.Name]
		if c == nil {
			if _, ok := r.leaves[f.Name]; ok {
				return fmt.Errorf("%s: column %q holds one number per row, not a list; declare it `type: numeric`, or write the vectors as a list column", r.name, f.Name)
			}
			return fmt.Errorf("%s: column %q is not a list of numbers in the file; its columns are: %s", r.name, f.Name, table.HeaderList(r.header))
		}
		leaf := vectorLeaf(c)
		vc := &vectorColumn{file: r.name, name: f.Name, leaf: leaf, maxDef: leaf.MaxDefinitionLevel(),
			nullable: leaf.Optional(), groups: r.groups, group: -1, dtype: table.DTypeFloat64,
			src: r.src, meta: r.file.Metadata()}
		if leaf.Type().Kind() == parquet.Float {
			vc.dtype = table.DTypeFloat32
		}
		vc.col = table.Column{Name: f.Name, Kind: table.Vector, DType: vc.dtype}
		vs.flat[i], vs.at[i] = -1, len(vs.vecs)
		vs.vecs = append(vs.vecs, vc)
	}
	if err := r.Project(flat); err != nil {
		return err
	}
	r.vec = vs
	return nil
}

// nextVectors reads the batch's n rows of every vector column.
func (r *Reader) nextVectors(n int) error {
	for _, vc := range r.vec.vecs {
		if err := vc.read(n); err != nil {
			return err
		}
	}
	return nil
}

// assemble assembles the batch in the projection's order.
func (vs *vectorSet) assemble(flat *table.Batch) *table.Batch {
	b := &vs.batch
	b.Rows, b.Start, b.Lines = flat.Rows, flat.Start, flat.Lines
	if len(b.Cols) != len(vs.fields) {
		b.Cols = make([]table.Column, len(vs.fields))
	}
	for i := range vs.fields {
		if k := vs.at[i]; k >= 0 {
			b.Cols[i] = vs.vecs[k].col
		} else {
			b.Cols[i] = flat.Cols[vs.flat[i]]
		}
	}
	return b
}

// value returns the next value of the column, moving to the next page and
// row group as needed; ok is false at the end of the file.
func (vc *vectorColumn) value() (v parquet.Value, ok bool, err error) {
	for vc.pos == vc.n {
		if vc.pages != nil {
			page, err := vc.readPage()
			if err == nil {
				vc.pageNo++
				if cap(vc.vals) < 1024 {
					vc.vals = make([]parquet.Value, 1024)
				}
				vc.vals = vc.vals[:cap(vc.vals)]
				vc.pos, vc.n = 0, 0
				vr := page.Values()
				for {
					k, rerr := vr.ReadValues(vc.vals[vc.n:])
					vc.n += k
					if rerr == io.EOF || k == 0 && rerr == nil {
						break
					}
					if rerr != nil {
						parquet.Release(page)
						return v, false, vc.corrupt(rerr)
					}
					if vc.n == len(vc.vals) {
						vc.vals = append(vc.vals, make([]parquet.Value, len(vc.vals))...)
					}
				}
				vc.vals = vc.vals[:vc.n]
				parquet.Release(page) // float values do not point into the page
				continue
			}
			if !errors.Is(err, io.EOF) {
				meta := &vc.meta.RowGroups[vc.group].Columns[vc.leaf.Index()].MetaData
				if cerr := checksumError(vc.src, meta, vc.file, vc.name, vc.group); cerr != nil {
					return v, false, cerr
				}
				var dp *decodePanic
				if errors.As(err, &dp) {
					return v, false, err
				}
				return v, false, vc.corrupt(err)
			}
			vc.pages.Close()
			vc.pages = nil
		}
		if vc.group+1 >= len(vc.groups) {
			return v, false, nil
		}
		vc.group++
		vc.pages = vc.groups[vc.group].ColumnChunks()[vc.leaf.Index()].Pages()
		vc.pageNo = 0
	}
	v = vc.vals[vc.pos]
	vc.pos++
	return v, true, nil
}

// readPage reads the chunk's next page, turning a library panic on
// damaged data into an error naming the page.
func (vc *vectorColumn) readPage() (p parquet.Page, err error) {
	defer func() {
		if r := recover(); r != nil {
			p, err = nil, recovered(fmt.Sprintf("%s: column %q, row group %d, data page %d", vc.file, vc.name, vc.group, vc.pageNo), r)
		}
	}()
	return vc.pages.ReadPage()
}

// peekRep returns the repetition level of the next value, or -1 at the
// end.
func (vc *vectorColumn) peekRep() (int, error) {
	v, ok, err := vc.value()
	if err != nil || !ok {
		return -1, err
	}
	vc.pos--
	return v.RepetitionLevel(), nil
}

func (vc *vectorColumn) corrupt(err error) error {
	return fmt.Errorf("%s: column %q, row group %d: %w: %v", vc.file, vc.name, vc.group, ErrCorrupt, err)
}

// read reads the next n rows into vc.col.
func (vc *vectorColumn) read(n int) error {
	c := &vc.col
	c.Vec, c.Null = c.Vec[:0], nil
	nulls := make([]bool, 0, n)
	anyNull := false
	var row []float64
	for range n {
		v, ok, err := vc.value()
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("%s: column %q: %w: the list column ends before the file's rows", vc.file, vc.name, ErrCorrupt)
		}
		row = row[:0]
		missing := false
		for {
			switch def := v.DefinitionLevel(); {
			case def == vc.maxDef:
				if v.Kind() == parquet.Float {
					row = append(row, float64(v.Float()))
				} else {
					row = append(row, v.Double())
				}
			case vc.nullable && def == vc.maxDef-1:
				row = append(row, math.NaN())
			default:
				missing = true // a null or empty list
			}
			rep, err := vc.peekRep()
			if err != nil {
				return err
			}
			if rep <= 0 {
				break
			}
			if v, _, err = vc.value(); err != nil {
				return err
			}
		}
		vc.row++
		if missing || len(row) == 0 {
			nulls = append(nulls, true)
			anyNull = true
			if vc.dim > 0 {
				for range vc.dim {
					c.Vec = append(c.Vec, math.NaN())
				}
			}
			continue
		}
		if vc.dim == 0 {
			vc.dim, vc.dimRow = len(row), vc.row
			c.Dim = vc.dim
			// Rows of this batch missing before the dimension was known.
			missingBefore := len(nulls)
			pre := make([]float64, missingBefore*vc.dim, missingBefore*vc.dim+cap(c.Vec))
			for k := range pre {
				pre[k] = math.NaN()
			}
			c.Vec = append(pre, c.Vec...)
		} else if len(row) != vc.dim {
			return &table.DimensionError{File: vc.file, Line: vc.row, Row: true, Column: vc.name, Got: len(row), Want: vc.dim,
				Where: fmt.Sprintf("the column's first vector (row %d)", vc.dimRow)}
		}
		c.Vec = append(c.Vec, row...)
		nulls = append(nulls, false)
	}
	if anyNull {
		c.Null = nulls
	}
	return nil
}

// hasVector reports whether fields project a vector column.
func hasVector(fields []table.Field) bool {
	for _, f := range fields {
		if f.Kind == table.Vector {
			return true
		}
	}
	return false
}
