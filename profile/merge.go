package profile

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/normguard/normguard/stats"
	"github.com/normguard/normguard/step"
)

// A column's profile is computed from mergeable accumulators, so that a
// column read in row ranges on many machines, added and merged in any
// order, gets the profile Column computes for the whole column, bit for
// bit (Column itself goes through them):
//
//	numeric, pass 1  NumericAcc: rows, missing, min, max, the first
//	                 present value, the distinct values while there are
//	                 at most two, and the values of the strided sample
//	                 the quantile grid is read from (at most 65,536);
//	numeric, pass 2  NumericCounts (from NumericAcc.Plan): numpy-order
//	                 sums about the first present value (mean and std),
//	                 the counts below and at each grid point (exact CDF)
//	                 and the histogram;
//	categorical      stats.StringCounts, one pass.
//
// NumericFeature and CategoricalFeature turn the merged accumulators
// into the Feature.

// ErrMerge is returned for accumulators that do not fit together
// (another column's, another plan's) or a second pass that has not seen
// every row.
var ErrMerge = errors.New("profile: inconsistent accumulators")

// ValueClass is a distinct value of a column (values that compare equal,
// -0 and +0, are one): the value at its first row, that row, and how many
// values compare equal to it.
type ValueClass struct {
	Value     float64
	At, Count int64
}

// NumericAcc is the first pass of a numeric column's profile. Rows is the
// whole column's row count, which fixes the rows the grid's sample is
// read from (every stride-th row, stride = ceil(Rows/65536)). Use
// NewNumericAcc; Merge also accepts the zero value on either side.
type NumericAcc struct {
	Rows int64
	// Col counts rows and NaN (missing) values and finds min and max (the
	// first in row order among equal values, as a left-to-right scan).
	Col stats.ColumnAcc
	// First is the first present value, at row FirstAt: moments are taken
	// about it. Meaningless while Col.Count() is 0.
	First   float64
	FirstAt int64
	// Classes are the column's distinct values while there are at most
	// two; Many is set (and Classes emptied) once there are more.
	Classes []ValueClass
	Many    bool
	// Sample holds the present values at rows that are multiples of the
	// stride, SampleAt their rows, in any order. (The local sort leaves
	// -0 and +0 of a short sample in the order it finds them, so the grid
	// is read from the sample in row order.)
	Sample   []float64
	SampleAt []int64
}

// NewNumericAcc returns an empty first pass for a column of rows rows.
func NewNumericAcc(rows int64) NumericAcc { return NumericAcc{Rows: rows} }

// stride is the sampling stride of the grid's sample for a column of n
// rows.
func stride(n int64) int64 { return max(1, (n+sampleMax-1)/sampleMax) }

// Add adds rows [start, start+len(xs)) of the column.
func (a *NumericAcc) Add(start int64, xs []float64) {
	had := a.Col.Count() > 0
	a.Col.Add(start, xs)
	if a.Col.Count() == 0 {
		return
	}
	for i, x := range xs {
		if x == x {
			if at := start + int64(i); !had || at < a.FirstAt {
				a.First, a.FirstAt = x, at
			}
			break
		}
	}
	if !a.Many {
		a.addClasses(start, xs)
	}
	st := stride(a.Rows)
	from, end := (start+st-1)/st*st, start+int64(len(xs))
	if k := int((end - from + st - 1) / st); k > 0 {
		a.Sample = slices.Grow(a.Sample, k)
		a.SampleAt = slices.Grow(a.SampleAt, k)
	}
	for r := from; r < end; r += st {
		if x := xs[r-start]; x == x {
			a.Sample = append(a.Sample, x)
			a.SampleAt = append(a.SampleAt, r)
		}
	}
}

// addClasses folds rows [start, start+len(xs)) into Classes until a third
// distinct value shows up.
func (a *NumericAcc) addClasses(start int64, xs []float64) {
	for i, x := range xs {
		if x != x {
			continue
		}
		if !a.addClass(ValueClass{Value: x, At: start + int64(i), Count: 1}) {
			return
		}
	}
}

// addClass folds one class into Classes (the first row wins the value);
// it returns false, with Many set, when that makes three classes.
func (a *NumericAcc) addClass(v ValueClass) bool {
	for k := range a.Classes {
		c := &a.Classes[k]
		if c.Value == v.Value {
			if v.At < c.At {
				c.Value, c.At = v.Value, v.At
			}
			c.Count += v.Count
			return true
		}
	}
	if len(a.Classes) == 2 {
		a.Many, a.Classes = true, nil
		return false
	}
	a.Classes = append(a.Classes, v)
	return true
}

