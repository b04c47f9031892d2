package beamcheck

import (
	"encoding/json"
	"fmt"
	"slices"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/embed"
	"github.com/normguard/normguard/table"
	"github.com/normguard/normguard/validate"
)

// Vector columns in validate. Each range accumulates an embed.Checker of
// a vector column against its contract (validate.VectorData, as the local
// command does while the file streams by); the merge stage merges the
// Checkers of consecutive ranges in range order, so the rows a finding
// names (the first NaN or zero vectors) are numbered as in the
// concatenated data. Checkers travel as embed.CheckerState JSON, whose
// size depends on the dimension, not on the rows. Data holding a vector's
// dimension columns instead (emb_0, emb_1, ...) is judged as the vectors
// they form, a row with any missing value being a missing vector, as
// locally.
//
// The counts are exact. The sums (norms, per-dimension moments,
// projections) are float64 sums added in another grouping than one
// process's batches, so the evidence numbers may differ from the local
// command's in the last bits; the verdicts are thresholds far from that.
//
// drift judges the vector columns it compares the same way (its validate
// part), and compares their sample with the contract (sample.go).

// vecSource is a vector column of the artifact that the data holds, as
// the column itself or as its dimension columns (join).
type vecSource struct {
	emb  artifact.Embedding
	join bool
	// dims are the indexes of the dimension columns in loaded.fields
	// (join only).
	dims []int
}

// vecSeg is a vector column accumulated over the ranges First..Last.
type vecSeg struct {
	First, Last int
	Dim         int
	Rows        int64
	Missing     int64
	// State is the Checker's (nil: no present vector).
	State *embed.CheckerState `json:",omitempty"`
}

// vectorSources returns the artifact's vector columns the header holds
// (validate only: drift refuses them or leaves them out).
func vectorSources(a *artifact.Artifact, header []string, fields []table.Field) []vecSource {
	in := map[string]bool{}
	for _, h := range header {
		in[h] = true
	}
	at := map[string]int{}
	for j, f := range fields {
		at[f.Name] = j
	}
	var out []vecSource
	for _, e := range a.Embeddings {
		if in[e.Column] {
			out = append(out, vecSource{emb: e})
			continue
		}
		s := vecSource{emb: e, join: true}
		for _, c := range e.Columns {
			j, ok := at[c]
			if !ok {
				s.dims = nil
				break
			}
			s.dims = append(s.dims, j)
		}
		if len(s.dims) == len(e.Columns) && len(s.dims) > 0 {
			out = append(out, s)
		}
	}
	return out
}

// vectorFields are the fields that read the vector columns themselves.
func vectorFields(vs []vecSource) []table.Field {
	var out []table.Field
	for _, v := range vs {
		if !v.join {
			out = append(out, table.Field{Name: v.emb.Column, Kind: table.Vector})
		}
	}
	return out
}

// addVectors accumulates a batch's vector columns: b.Cols[n:] are the
// vector fields, fields (as read in this range) locate the dimension
// columns.
func addVectors(acc []*validate.VectorData, vs []vecSource, b *table.Batch, n int, fields []table.Field) error {
	k := n
	for i, v := range vs {
		if !v.join {
			c := b.Cols[k].Slice(0, b.Rows)
			k++
			if err := acc[i].Add(&c, b.Rows, v.emb.Contract); err != nil {
				return err
			}
			continue
		}
		if acc[i] == nil {
			continue // a dimension column holds text in this data: not a vector
		}
		c := joinDims(b, v.dims, b.Rows)
		if err := acc[i].Add(c, b.Rows, v.emb.Contract); err != nil {
			return err
		}
	}
	return nil
}

// joinDims builds a vector column from the numeric dimension columns of
// a batch; a row with any missing value is a missing vector.
func joinDims(b *table.Batch, dims []int, rows int) *table.Column {
	d := len(dims)
	c := &table.Column{Kind: table.Vector, Dim: d, Vec: make([]float64, rows*d), Null: make([]bool, rows)}
	for i := range rows {
		for k, j := range dims {
			x := b.Cols[j].Num[i]
			c.Vec[i*d+k] = x
			if x != x {
				c.Null[i] = true
			}
		}
	}
	return c
}

