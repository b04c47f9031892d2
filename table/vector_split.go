package table

import "math"

// SplitVectors returns r reading each vector column named in vectors as
// the Numeric columns of its dimensions, whose names vectors gives
// (VectorNames): the header lists emb_0 .. emb_{d-1} in place of emb, and
// batches hold them as Numeric columns (NaN for a missing vector). A
// vector of another dimension than len(vectors[name]) is a
// *DimensionError. A column absent from r's header, or whose dimension
// columns the header already holds, is read as it is; when no column is
// split, r is returned itself.
func SplitVectors(r Reader, vectors map[string][]string) Reader {
	if len(vectors) == 0 {
		return r
	}
	header := r.Header()
	in := make(map[string]bool, len(header))
	for _, h := range header {
		in[h] = true
	}
	split := map[string][]string{}
	for name, dims := range vectors {
		if in[name] && len(dims) > 0 && !in[dims[0]] {
			split[name] = dims
		}
	}
	if len(split) == 0 {
		return r
	}
	s := &vectorSplitter{r: r, vectors: split, dims: map[string]vectorDim{}}
	for _, h := range header {
		names, ok := split[h]
		if !ok {
			s.header = append(s.header, h)
			continue
		}
		s.header = append(s.header, names...)
		for k, n := range names {
			s.dims[n] = vectorDim{column: h, index: k}
		}
	}
	return s
}

// vectorSplitter is the Reader SplitVectors returns.
type vectorSplitter struct {
	r       Reader
	vectors map[string][]string // vector column -> its dimension columns
	dims    map[string]vectorDim
	header  []string
	// src[j] is the inner column of output column j; dim[j] the dimension
	// it takes from a vector column, -1 for a column passed as it is.
	src   []int
	dim   []int
	batch Batch
	err   error
}

func (s *vectorSplitter) Header() []string { return s.header }

func (s *vectorSplitter) Project(fields []Field) error {
	var inner []Field
	at := map[string]int{}
	s.src, s.dim = make([]int, len(fields)), make([]int, len(fields))
	for j, f := range fields {
		d, ok := s.dims[f.Name]
		if !ok {
			s.src[j], s.dim[j] = len(inner), -1
			inner = append(inner, f)
			continue
		}
		i, seen := at[d.column]
		if !seen {
			i = len(inner)
			at[d.column] = i
			inner = append(inner, Field{Name: d.column, Kind: Vector})
		}
		s.src[j], s.dim[j] = i, d.index
	}
	s.batch.Cols = NewColumns(fields)
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
			s.err = &DimensionError{File: sourceName(s.r), Line: b.Line(0), Column: src.Name, Got: src.Dim, Want: want,
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

func (s *vectorSplitter) Batch() *Batch { return &s.batch }

func (s *vectorSplitter) Err() error {
	if err := s.r.Err(); err != nil {
		return err
	}
	return s.err
}

func (s *vectorSplitter) Close() error { return s.r.Close() }

// Progress reports the inner reader's progress, when it has one.
func (s *vectorSplitter) Progress() (done, total int64) {
	if p, ok := s.r.(Progresser); ok {
		return p.Progress()
	}
	return 0, 0
}

// sourceName is the name the inner reader's errors use, when it says.
func sourceName(r Reader) string {
	if n, ok := r.(interface{ Name() string }); ok {
		return n.Name()
	}
	return "input"
}

// vectorDim locates one dimension column of a split vector column.
type vectorDim struct {
	column string
	index  int
}
