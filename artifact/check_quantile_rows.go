package artifact

import (
	"fmt"
	"math"
	"strconv"

	"github.com/normguard/normguard/profile"
	"github.com/normguard/normguard/spec"
	"github.com/normguard/normguard/step"
)

// A quantile transformer's quantiles_ row of a column is numpy's linear
// nanpercentile of the column the step was fitted on at 100*references_,
// made non-decreasing (step.QuantileTransformer). When the step reads an
// input column directly, or through simple imputers only, the training
// profile pins that row (attack run 32 F10: a row replaced by constants
// was accepted, and transform wrote 1 on every row):
//
//   - its first entry is the column's minimum and, with more than one
//     quantile, its last entry the maximum, of the values the step read:
//     the profile's min and max, widened to a constant imputer's fill
//     value when the column had missing cells (a mean, median or most
//     frequent fill lies between them);
//   - when no imputer filled a cell (the column had none missing, or no
//     imputer comes before: the step ignores NaN), the step read the
//     profile's values themselves: a column with at most two distinct
//     values (profile values) gives every entry, computed as numpy does
//     from their counts, and a grid read from every value (training.rows
//     at most profile's sample size, stride 1) gives each entry whose
//     percentile/100 is one of the grid's probabilities (references_ 0
//     and 1 always are), bit for bit:
//
//     row[k] = max(quantile(values, ps[k]/100), row[k-1])
//
//   - every entry lies where the profile's exact CDF puts numpy's
//     quantile at its reference (cdfBounds), counting an imputer's fill
//     value for the missing cells (attack run 35 F3: with references off
//     the grid, as k/999 of the default n_quantiles always are, a row
//     replaced by a ramp from min to max kept only its ends checked);
//
// A column whose cells an imputer reads with a placeholder missing_values
// (a number: the profile counts those cells as values), one without
// any value, and a step after any other step are not checked.

// qtRead is a quantile transformer that reads input columns through
// simple imputers only.
type qtRead struct{ gi, si int }

// qtProfile is what the profile says of an input column a quantile
// transformer reads.
type qtProfile struct {
	count, missing int64
	min, max       float64
	grid           step.Floats // nil unless read from every value
	values         *profile.Counts
	// at and cdf are the profile's grid and its exact CDF, whether the
	// grid is read from every value or from a sample (nil if absent).
	at, cdf step.Floats
}

// noteQuantileReads records, for the quantile transformers of groups[gi]
// the row rule applies to, the transformer and the input columns whose
// profile it needs.
func (c *sectionCheck) noteQuantileReads(gi int, g *Group) {
	if c.spec == nil || gi >= len(c.spec.Columns) || c.spec.Columns[gi].Type != spec.TypeNumeric {
		return
	}
	for si := range g.Steps {
		switch g.Steps[si].Fitted.(type) {
		case *step.SimpleImputer:
			continue
		case *step.QuantileTransformer:
			c.qtReads = append(c.qtReads, qtRead{gi: gi, si: si})
			if c.qtColumns == nil {
				c.qtColumns = map[string]*qtProfile{}
			}
			for _, name := range g.Columns {
				c.qtColumns[name] = nil
			}
		}
		return
	}
}

// noteQuantileProfile keeps the profile of input f if a quantile
// transformer reads it.
func (c *sectionCheck) noteQuantileProfile(f *profile.Feature) {
	if _, ok := c.qtColumns[f.Name]; !ok || f.Type != spec.TypeNumeric || f.Count == 0 || f.Min == nil || f.Max == nil {
		return
	}
	p := &qtProfile{count: f.Count, missing: f.Missing, min: float64(*f.Min), max: float64(*f.Max), values: f.Values}
	if c.trainingRows <= exactGrid && len(f.Quantiles) == len(profile.GridProbs) {
		p.grid = f.Quantiles
	}
	if len(f.Quantiles) > 0 && len(f.CDF) == len(f.Quantiles) {
		p.at, p.cdf = f.Quantiles, f.CDF
	}
	c.qtColumns[f.Name] = p
}

// quantileRowsError applies the row rule to each quantile transformer
// recorded, reading its group and quantiles_ again from source.
func (c *sectionCheck) quantileRowsError() error {
	if c.source == nil {
		return nil
	}
	for _, q := range c.qtReads {
		g, err := c.source.groupAgain(q.gi)
		if err != nil {
			return readAgainError(q.gi, err)
		}
		if err := c.quantileRows(q, g); err != nil {
			return err
		}
	}
	return nil
}

