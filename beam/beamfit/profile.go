package beamfit

import (
	"encoding/json"
	"fmt"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/normguard/normguard/profile"
	"github.com/normguard/normguard/stats"
	"github.com/normguard/normguard/table"
)

// The profile of every input and output column from the core's mergeable
// accumulators (profile/merge.go), in two passes over the chunks:
//
//	pass 1  CombinePerKey by column of ProfAcc: a numeric column's
//	        profile.NumericAcc (counts, min, max, first value, the grid's
//	        strided sample of at most 65,536 values) or a categorical
//	        column's stats.StringCounts
//	plan    per numeric column, the second pass's plan (first value and
//	        quantile grid), a side input
//	pass 2  CombinePerKey by column of ProfCounts: profile.NumericCounts
//	        (numpy-order sums, counts at the grid points, histogram)
//	finish  profile.NumericFeature / CategoricalFeature
//
// Keys: input column j is keyed j, output column j of group g outKey(g, j).

// ProfAcc is the first pass of one column's profile.
type ProfAcc struct {
	Key  int
	Name string
	Num  *profile.NumericAcc // numeric columns
	Strs *stats.StringCounts // categorical columns
}

// ProfPlan is the plan of a numeric column's second pass.
type ProfPlan struct {
	Key  int
	Plan profile.NumericPlan
}

// ProfCounts is the second pass of a numeric column's profile.
type ProfCounts struct {
	Key    int
	Counts profile.NumericCounts
}

// colAcc returns the first pass over rows [start, start+rows) of column c
// of a training set of total rows.
func colAcc(key int, c *table.Column, start, total int64, rows int) ProfAcc {
	acc := ProfAcc{Key: key, Name: c.Name}
	if c.Kind != table.Numeric {
		acc.Strs = &stats.StringCounts{}
		var null []bool
		if c.Null != nil {
			null = c.Null[:rows]
		}
		acc.Strs.Add(c.Str[:rows], null)
		return acc
	}
	a := profile.NewNumericAcc(total)
	a.Add(start, c.Num[:rows])
	acc.Num = &a
	return acc
}

// profInFn starts the profiles of a converted chunk's input columns.
func profInFn(c Chunk, emit func(int, ProfAcc)) {
	for j := range c.Cols {
		emit(j, colAcc(j, &c.Cols[j], c.Start, c.Total, c.Rows))
	}
}

// profOutFn starts the profiles of the output columns of the groups that
// have steps. A group without steps outputs its input columns, whose
// profile is the input's (as in the local fit).
type profOutFn struct {
	P Plan
	l *loaded
}

func (f *profOutFn) Setup() (err error) {
	f.l, err = f.P.load()
	return err
}

func (f *profOutFn) ProcessElement(s Staged, emit func(int, ProfAcc)) {
	for g, cols := range s.Groups {
		if len(f.l.spec.Columns[g].Steps) == 0 {
			continue
		}
		for j := range cols {
			emit(outKey(g, j), colAcc(outKey(g, j), &cols[j], s.Start, s.Total, s.Rows))
		}
	}
}

// mergeProfAccFn merges first passes in any order.
type mergeProfAccFn struct{}

func (mergeProfAccFn) MergeAccumulators(a, b ProfAcc) (ProfAcc, error) {
	switch {
	case a.Num == nil && a.Strs == nil:
		return b, nil
	case a.Num != nil && b.Num != nil:
		if err := a.Num.Merge(b.Num); err != nil {
			return ProfAcc{}, fmt.Errorf("beamfit: profile of %q: %w", a.Name, err)
		}
	case a.Strs != nil && b.Strs != nil:
		a.Strs.Merge(b.Strs)
	case b.Num != nil || b.Strs != nil:
		return ProfAcc{}, fmt.Errorf("beamfit: profile of %q: chunks of different kinds", a.Name)
	}
	return a, nil
}

// planFn emits the second pass's plan of each numeric column that has a
// value.
func planFn(a ProfAcc, emit func(ProfPlan)) {
	if a.Num != nil && a.Num.Col.Count() > 0 {
		emit(ProfPlan{Key: a.Key, Plan: *a.Num.Plan()})
	}
}

// plansOf reads a side input of plans by key.
func plansOf(next func(*ProfPlan) bool) map[int]*profile.NumericPlan {
	m := map[int]*profile.NumericPlan{}
	var p ProfPlan
	for next(&p) {
		plan := p.Plan
		m[p.Key] = &plan
		p = ProfPlan{}
	}
	return m
}