// newVectorAccs returns the accumulators of a range; a joined vector
// whose dimension columns are read as text here is nil (the local command
// then finds no vector column).
func newVectorAccs(vs []vecSource, fields []table.Field) []*validate.VectorData {
	out := make([]*validate.VectorData, len(vs))
	for i, v := range vs {
		if v.join && slices.ContainsFunc(v.dims, func(j int) bool { return fields[j].Kind != table.Numeric }) {
			continue
		}
		out[i] = &validate.VectorData{Column: v.emb.Column}
	}
	return out
}

// encodeVectors encodes a range's accumulators as one segment each.
func encodeVectors(acc []*validate.VectorData, shard int) ([][]byte, error) {
	out := make([][]byte, len(acc))
	for i, v := range acc {
		if v == nil {
			continue
		}
		seg := vecSeg{First: shard, Last: shard, Dim: v.Dim, Rows: v.Rows, Missing: v.Missing}
		if v.Checker != nil {
			s := v.Checker.State()
			seg.State = &s
		}
		b, err := json.Marshal([]vecSeg{seg})
		if err != nil {
			return nil, fmt.Errorf("beamcheck: encode vector column %q: %w", v.Column, err)
		}
		out[i] = b
	}
	return out, nil
}

// mergeVectors merges the segments of two Parts' vector column: those of
// consecutive ranges merge (in range order), the others wait for the
// ranges between them.
func mergeVectors(v vecSource, a, b []byte) ([]byte, error) {
	switch { // gob may decode a nil segment list as an empty one
	case len(a) == 0:
		return b, nil
	case len(b) == 0:
		return a, nil
	}
	var x, y []vecSeg
	if err := json.Unmarshal(a, &x); err != nil {
		return nil, fmt.Errorf("beamcheck: decode vector column %q: %w", v.emb.Column, err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		return nil, fmt.Errorf("beamcheck: decode vector column %q: %w", v.emb.Column, err)
	}
	segs := append(x, y...)
	slices.SortFunc(segs, func(p, q vecSeg) int { return p.First - q.First })
	out := segs[:1]
	for _, s := range segs[1:] {
		last := &out[len(out)-1]
		if last.Last+1 != s.First {
			out = append(out, s)
			continue
		}
		m, err := joinSegs(v, *last, s)
		if err != nil {
			return nil, err
		}
		*last = m
	}
	return json.Marshal(out)
}

// joinSegs merges two consecutive segments.
func joinSegs(v vecSource, a, b vecSeg) (vecSeg, error) {
	x, err := segData(v, a)
	if err != nil {
		return vecSeg{}, err
	}
	y, err := segData(v, b)
	if err != nil {
		return vecSeg{}, err
	}
	if err := x.Merge(y); err != nil {
		return vecSeg{}, fmt.Errorf("validate: %w", err)
	}
	out := vecSeg{First: a.First, Last: b.Last, Dim: x.Dim, Rows: x.Rows, Missing: x.Missing}
	if x.Checker != nil {
		s := x.Checker.State()
		out.State = &s
	}
	return out, nil
}

// segData restores a segment's accumulator.
func segData(v vecSource, s vecSeg) (*validate.VectorData, error) {
	d := &validate.VectorData{Column: v.emb.Column, Dim: s.Dim, Rows: s.Rows, Missing: s.Missing}
	if s.State != nil {
		k, err := embed.RestoreChecker(v.emb.Contract, *s.State, embed.CheckOptions{})
		if err != nil {
			return nil, fmt.Errorf("beamcheck: vector column %q: %w", v.emb.Column, err)
		}
		d.Checker = k
	}
	return d, nil
}

// mergedVectors returns the vector columns of the merged Part, every
// range merged.
func mergedVectors(vs []vecSource, enc [][]byte) (map[string]*validate.VectorData, error) {
	out := map[string]*validate.VectorData{}
	for i, v := range vs {
		if i >= len(enc) || len(enc[i]) == 0 {
			continue
		}
		var segs []vecSeg
		if err := json.Unmarshal(enc[i], &segs); err != nil {
			return nil, fmt.Errorf("beamcheck: decode vector column %q: %w", v.emb.Column, err)
		}
		if len(segs) != 1 {
			return nil, fmt.Errorf("beamcheck: vector column %q: %d runs of ranges left unmerged; some ranges were not summarized", v.emb.Column, len(segs))
		}
		d, err := segData(v, segs[0])
		if err != nil {
			return nil, err
		}
		out[v.emb.Column] = d
	}
	return out, nil
}
