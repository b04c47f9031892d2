package stats

import (
	"slices"
	"unsafe"
)

// radixMin is the length below which SortFloats uses a comparison sort.
const radixMin = 2048

// SortFloats sorts xs ascending in place. xs must hold no NaN. It gives the
// same order as slices.Sort, except that -0 sorts before +0 (slices.Sort
// leaves equal values in unspecified order; the two compare equal).
//
// Long slices use an LSD radix sort over the IEEE 754 bits mapped to an
// order-preserving unsigned key (flip every bit of a negative number, the
// sign bit of a positive one): 8 passes of 8 bits, skipping passes in
// which every key has the same digit. It runs in O(n) time with one
// scratch buffer of n keys.
func SortFloats(xs []float64) {
	if len(xs) < radixMin {
		slices.Sort(xs)
		return
	}
	// The keys live in xs's own memory (same size), so the sort needs one
	// scratch buffer only.
	keys := unsafe.Slice((*uint64)(unsafe.Pointer(&xs[0])), len(xs))
	for i, k := range keys {
		keys[i] = k ^ (uint64(int64(k)>>63) | 1<<63)
	}
	tmp := getKeys(len(xs))
	radixSortKeys(keys, tmp)
	putKeys(tmp)
	for i, k := range keys {
		keys[i] = k ^ (^uint64(int64(k)>>63) | 1<<63)
	}
}

// radixSortKeys sorts keys using tmp (same length) as scratch; the result
// ends in keys.
func radixSortKeys(keys, tmp []uint64) {
	var counts [8][256]int
	for _, k := range keys {
		for d := 0; d < 8; d++ {
			counts[d][byte(k>>(8*d))]++
		}
	}
	n := len(keys)
	src, dst := keys, tmp
	for d := 0; d < 8; d++ {
		c := &counts[d]
		if c[byte(src[0]>>(8*d))] == n {
			continue // every key has this digit: the pass changes nothing
		}
		sum := 0
		for i := range c {
			c[i], sum = sum, sum+c[i]
		}
		shift := uint(8 * d)
		for _, k := range src {
			b := byte(k >> shift)
			dst[c[b]] = k
			c[b]++
		}
		src, dst = dst, src
	}
	if &src[0] != &keys[0] {
		copy(keys, src)
	}
}
