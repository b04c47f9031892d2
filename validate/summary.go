package validate

import (
	"cmp"
	"math"
	"slices"

	"github.com/normguard/normguard/profile"
	"github.com/normguard/normguard/spec"
	"github.com/normguard/normguard/table"
)

// SummaryAcc accumulates the Summary of one input column over chunks of
// rows that arrive, and merge, in any order (a Beam Combine, windows of a
// service): each chunk is summarized by Summarize, whose counts add up.
// What depends on row order is kept with the position it was found at (a
// key that grows with the row, given by the caller): the first few
// example values, the first value of a column that holds one, and the
// first of equal minima or maxima (-0 and +0). Finish returns the Summary
// that Summarize gives for all the rows at once.
//
// Memory: a few numbers per column, plus the distinct present values
// outside the known categories (at most those the training never saw).
type SummaryAcc struct {
	// Sum holds the counts so far (Rows, Missing, TypeErrors, OutOfRange,
	// Unseen, Other, OtherCounted), Min and Max (NaN when none), Distinct
	// and Value; Added tells whether any chunk was added.
	Sum   Summary
	Added bool
	// Numeric tells a numeric column (its values compare as numbers).
	Numeric bool
	// MinAt, MaxAt and ValueAt are the positions of the chunks Min, Max
	// and Value come from.
	MinAt, MaxAt, ValueAt int64
	// Types are the first type errors met, by position.
	Types []Example
	// Outside maps each present value outside the known categories to the
	// position of its first row (categorical columns with known
	// categories only).
	Outside map[string]int64
}

// Example is a value met at a position: Index orders the values met in
// one chunk.
type Example struct {
	Value string
	At    int64
	Index int
}

// Add summarizes n rows of c, whose first row is at position at (the
// positions of any two chunks must be at least the rows of the first
// apart), and adds them. p and known are as for Summarize.
func (a *SummaryAcc) Add(p *profile.Feature, c *table.Column, known []string, at int64) error {
	s, err := Summarize(p, c, known)
	if err != nil {
		return err
	}
	b := SummaryAcc{Sum: s, Added: true, Numeric: p.Type == spec.TypeNumeric, MinAt: at, MaxAt: at, ValueAt: at}
	for i, v := range s.TypeExamples {
		b.Types = append(b.Types, Example{Value: v, At: at, Index: i})
	}
	if known != nil && p.Type != spec.TypeNumeric && c.Kind == table.String {
		in := make(map[string]bool, len(known))
		for _, k := range known {
			in[k] = true
		}
		b.Outside = map[string]int64{}
		for i, v := range c.Str {
			if c.Null != nil && c.Null[i] || in[v] {
				continue
			}
			if _, seen := b.Outside[v]; !seen {
				b.Outside[v] = at + int64(i)
			}
		}
	}
	a.Merge(&b)
	return nil
}

// Merge adds the rows b accumulated (disjoint from a's) to a.
func (a *SummaryAcc) Merge(b *SummaryAcc) {
	if !b.Added {
		return
	}
	if !a.Added {
		*a = *b
		a.Types = slices.Clone(b.Types)
		a.Outside = nil
		a.mergeOutside(b.Outside)
		return
	}
	x, y := &a.Sum, &b.Sum
	x.Rows += y.Rows
	x.Missing += y.Missing
	x.TypeErrors += y.TypeErrors
	x.OutOfRange += y.OutOfRange
	x.Infinite += y.Infinite
	x.Unseen += y.Unseen
	x.Other += y.Other
	x.OtherCounted = x.OtherCounted || y.OtherCounted
	if y.Min == y.Min && (x.Min != x.Min || y.Min < x.Min || y.Min == x.Min && b.MinAt < a.MinAt) {
		x.Min, a.MinAt = y.Min, b.MinAt
	}
	if y.Max == y.Max && (x.Max != x.Max || y.Max > x.Max || y.Max == x.Max && b.MaxAt < a.MaxAt) {
		x.Max, a.MaxAt = y.Max, b.MaxAt
	}
	a.mergeDistinct(b)
	a.Types = firstExamples(append(a.Types, b.Types...))
	a.mergeOutside(b.Outside)
}

// mergeDistinct merges "one value, and which" (Distinct 1, Value) or "two
// or more" (Distinct 2): Value is the earlier rows' value.
func (a *SummaryAcc) mergeDistinct(b *SummaryAcc) {
	x, y := &a.Sum, &b.Sum
	switch {
	case y.Distinct == 0:
	case x.Distinct == 0:
		x.Distinct, x.Value, a.ValueAt = y.Distinct, y.Value, b.ValueAt
	case x.Distinct == 2 || y.Distinct == 2 || !sameValue(x.Value, y.Value, a.Numeric):
		x.Distinct, x.Value = 2, ""
	case b.ValueAt < a.ValueAt:
		x.Value, a.ValueAt = y.Value, b.ValueAt
	}
}

// sameValue compares two values as Summarize does: numbers (as Value
// writes them) by value, so -0 equals +0; text exactly.
func sameValue(u, v string, numeric bool) bool {
	if u == v || !numeric {
		return u == v
	}
	x, okx := ParseNumber(u)
	y, oky := ParseNumber(v)
	return okx && oky && x == y && !math.IsNaN(x)
}

func (a *SummaryAcc) mergeOutside(m map[string]int64) {
	if m == nil {
		return
	}
	if a.Outside == nil {
		a.Outside = make(map[string]int64, len(m))
	}
	for v, at := range m {
		if prev, ok := a.Outside[v]; !ok || at < prev {
			a.Outside[v] = at
		}
	}
}

// firstExamples keeps the first maxExamples distinct values by position.
func firstExamples(ex []Example) []Example {
	slices.SortFunc(ex, func(u, v Example) int {
		return cmp.Or(cmp.Compare(u.At, v.At), cmp.Compare(u.Index, v.Index))
	})
	seen := map[string]bool{}
	out := ex[:0]
	for _, e := range ex {
		if len(out) < maxExamples && !seen[e.Value] {
			seen[e.Value] = true
			out = append(out, e)
		}
	}
	return out
}

// Finish returns the Summary of every row added (p and known as for
// Add). A column no chunk was added to has no rows.
func (a *SummaryAcc) Finish(p *profile.Feature, known []string) (Summary, error) {
	if !a.Added {
		return Summary{Name: p.Name, Min: math.NaN(), Max: math.NaN()}, nil
	}
	s := a.Sum
	s.TypeExamples = nil
	for _, e := range a.Types {
		s.TypeExamples = append(s.TypeExamples, e.Value)
	}
	s.UnseenExamples, s.UnseenDistinct = nil, 0
	if len(a.Outside) > 0 {
		// Summarize decides which of these values are unseen, over each
		// one once, in the order they first appeared.
		vals := make([]string, 0, len(a.Outside))
		for v := range a.Outside {
			vals = append(vals, v)
		}
		slices.SortFunc(vals, func(u, v string) int { return cmp.Compare(a.Outside[u], a.Outside[v]) })
		u, err := Summarize(p, &table.Column{Name: p.Name, Kind: table.String, Str: vals}, known)
		if err != nil {
			return Summary{}, err
		}
		s.UnseenExamples, s.UnseenDistinct = u.UnseenExamples, u.UnseenDistinct
	}
	return s, nil
}
