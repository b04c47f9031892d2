package transform

import (
	"fmt"
	"math"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/table"
)

// Vector columns. An artifact fitted on a vector column emb of dimension d
// reads it as the Numeric inputs emb_0 .. emb_{d-1} (table.VectorNames) and
// writes the outputs its steps give, under the same names, in every output
// format (CSV, Parquet and JSON Lines alike: one numeric column per
// dimension). A source may hold the vector column itself (a JSONL array,
// a Parquet list, a .npy matrix): SplitVectors splits it into the
// dimension columns as it reads. A source that already holds the
// dimension columns is read as it is.

// SplitVectors returns r reading the vector columns of a's embeddings as
// their dimension columns: its header lists emb_0 .. emb_{d-1} in place of
// emb, and its batches hold them as Numeric columns (NaN for a missing
// vector). A vector of another dimension than the contract's is a
// *table.DimensionError. When a has no embeddings, or r's header already
// holds a column's dimension columns, r is returned as it is.
func SplitVectors(r table.Reader, a *artifact.Artifact) table.Reader {
	if len(a.Embeddings) == 0 {
		return r
	}
	header := r.Header()
	in := make(map[string]bool, len(header))
	for _, h := range header {
		in[h] = true
	}
	vectors := map[string][]string{}
	for _, e := range a.Embeddings {
		if in[e.Column] && !in[e.Columns[0]] {
			vectors[e.Column] = e.Columns
		}
	}
	if len(vectors) == 0 {
		return r
	}
	s := &vectorSplitter{r: r, vectors: vectors, dims: map[string]artifact.VectorDim{}}
	for _, h := range header {
		names, ok := vectors[h]
		if !ok {
			s.header = append(s.header, h)
			continue
		}
		s.header = append(s.header, names...)
		for k, n := range names {
			s.dims[n] = artifact.VectorDim{Column: h, Index: k, Dim: len(names)}
		}
	}
	return s
}

// vectorSplitter is the table.Reader SplitVectors returns.
type vectorSplitter struct {
	r       table.Reader
	vectors map[string][]string // vector column -> its dimension columns
	dims    map[string]artifact.VectorDim
	header  []string
	// src[j] is the inner column of output column j; dim[j] the dimension
	// it takes from a vector column, -1 for a column passed as it is.
	src   []int
	dim   []int
	batch table.Batch
	err   error
}

func (s *vectorSplitter) Header() []string { return s.header }

func (s *vectorSplitter) Project(fields []table.Field) error {
	var inner []table.Field
	at := map[string]int{}
	s.src, s.dim = make([]int, len(fields)), make([]int, len(fields))
	for j, f := range fields {
		d, ok := s.dims[f.Name]
		if !ok {
			s.src[j], s.dim[j] = len(inner), -1
			inner = append(inner, f)
			continue
		}
		i, seen := at[d.Column]
		if !seen {
			i = len(inner)
			at[d.Column] = i
			inner = append(inner, table.Field{Name: d.Column, Kind: table.Vector})
		}
		s.src[j], s.dim[j] = i, d.Index
	}
	s.batch.Cols = table.NewColumns(fields)
	return s.r.Project(inner)
}

func (s *vectorSplitter) Next() bool {
	if !s.r.Next() {
		return false
	}
	b := s.r.Batch()
	s.batch.Rows, s.batch.Lines, s.batch.Start = b.Rows, b.Lines, b.Start
	for j := range s.batch.Cols {
		src := &b.Cols[s.src[j]]
		if s.dim[j] < 0 {
			s.batch.Cols[j] = *src
			continue
		}
		out := &s.batch.Cols[j]
		out.Num = out.Num[:0]
		want := len(s.vectors[src.Name])
		if src.Dim == 0 { // every vector of the batch missing
			for range b.Rows {
				out.Num = append(out.Num, math.NaN())
			}
			continue
		}
		if src.Dim != want {
			s.err = &table.DimensionError{File: sourceName(s.r), Line: b.Line(0), Column: src.Name, Got: src.Dim, Want: want,
				Where: "the artifact's embedding contract"}
			return false
		}
		k := s.dim[j]
		for i := range b.Rows {
			if src.Null != nil && src.Null[i] {
				out.Num = append(out.Num, math.NaN())
				continue
			}
			out.Num = append(out.Num, src.Vec[i*src.Dim+k])
		}
	}
	return true
}

func (s *vectorSplitter) Batch() *table.Batch { return &s.batch }

func (s *vectorSplitter) Err() error {
	if err := s.r.Err(); err != nil {
		return err
	}
	return s.err
}

func (s *vectorSplitter) Close() error { return s.r.Close() }

// Progress reports the inner reader's progress, when it has one.
func (s *vectorSplitter) Progress() (done, total int64) {
	if p, ok := s.r.(table.Progresser); ok {
		return p.Progress()
	}
	return 0, 0
}

// sourceName is the name the inner reader's errors use, when it says.
func sourceName(r table.Reader) string {
	if n, ok := r.(interface{ Name() string }); ok {
		return n.Name()
	}
	return "input"
}

// vectorValue returns the value of input column name in a row given as a
// map whose vector column holds an array (the HTTP and library row form):
// element k of the column's array, nil for a missing vector.
// dims is the artifact's VectorInputs.
func vectorValue(dims map[string]artifact.VectorDim, row map[string]any, name string) (any, bool, error) {
	d, ok := dims[name]
	if !ok {
		return nil, false, nil
	}
	v, ok := row[d.Column]
	if !ok {
		return nil, false, nil
	}
	if v == nil {
		return nil, true, nil
	}
	xs, ok := v.([]any)
	if !ok {
		return nil, false, fmt.Errorf("vector column %q: got %T, want an array of %d numbers (or null)", d.Column, v, d.Dim)
	}
	if len(xs) != d.Dim {
		return nil, false, fmt.Errorf("vector column %q: the vector has %d values, the artifact's contract %d", d.Column, len(xs), d.Dim)
	}
	return xs[d.Index], true, nil
}
