package artifact

import (
	"fmt"
	"math"

	"github.com/normguard/normguard/profile"
	"github.com/normguard/normguard/step"
)

// CheckFeature checks one column profile's meaning (profile.Feature
// documents each field): counts non-negative; a numeric column with values
// has its moments and either a quantile grid of profile.GridSize sorted
// values with a CDF of the same length, non-decreasing in [0, 1], and an
// optional histogram of profile.HistogramBins bins whose counts add up to
// the column's, or at most two distinct values with counts adding up to
// it; a categorical column has distinct categories with positive counts
// that, with other, add up to its count, and a time summary exactly when
// its kind is time, one that SummarizeTime could have written for its
// values (profile.CheckTimeColumn: layout, counts, min and max times of
// the layout in order, the listed categories within them). path names
// the feature in errors (a JSON path).
func CheckFeature(path string, f *profile.Feature) error {
	if f.Name == "" {
		return bad(path+".name", "is empty")
	}
	if f.Count < 0 {
		return bad(path+".count", "must be >= 0, got %d", f.Count)
	}
	if f.Missing < 0 {
		return bad(path+".missing", "must be >= 0, got %d", f.Missing)
	}
	switch f.Type {
	case "numeric":
		return checkNumericFeature(path, f)
	case "categorical":
		return checkCategoricalFeature(path, f)
	}
	return bad(path+".type", `must be "numeric" or "categorical", got %q`, f.Type)
}

