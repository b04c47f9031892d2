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
// bucketing by the key digit at shift.
func radixSelectLevel(a []float64, ranks []int, shift int, out []float64) {
	if len(a) <= radixSortMax || shift < 0 {
		sorted := make([]float64, 0, len(a))
		for _, x := range a {
			if x == x {
				sorted = append(sorted, x)
			}
		}
		SortFloats(sorted)
		for i, k := range ranks {
			out[i] = sorted[k]
		}
		return
	}
	const nb = 1 << radixSelectBits
	const mask = nb - 1
	counts := make([]int, nb)
	for _, x := range a {
		if x == x {
			counts[(orderKey(x)>>uint(shift))&mask]++
		}
	}
	// Group the ranks by the bucket holding them.
	slot := make([]int32, nb) // bucket -> 1 + index in groups, 0 if not wanted
	type group struct {
		ranks []int // ranks within the bucket
		idx   []int // their positions in out
		vals  []float64
	}
	var groups []*group
	cum, b := 0, 0
	for i, k := range ranks {
		for cum+counts[b] <= k {
			cum += counts[b]
			b++
		}
		if slot[b] == 0 {
			groups = append(groups, &group{vals: make([]float64, 0, counts[b])})
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
		vals := make([]float64, len(g.ranks))
		radixSelectLevel(g.vals, g.ranks, shift-radixSelectBits, vals)
		for j, i := range g.idx {
			out[i] = vals[j]
		}
	}
}

// selectMaxRanks is the largest number of ranks Sorted answers by radix
// selection; more ranks sort the values fully.
const selectMaxRanks = 16
