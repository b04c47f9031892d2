// Package profile summarizes a column of data in a few kilobytes: counts,
// missing values, moments, an exact quantile grid, a histogram and the
// most frequent categories. Artifacts carry a profile of the training data
// (raw inputs and transformed outputs) so that drift can be checked
// without the training set.
package profile

import (
	"math"
	"sort"
	"sync"

	"github.com/normguard/normguard/stats"
	"github.com/normguard/normguard/step"
	"github.com/normguard/normguard/table"
)

// GridProbs are the probabilities of the quantile grid: 0, 0.005, ...,
// 1, plus 0.0001, 0.001 and 0.002 and their mirrors, so that the tails
// (where a distance like Wasserstein's is decided) are drawn finely too.
var GridProbs = func() []float64 {
	ps := []float64{0.0001, 0.001, 0.002, 0.998, 0.999, 0.9999}
	for i := 0; i <= 200; i++ {
		ps = append(ps, float64(i)/200)
	}
	sort.Float64s(ps)
	return ps
}()

// GridSize is the number of points of the quantile grid.
var GridSize = len(GridProbs)

// sampleMax is the largest number of values the grid is read from; larger
// columns are sampled by even strides (the CDF at the grid points is then
// counted exactly on every value).
const sampleMax = 65536

// HistogramBins is the number of equal-width histogram bins between the
// smallest and the largest grid value (the outermost bins also count the
// values beyond them).
const HistogramBins = 32

// TopCategories is the number of categories kept by count; the rest are
// counted together as "other".
const TopCategories = 100

// Set is the profile of a table's columns.
type Set struct {
	Inputs  []Feature `json:"inputs"`
	Outputs []Feature `json:"outputs"`
}

// Feature profiles one column.
type Feature struct {
	Name string `json:"name"`
	Type string `json:"type"` // "numeric" or "categorical"
	// Kind is what a categorical column holds: KindTime, KindIdentifier
	// or "" for an ordinary column (always "" for numeric columns).
	Kind string `json:"kind,omitempty"`
	// Count is the number of present values, Missing of missing ones.
	Count   int64 `json:"count"`
	Missing int64 `json:"missing"`
	// Numeric columns with at least one value.
	Mean *step.Float `json:"mean,omitempty"`
	Std  *step.Float `json:"std,omitempty"` // population (ddof=0)
	Min  *step.Float `json:"min,omitempty"`
	Max  *step.Float `json:"max,omitempty"`
	// Quantiles is a grid of GridSize values at probabilities GridProbs
	// of the column (exact for columns of up to 65,536 rows, else of the
	// present values on an evenly strided sample of 65,536 rows, or of
	// the minimum and maximum when no present value lies on those), and CDF the exact share of the
	// column's present values at or below each: the profile's CDF is exact
	// at those points, and read between them it is off by at most
	// MaxCDFGap, the largest share of values strictly between two
	// consecutive grid values (a grid value's own mass is exact). Omitted
	// for columns with at most two distinct values (indicators, one-hot
	// outputs), which Values describes.
	Quantiles step.Floats `json:"quantiles,omitempty"`
	CDF       step.Floats `json:"cdf,omitempty"`
	MaxCDFGap float64     `json:"max_cdf_gap,omitempty"`
	Histogram *Histogram  `json:"histogram,omitempty"`
	// Values describes a numeric column with at most two distinct values.
	Values *Counts `json:"values,omitempty"`
	// Categories counts the values of a categorical column.
	Categories *Counts `json:"categories,omitempty"`
	// Time summarizes a column of Kind KindTime.
	Time *TimeSummary `json:"time,omitempty"`
}

// Histogram counts present values in equal-width bins; the last bin is
// closed on the right.
type Histogram struct {
	Edges  step.Floats `json:"edges"`
	Counts []int64     `json:"counts"`
}

// Counts lists values with their counts, most frequent first (ties by
// value), up to TopCategories; Other counts the rest and Distinct is the
// number of distinct values.
type Counts struct {
	Values   []string    `json:"values,omitempty"`
	Numbers  step.Floats `json:"numbers,omitempty"`
	Counts   []int64     `json:"counts"`
	Other    int64       `json:"other"`
	Distinct int64       `json:"distinct"`
}

