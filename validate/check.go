package validate

import (
	"fmt"
	"github.com/normguard/normguard/internal/errtext"
	"math"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/profile"
	"github.com/normguard/normguard/spec"
	"github.com/normguard/normguard/table"
)

// Check validates columns of the current data (all of equal length, as
// table.ReadAll returns them) against the artifact. A numeric input may
// come as a String column (text that is not a number is then counted as a
// type error); columns that are not inputs are judged by name only.
func Check(a *artifact.Artifact, cols []table.Column, opt Options) (*Report, error) {
	d := &Data{}
	for _, c := range cols {
		d.Header = append(d.Header, c.Name)
	}
	if len(cols) > 0 {
		d.Rows = int64(cols[0].Len())
	}
	d.Cols = cols
	return CheckData(a, d, opt)
}

// CheckData validates data read by Read.
func CheckData(a *artifact.Artifact, d *Data, opt Options) (*Report, error) {
	byName := map[string]*table.Column{}
	for i := range d.Cols {
		byName[d.Cols[i].Name] = &d.Cols[i]
	}
	return check(a, d, func(p *profile.Feature, known []string) (Summary, error) {
		c := byName[p.Name]
		if c == nil {
			return Summary{}, fmt.Errorf("validate: column %q is in the header but was not read", p.Name)
		}
		if int64(c.Len()) != d.Rows {
			return Summary{}, fmt.Errorf("validate: column %q has %d rows, the data %d", p.Name, c.Len(), d.Rows)
		}
		return Summarize(p, c, known)
	}, opt)
}

// Summarize counts what the rules need of one input column: missing cells,
// type errors (text in a numeric column, times that do not parse with the
// training layout), values outside the training range or categories, and
// whether the column holds a single value. p is the column's training
// profile, whose Type ("numeric" or "categorical") says how to read c;
// known lists the complete
// training categories (nil when not known; see KnownCategories).
func Summarize(p *profile.Feature, c *table.Column, known []string) (Summary, error) {
	s := Summary{Name: p.Name, Rows: int64(c.Len()), Min: math.NaN(), Max: math.NaN()}
	typeEx := newExamples()
	if p.Type == spec.TypeNumeric {
		nums := c.Num
		if c.Kind == table.String {
			nums = make([]float64, len(c.Str))
			for i, v := range c.Str {
				if c.Null != nil && c.Null[i] {
					nums[i] = math.NaN()
					continue
				}
				x, ok := ParseNumber(v)
				switch {
				case !ok:
					s.TypeErrors++
					typeEx.add(v)
					x = math.NaN()
				case x != x: // a missing-value token ("NA", "nan"): missing, as the readers take it
					s.Missing++
				}
				nums[i] = x
			}
		}
		s.TypeExamples = typeEx.list
		summarizeNumbers(&s, p, nums, c)
		return s, nil
	}
	if c.Kind != table.String {
		return s, fmt.Errorf("validate: categorical input %q was read as numbers", p.Name)
	}
	layout, _, _, isTime := timeOf(p)
	var knownSet map[string]bool
	if known != nil {
		knownSet = make(map[string]bool, len(known))
		for _, k := range known {
			knownSet[k] = true
		}
	}
	top := SettledSet(p)
	s.OtherCounted = top != nil
	unseen := newExamples()
	unseenCount := map[string]int64{}
	first, distinct := "", int64(0)
	for i, v := range c.Str {
		if c.Null != nil && c.Null[i] {
			s.Missing++
			continue
		}
		if isTime && !parsesAsTime(layout, v) {
			s.TypeErrors++
			typeEx.add(v)
			continue
		}
		switch {
		case distinct == 0:
			first, distinct = v, 1
		case distinct == 1 && v != first:
			distinct = 2
		}
		if knownSet != nil && !knownSet[v] {
			s.Unseen++
			unseenCount[v]++
			unseen.add(v)
		}
		if top != nil && !top[v] {
			s.Other++
		}
	}
	s.TypeExamples = typeEx.list
	s.UnseenExamples, s.UnseenDistinct = unseen.list, int64(len(unseenCount))
	s.Distinct = distinct
	if distinct == 1 {
		s.Value = first
	}
	return s, nil
}

// summarizeNumbers fills the counts of a numeric column (NaN = missing,
// except where c marks a type error: a String cell that is not null).
func summarizeNumbers(s *Summary, p *profile.Feature, nums []float64, c *table.Column) {
	lo, hi, hasRange := 0.0, 0.0, p.Min != nil && p.Max != nil
	if hasRange {
		lo, hi = float64(*p.Min), float64(*p.Max)
	}
	var first float64
	distinct := int64(0)
	for i, x := range nums {
		if x != x {
			if c.Kind == table.String && !(c.Null != nil && c.Null[i]) {
				continue // a type error, counted already
			}
			s.Missing++
			continue
		}
		if hasRange && (x < lo || x > hi) {
			s.OutOfRange++
		}
		if math.IsInf(x, 0) {
			s.Infinite++
		}
		if s.Min != s.Min || x < s.Min {
			s.Min = x
		}
		if s.Max != s.Max || x > s.Max {
			s.Max = x
		}
		switch {
		case distinct == 0:
			first, distinct = x, 1
		case distinct == 1 && x != first:
			distinct = 2
		}
	}
	s.Distinct = distinct
	if distinct == 1 {
		s.Value = string(table.AppendFloat(nil, first))
	}
}

// ParseNumber reads a present cell as the table readers do
// (table.ParseNumber: spaces and tabs trimmed, pandas' syntax and
// missing-value tokens, out-of-range values as ±Inf).
func ParseNumber(v string) (float64, bool) {
	return table.ParseNumber([]byte(v))
}

// examples keeps the first few distinct values met.
type examples struct {
	list []string
	seen map[string]bool
}

func newExamples() *examples { return &examples{seen: map[string]bool{}} }

func (e *examples) add(v string) {
	if len(e.list) >= maxExamples || e.seen[v] {
		return
	}
	e.seen[v] = true
	e.list = append(e.list, errtext.Shorten(v))
}
