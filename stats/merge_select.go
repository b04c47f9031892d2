package stats

import (
	"errors"
	"math"
	"slices"
)

// SelectBits is the number of key bits one pass of a distributed
// selection resolves: a selection knows every wanted value after
// 64/SelectBits passes.
const SelectBits = 16

// ErrSelect is returned for selection passes that do not fit together
// (a histogram of another pass, ranks beyond the values counted).
var ErrSelect = errors.New("stats: inconsistent selection pass")

// SelectHist is one pass of an exact distributed selection (see
// Selection): it counts the non-NaN values whose order-preserving key
// (the one SortFloats sorts by) starts with one of the known prefixes, by
// the key's next SelectBits bits. Histograms of the same pass over
// different rows merge by adding counts, in any order.
type SelectHist struct {
	// Bits is the number of leading key bits already known.
	Bits int
	// Prefixes are the known leading Bits bits of the wanted values' keys,
	// ascending (unused on the first pass, when Bits is 0).
	Prefixes []uint64
	// Counts maps the leading Bits+SelectBits bits of a key to the
	// number of values whose key starts with them.
	Counts map[uint64]int64
	want   map[uint64]bool
}

// FirstSelectPass returns the histogram of a selection's first pass,
// which counts every non-NaN value by its leading SelectBits key bits;
// its Total is the number of values a Selection then chooses ranks among.
func FirstSelectPass() SelectHist { return SelectHist{} }

// Add counts the non-NaN values of xs.
func (h *SelectHist) Add(xs []float64) {
	if h.Counts == nil {
		h.Counts = map[uint64]int64{}
	}
	shift := uint(64 - h.Bits - SelectBits)
	if h.Bits == 0 {
		for _, x := range xs {
			if x == x {
				h.Counts[orderKey(x)>>shift]++
			}
		}
		return
	}
	if h.want == nil {
		h.want = make(map[uint64]bool, len(h.Prefixes))
		for _, p := range h.Prefixes {
			h.want[p] = true
		}
	}
	for _, x := range xs {
		if x != x {
			continue
		}
		k := orderKey(x) >> shift
		if h.want[k>>SelectBits] {
			h.Counts[k]++
		}
	}
}

// Merge adds the counts of o, a histogram of the same pass.
func (h *SelectHist) Merge(o *SelectHist) error {
	if h.Counts == nil && h.Bits == 0 && h.Prefixes == nil {
		h.Bits, h.Prefixes = o.Bits, o.Prefixes // an empty histogram takes o's pass
	}
	if o.Bits != h.Bits || !slices.Equal(o.Prefixes, h.Prefixes) {
		return ErrSelect
	}
	if h.Counts == nil {
		h.Counts = make(map[uint64]int64, len(o.Counts))
	}
	for k, n := range o.Counts {
		h.Counts[k] += n
	}
	return nil
}

// Total returns the number of values counted.
func (h *SelectHist) Total() int64 {
	var n int64
	for _, c := range h.Counts {
		n += c
	}
	return n
}

// Selection finds the values of given ranks (0-based positions in
// ascending SortFloats order: -0 before +0, NaN excluded) of a multiset of
// floats spread over many machines, exactly, without gathering them: a
// most-significant-digit radix selection whose bucket counts are merged.
//
// Each pass counts the values sharing a wanted value's known key prefix
// by the next SelectBits bits (SelectHist, mergeable); Narrow then walks
// each prefix's buckets in key order to the one holding the wanted rank
// and keeps the rank within it. After 64/SelectBits passes (the first one
// also counting the values) every wanted key, hence value, is known. Many
// ranks share a pass; each pass costs one scan of the data and memory per
// wanted prefix of at most 2^SelectBits counts.
type Selection struct {
	// N is the number of values.
	N int64
	// Ranks are the wanted ranks, ascending and distinct, in [0, N).
	Ranks []int64
	// Bits is the number of leading key bits known for every rank.
	Bits int
	// Prefix[i] is the leading Bits bits of the key of rank Ranks[i];
	// Rem[i] its rank among the values whose keys start with them.
	Prefix []uint64
	Rem    []int64
}

