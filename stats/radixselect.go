package stats

import "math"

// orderKey maps a float64 to a uint64 whose unsigned order is the float's
// numeric order (-0 just below +0): flip every bit of a negative number,
// the sign bit of a positive one.
func orderKey(x float64) uint64 {
	b := math.Float64bits(x)
	return b ^ (uint64(int64(b)>>63) | 1<<63)
}

// radixSelectBits is the width of the key digit radixSelect buckets by,
// and radixSortMax the bucket size from which it narrows a bucket by the
// next digit instead of sorting it.
const (
	radixSelectBits = 16
	radixSortMax    = 1 << 15
)

// radixSelect returns the values of the given ranks (ascending, distinct,
// each in [0, n) for the n non-NaN values of a) of a's non-NaN values,
// without modifying a: the value a full ascending sort of them would put
// at each rank. NaNs are skipped where a is read, so a column need not be
// copied without them first.
//
// It is a most-significant-digit radix selection over the order-preserving
// keys of the values: one pass counts the values per 16-bit digit (first
// the sign, exponent and four mantissa bits), a second gathers the values
// of the digits that hold a wanted rank; a gathered bucket is sorted when
// small and narrowed the same way by the next digit when large. That is a
// few passes over a instead of a sort of all of it.
func radixSelect(a []float64, ranks []int) []float64 {
	out := make([]float64, len(ranks))
	radixSelectLevel(a, ranks, 64-radixSelectBits, out)
	return out
}

// radixSelectLevel writes to out[i] the value of rank ranks[i] of a,
// bucketing by the key digit at shift. The digit counts and the buckets'
// values are pooled scratch (scratch.go); a bucket whose values are all
// the same (a column of counts narrows to one value long before its last
// digit) answers its ranks at once.
func radixSelectLevel(a []float64, ranks []int, shift int, out []float64) {
	if len(a) <= radixSortMax || shift < 0 {
		sorted := getFloats(len(a))
		for _, x := range a {
			if x == x {
				sorted = append(sorted, x)
			}
		}
		SortFloats(sorted)
		for i, k := range ranks {
			out[i] = sorted[k]
		}
		putFloats(sorted)
		return
	}
	const mask = 1<<radixSelectBits - 1
	ds := digitBufs.Get().(*digitScratch)
	counts, slot := &ds.counts, &ds.slot // slot: bucket -> 1 + index in groups, 0 if not wanted
	clear(counts[:])
	for _, x := range a {
		if x == x {
			counts[(orderKey(x)>>uint(shift))&mask]++
		}
	}
	// Group the ranks by the bucket holding them.
	type group struct {
		bucket int
		ranks  []int // ranks within the bucket
		idx    []int // their positions in out
		vals   []float64
	}
	var groups []*group
	cum, b := 0, 0
	for i, k := range ranks {
		for cum+counts[b] <= k {
			cum += counts[b]
			b++
		}
		if slot[b] == 0 {
			groups = append(groups, &group{bucket: b, vals: getFloats(counts[b])})
			slot[b] = int32(len(groups))
		}
		g := groups[slot[b]-1]
		g.ranks = append(g.ranks, k-cum)
		g.idx = append(g.idx, i)
	}
	for _, x := range a {
		if s := slot[(orderKey(x)>>uint(shift))&mask]; s != 0 && x == x {
			groups[s-1].vals = append(groups[s-1].vals, x)
		}
	}
	for _, g := range groups {
		slot[g.bucket] = 0 // the rest of slot is still 0
	}
	digitBufs.Put(ds)
	for _, g := range groups {
		if same(g.vals) {
			for _, i := range g.idx {
				out[i] = g.vals[0]
			}
		} else {
			vals := make([]float64, len(g.ranks))
			radixSelectLevel(g.vals, g.ranks, shift-radixSelectBits, vals)
			for j, i := range g.idx {
				out[i] = vals[j]
			}
		}
		putFloats(g.vals)
	}
}

// same reports whether the values of xs (at least one) have one bit
// pattern.
func same(xs []float64) bool {
	b := math.Float64bits(xs[0])
	for _, x := range xs[1:] {
		if math.Float64bits(x) != b {
			return false
		}
	}
	return true
}

// selectMaxRanks is the largest number of ranks Sorted answers by radix
// selection; more ranks sort the values fully.
const selectMaxRanks = 16