// Columns profiles every column, on up to workers goroutines. The result
// does not depend on workers.
func Columns(cols []table.Column, workers int) []Feature {
	out := make([]Feature, len(cols))
	next := make(chan int, len(cols))
	for i := range cols {
		next <- i
	}
	close(next)
	var wg sync.WaitGroup
	for w := 0; w < max(1, min(workers, len(cols))); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				out[i] = Column(&cols[i])
			}
		}()
	}
	wg.Wait()
	return out
}

// Column profiles one column.
func Column(c *table.Column) Feature {
	if c.Kind == table.String {
		return categorical(c)
	}
	return numeric(c)
}

func f(x float64) *step.Float {
	v := step.Float(x)
	return &v
}

func numeric(c *table.Column) Feature {
	// The passes a distributed profile makes (merge.go), over the whole
	// column: adding rows [0, n) to accumulators of n rows cannot fail.
	// The sample and the grid's cell table are scratch once the feature
	// is made: they are pooled for the next column.
	a := NewNumericAcc(int64(len(c.Num)))
	k := (a.Rows + stride(a.Rows) - 1) / stride(a.Rows)
	a.Sample, a.SampleAt = getFloats(int(k)), getRows(int(k))
	a.Add(0, c.Num)
	plan := a.Plan()
	counts := plan.Counts()
	if a.Col.Count() > 0 {
		if err := counts.Add(0, c.Num); err != nil {
			panic(err)
		}
	}
	p, err := NumericFeature(c.Name, &a, &counts)
	if err != nil {
		panic(err)
	}
	putFloats(a.Sample)
	putRows(a.SampleAt)
	if plan.idx != nil {
		putCells(plan.idx.cells)
	}
	return p
}

// cdfFromCounts turns the counts of values in (g[i-1], g[i]] and equal to
// g[i] into the share at or below each grid value, and the largest share
// strictly between two consecutive grid values (a grid value's own mass is
// known exactly).
func cdfFromCounts(g step.Floats, below, equal []int64, count int64) (step.Floats, float64) {
	cdf := make(step.Floats, len(g))
	var cum int64
	gap, prev := 0.0, 0.0
	for i := range g {
		cum += below[i]
		cdf[i] = float64(cum) / float64(count)
		if i == 0 || g[i] != g[i-1] {
			gap = math.Max(gap, cdf[i]-float64(equal[i])/float64(count)-prev)
		}
		prev = cdf[i]
	}
	return cdf, gap
}

func categorical(c *table.Column) Feature {
	var counts stats.StringCounts
	counts.Add(c.Str, c.Null)
	return CategoricalFeature(c.Name, &counts)
}

// gridIndex finds, for a value, the first grid point at or above it in a
// few steps, without branches in the common case. It works on the grid's
// distinct values u (runs of equal grid points, as a column of counts
// gives, become one): a table over equal-width cells of u's range gives
// the first candidate, and counting how many of the next few distinct
// values lie below x gives the answer (a binary search when a cell is
// crowded). at maps a distinct value back to its first grid index.
type gridIndex struct {
	g      []float64
	u      []float64 // the distinct grid values, then gridWindow+1 NaNs
	at     []int32   // at[k]: the first grid index of u[k]; at[len] = len(g)
	n      int       // the number of distinct values
	lo, hi float64
	scale  float64
	// cells[c] is first<<cellShift + kind for cell c (0 <= c <=
	// gridCells; cell gridCells+1 closes the table with first = n):
	// first is the first distinct index whose cell is c or later, and
	// kind says how many distinct values cell c holds (cellEmpty,
	// cellOne, cellWindow, cellCrowded), and for an empty cell whether
	// every value in it falls in one histogram bin (cellPure). Cells are
	// computed by cell, the one expression findU and count use, so
	// rounding cannot put a grid point on the wrong side of a cell
	// boundary. Nil when there is no table.
	cells []uint16
}

// gridCells is the number of cells of a gridIndex's table (less one):
// enough that few values share a cell with a grid value, and a table
// (128 KiB) that stays in a core's second-level cache.
const gridCells = 65536

// gridWindow is how many distinct values findU compares without a
// branch: cells holding more take a binary search.
const gridWindow = 2

