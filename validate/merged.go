package validate

import (
	"fmt"
	"math"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/embed"
	"github.com/normguard/normguard/profile"
	"github.com/normguard/normguard/table"
)

// Validation of data summarized elsewhere, in parts that merge (the
// shards of a normguard-beam job): the scalar inputs as merged SummaryAcc
// values, the vector columns as merged VectorData. CheckMerged gives the
// report CheckData gives on the same rows read at once.

// Add accumulates the first n rows of a batch's vector column c (a Vector
// column: Dim 0 when every row is missing) into v, checked against
// contract, as Read does while a file streams by. Rows are numbered in
// the order batches are added.
func (v *VectorData) Add(c *table.Column, n int, contract *embed.Contract) error {
	return v.add(c, n, contract)
}

// Merge adds the rows of o (the same column, rows after v's) to v. Two
// parts whose vectors have different dimensions are an error, as one file
// holding both would be.
func (v *VectorData) Merge(o *VectorData) error {
	switch {
	case o.Checker == nil:
	case v.Checker == nil:
		v.Checker, v.Dim = o.Checker, o.Dim
	case v.Dim != o.Dim:
		return fmt.Errorf("vector column %q: vectors of %d values after vectors of %d", v.Column, o.Dim, v.Dim)
	default:
		if err := v.Checker.Merge(o.Checker); err != nil {
			return fmt.Errorf("vector column %q: %w", v.Column, err)
		}
	}
	v.Rows += o.Rows
	v.Missing += o.Missing
	return nil
}

// CheckMerged validates rows of data with the given header against the
// artifact, from summaries made elsewhere: sum returns the Summary of an
// input column the header holds (p is its profile, known its complete
// training categories or nil; sum is called only for the selected scalar
// inputs), vectors the artifact's vector columns the data holds (nil
// entries or absent names: the data lacks them). The report equals
// CheckData's on the same rows: both run check.
func CheckMerged(a *artifact.Artifact, rows int64, header []string, sum func(p *profile.Feature, known []string) (Summary, error), vectors map[string]*VectorData, opt Options) (*Report, error) {
	d := &Data{Header: header, Rows: rows, Vectors: map[string]*VectorData{}}
	for n, v := range vectors {
		if v != nil {
			d.Vectors[n] = v
		}
	}
	return check(a, d, sum, opt)
}

// check validates d against the artifact: the scalar inputs the header
// holds through sum, the absent ones as missing, the other columns by
// name, then the vector columns (d.Vectors, or d.Cols' vectors and
// dimension columns).
func check(a *artifact.Artifact, d *Data, sum func(p *profile.Feature, known []string) (Summary, error), opt Options) (*Report, error) {
	sc, err := SchemaOf(a)
	if err != nil {
		return nil, err
	}
	if err := opt.Validate(append(sc.Names(), vectorNames(a)...)); err != nil {
		return nil, err
	}
	if d.Rows <= 0 {
		where := "the data"
		if d.Path != "" {
			where = d.Path
		}
		return nil, fmt.Errorf("validate: %s has no data rows (empty or header only): nothing to validate: %w", where, ErrInvalid)
	}
	inHeader := wantedInHeader(a, d.Header)
	inputs := map[string]bool{}
	for _, e := range a.Embeddings {
		inputs[e.Column] = true
	}
	dims := vectorDims(a)
	sopt, vectorsOnly := scalarOptions(opt, a)
	var sums []Summary
	for i := range sc.Features {
		p := &sc.Features[i]
		inputs[p.Name] = true
		if !sopt.selected(p.Name) || dims[p.Name] || vectorsOnly {
			continue
		}
		if !inHeader[p.Name] {
			sums = append(sums, Summary{Name: p.Name, Absent: true, Min: math.NaN(), Max: math.NaN()})
			continue
		}
		s, err := sum(p, sc.Known[p.Name])
		if err != nil {
			return nil, err
		}
		sums = append(sums, s)
	}
	// The data's other columns, without a copy of the header: it may
	// hold millions of names (attack run 8 F6).
	extra := func(yield func(string) bool) {
		if vectorsOnly {
			return
		}
		for _, h := range d.Header {
			if !inputs[h] && !yield(h) {
				return
			}
		}
	}
	rep, err := checkSummaries(sc, d.Rows, sums, extra, sopt)
	if err != nil || len(a.Embeddings) == 0 {
		return rep, err
	}
	return checkVectors(rep, a, d, opt)
}

