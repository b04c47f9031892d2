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