// qtColumn is an input column of a quantile transformer, as the steps
// before it leave it.
type qtColumn struct {
	name   string
	p      *qtProfile
	lo, hi float64
	// filled: an imputer filled missing cells with fill (exact rows
	// are then unknown).
	filled bool
	fill   float64
	how    string // the imputer's strategy
}

// quantileRows checks the rows of quantiles_ of the transformer q in g.
func (c *sectionCheck) quantileRows(q qtRead, g *Group) error {
	cols := map[string]*qtColumn{}
	for _, name := range g.Columns {
		if p := c.qtColumns[name]; p != nil {
			cols[name] = &qtColumn{name: name, p: p, lo: p.min, hi: p.max}
		}
	}
	for si := 0; si < q.si; si++ {
		s := &g.Steps[si]
		params, ok1 := s.Params.(*step.SimpleImputerParams)
		fitted, ok2 := s.Fitted.(*step.SimpleImputer)
		if !ok1 || !ok2 {
			return nil
		}
		nan := params.MissingValues == nil || params.MissingValues == "NaN"
		for k, name := range s.Inputs {
			col := cols[name]
			if col == nil {
				continue
			}
			if !nan || k >= len(fitted.Statistics) {
				delete(cols, name)
				continue
			}
			if col.p.missing == 0 || col.filled {
				continue
			}
			col.filled, col.fill, col.how = true, float64(fitted.Statistics[k]), params.Strategy
			if params.Strategy == "constant" {
				if x, ok := params.FillValue.(float64); ok {
					col.fill = x
				}
				col.lo, col.hi = math.Min(col.lo, col.fill), math.Max(col.hi, col.fill)
			}
		}
		// An indicator column the imputer adds is no input's.
		in := map[string]bool{}
		for _, name := range s.Inputs {
			in[name] = true
		}
		for _, f := range s.Fitted.Outputs() {
			if !in[f.Name] {
				delete(cols, f.Name)
			}
		}
	}
	st := &g.Steps[q.si]
	params, ok := st.Params.(*step.QuantileTransformerParams)
	if !ok || len(cols) == 0 {
		return nil
	}
	ps := params.Percentiles(int(c.trainingRows))
	n := len(ps)
	gridAt := map[float64]int{}
	for i, p := range profile.GridProbs {
		gridAt[p] = i
	}
	var (
		failErr error
		col     *qtColumn
		prev    float64
	)
	err := c.source.quantileEntries(q.gi, q.si, func(row, k int, x float64) bool {
		if k == 0 {
			col = nil
			if row < len(st.Inputs) {
				col = cols[st.Inputs[row]]
			}
		}
		if col == nil || k >= n {
			return true
		}
		want, why, ok := col.entry(k, n, ps[k], gridAt)
		if ok && k > 0 && !why.bound {
			want = math.Max(want, prev)
		}
		prev = x
		path := fmt.Sprintf("groups[%d].steps[%d].fitted.quantiles_[%d][%d]", q.gi, q.si, row, k)
		if ok && x != want { // -0 and +0 alike: the profile keeps the first in row order
			failErr = bad(path, "is %v; a fit on the training data writes %v there, %s: quantiles_ was edited (a transform with it gives wrong values); refit the artifact",
				x, want, why.text(col))
			return false
		}
		if lo, hi, ok := col.cdfBounds(ps[k] / 100); ok && !withinUlps(x, lo, hi) {
			failErr = bad(path, "is %v; the training profile's exact CDF of column %s puts numpy's quantile at reference %v within [%v, %v]%s: quantiles_ was edited (a transform with it gives wrong values); refit the artifact",
				x, strconv.Quote(col.name), ps[k]/100, lo, hi, col.fillNote())
			return false
		}
		return true
	})
	if err != nil && failErr == nil {
		return readAgainError(q.gi, err)
	}
	return failErr
}

// entryWhy says where an expected entry comes from.
type entryWhy struct {
	bound bool // the minimum or maximum
	last  bool
	grid  bool
}

func (w entryWhy) text(col *qtColumn) string {
	name := strconv.Quote(col.name)
	var s string
	switch {
	case w.bound && !w.last:
		s = fmt.Sprintf("column %s's minimum in the training profile", name)
	case w.bound:
		s = fmt.Sprintf("column %s's maximum in the training profile", name)
	case w.grid:
		s = fmt.Sprintf("the training profile's quantile of column %s at that reference (its grid is read from every value)", name)
	default:
		s = fmt.Sprintf("the quantile of column %s's values the training profile lists, at that reference", name)
	}
	if col.filled && col.how == "constant" {
		s += fmt.Sprintf(" or the fill value %v of the imputer before it (the column had %d missing cells)", col.fill, col.p.missing)
	}
	return s
}