func checkNumericFeature(path string, f *profile.Feature) error {
	if f.Kind != "" {
		return bad(path+".kind", "must be empty for a numeric column, got %q", f.Kind)
	}
	if f.Categories != nil {
		return bad(path+".categories", "must be absent for a numeric column")
	}
	if f.Time != nil {
		return bad(path+".time", "must be absent for a numeric column")
	}
	if f.Count == 0 {
		for _, x := range []struct {
			name string
			set  bool
		}{{"mean", f.Mean != nil}, {"std", f.Std != nil}, {"min", f.Min != nil}, {"max", f.Max != nil},
			{"quantiles", f.Quantiles != nil}, {"cdf", f.CDF != nil}, {"histogram", f.Histogram != nil}, {"values", f.Values != nil}} {
			if x.set {
				return bad(path+"."+x.name, "must be absent for a column without present values (count 0)")
			}
		}
		return nil
	}
	for _, x := range []struct {
		name string
		v    *step.Float
	}{{"mean", f.Mean}, {"std", f.Std}, {"min", f.Min}, {"max", f.Max}} {
		if x.v == nil {
			return bad(path+"."+x.name, "is missing for a column with %d present values", f.Count)
		}
	}
	lo, hi := float64(*f.Min), float64(*f.Max)
	// Finite: no input or output value is infinite (fit and transform
	// refuse them), and readers of the profile (drift's reference CDF)
	// count on it.
	if !isFinite(lo) || !isFinite(hi) || lo > hi {
		return bad(path+".min", "%v and max %v must be finite numbers, min <= max", lo, hi)
	}
	if std := float64(*f.Std); std < 0 {
		return bad(path+".std", "must be >= 0, got %v", std)
	}
	if err := checkMoments(path, f.Count, float64(*f.Mean), float64(*f.Std), lo, hi); err != nil {
		return err
	}
	switch {
	case f.Quantiles != nil && f.Values != nil:
		return bad(path+".values", "must be absent when quantiles are given")
	case f.Quantiles == nil && f.Values == nil:
		return bad(path+".quantiles", "is missing (a numeric column with values has quantiles or values)")
	case f.Values != nil:
		if f.CDF != nil || f.Histogram != nil || f.MaxCDFGap != 0 {
			return bad(path+".cdf", "must be absent with values")
		}
		return checkTwoValues(path+".values", f.Values, f.Count, lo, hi)
	}
	q := f.Quantiles
	if len(q) != profile.GridSize {
		return bad(path+".quantiles", "has %d entries, want %d", len(q), profile.GridSize)
	}
	for i, x := range q {
		if !isFinite(x) {
			return bad(fmt.Sprintf("%s.quantiles[%d]", path, i), "must be a finite number, got %v", x)
		}
		if i > 0 && x < q[i-1] {
			return bad(fmt.Sprintf("%s.quantiles[%d]", path, i), "%v is below the entry before, %v: quantiles must be sorted", x, q[i-1])
		}
	}
	if q[0] < lo || q[len(q)-1] > hi {
		return bad(path+".quantiles", "run from %v to %v, outside min %v and max %v", q[0], q[len(q)-1], lo, hi)
	}
	// The grid of a column of up to exactGrid rows is read from every
	// value: its 0 and 1 quantiles are min and max. (A column of more rows
	// is sampled by row, every stride-th row, however few values it has.)
	if last := len(q) - 1; f.Count+f.Missing <= exactGrid && (q[0] != lo || q[last] != hi) {
		i, x, want := 0, q[0], lo
		if q[0] == lo {
			i, x, want = last, q[last], hi
		}
		return bad(fmt.Sprintf("%s.quantiles[%d]", path, i), "%v: the grid of a column of %d rows (at most %d) is exact, read from every value: its first entry is min and its last max, %v", x, f.Count+f.Missing, exactGrid, want)
	}
	if len(f.CDF) != len(q) {
		return bad(path+".cdf", "has %d entries, quantiles %d", len(f.CDF), len(q))
	}
	for i, p := range f.CDF {
		if !(p >= 0 && p <= 1) {
			return bad(fmt.Sprintf("%s.cdf[%d]", path, i), "must lie in [0, 1], got %v", p)
		}
		if i > 0 && p < f.CDF[i-1] {
			return bad(fmt.Sprintf("%s.cdf[%d]", path, i), "%v is below the entry before, %v: a CDF never decreases", p, f.CDF[i-1])
		}
	}
	if err := checkCDFRange(path, q, f.CDF, f.Count, hi); err != nil {
		return err
	}
	if !(f.MaxCDFGap >= 0 && f.MaxCDFGap <= 1) {
		return bad(path+".max_cdf_gap", "must lie in [0, 1], got %v", f.MaxCDFGap)
	}
	if h := f.Histogram; h != nil {
		hp := path + ".histogram"
		if len(h.Edges) != profile.HistogramBins+1 {
			return bad(hp+".edges", "has %d entries, want %d", len(h.Edges), profile.HistogramBins+1)
		}
		if len(h.Counts) != profile.HistogramBins {
			return bad(hp+".counts", "has %d entries, want %d", len(h.Counts), profile.HistogramBins)
		}
		for i, e := range h.Edges {
			if !isFinite(e) || (i > 0 && e < h.Edges[i-1]) {
				return bad(fmt.Sprintf("%s.edges[%d]", hp, i), "must be a finite number not below the edge before, got %v", e)
			}
		}
		if err := checkEdges(hp+".edges", h.Edges, q, lo, hi); err != nil {
			return err
		}
		var sum int64
		for i, c := range h.Counts {
			if c < 0 || sum+c < sum {
				return bad(fmt.Sprintf("%s.counts[%d]", hp, i), "must be >= 0 (and add up without overflow), got %d", c)
			}
			sum += c
		}
		if sum != f.Count {
			return bad(hp+".counts", "add up to %d, the column has %d present values", sum, f.Count)
		}
	}
	return nil
}

// exactGrid is the most rows of a column whose quantile grid is read from
// every value (profile's sampleMax: the grid of a longer column is read
// from every stride-th row, stride = ceil(rows/sampleMax)).
const exactGrid = 65536

// momentSlack is the relative rounding allowance of the moments against
// min and max: fit computes mean = first + S/n and std = sqrt((Q - S²/n)/n)
// from pairwise sums of x - first, whose error is a few ulps of the range
// times log n; an allowance of 1e-9 of the range (and 1e-12 of the
// magnitude for the mean's final addition; tiny absolute terms for
// squares that underflow) is far above that and far below any change
// that matters to a reader (attack run 27 F4: a std of twice the range).
const momentSlack = 1e-9