// Cell kinds in gridIndex.cells (the low cellShift bits).
const (
	cellPure    = 0 // no grid value in the cell, and one histogram bin
	cellOne     = 1 // one grid value
	cellWindow  = 2 // gridWindow
	cellCrowded = 3 // more
	cellEmpty   = 4 // no grid value, but a histogram bin edge may be in it
	cellShift   = 3
	cellKind    = 1<<cellShift - 1
)

func newGridIndex(g []float64) *gridIndex {
	gi := &gridIndex{g: g, lo: g[0], hi: g[len(g)-1]}
	for i, x := range g {
		if i == 0 || x != g[i-1] {
			gi.u = append(gi.u, x)
			gi.at = append(gi.at, int32(i))
		}
	}
	gi.n = len(gi.u)
	gi.at = append(gi.at, int32(len(g)))
	// NaN compares false both ways: padding the window's reads past the
	// last value counts nothing and matches nothing (count reads one
	// value past the window, for equality).
	for range gridWindow + 1 {
		gi.u = append(gi.u, math.NaN())
	}
	// No table when the range is empty or infinite, or so narrow
	// (subnormal) that the cells' scale overflows, or when the indices
	// do not fit.
	scale := gridCells / (gi.hi - gi.lo)
	if !(gi.hi > gi.lo) || math.IsInf(gi.hi-gi.lo, 0) || math.IsInf(scale, 0) || gi.n<<cellShift+cellKind > math.MaxUint16 {
		return gi
	}
	gi.scale = scale
	gi.cells = getCells()
	// An empty cell is pure when values a little beyond both its ends
	// fall in one bin: the bin of a value is monotone in it, so every
	// value of the cell does. Half a cell is far more than the rounding
	// of the cell's expression when cells are wide against the values'
	// precision; narrower ones are never pure.
	h := histogramOf(g)
	wide := h.ok && h.inv > 0 && (gi.hi-gi.lo)/gridCells > 1e-9*max(math.Abs(gi.lo), math.Abs(gi.hi))
	i := 0
	for c := 0; c <= gridCells+1; c++ {
		first := i
		for i < gi.n && gi.cell(gi.u[i]) <= c {
			i++
		}
		kind := min(i-first, cellCrowded)
		if kind == 0 {
			kind = cellEmpty
			if wide && h.bin(gi.lo+(float64(c)-0.5)/scale) == h.bin(gi.lo+(float64(c)+1.5)/scale) {
				kind = cellPure
			}
		}
		gi.cells[c] = uint16(first<<cellShift + kind)
	}
	return gi
}

// pureBin is the histogram bin of the values of pure cell c.
func (gi *gridIndex) pureBin(h *histogram, c int) int {
	return h.bin(gi.lo + (float64(c)-0.5)/gi.scale)
}

// cell maps lo <= x <= hi to 0..gridCells; it is monotone in x.
func (gi *gridIndex) cell(x float64) int {
	return min(int((x-gi.lo)*gi.scale), gridCells)
}

// find returns the first index i with g[i] >= x (len(g) when none), as
// sort.SearchFloat64s does.
func (gi *gridIndex) find(x float64) int {
	return int(gi.at[gi.findU(x)])
}

// findU returns the first distinct index k with u[k] >= x (n when none),
// for x not NaN. x is clamped to [lo, hi] for its cell only: every
// distinct value below the cell's first is below x, and the first value
// of a later cell is above x (cells are monotone), so the answer is the
// cell's first plus the number of values from there on that are below x,
// which are at most the cell's count.
func (gi *gridIndex) findU(x float64) int {
	if gi.cells == nil {
		return sort.SearchFloat64s(gi.u[:gi.n], x)
	}
	c := gi.cell(min(max(x, gi.lo), gi.hi))
	i, end := int(gi.cells[c]>>cellShift), int(gi.cells[c+1]>>cellShift)
	if end-i > gridWindow {
		return i + sort.SearchFloat64s(gi.u[i:end], x)
	}
	u := gi.u[i : i+gridWindow : i+gridWindow]
	return i + b2i(u[0] < x) + b2i(u[1] < x)
}

// b2i is 1 for true and 0 for false (compiled without a branch).
func b2i(b bool) int {
	var n int
	if b {
		n = 1
	}
	return n
}
