package fit

import (
	"unsafe"

	"github.com/normguard/normguard/internal/arena"
	"github.com/normguard/normguard/table"
)

// A string column on the Go heap is a slice of 16-byte headers, each a
// pointer the collector follows at every cycle: the benchmark table's two
// categorical columns (2 x 1M values) cost a fit about 15% of its CPU in
// marking. An arena fit keeps them outside the heap instead: the headers
// in arena storage (arena.Strings, freed with the numeric columns), each
// value's bytes copied once per distinct value into the arena's store that
// is never freed (arena.Intern), so a category or an error that keeps a
// value stays valid after the Spill is closed. No header in arena storage
// points into the Go heap: stringKeeper stores only interned values.
const (
	// maxDistinct bounds the distinct values a column interns; past it
	// (an identifier, free text) the column goes back to the heap, and
	// the process-wide store is left for categories.
	maxDistinct = 1 << 14
	// seenBits sizes a column's cache of interned values (4,096 entries).
	seenBits = 12
)

// stringKeeper holds one String column of an arena fit; see above. It
// implements table.StringKeeper.
type stringKeeper struct {
	mem *arena.Arena
	// seen caches interned values by a hash of the address of the
	// reader's value: readers share one string between repeated values
	// (the CSV reader interns, Parquet's dictionary pages), so most
	// values hit. A hit is checked by content.
	seen [1 << seenBits]string
	// local maps each distinct value seen to its interned copy.
	local map[string]string
	// heap: the column left the arena (too many distinct values, or a
	// value Intern refused) and is a heap slice from then on.
	heap bool
}

// stringKeeper returns the keeper of one String column: nil (the heap)
// unless s is an arena.
func (s *Spill) stringKeeper() func() table.StringKeeper {
	if !s.InMemory() {
		return nil
	}
	return func() table.StringKeeper { return &stringKeeper{mem: s.mem, local: map[string]string{}} }
}

// Keep implements table.StringKeeper: it appends xs to col, interning each
// value, in arena storage sized for total rows that grows by half when
// outgrown.
func (k *stringKeeper) Keep(col, xs []string, total int) ([]string, error) {
	if k.heap {
		return append(col, xs...), nil
	}
	n := len(col)
	if n+len(xs) > cap(col) {
		bigger, err := k.mem.Strings(max(n+len(xs), total, cap(col)*3/2))
		if err != nil {
			return nil, err
		}
		copy(bigger, col)
		k.mem.FreeStrings(col)
		col = bigger[:n]
	}
	col = col[:n+len(xs)]
	for i, x := range xs {
		v, ok := k.intern(x)
		if !ok {
			return k.toHeap(col[:n+i], xs[i:], total), nil
		}
		col[n+i] = v
	}
	return col, nil
}

// intern returns x's interned copy, or false when the column should leave
// the arena.
func (k *stringKeeper) intern(x string) (string, bool) {
	if x == "" {
		return "", true
	}
	h := uint64(uintptr(unsafe.Pointer(unsafe.StringData(x)))) * 0x9E3779B97F4A7C15 >> (64 - seenBits)
	if v := k.seen[h]; v == x {
		return v, true
	}
	v, ok := k.local[x]
	if !ok {
		if len(k.local) >= maxDistinct {
			return "", false
		}
		if v, ok = arena.Intern(x); !ok {
			return "", false
		}
		k.local[v] = v
	}
	k.seen[h] = v
	return v, true
}

// toHeap moves the column to the heap: the values kept so far (interned,
// so the heap slice may keep them) and then rest as they are.
func (k *stringKeeper) toHeap(kept, rest []string, total int) []string {
	col := make([]string, len(kept), max(total, len(kept)+len(rest)))
	copy(col, kept)
	k.mem.FreeStrings(kept)
	k.heap, k.local, k.seen = true, nil, [1 << seenBits]string{}
	return append(col, rest...)
}
