package stats

import (
	"math"
	"slices"
)

// ValueCounts counts each distinct non-NaN value of a numeric column, by
// its exact bits, mergeably: counts added and merged in any order give
// the same result. Memory grows with the number of distinct values.
type ValueCounts struct {
	Counts map[uint64]int64 // math.Float64bits(x) -> occurrences
}

// Add counts the non-NaN values of xs.
func (c *ValueCounts) Add(xs []float64) {
	if c.Counts == nil {
		c.Counts = map[uint64]int64{}
	}
	for _, x := range xs {
		if x == x {
			c.Counts[math.Float64bits(x)]++
		}
	}
}

// Merge adds o's counts to c.
func (c *ValueCounts) Merge(o *ValueCounts) {
	if c.Counts == nil {
		c.Counts = make(map[uint64]int64, len(o.Counts))
	}
	for k, n := range o.Counts {
		c.Counts[k] += n
	}
}

// Mode returns the most frequent value, the smallest on ties, NaN when
// there is none: Sorted.Mode of the same values. Values that compare
// equal (-0 and +0) count as one, reported as the smaller of them in
// SortFloats order (-0), as a scan of the sorted values reports it.
func (c *ValueCounts) Mode() float64 {
	keys := make([]uint64, 0, len(c.Counts))
	for b := range c.Counts {
		keys = append(keys, orderKey(math.Float64frombits(b)))
	}
	slices.Sort(keys)
	best, bestN := math.NaN(), int64(0)
	cur, curN := math.NaN(), int64(0)
	for _, k := range keys {
		x := keyFloat(k)
		if x == cur {
			curN += c.Counts[math.Float64bits(x)]
		} else {
			cur, curN = x, c.Counts[math.Float64bits(x)]
		}
		if curN > bestN { // strictly more: the first (smallest) wins ties
			best, bestN = cur, curN
		}
	}
	return best
}

// keyFloat inverts orderKey.
func keyFloat(k uint64) float64 {
	if k>>63 == 1 {
		return math.Float64frombits(k ^ 1<<63)
	}
	return math.Float64frombits(^k)
}

// StringCounts counts each distinct present value of a categorical column
// and its missing cells, mergeably.
type StringCounts struct {
	Counts  map[string]int64
	Missing int64
}

// Add counts strs, null[i] marking a missing cell (null may be nil).
func (c *StringCounts) Add(strs []string, null []bool) {
	if c.Counts == nil {
		c.Counts = map[string]int64{}
	}
	for i, s := range strs {
		if null != nil && null[i] {
			c.Missing++
			continue
		}
		c.Counts[s]++
	}
}

// Merge adds o's counts to c.
func (c *StringCounts) Merge(o *StringCounts) {
	if c.Counts == nil {
		c.Counts = make(map[string]int64, len(o.Counts))
	}
	for k, n := range o.Counts {
		c.Counts[k] += n
	}
	c.Missing += o.Missing
}