// checkMoments checks mean and std against min and max as any data has
// them: the mean within [min, max] and the population std at most
// (max − min)/2 (Popoviciu's inequality), up to rounding (momentSlack). A
// constant column (min = max) has its value as mean and std 0. A mean or
// std that is not finite is one only where fit's sums overflow.
func checkMoments(path string, count int64, mean, std, lo, hi float64) error {
	half := hi/2 - lo/2 // (max − min)/2 without overflow
	mag := math.Max(math.Abs(lo), math.Abs(hi))
	if !isFinite(mean) || !isFinite(std) {
		// The sums of x - first and of their squares overflow when
		// count·(max − min)² passes float64's range: fit then writes an
		// infinite or NaN mean or std (a column of values near ±1e308).
		// Anywhere else they are damage.
		if r := 2 * half; float64(count)*r*r > math.MaxFloat64/4 || math.IsInf(r, 0) {
			return nil
		}
		name, x := ".mean", mean
		if isFinite(mean) {
			name, x = ".std", std
		}
		return bad(path+name, "%v: must be a finite number for a column of %d values within [min, max] = [%v, %v] (its sums cannot overflow)", x, count, lo, hi)
	}
	if mean < lo-(momentSlack*2*half+1e-12*mag+1e-300) || mean > hi+(momentSlack*2*half+1e-12*mag+1e-300) {
		return bad(path+".mean", "%v: the mean of values within [min, max] = [%v, %v] lies within them", mean, lo, hi)
	}
	if std > half+momentSlack*half+1e-150 {
		return bad(path+".std", "%v: the population std of values within [min, max] = [%v, %v] is at most (max − min)/2 = %v (Popoviciu's inequality)", std, lo, hi, half)
	}
	return nil
}

// checkCDFRange checks the CDF at the grid (sorted, within [min, max],
// each entry in [0, 1] and not below the one before: checked by the
// caller) against the column: min is at or below every grid value, so
// each entry counts at least one value (> 0); max is above every grid
// value below it, so those entries are < 1, and at or below those equal
// to it, so those are 1; and each is a count of values over count.
func checkCDFRange(path string, q, cdf []float64, count int64, hi float64) error {
	n := float64(count)
	for i, p := range cdf {
		at := fmt.Sprintf("%s.cdf[%d]", path, i)
		switch {
		case !(p > 0):
			return bad(at, "%v: the share of values at or below quantile %v, which is not below min, counts min at least (>= 1/%d)", p, q[i], count)
		case q[i] < hi && p == 1:
			return bad(at, "1: every value at or below quantile %v, which is below max %v", q[i], hi)
		case q[i] == hi && p != 1:
			return bad(at, "%v: the share of values at or below max %v is 1", p, hi)
		}
		if k := p * n; math.Abs(k-math.Round(k)) > 1e-9*n {
			return bad(at, "%v: must be a count of values over the column's %d (%v values is not a whole number)", p, count, k)
		}
	}
	return nil
}

// checkEdges checks a histogram's edges (finite and sorted: checked by the
// caller) against the column: equal-width bins from the first grid value
// to the last (fit writes them so; artifacts of before 2026-11-26 from
// min to max), so the first edge lies in [min, quantiles[0]], the last in
// [quantiles[last], max], and each between them at its place up to
// rounding.
func checkEdges(path string, e, q []float64, lo, hi float64) error {
	last := len(e) - 1
	if !(e[0] >= lo && e[0] <= q[0]) {
		return bad(path+"[0]", "%v: the first edge lies within [min, quantiles[0]] = [%v, %v]", e[0], lo, q[0])
	}
	if ql := q[len(q)-1]; !(e[last] >= ql && e[last] <= hi) {
		return bad(fmt.Sprintf("%s[%d]", path, last), "%v: the last edge lies within [the last quantile, max] = [%v, %v]", e[last], ql, hi)
	}
	w := e[last]/float64(last) - e[0]/float64(last)
	tol := 1e-9*w*float64(last) + 1e-12*math.Max(math.Abs(e[0]), math.Abs(e[last])) + 1e-300
	for i := 1; i < last; i++ {
		if want := e[0] + w*float64(i); math.Abs(e[i]-want) > tol {
			return bad(fmt.Sprintf("%s[%d]", path, i), "%v: bins are of equal width from %v to %v, this edge is at %v", e[i], e[0], e[last], want)
		}
	}
	return nil
}