// colCounts returns the second pass over rows [start, start+rows) of
// numeric column c, if it has a plan.
func colCounts(plans map[int]*profile.NumericPlan, key int, c *table.Column, start int64, rows int) (ProfCounts, bool, error) {
	p, ok := plans[key]
	if !ok {
		return ProfCounts{}, false, nil
	}
	cnt := p.Counts()
	if err := cnt.Add(start, c.Num[:rows]); err != nil {
		return ProfCounts{}, false, fmt.Errorf("beamfit: profile of %q: %w", c.Name, err)
	}
	return ProfCounts{Key: key, Counts: cnt}, true, nil
}

// countInFn makes the second pass over a chunk's input columns.
type countInFn struct {
	plans map[int]*profile.NumericPlan
}

func (f *countInFn) ProcessElement(c Chunk, plans func(*ProfPlan) bool, emit func(int, ProfCounts)) error {
	if f.plans == nil {
		f.plans = plansOf(plans)
	}
	for j := range c.Cols {
		pc, ok, err := colCounts(f.plans, j, &c.Cols[j], c.Start, c.Rows)
		if err != nil {
			return err
		}
		if ok {
			emit(j, pc)
		}
	}
	return nil
}

// countOutFn makes the second pass over a staged chunk's output columns.
type countOutFn struct {
	plans map[int]*profile.NumericPlan
}

func (f *countOutFn) ProcessElement(s Staged, plans func(*ProfPlan) bool, emit func(int, ProfCounts)) error {
	if f.plans == nil {
		f.plans = plansOf(plans)
	}
	for g, cols := range s.Groups {
		for j := range cols {
			pc, ok, err := colCounts(f.plans, outKey(g, j), &cols[j], s.Start, s.Rows)
			if err != nil {
				return err
			}
			if ok {
				emit(outKey(g, j), pc)
			}
		}
	}
	return nil
}

// mergeProfCountsFn merges second passes in any order.
type mergeProfCountsFn struct{}

func (mergeProfCountsFn) MergeAccumulators(a, b ProfCounts) (ProfCounts, error) {
	a.Key = b.Key
	if err := a.Counts.Merge(&b.Counts); err != nil {
		return ProfCounts{}, fmt.Errorf("beamfit: profile of column %d: %w", b.Key, err)
	}
	return a, nil
}

// finishProfFn builds each column's profile from its merged passes.
type finishProfFn struct {
	counts map[int]ProfCounts
}

func (f *finishProfFn) ProcessElement(a ProfAcc, counts func(*ProfCounts) bool) (ProfileMsg, error) {
	if f.counts == nil {
		f.counts = map[int]ProfCounts{}
		var c ProfCounts
		for counts(&c) {
			f.counts[c.Key] = c
			c = ProfCounts{}
		}
	}
	var p profile.Feature
	switch {
	case a.Num == nil && a.Strs == nil:
		return ProfileMsg{}, fmt.Errorf("beamfit: no rows reached the profile of column %d", a.Key)
	case a.Strs != nil:
		p = profile.CategoricalFeature(a.Name, a.Strs)
	default:
		c := f.counts[a.Key].Counts // absent (zero) for a column without values
		var err error
		if p, err = profile.NumericFeature(a.Name, a.Num, &c); err != nil {
			return ProfileMsg{}, fmt.Errorf("beamfit: %w", err)
		}
	}
	b, err := json.Marshal(p)
	if err != nil {
		return ProfileMsg{}, err
	}
	return ProfileMsg{Key: a.Key, JSON: b}, nil
}

// profiles adds the two passes of the profiles of the columns that accs
// (pass 1, keyed by column) start; count makes pass 2 from the plans.
func profiles(s beam.Scope, accs beam.PCollection, count func(plans beam.PCollection) beam.PCollection) beam.PCollection {
	merged := beam.DropKey(s, beam.CombinePerKey(s, mergeProfAccFn{}, accs))
	plans := beam.ParDo(s, planFn, merged)
	counts := beam.DropKey(s, beam.CombinePerKey(s, mergeProfCountsFn{}, count(plans)))
	return beam.ParDo(s, &finishProfFn{}, merged, beam.SideInput{Input: counts})
}

func encodeProfAcc(v ProfAcc) ([]byte, error)       { return encodeGob(v) }
func decodeProfAcc(b []byte) (ProfAcc, error)       { return decodeGob[ProfAcc](b) }
func encodeProfPlan(v ProfPlan) ([]byte, error)     { return encodeGob(v) }
func decodeProfPlan(b []byte) (ProfPlan, error)     { return decodeGob[ProfPlan](b) }
func encodeProfCounts(v ProfCounts) ([]byte, error) { return encodeGob(v) }
func decodeProfCounts(b []byte) (ProfCounts, error) { return decodeGob[ProfCounts](b) }
