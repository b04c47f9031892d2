package fit

import (
	"fmt"
	"unsafe"

	"github.com/normguard/normguard/artifact"
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
	source, column string // named in errors
	mem            *arena.Arena
	// seen caches interned values by a hash of the address of the
	// reader's value: readers share one string between repeated values
	// (the CSV reader interns, Parquet's dictionary pages), so most
	// values hit. A hit is checked by content.
	seen [1 << seenBits]string
	// local maps each distinct value seen to its interned copy.
	local map[string]string
	// heap: the column is a heap slice: the fit has no arena, or the
	// column left it (too many distinct values, or a value Intern
	// refused).
	heap bool
}

// stringKeeper returns the keeper of one String column: an arena
// keeper when s is an arena, else one that keeps the column on the heap,
// as ReadAllWith would. Either refuses a value past
// artifact.MaxStringBytes (checkValue).
func (s *Spill) stringKeeper(source string) func(column string) table.StringKeeper {
	if !s.InMemory() {
		return func(column string) table.StringKeeper {
			return &stringKeeper{source: source, column: column, heap: true}
		}
	}
	return func(column string) table.StringKeeper {
		return &stringKeeper{source: source, column: column, mem: s.mem, local: map[string]string{}}
	}
}

// Keep implements table.StringKeeper: it appends xs to col, interning each
// value, in arena storage sized for total rows that grows by half when
// outgrown.
func (k *stringKeeper) Keep(col, xs []string, total int) ([]string, error) {
	if k.heap {
		return k.keepOnHeap(col, xs, total)
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
		v, ok, err := k.intern(x, n+i)
		if err != nil {
			return nil, err
		}
		if !ok {
			return k.keepOnHeap(k.toHeap(col[:n+i], len(xs)-i, total), xs[i:], total)
		}
		col[n+i] = v
	}
	return col, nil
}

// keepOnHeap appends xs to col on the heap (sized for total rows at the
// first batch), checking each value's length: a comparison a cell, the
// value encoded only when it is longer than a sixth of the bound.
func (k *stringKeeper) keepOnHeap(col, xs []string, total int) ([]string, error) {
	for i, x := range xs {
		if len(x) > artifact.MaxStringBytes/6 { // else within the bound, escaped or not
			if err := k.checkValue(x, len(col)+i); err != nil {
				return nil, err
			}
		}
	}
	if col == nil {
		col = make([]string, 0, max(total, len(xs)))
	}
	return append(col, xs...), nil
}

// checkValue refuses value x of data row row (0-based) when the artifact
// would hold it past artifact.MaxStringBytes: every string column read
// is profiled, and the profile keeps its most frequent values, as an
// encoder keeps its categories. Every reader refuses such an artifact.
func (k *stringKeeper) checkValue(x string, row int) error {
	n, over := artifact.StringTooLong(x)
	if !over {
		return nil
	}
	return fmt.Errorf("fit %s: column %q, data row %d holds a value of %d bytes (%d in the artifact's JSON) starting %q, more than the %d bytes an artifact may hold of a string (artifact.MaxStringBytes); the artifact keeps a column's categories and most frequent values: shorten or hash the column's values, or leave the column out of the spec and the data",
		k.source, k.column, row+1, len(x), n, x[:min(len(x), 40)], artifact.MaxStringBytes)
}

// intern returns x (of data row row) interned, or false when the column
// should leave the arena; a distinct value is checked (checkValue) once,
// when it is first interned.
func (k *stringKeeper) intern(x string, row int) (string, bool, error) {
	if x == "" {
		return "", true, nil
	}
	h := uint64(uintptr(unsafe.Pointer(unsafe.StringData(x)))) * 0x9E3779B97F4A7C15 >> (64 - seenBits)
	if v := k.seen[h]; v == x {
		return v, true, nil
	}
	v, ok := k.local[x]
	if !ok {
		if len(k.local) >= maxDistinct {
			return "", false, nil
		}
		if err := k.checkValue(x, row); err != nil {
			return "", false, err
		}
		if v, ok = arena.Intern(x); !ok {
			return "", false, nil
		}
		k.local[v] = v
	}
	k.seen[h] = v
	return v, true, nil
}

// toHeap moves the column to the heap: the values kept so far (interned,
// so the heap slice may keep them), with room for rest more.
func (k *stringKeeper) toHeap(kept []string, rest, total int) []string {
	col := make([]string, len(kept), max(total, len(kept)+rest))
	copy(col, kept)
	k.mem.FreeStrings(kept)
	k.heap, k.local, k.seen = true, nil, [1 << seenBits]string{}
	return col
}