// isFinite reports whether x is neither NaN nor ±Inf.
func isFinite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// checkTwoValues checks the values of a numeric column with at most two
// distinct values: sorted numbers, each with a positive count.
func checkTwoValues(path string, c *profile.Counts, count int64, lo, hi float64) error {
	if c.Values != nil {
		return bad(path+".values", "must be absent for a numeric column (numbers holds its values)")
	}
	n := len(c.Numbers)
	if n < 1 || n > 2 {
		return bad(path+".numbers", "has %d entries, want 1 or 2", n)
	}
	if len(c.Counts) != n {
		return bad(path+".counts", "has %d entries, numbers %d", len(c.Counts), n)
	}
	for i, x := range c.Numbers {
		if math.IsNaN(x) || x < lo || x > hi || (i > 0 && !(x > c.Numbers[i-1])) {
			return bad(fmt.Sprintf("%s.numbers[%d]", path, i), "must be distinct increasing numbers within min and max, got %v", x)
		}
	}
	if c.Other != 0 {
		return bad(path+".other", "must be 0, got %d", c.Other)
	}
	if c.Distinct != int64(n) {
		return bad(path+".distinct", "is %d, numbers lists %d", c.Distinct, n)
	}
	return checkCounts(path, c.Counts, 0, count)
}

// checkCounts checks positive counts that, with other, add up to count.
func checkCounts(path string, counts []int64, other, count int64) error {
	sum := other
	for i, k := range counts {
		if k <= 0 || sum+k < sum {
			return bad(fmt.Sprintf("%s.counts[%d]", path, i), "must be > 0, got %d", k)
		}
		sum += k
	}
	if sum != count {
		return bad(path+".counts", "add up (with other) to %d, the column has %d present values", sum, count)
	}
	return nil
}

func checkCategoricalFeature(path string, f *profile.Feature) error {
	for _, x := range []struct {
		name string
		set  bool
	}{{"mean", f.Mean != nil}, {"std", f.Std != nil}, {"min", f.Min != nil}, {"max", f.Max != nil},
		{"quantiles", f.Quantiles != nil}, {"cdf", f.CDF != nil}, {"histogram", f.Histogram != nil}, {"values", f.Values != nil}} {
		if x.set {
			return bad(path+"."+x.name, "must be absent for a categorical column")
		}
	}
	if f.MaxCDFGap != 0 {
		return bad(path+".max_cdf_gap", "must be absent for a categorical column")
	}
	c := f.Categories
	cp := path + ".categories"
	if c == nil {
		return bad(cp, "is missing for a categorical column")
	}
	if c.Numbers != nil {
		return bad(cp+".numbers", "must be absent for a categorical column")
	}
	if len(c.Values) != len(c.Counts) {
		return bad(cp+".counts", "has %d entries, values %d", len(c.Counts), len(c.Values))
	}
	if len(c.Values) > profile.TopCategories {
		return bad(cp+".values", "has %d entries, at most %d are kept", len(c.Values), profile.TopCategories)
	}
	seen := make(map[string]bool, len(c.Values))
	for i, v := range c.Values {
		if seen[v] {
			return bad(fmt.Sprintf("%s.values[%d]", cp, i), "%q is listed twice", v)
		}
		seen[v] = true
	}
	if c.Other < 0 {
		return bad(cp+".other", "must be >= 0, got %d", c.Other)
	}
	if err := checkCounts(cp, c.Counts, c.Other, f.Count); err != nil {
		return err
	}
	kept := int64(len(c.Values))
	if c.Distinct < kept || (c.Other > 0) != (c.Distinct > kept) || c.Distinct-kept > c.Other {
		return bad(cp+".distinct", "is %d with %d values listed and other %d", c.Distinct, kept, c.Other)
	}
	switch f.Kind {
	case "", profile.KindIdentifier:
		if f.Time != nil {
			return bad(path+".time", "must be absent for kind %q", f.Kind)
		}
		return nil
	case profile.KindTime:
	default:
		return bad(path+".kind", "must be %q, %q or absent, got %q", profile.KindTime, profile.KindIdentifier, f.Kind)
	}
	if err := profile.CheckTimeColumn(f.Time, f.Count, c); err != nil {
		return bad(path+"."+err.Field, "%s", err.Msg)
	}
	return nil
}

// checkColumnProfile checks the profile of one input or output column:
// a vector column's dimension column (vectorDim) may carry counts only
// (VectorDimProfile) or, as artifacts written before did, a full profile;
// every other column needs a full one (CheckFeature).
func checkColumnProfile(path string, f *profile.Feature, vectorDim bool) error {
	if vectorDim && f.Name != "" && f.Count >= 0 && f.Missing >= 0 && IsVectorDimProfile(f) {
		return nil
	}
	return CheckFeature(path, f)
}