// Merge adds the rows accumulated in o (disjoint from a's, same column).
func (a *NumericAcc) Merge(o *NumericAcc) error {
	if a.Rows == 0 && a.Col.Rows == 0 {
		a.Rows = o.Rows // the zero value takes the column of what it merges
	}
	if o.Rows != a.Rows && o.Col.Rows > 0 {
		return fmt.Errorf("%w: first passes of columns of %d and %d rows", ErrMerge, a.Rows, o.Rows)
	}
	if o.Col.Count() > 0 && (a.Col.Count() == 0 || o.FirstAt < a.FirstAt) {
		a.First, a.FirstAt = o.First, o.FirstAt
	}
	a.Col.Merge(&o.Col)
	if o.Many {
		a.Many, a.Classes = true, nil
	}
	for _, c := range o.Classes {
		if a.Many || !a.addClass(c) {
			break
		}
	}
	a.Sample = append(a.Sample, o.Sample...)
	a.SampleAt = append(a.SampleAt, o.SampleAt...)
	return nil
}

// Plan returns what the second pass needs: the number of rows, the first
// present value and the quantile grid (none when the column has at most
// two distinct values, which the profile lists instead). The grid is the
// quantiles at GridProbs of the sorted sample (stats.Quantile).
func (a *NumericAcc) Plan() *NumericPlan {
	p := &NumericPlan{Rows: a.Rows, Shift: math.NaN()}
	if a.Col.Count() == 0 {
		return p
	}
	p.Shift = a.First
	if !a.Many {
		return p
	}
	if len(a.SampleAt) != len(a.Sample) {
		return p // a corrupt accumulator: NumericFeature refuses it
	}
	sample := getFloats(len(a.Sample))
	if slices.IsSorted(a.SampleAt) {
		// Rows added in order (a whole column, or ranges in order).
		sample = append(sample, a.Sample...)
	} else {
		order := make([]int, len(a.Sample))
		for i := range order {
			order[i] = i
		}
		slices.SortFunc(order, func(i, j int) int { return cmp.Compare(a.SampleAt[i], a.SampleAt[j]) })
		for _, k := range order {
			sample = append(sample, a.Sample[k])
		}
	}
	if len(sample) == 0 {
		// Every present value lies on a row the stride passes over (a
		// sparse column of a long table): the grid is read from the
		// column's extremes, which are exact. It is coarse, not wrong:
		// the CDF at its points is still counted on every value.
		sample = append(sample, a.Col.Min, a.Col.Max)
	}
	stats.SortFloats(sample)
	p.Grid = make(step.Floats, GridSize)
	for i, q := range GridProbs {
		p.Grid[i] = stats.Quantile(sample, q)
	}
	putFloats(sample)
	return p
}

// NumericPlan is the second pass's plan of a numeric column: it makes the
// empty accumulators of that pass. It is plain data but for a lookup
// index it builds on first use, so a plan is used by one goroutine.
type NumericPlan struct {
	Rows  int64
	Shift float64     // the first present value (NaN when none)
	Grid  step.Floats // nil when the column needs no grid
	idx   *gridIndex
}

// Counts returns an empty second-pass accumulator.
func (p *NumericPlan) Counts() NumericCounts {
	c := NumericCounts{Rows: p.Rows, Shift: p.Shift, Grid: p.Grid, Sums: stats.NewNanShiftedAcc(p.Rows, p.Shift)}
	if p.Grid != nil {
		if p.idx == nil {
			p.idx = newGridIndex(p.Grid)
		}
		c.idx = p.idx
		c.Below = make([]int64, len(p.Grid)+1)
		c.Equal = make([]int64, len(p.Grid)+1)
		if h := histogramOf(p.Grid); h.ok {
			c.Hist = make([]int64, HistogramBins)
		}
	}
	return c
}

// NumericCounts is the second pass of a numeric column's profile, for
// the plan it was made from: np.nansum of (x - Shift) and of its squares
// in numpy's order (stats.NanShiftedAcc), and with a grid, the values in
// (Grid[i-1], Grid[i]] (Below[i]; Below[len(Grid)] those above the grid),
// equal to Grid[i] (Equal[i]) and the histogram's counts (Hist, nil when
// the grid's ends or width are infinite). Merge accepts the zero value on
// either side.
type NumericCounts struct {
	Rows         int64
	Shift        float64
	Grid         step.Floats
	Sums         stats.NanShiftedAcc
	Below, Equal []int64
	Hist         []int64
	idx          *gridIndex
}