// NewSelection starts the selection of ranks (ascending, distinct, in
// [0, first.Total())) from the histogram of the first pass.
func NewSelection(first *SelectHist, ranks []int64) (*Selection, error) {
	if first.Bits != 0 {
		return nil, ErrSelect
	}
	n := first.Total()
	for i, r := range ranks {
		if r < 0 || r >= n || i > 0 && r <= ranks[i-1] {
			return nil, ErrSelect
		}
	}
	s := &Selection{N: n, Ranks: slices.Clone(ranks), Prefix: make([]uint64, len(ranks)), Rem: slices.Clone(ranks)}
	if len(ranks) == 0 {
		return s, nil
	}
	if err := s.Narrow(first); err != nil {
		return nil, err
	}
	return s, nil
}

// Done reports whether every wanted value is known.
func (s *Selection) Done() bool { return s.Bits >= 64 || len(s.Ranks) == 0 }

// Pass returns the empty histogram of the next pass.
func (s *Selection) Pass() SelectHist {
	var ps []uint64
	for i, p := range s.Prefix {
		if i == 0 || p != s.Prefix[i-1] {
			ps = append(ps, p)
		}
	}
	return SelectHist{Bits: s.Bits, Prefixes: ps}
}

// Narrow resolves the next SelectBits bits of every wanted key from the
// merged histogram h of the pass Pass returned.
func (s *Selection) Narrow(h *SelectHist) error {
	if h.Bits != s.Bits || s.Done() {
		return ErrSelect
	}
	// The buckets of each prefix in key order (keys of one prefix are
	// contiguous when sorted).
	keys := make([]uint64, 0, len(h.Counts))
	for k := range h.Counts {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for i := range s.Ranks {
		p := s.Prefix[i]
		lo := p << SelectBits
		at, _ := slices.BinarySearch(keys, lo)
		rem := s.Rem[i]
		found := false
		for ; at < len(keys) && keys[at]>>SelectBits == p; at++ {
			c := h.Counts[keys[at]]
			if rem < c {
				s.Prefix[i], s.Rem[i], found = keys[at], rem, true
				break
			}
			rem -= c
		}
		if !found {
			return ErrSelect
		}
	}
	s.Bits += SelectBits
	return nil
}

// Values returns the value of each wanted rank; the selection must be
// Done.
func (s *Selection) Values() []float64 {
	out := make([]float64, len(s.Ranks))
	for i, k := range s.Prefix {
		out[i] = keyFloat(k)
	}
	return out
}

// At returns a function giving the value of each wanted rank (NaN for
// another rank); the selection must be Done.
func (s *Selection) At() func(int64) float64 {
	vals := s.Values()
	return func(r int64) float64 {
		if i, ok := slices.BinarySearch(s.Ranks, r); ok {
			return vals[i]
		}
		return math.NaN()
	}
}

// PercentileRanks returns the ranks (ascending, distinct) that
// PercentileAt at each of ps, and MedianAt when median is set, read among
// n sorted values.
func PercentileRanks(n int64, ps []float64, median bool) []int64 {
	if n == 0 {
		return nil
	}
	var ranks []int64
	for _, p := range ps {
		i := min(max(int64(math.Floor(float64(n-1)*(p/100))), 0), n-1)
		ranks = append(ranks, i)
		if i+1 < n {
			ranks = append(ranks, i+1)
		}
	}
	if median {
		ranks = append(ranks, (n-1)/2, n/2)
	}
	slices.Sort(ranks)
	return slices.Compact(ranks)
}

// PercentileAt returns Percentile(sorted, p) of n sorted values read
// through at (the value of a rank), NaN when n is 0: the interpolation
// Sorted.Percentiles uses, on values found elsewhere (by a Selection).
func PercentileAt(n int64, p float64, at func(int64) float64) float64 {
	if n == 0 {
		return math.NaN()
	}
	return quantileAt(int(n), p/100, func(k int) float64 { return at(int64(k)) })
}

// MedianAt returns Median of n sorted values read through at, NaN when n
// is 0: the formula Sorted.Median uses.
func MedianAt(n int64, at func(int64) float64) float64 {
	if n == 0 {
		return math.NaN()
	}
	return medianAt(int(n), func(k int) float64 { return at(int64(k)) })
}

// medianAt is Median over n > 0 sorted values read through at.
func medianAt(n int, at func(int) float64) float64 {
	if n%2 == 1 {
		return at(n / 2)
	}
	return (at(n/2-1) + at(n/2)) / 2
}
