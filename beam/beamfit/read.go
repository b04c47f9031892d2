package beamfit

import (
	"context"
	"fmt"
	"slices"

	"github.com/normguard/normguard/fit"
	"github.com/normguard/normguard/spec"
	"github.com/normguard/normguard/table"
	"github.com/normguard/normguard/transform"
)

// readFn reads one shard (the element is its index in Plan.Shards) and
// emits its rows as chunks, Start counted within the shard.
type readFn struct {
	P Plan
	l *loaded
}

func (f *readFn) Setup() (err error) {
	f.l, err = f.P.load()
	return err
}

func (f *readFn) ProcessElement(ctx context.Context, shard int, emit func(Chunk)) error {
	path := f.P.Shards[shard]
	r, err := openShard(ctx, path)
	if err != nil {
		return err
	}
	defer r.Close()
	if f.l.spec.Remainder == spec.RemainderPassthrough && !sameColumns(r.Header(), f.P.Header) {
		return fmt.Errorf("read %s: its columns %q differ from %s's %q; with remainder passthrough every shard must have the same columns",
			path, r.Header(), f.P.Shards[0], f.P.Header)
	}
	if err := r.Project(f.P.Fields); err != nil {
		return err
	}
	var start int64
	for r.Next() {
		if err := ctx.Err(); err != nil {
			return err
		}
		b := r.Batch()
		if b.Rows == 0 {
			continue
		}
		if err := transform.CheckFinite(b, f.P.Fields, path); err != nil {
			return err
		}
		c := Chunk{Shard: shard, Start: start, Rows: b.Rows, Cols: make([]table.Column, len(b.Cols))}
		for j := range b.Cols {
			part := b.Cols[j].Slice(0, b.Rows)
			c.Cols[j] = part.Clone()
		}
		emit(c)
		start += int64(b.Rows)
	}
	return r.Err()
}

// countFn sums the rows of each shard and returns every shard's global
// offset (offsets[i] is the row shard i starts at; the last entry is the
// total).
type countFn struct {
	Shards int
	Source string
}

func (f *countFn) CreateAccumulator() []int64 { return make([]int64, f.Shards) }

func (f *countFn) AddInput(acc []int64, c Chunk) []int64 {
	acc[c.Shard] += int64(c.Rows)
	return acc
}

func (f *countFn) MergeAccumulators(a, b []int64) []int64 {
	for i := range a {
		a[i] += b[i]
	}
	return a
}

func (f *countFn) ExtractOutput(acc []int64) ([]int64, error) {
	offsets := make([]int64, len(acc)+1)
	for i, n := range acc {
		offsets[i+1] = offsets[i] + n
	}
	if offsets[len(acc)] == 0 {
		return nil, fmt.Errorf("fit %s: %w; fit needs at least one data row", f.Source, fit.ErrNoRows)
	}
	return offsets, nil
}

// globalize numbers a chunk's rows within the whole training set.
func globalize(c Chunk, offsets []int64) Chunk {
	c.Start += offsets[c.Shard]
	c.Total = offsets[len(offsets)-1]
	return c
}

// scans are the inference tallies of every field (unused for typed ones).
type scans []fit.NumericScan

// inferFn infers the kinds of the columns whose type the spec leaves out
// (fit.NumericScan, merged in any order) and checks each group's kind
// against its first step. The output holds every field's kind.
type inferFn struct {
	P Plan
	l *loaded
}

func (f *inferFn) Setup() (err error) {
	f.l, err = f.P.load()
	return err
}

func (f *inferFn) CreateAccumulator() scans {
	s := make(scans, len(f.P.Fields))
	for i := range s {
		s[i].Stop = -1
	}
	return s
}

func (f *inferFn) AddInput(acc scans, c Chunk) scans {
	for j := range acc {
		if f.l.untyped[j] && c.Cols[j].Kind == table.String {
			s := fit.ScanNumeric(&c.Cols[j], c.Rows, c.Start)
			acc[j].Merge(&s)
		}
	}
	return acc
}

func (f *inferFn) MergeAccumulators(a, b scans) scans {
	for j := range a {
		a[j].Merge(&b[j])
	}
	return a
}

// ExtractOutput returns every field's table.Kind, as ints (Beam's coders
// do not take slices of named integer types).
func (f *inferFn) ExtractOutput(acc scans) ([]int, error) {
	kinds := make([]table.Kind, len(f.P.Fields))
	for j, fd := range f.P.Fields {
		kinds[j] = fd.Kind
	}
	infer := func(at int, names []string) error {
		k, err := fit.InferScanned(names, acc[at:at+len(names)], f.P.Source)
		if err != nil {
			return err
		}
		for j := range names {
			kinds[at+j] = k
		}
		return nil
	}
	for g, grp := range f.l.spec.Columns {
		at := f.l.groupAt[g]
		if grp.Kind() == table.KindUnknown {
			if err := infer(at, grp.Names); err != nil {
				return nil, err
			}
		}
		if err := spec.CheckKinds(&grp, kinds[at], fmt.Sprintf("columns[%d]", g)); err != nil {
			return nil, err
		}
	}
	for j := len(f.P.Fields) - len(f.P.Pass); j < len(f.P.Fields); j++ {
		k, err := fit.InferPassthroughScanned(f.P.Fields[j].Name, acc[j], f.P.Source)
		if err != nil {
			return nil, err
		}
		kinds[j] = k
	}
	out := make([]int, len(kinds))
	for j, k := range kinds {
		out[j] = int(k)
	}
	return out, nil
}

// convert parses the text of the columns inferred numeric.
func convert(c Chunk, kinds []int) Chunk {
	cols := slices.Clone(c.Cols)
	for j := range cols {
		if table.Kind(kinds[j]) == table.Numeric && cols[j].Kind == table.String {
			cols[j] = table.Column{Name: cols[j].Name, Kind: table.Numeric, Num: fit.ParseNumeric(&cols[j], c.Rows)}
		}
	}
	c.Cols = cols
	return c
}

// fingerprint is the mergeable state of fit.FingerprintAcc.
type fingerprint struct {
	Rows         int64
	Lane1, Lane2 uint64
}

// fingerprintFn accumulates the training data's fingerprint with the
// core's FingerprintAcc (a multiset hash: sums merge in any order).
type fingerprintFn struct{}

func (fingerprintFn) AddInput(acc fingerprint, c Chunk) fingerprint {
	var f fit.FingerprintAcc
	f.Add(c.Cols, c.Rows)
	return fingerprintFn{}.MergeAccumulators(acc, fingerprint{f.Rows, f.Lane1, f.Lane2})
}

func (fingerprintFn) MergeAccumulators(a, b fingerprint) fingerprint {
	acc := fit.FingerprintAcc{Rows: a.Rows, Lane1: a.Lane1, Lane2: a.Lane2}
	acc.Merge(&fit.FingerprintAcc{Rows: b.Rows, Lane1: b.Lane1, Lane2: b.Lane2})
	return fingerprint{acc.Rows, acc.Lane1, acc.Lane2}
}
