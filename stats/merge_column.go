package stats

import "math"

// ColumnAcc accumulates the order-free summaries of a numeric column that
// arrives in row ranges, added and merged in any order:
//
//	Rows    rows seen (NaN included)
//	NaN     NaN values;  Inf  ±Inf values
//	Min     smallest non-NaN value, the first in row order among equal ones
//	        (so of -0 and +0, the one that comes first)
//	Max     largest non-NaN value, the first in row order among equal ones
//	MaxAbs  largest |x| over the non-NaN values
//
// Min and Max are what a left-to-right scan that replaces its current
// value only by a strictly smaller (larger) one finds, which is how the
// steps' fits scan: merging keeps, of two equal values, the one at the
// smaller row. Min, Max and MaxAbs are meaningful only when Count() > 0;
// MinMax and AbsMax return NaN otherwise. The zero value is an empty
// accumulator.
type ColumnAcc struct {
	Rows, NaN, Inf int64
	Min, Max       float64
	MinAt, MaxAt   int64 // rows of Min and Max
	MaxAbs         float64
}

// Add adds rows [start, start+len(xs)) of the column. It finds the
// smallest and largest numbers of xs, the largest |x| and the counts of
// NaN and ±Inf in one pass (scanColumn), then the first rows holding a
// value equal to the smallest and to the largest (so of -0 and +0, the
// one that comes first), into a ColumnAcc of its own that it merges.
func (a *ColumnAcc) Add(start int64, xs []float64) {
	var r columnScan
	r.init()
	scanColumn(xs, &r)
	c := ColumnAcc{Rows: int64(len(xs))}
	for i := range r.nan {
		c.NaN += r.nan[i]
		c.Inf += r.inf[i]
	}
	if c.Count() > 0 {
		mn, mx, mxAbs := r.min[0], r.max[0], r.maxAbs[0]
		for i := 1; i < len(r.min); i++ {
			mn, mx, mxAbs = min(mn, r.min[i]), max(mx, r.max[i]), max(mxAbs, r.maxAbs[i])
		}
		mnAt, mxAt := firstEqual(xs, mn), firstEqual(xs, mx)
		c.Min, c.MinAt, c.Max, c.MaxAt, c.MaxAbs = xs[mnAt], start+int64(mnAt), xs[mxAt], start+int64(mxAt), mxAbs
	}
	a.Merge(&c)
}

// columnScan is what ColumnAcc.Add's pass finds, in four lanes: the
// smallest and largest number (±Inf while there is none), the largest
// |x| (0 while none) and the counts of NaN and ±Inf.
type columnScan struct {
	min, max, maxAbs [4]float64
	nan, inf         [4]int64
}

func (r *columnScan) init() {
	for i := range r.min {
		r.min[i], r.max[i] = math.Inf(1), math.Inf(-1)
	}
}

// merge folds o's lanes into r's.
func (r *columnScan) merge(o *columnScan) {
	for i := range r.min {
		r.min[i] = min(r.min[i], o.min[i])
		r.max[i] = max(r.max[i], o.max[i])
		r.maxAbs[i] = max(r.maxAbs[i], o.maxAbs[i])
		r.nan[i] += o.nan[i]
		r.inf[i] += o.inf[i]
	}
}

// addGeneric folds xs into lane 0 of r.
func (r *columnScan) addGeneric(xs []float64) {
	for _, x := range xs {
		if x != x {
			r.nan[0]++
			continue
		}
		ab := math.Abs(x)
		if ab > math.MaxFloat64 {
			r.inf[0]++
		}
		if x < r.min[0] {
			r.min[0] = x
		}
		if x > r.max[0] {
			r.max[0] = x
		}
		if ab > r.maxAbs[0] {
			r.maxAbs[0] = ab
		}
	}
}

// firstEqual returns the first index of a value of xs equal to v (which
// one of them holds).
func firstEqual(xs []float64, v float64) int {
	for i, x := range xs {
		if x == v {
			return i
		}
	}
	panic("stats: firstEqual: value not found")
}

// take folds a candidate minimum and maximum (with their rows) into a,
// which holds values.
func (a *ColumnAcc) take(mn float64, mnAt int64, mx float64, mxAt int64) {
	if mn < a.Min || mn == a.Min && mnAt < a.MinAt {
		a.Min, a.MinAt = mn, mnAt
	}
	if mx > a.Max || mx == a.Max && mxAt < a.MaxAt {
		a.Max, a.MaxAt = mx, mxAt
	}
}

// Merge adds the rows accumulated in o (disjoint from a's).
func (a *ColumnAcc) Merge(o *ColumnAcc) {
	switch {
	case o.Count() == 0:
	case a.Count() == 0:
		a.Min, a.MinAt, a.Max, a.MaxAt, a.MaxAbs = o.Min, o.MinAt, o.Max, o.MaxAt, o.MaxAbs
	default:
		a.take(o.Min, o.MinAt, o.Max, o.MaxAt)
		if o.MaxAbs > a.MaxAbs {
			a.MaxAbs = o.MaxAbs
		}
	}
	a.Rows += o.Rows
	a.NaN += o.NaN
	a.Inf += o.Inf
}

// MinMax returns Min and Max, NaN when the column has no value.
func (a *ColumnAcc) MinMax() (lo, hi float64) {
	if a.Count() == 0 {
		return math.NaN(), math.NaN()
	}
	return a.Min, a.Max
}

// AbsMax returns MaxAbs, NaN when the column has no value.
func (a *ColumnAcc) AbsMax() float64 {
	if a.Count() == 0 {
		return math.NaN()
	}
	return a.MaxAbs
}

// Count returns the number of non-NaN values.
func (a *ColumnAcc) Count() int64 { return a.Rows - a.NaN }

// NanSumAcc accumulates NanSum (np.nansum in numpy's pairwise order, and
// the count of non-NaN values) of a column of N rows from row ranges added
// and merged in any order, with NanSum's bits for the whole column.
type NanSumAcc struct {
	Count int64
	Sum   PairwiseAcc
}

// NewNanSumAcc returns an empty accumulator for a column of n rows.
func NewNanSumAcc(n int64) NanSumAcc { return NanSumAcc{Sum: NewPairwiseAcc(n)} }

// Add adds rows [start, start+len(xs)) of the column.
func (a *NanSumAcc) Add(start int64, xs []float64) error {
	d := make([]float64, len(xs))
	for i, x := range xs {
		if x == x {
			d[i] = x
			a.Count++
		}
	}
	return a.Sum.Add(start, d)
}

// Merge adds the rows accumulated in o.
func (a *NanSumAcc) Merge(o *NanSumAcc) error {
	a.Count += o.Count
	return a.Sum.Merge(&o.Sum)
}

// NanSum returns NanSum of the whole column; ok is false until every row
// has been added.
func (a *NanSumAcc) NanSum() (sum float64, n int64, ok bool) {
	sum, ok = a.Sum.Sum()
	return sum, a.Count, ok
}