// histogram holds the bins of the histogram over a grid: HistogramBins
// bins of width w from lo; ok is false when an end or the width is
// infinite (no histogram).
type histogram struct {
	lo, w, inv float64
	ok         bool
}

// bin is the bin of x: int((x - lo) * inv) clamped to the bins ((x - lo)
// * inv is at most 0 below lo, and an overflow converts to a negative
// int: bin 0).
func (h *histogram) bin(x float64) int {
	return min(max(int((x-h.lo)*h.inv), 0), HistogramBins-1)
}

func histogramOf(g step.Floats) histogram {
	h := histogram{lo: g[0], w: (g[len(g)-1] - g[0]) / HistogramBins}
	h.ok = !math.IsInf(h.lo, 0) && !math.IsInf(g[len(g)-1], 0) && !math.IsInf(h.w, 0)
	if h.ok && h.w > 0 {
		h.inv = 1 / h.w
	}
	return h
}

// Add adds rows [start, start+len(xs)) of the column.
func (c *NumericCounts) Add(start int64, xs []float64) error {
	if c.Grid != nil {
		c.count(xs)
	}
	// numpy's summation blocks, so the shifted copies stay small.
	for len(xs) > 0 {
		k := min(int64(len(xs)), npBlock-start%npBlock)
		if err := c.Sums.Add(start, xs[:k]); err != nil {
			return fmt.Errorf("profile: sums of rows %d to %d: %w", start, start+k, err)
		}
		start, xs = start+k, xs[k:]
	}
	return nil
}

// npBlock is numpy's summation block (stats.PairwiseAcc's).
const npBlock = 8192

