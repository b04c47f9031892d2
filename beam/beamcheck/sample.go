package beamcheck

import (
	"bytes"
	"context"
	"encoding/gob"
	"encoding/json"
	"fmt"
	"reflect"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"

	"github.com/normguard/normguard/beam/beamtransform"
	"github.com/normguard/normguard/table"
	"github.com/normguard/normguard/validate"
)

// Vector columns in drift. `normguard drift --artifact` compares a vector
// column's seeded sample of 1,000 vectors (validate.Read's reservoir
// sample) with its contract. The job draws the same sample in two more
// stages: a Combine counts each range's present vectors (from the
// summaries), then every range reads its vector columns again and, knowing
// how many present vectors come before it, draws its part of the sample
// with validate.VectorSampler (the generator jumped to where the local
// reader's would be); a Combine keeps, per slot, the last vector that took
// it (validate.MergeSamples). The sample equals the local one vector for
// vector, so MMD², its p-value, the AUC, ... are the local command's. The
// stages read nothing when the job samples no vector column (validate, or
// drift without vector columns).

func init() {
	beam.RegisterType(reflect.TypeFor[vecCounts]())
	beam.RegisterCoder(reflect.TypeFor[samplePart](), encodeSample, decodeSample)
	for _, t := range []reflect.Type{reflect.TypeFor[countsFn](), reflect.TypeFor[sampleFn](), reflect.TypeFor[sampleMergeFn]()} {
		beam.RegisterType(t)
	}
}

// vecCounts holds, per vector source, the present vectors of each range.
type vecCounts struct {
	Present [][]int64
}

// samplePart holds, per vector source, the sample slots some ranges' vectors
// took.
type samplePart struct {
	Slots [][]validate.SampledVector
}

func encodeSample(p samplePart) ([]byte, error) {
	var b bytes.Buffer
	if err := gob.NewEncoder(&b).Encode(p); err != nil {
		return nil, fmt.Errorf("beamcheck: encode vector sample: %w", err)
	}
	return b.Bytes(), nil
}

func decodeSample(b []byte) (samplePart, error) {
	var p samplePart
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(&p); err != nil {
		return p, fmt.Errorf("beamcheck: decode vector sample: %w", err)
	}
	return p, nil
}

// sampled tells whether the job draws the sample of vector source i: drift
// compares the vector column itself (a column joined from dimension
// columns is not compared, as locally).
func (l *loaded) sampled(cmd string, i int) bool {
	return cmd == Drift && !l.vecs[i].join
}

// countsFn counts the present vectors of each range.
type countsFn struct {
	P Plan
	l *loaded
}

func (f *countsFn) Setup() (err error) {
	f.l, err = load(f.P)
	return err
}

func (f *countsFn) CreateAccumulator() vecCounts {
	c := vecCounts{Present: make([][]int64, len(f.l.vecs))}
	for i := range c.Present {
		c.Present[i] = make([]int64, len(f.P.In.Ranges))
	}
	return c
}

func (f *countsFn) AddInput(acc vecCounts, p Part) (vecCounts, error) {
	for i := range f.l.vecs {
		if i >= len(p.Vec) || len(p.Vec[i]) == 0 {
			continue
		}
		var segs []vecSeg
		if err := json.Unmarshal(p.Vec[i], &segs); err != nil {
			return acc, fmt.Errorf("beamcheck: decode vector column %q: %w", f.l.vecs[i].emb.Column, err)
		}
		for _, s := range segs {
			if s.First != s.Last {
				return acc, fmt.Errorf("beamcheck: vector counts: a summary of ranges %d..%d, want one range", s.First, s.Last)
			}
			acc.Present[i][s.First] = s.Rows - s.Missing
		}
	}
	return acc, nil
}

func (f *countsFn) MergeAccumulators(a, b vecCounts) vecCounts {
	for i := range a.Present {
		for k := range a.Present[i] {
			a.Present[i][k] += b.Present[i][k]
		}
	}
	return a
}

func (f *countsFn) ExtractOutput(acc vecCounts) vecCounts { return acc }

// sampleFn draws range k's part of the sampled vector columns' samples.
type sampleFn struct {
	P Plan
	l *loaded
}

func (f *sampleFn) Setup() (err error) {
	f.l, err = load(f.P)
	return err
}

func (f *sampleFn) ProcessElement(ctx context.Context, k int, owned []beamtransform.Span, counts vecCounts, emit func(samplePart)) error {
	part := samplePart{Slots: make([][]validate.SampledVector, len(f.l.vecs))}
	var fields []table.Field
	var src []int
	samplers := make([]*validate.VectorSampler, len(f.l.vecs))
	for i, v := range f.l.vecs {
		if !f.l.sampled(f.P.Opt.Command, i) {
			continue
		}
		var first int64
		for _, n := range counts.Present[i][:k] {
			first += n
		}
		samplers[i] = validate.NewVectorSampler(first)
		fields = append(fields, table.Field{Name: v.emb.Column, Kind: table.Vector})
		src = append(src, i)
	}
	if len(fields) == 0 {
		emit(part)
		return nil
	}
	r, err := f.P.In.OpenRange(ctx, k, owned)
	if err != nil {
		return err
	}
	defer r.Close()
	if err := r.Project(fields); err != nil {
		return err
	}
	for r.Next() {
		if err := ctx.Err(); err != nil {
			return err
		}
		b := r.Batch()
		for j, i := range src {
			c := &b.Cols[j]
			if c.Dim == 0 {
				continue // every row missing
			}
			for row := range b.Rows {
				if c.Null == nil || !c.Null[row] {
					samplers[i].Add(c.Row(row))
				}
			}
		}
	}
	if err := r.Err(); err != nil {
		return fmt.Errorf("drift: %w", err)
	}
	for _, i := range src {
		s := samplers[i]
		var first int64
		for _, n := range counts.Present[i][:k] {
			first += n
		}
		if got, want := s.Seen-first, counts.Present[i][k]; got != want {
			return fmt.Errorf("drift: vector column %q: range %d holds %d present vectors on the second read, %d on the first", f.l.vecs[i].emb.Column, k, got, want)
		}
		part.Slots[i] = s.Slots
	}
	emit(part)
	return nil
}

// sampleMergeFn merges the ranges' sample slots, keeping per slot the
// last vector that took it.
type sampleMergeFn struct{}

func (sampleMergeFn) CreateAccumulator() samplePart { return samplePart{} }

func (f sampleMergeFn) AddInput(acc, p samplePart) samplePart { return f.MergeAccumulators(acc, p) }

func (sampleMergeFn) MergeAccumulators(a, b samplePart) samplePart {
	if len(a.Slots) == 0 {
		return b
	}
	for i := range a.Slots {
		if i >= len(b.Slots) {
			break
		}
		last := map[int]int{}
		for j, v := range a.Slots[i] {
			last[v.Slot] = j
		}
		for _, v := range b.Slots[i] {
			j, ok := last[v.Slot]
			switch {
			case !ok:
				last[v.Slot] = len(a.Slots[i])
				a.Slots[i] = append(a.Slots[i], v)
			case v.At > a.Slots[i][j].At:
				a.Slots[i][j] = v
			}
		}
	}
	return a
}

func (sampleMergeFn) ExtractOutput(acc samplePart) samplePart { return acc }
