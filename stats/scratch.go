package stats

import (
	"sync"

	"github.com/normguard/normguard/internal/slicepool"
)

// The sorts and selections need large buffers for a moment: digit counts,
// sort keys, the values of a bucket. A fit takes medians and quantiles of
// many columns one after another, and buffers made anew for each would be
// garbage the collector has to find (each collection also marks every
// string of the table's string columns). These pools lend them instead.
var (
	floatBufs slicepool.Pool[float64]
	keyBufs   slicepool.Pool[uint64]
	digitBufs = sync.Pool{New: func() any { return new(digitScratch) }}
)

// digitScratch is radixSelectLevel's per-digit state: the count of values
// per digit, and the group of ranks a wanted digit holds.
type digitScratch struct {
	counts [1 << radixSelectBits]int
	slot   [1 << radixSelectBits]int32
}

// getFloats returns a slice of length 0 and capacity at least n.
func getFloats(n int) []float64 { return floatBufs.Get(n) }

// putFloats gives a slice from getFloats back.
func putFloats(b []float64) { floatBufs.Put(b) }

// getKeys returns a slice of length n.
func getKeys(n int) []uint64 { return keyBufs.Get(n)[:n] }

// putKeys gives a slice from getKeys back.
func putKeys(b []uint64) { keyBufs.Put(b) }