// count adds the present values of xs to the grid counts and the
// histogram. It counts by distinct grid value (find lands on the first
// grid point of a run of equal ones, so the others get nothing): slot
// 2k the values whose first distinct value at or above is u[k] and that
// differ from it, slot 2k+1 those equal to it; Below and Equal get them
// at the end.
//
// A value's cell (computed without clamping, so monotone over all
// values) in the index's table gives the slot at once when it holds no
// grid value: every distinct value of an earlier cell is below x, of a
// later one above, so x lies strictly between u[first-1] and u[first].
// In a cell with one or two, x is compared with them (and, for
// equality, with the next one: any below x are counted in k, so x
// equals u[k] exactly when it equals one of them). Values are taken in
// pairs, each into its own set of counts (summed at the end), so that
// two values in one slot or bin in a row do not wait for each other's
// increment. The others (NaN, values beyond the table or in crowded
// cells) go to a slot and a bin nobody reads, and their positions to a
// list counted after each block: no call in the loop, whose variables
// then stay in registers.
func (c *NumericCounts) count(xs []float64) {
	for len(xs) > math.MaxUint32 { // counts by cell are uint32
		c.count(xs[:math.MaxUint32])
		xs = xs[math.MaxUint32:]
	}
	if c.idx == nil {
		c.idx = newGridIndex(c.Grid)
	}
	gi := c.idx
	h := histogramOf(c.Grid)
	// The histogram's bins start at the grid's first value too: a bin
	// is int((x - lo) * inv), clamped.
	hinv, last := h.inv, HistogramBins-1
	if c.Hist == nil {
		hinv, last = 0, 0 // count every value in a scratch bin
	}
	slots := 2*(gi.n+1) + 1 // the last one for the others
	n := make([]int64, 2*slots)
	n0, n1 := n[:slots:slots], n[slots:]
	var hist0, hist1 [HistogramBins + 1]int64 // the last one for the others
	var later [countBlock]int32
	cells, u := gi.cells, gi.u
	inCell := noCellCounts[:] // values counted by pure cell
	if cells == nil {
		cells = noCells[:] // every value is one of the others
	} else {
		inCell = getCellCounts()
	}
	cells = cells[:gridCells+1]
	inCell = inCell[:len(cells)]
	lo, scale := gi.lo, gi.scale
	other, otherBin := slots-1, HistogramBins
	for len(xs) > 0 {
		blk := xs[:min(len(xs), countBlock)]
		xs = xs[len(blk):]
		nl := 0
		for j := 0; j < len(blk); j += 2 {
			j1 := min(j+1, len(blk)-1) // an odd block's last value: again, into no count
			x0, x1 := blk[j], blk[j1]
			d0, d1 := x0-lo, x1-lo
			if cl := int(d0 * scale); uint(cl) <= gridCells {
				if e := int(cells[cl]); e&cellKind == cellPure {
					inCell[cl]++
				} else {
					i, s, b := e>>cellShift, other, min(max(int(d0*hinv), 0), last)
					switch e & cellKind {
					case cellEmpty:
						s = 2 * i
					case cellOne:
						w := u[i]
						s = 2*(i+b2i(w < x0)) + b2i(w == x0)
					case cellWindow:
						w := u[i : i+gridWindow+1 : i+gridWindow+1]
						s = 2*(i+b2i(w[0] < x0)+b2i(w[1] < x0)) + b2i(w[0] == x0) + b2i(w[1] == x0) + b2i(w[2] == x0)
					default:
						later[nl&(countBlock-1)] = int32(j)
						nl++
						b = otherBin
					}
					n0[s]++
					hist0[b]++
				}
			} else {
				later[nl&(countBlock-1)] = int32(j)
				nl++
			}
			if j1 == j {
				break
			}
			if cl := int(d1 * scale); uint(cl) <= gridCells {
				if e := int(cells[cl]); e&cellKind == cellPure {
					inCell[cl]++
				} else {
					i, s, b := e>>cellShift, other, min(max(int(d1*hinv), 0), last)
					switch e & cellKind {
					case cellEmpty:
						s = 2 * i
					case cellOne:
						w := u[i]
						s = 2*(i+b2i(w < x1)) + b2i(w == x1)
					case cellWindow:
						w := u[i : i+gridWindow+1 : i+gridWindow+1]
						s = 2*(i+b2i(w[0] < x1)+b2i(w[1] < x1)) + b2i(w[0] == x1) + b2i(w[1] == x1) + b2i(w[2] == x1)
					default:
						later[nl&(countBlock-1)] = int32(j1)
						nl++
						b = otherBin
					}
					n1[s]++
					hist1[b]++
				}
			} else {
				later[nl&(countBlock-1)] = int32(j1)
				nl++
			}
		}
		for _, j := range later[:nl] {
			if x := blk[j]; x == x {
				k := gi.findU(x)
				n0[2*k+b2i(u[k] == x)]++
				// (x - lo) * inv is at most 0 below lo, and an overflow
				// converts to a negative int: bin 0.
				hist0[min(max(int((x-lo)*hinv), 0), last)]++
			}
		}
	}
	if gi.cells != nil {
		// The pure cells' values: all in the cell's slot and bin.
		for cl, k := range inCell {
			if k != 0 {
				n0[2*int(cells[cl]>>cellShift)] += int64(k)
				hist0[min(gi.pureBin(&h, cl), last)] += int64(k)
			}
		}
		putCellCounts(inCell)
	}
	for k, at := range gi.at {
		below, equal := n0[2*k]+n1[2*k], n0[2*k+1]+n1[2*k+1]
		c.Below[at] += below + equal
		c.Equal[at] += equal
	}
	for b := range c.Hist {
		c.Hist[b] += hist0[b] + hist1[b]
	}
}

// countBlock is how many values count takes before it counts the ones
// the cell table does not answer (a power of two).
const countBlock = 1024

// noCellCounts are the counts by pure cell of noCells (which has none).
var noCellCounts [gridCells + 1]uint32

// noCells is the cell table of a grid without one: every cell crowded.
var noCells = func() (t [gridCells + 1]uint16) {
	for i := range t {
		t[i] = cellCrowded
	}
	return t
}()

// Merge adds the rows accumulated in o (disjoint from c's, same plan).
func (c *NumericCounts) Merge(o *NumericCounts) error {
	if c.Rows == 0 && c.Sums.Count == 0 && c.Below == nil {
		c.Rows, c.Shift, c.Grid, c.idx = o.Rows, o.Shift, o.Grid, o.idx
		if o.Grid != nil {
			c.Below = make([]int64, len(o.Below))
			c.Equal = make([]int64, len(o.Equal))
			if o.Hist != nil {
				c.Hist = make([]int64, len(o.Hist))
			}
		}
	}
	if o.Rows != c.Rows || math.Float64bits(o.Shift) != math.Float64bits(c.Shift) || !sameFloats(o.Grid, c.Grid) ||
		len(o.Below) != len(c.Below) || len(o.Equal) != len(c.Equal) || len(o.Hist) != len(c.Hist) {
		return fmt.Errorf("%w: second passes of different plans", ErrMerge)
	}
	if err := c.Sums.Merge(&o.Sums); err != nil {
		return fmt.Errorf("profile: merging sums: %w", err)
	}
	addCounts(c.Below, o.Below)
	addCounts(c.Equal, o.Equal)
	addCounts(c.Hist, o.Hist)
	return nil
}