// entry returns the k-th of n entries of the column's row (at percentile
// p) the profile pins, and ok; ok is false when it pins none.
func (col *qtColumn) entry(k, n int, p float64, gridAt map[float64]int) (float64, entryWhy, bool) {
	switch {
	case k == 0:
		return col.lo, entryWhy{bound: true}, true
	case k == n-1:
		return col.hi, entryWhy{bound: true, last: true}, true
	case col.filled:
		return 0, entryWhy{}, false
	}
	if v := col.p.values; v != nil && len(v.Numbers) == len(v.Counts) {
		return countsQuantile(v.Numbers, v.Counts, p/100), entryWhy{}, true
	}
	if col.p.grid != nil {
		if i, ok := gridAt[p/100]; ok {
			return col.p.grid[i], entryWhy{grid: true}, true
		}
	}
	return 0, entryWhy{}, false
}

// countsQuantile is stats.Quantile over the sorted values xs, each
// repeated counts times (numpy's linear method).
func countsQuantile(xs step.Floats, counts []int64, q float64) float64 {
	var n int64
	for _, c := range counts {
		n += c
	}
	at := func(i int64) float64 {
		for j, c := range counts {
			if i < c {
				return xs[j]
			}
			i -= c
		}
		return xs[len(xs)-1]
	}
	h := float64(n-1) * q
	fi := math.Floor(h)
	g := h - fi
	i := int64(fi)
	if i < 0 {
		i, g = 0, 0
	}
	if i >= n-1 {
		return at(n - 1)
	}
	a, b := at(i), at(i+1)
	d := b - a
	if g >= 0.5 {
		return b - d*(1-g)
	}
	return a + d*g
}

// fillNote says, for a column an imputer filled, that its fill value
// counts among the values.
func (col *qtColumn) fillNote() string {
	if !col.filled {
		return ""
	}
	return fmt.Sprintf(" (with the %d missing cells filled with %v by the imputer before it)", col.p.missing, col.fill)
}

// cdfUlps is how many ulps an interpolated quantile may stray past the
// data value bounding it (numpy's lerp rounds twice).
const cdfUlps = 4

// cdfBounds returns the interval the profile's exact CDF allows for the
// column's quantile at q, and ok (false without a CDF). The step read N
// values (the present ones, plus the missing cells when an imputer filled
// them with col.fill); numpy's linear quantile at q lies between the
// sorted values x[i] and x[i+1], i = floor((N-1)q) (x[i] alone when
// (N-1)q is whole). A grid value v with c(v) values at or below it
// (c = cdf·count, exact) has x[c(v)] > v, so c(v) <= i gives quantile >= v,
// and c(v) >= i+2 (c(v) >= i+1 when whole) gives quantile <= v:
//
//	lo = max{v : c(v) <= i},  hi = min{v : c(v) > i_hi},  i_hi = ceil((N-1)q)
//
// (i and i_hi are taken a hair wide of (N-1)q for rounding; withinUlps
// compares). The running maximum fit takes keeps the
// entries within the same bounds.
func (col *qtColumn) cdfBounds(q float64) (lo, hi float64, ok bool) {
	p := col.p
	if p.cdf == nil || p.count == 0 {
		return 0, 0, false
	}
	n := p.count
	if col.filled {
		n += p.missing
	}
	h := float64(n-1) * q
	iLo := int64(math.Floor(h - 1e-7*math.Max(1, h)))
	iHi := int64(math.Ceil(h + 1e-7*math.Max(1, h)))
	lo, hi = math.Inf(-1), math.Inf(1)
	for j, v := range p.at {
		c := int64(math.Round(float64(p.cdf[j]) * float64(p.count)))
		if col.filled && col.fill <= float64(v) {
			c += p.missing
		}
		if c <= iLo {
			lo = math.Max(lo, float64(v))
		}
		if c > iHi {
			hi = math.Min(hi, float64(v))
		}
	}
	return lo, hi, !math.IsInf(lo, -1) || !math.IsInf(hi, 1)
}

// withinUlps reports whether x lies in [lo, hi] widened by cdfUlps ulps
// on each side.
func withinUlps(x, lo, hi float64) bool {
	for range cdfUlps {
		lo, hi = math.Nextafter(lo, math.Inf(-1)), math.Nextafter(hi, math.Inf(1))
	}
	return x >= lo && x <= hi
}