// The seeded sample of a vector column that Read keeps (VectorData.Sample,
// reservoir sampling driven by a 64-bit xorshift generator) can be drawn
// over parts of the data too: a part whose first present vector is the
// g-th of the data starts the generator where Read's would be after the
// vectors before it (a jump of max(0, g - VectorSampleSize) steps: the
// xorshift step is linear over GF(2), so a jump is a 64 x 64 bit matrix
// power), and records which sample slots its vectors take. Merged (a
// later vector wins a slot), the parts give Read's sample exactly.

// sampleSeed is the generator's state when a column's first vector is
// read (VectorData.add).
const sampleSeed = 0x5eed

// xorshiftStep is the generator's step (VectorData.keep).
func xorshiftStep(x uint64) uint64 {
	x ^= x << 13
	x ^= x >> 7
	x ^= x << 17
	return x
}

// bitMatrix is a linear map on 64-bit vectors over GF(2): column i is the
// image of bit i.
type bitMatrix [64]uint64

func (m *bitMatrix) apply(x uint64) uint64 {
	var y uint64
	for i := 0; x != 0; i, x = i+1, x>>1 {
		if x&1 != 0 {
			y ^= m[i]
		}
	}
	return y
}

// xorshiftJump returns the generator's state n steps after x.
func xorshiftJump(x uint64, n int64) uint64 {
	var m bitMatrix
	for i := range m {
		m[i] = xorshiftStep(1 << i)
	}
	for ; n > 0; n >>= 1 {
		if n&1 != 0 {
			x = m.apply(x)
		}
		var sq bitMatrix
		for i := range m {
			sq[i] = m.apply(m[i])
		}
		m = sq
	}
	return x
}

// VectorSampler draws the part of a vector column's sample (the one Read
// keeps) that falls to a run of consecutive present vectors. The zero
// value is not usable: see NewVectorSampler.
type VectorSampler struct {
	// Seen is the number of present vectors of the data before the next
	// one; Rng the generator's state.
	Seen int64
	Rng  uint64
	// Slots are the sample slots the run's vectors took, each with the
	// last vector that took it.
	Slots []SampledVector
	at    map[int]int // slot -> index in Slots
}

// SampledVector is a vector that took a sample slot: At numbers it among
// the data's present vectors (from 0).
type SampledVector struct {
	Slot int
	At   int64
	Vec  []float64
}

// NewVectorSampler returns a sampler of the present vectors that follow
// the first first ones of the data.
func NewVectorSampler(first int64) *VectorSampler {
	return &VectorSampler{Seen: first, Rng: xorshiftJump(sampleSeed, max(0, first-VectorSampleSize)), at: map[int]int{}}
}

// Add offers the next present vector (copied when it takes a slot), as
// VectorData.keep does.
func (s *VectorSampler) Add(row []float64) {
	s.Seen++
	slot := -1
	if s.Seen <= VectorSampleSize {
		slot = int(s.Seen - 1)
	} else {
		s.Rng = xorshiftStep(s.Rng)
		if j := s.Rng % uint64(s.Seen); j < VectorSampleSize {
			slot = int(j)
		}
	}
	if slot < 0 {
		return
	}
	if s.at == nil {
		s.at = map[int]int{}
		for i, v := range s.Slots {
			s.at[v.Slot] = i
		}
	}
	v := SampledVector{Slot: slot, At: s.Seen - 1, Vec: append([]float64(nil), row...)}
	if i, ok := s.at[slot]; ok {
		s.Slots[i] = v
		return
	}
	s.at[slot] = len(s.Slots)
	s.Slots = append(s.Slots, v)
}

// MergeSamples returns the sample the parts' slots make: in each slot the
// vector that took it last (the largest At), the slots in order. A slot
// below the highest one taken that no part filled is an error (a part is
// missing).
func MergeSamples(parts ...[]SampledVector) ([][]float64, error) {
	last := map[int]SampledVector{}
	top := -1
	for _, p := range parts {
		for _, v := range p {
			if w, ok := last[v.Slot]; !ok || v.At > w.At {
				last[v.Slot] = v
			}
			top = max(top, v.Slot)
		}
	}
	out := make([][]float64, top+1)
	for k := range out {
		v, ok := last[k]
		if !ok {
			return nil, fmt.Errorf("validate: vector sample slot %d was not filled: a part of the data is missing", k)
		}
		out[k] = v.Vec
	}
	return out, nil
}