func addCounts(dst, src []int64) {
	for i, n := range src {
		dst[i] += n
	}
}

// sameFloats compares float slices by bits (NaN grid points included).
func sameFloats(a, b []float64) bool {
	return slices.EqualFunc(a, b, func(x, y float64) bool { return math.Float64bits(x) == math.Float64bits(y) })
}

// NumericFeature returns the profile of the numeric column name from its
// merged first pass a and its merged second pass c (made from a.Plan(),
// having seen every row; unused when the column has no present value):
//
//	mean = shift + S/n,  std = sqrt(max((Q - S*S/n)/n, 0))
//
// where S and Q are the numpy-order sums of x - shift and its squares
// over the n present values, shift the first of them. A column with at
// most two distinct values lists them with their counts (smaller first);
// otherwise the grid, the exact CDF at its points, the largest CDF gap
// and the histogram describe it.
func NumericFeature(name string, a *NumericAcc, c *NumericCounts) (Feature, error) {
	p := Feature{Name: name, Type: "numeric", Missing: a.Col.NaN, Count: a.Col.Count()}
	if p.Count == 0 {
		return p, nil
	}
	if a.Col.Rows != a.Rows || c.Rows != a.Rows || math.Float64bits(c.Shift) != math.Float64bits(a.First) {
		return Feature{}, fmt.Errorf("%w: column %q: %d of %d rows reached the first pass, or the second pass is another column's",
			ErrMerge, name, a.Col.Rows, a.Rows)
	}
	sum, sq, ok := c.Sums.Sums()
	if !ok {
		return Feature{}, fmt.Errorf("%w: column %q: not every row reached the second pass", ErrMerge, name)
	}
	n := float64(p.Count)
	v := (sq - sum*sum/n) / n
	lo, hi := a.Col.MinMax()
	p.Mean, p.Std, p.Min, p.Max = f(a.First+sum/n), f(math.Sqrt(math.Max(v, 0))), f(lo), f(hi)
	if !a.Many {
		cls := slices.Clone(a.Classes)
		sort.Slice(cls, func(i, j int) bool { return cls[i].Value < cls[j].Value })
		vals, counts := make(step.Floats, len(cls)), make([]int64, len(cls))
		for i, cl := range cls {
			vals[i], counts[i] = cl.Value, cl.Count
		}
		p.Values = &Counts{Numbers: vals, Counts: counts, Distinct: int64(len(cls))}
		return p, nil
	}
	if c.Grid == nil {
		return Feature{}, fmt.Errorf("%w: column %q: the second pass has no grid", ErrMerge, name)
	}
	g := c.Grid
	p.Quantiles = g
	p.CDF, p.MaxCDFGap = cdfFromCounts(g, c.Below, c.Equal, p.Count)
	if c.Hist != nil {
		h := histogramOf(g)
		p.Histogram = &Histogram{Edges: make(step.Floats, HistogramBins+1), Counts: c.Hist}
		for i := range p.Histogram.Edges {
			p.Histogram.Edges[i] = h.lo + h.w*float64(i)
		}
		p.Histogram.Edges[HistogramBins] = g[len(g)-1]
	}
	return p, nil
}

// CategoricalFeature returns the profile of the categorical column name
// from its merged counts: the TopCategories most frequent values (ties by
// value), the count of the others and of the distinct values, and what
// the column is (Kind, and Time for a time column: TextKind).
func CategoricalFeature(name string, c *stats.StringCounts) Feature {
	p := Feature{Name: name, Type: "categorical", Missing: c.Missing}
	p.Kind, p.Time = TextKind(c.Counts)
	type kv struct {
		k string
		n int64
	}
	// Sorted as pairs: a comparison that looks counts up in the map costs
	// two hash lookups, ten times the sort itself on a million values.
	pairs := make([]kv, 0, len(c.Counts))
	for k, n := range c.Counts {
		pairs = append(pairs, kv{k, n})
		p.Count += n
	}
	slices.SortFunc(pairs, func(a, b kv) int {
		if a.n != b.n {
			return cmp.Compare(b.n, a.n)
		}
		return strings.Compare(a.k, b.k)
	})
	cc := &Counts{Distinct: int64(len(pairs)), Counts: []int64{}}
	for i, e := range pairs {
		if i < TopCategories {
			cc.Values = append(cc.Values, e.k)
			cc.Counts = append(cc.Counts, e.n)
		} else {
			cc.Other += e.n
		}
	}
	p.Categories = cc
	return p
}
