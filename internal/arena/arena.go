// Package arena hands out storage for large []float64 and []string
// columns outside the Go heap.
//
// fit holds every numeric column of its training data at once. On the Go
// heap those columns make the collector's goal (and with it the garbage it
// lets accumulate before collecting) grow with the data, so a fit's peak
// memory was about twice its columns. An Arena maps each column as
// anonymous memory the kernel fills with pages only where it is written:
// storage sized from an estimate of the row count costs memory only for
// the rows actually read, the collector never scans or counts it, and
// Close returns it to the system at once.
//
// A string column's headers (Strings) can live there too, but not its
// values' bytes, which other code keeps after the column is gone (a
// fitted category, an error naming a value): those are copied once per
// distinct value into a store that is never freed (Intern), and only such
// copies may be stored in Strings' storage.
//
// The price is manual lifetime: nothing may use a slice from an Arena
// after Free or Close (the memory is unmapped, so a use faults instead of
// reading stale values). Outside Linux an Arena allocates on the Go heap
// and Free and Close only forget the slices.
package arena

import (
	"fmt"
	"sync"
	"unsafe"
)

// Arena hands out zeroed []float64 and []string storage; see the package
// comment. The
// zero value is ready to use and safe for concurrent use. A nil *Arena
// allocates on the Go heap.
type Arena struct {
	mu   sync.Mutex
	maps map[uintptr][]byte // mapping by the address of the storage handed out
}

// Floats returns a zeroed []float64 of length n.
func (a *Arena) Floats(n int) ([]float64, error) {
	if a == nil || n == 0 {
		return make([]float64, n), nil
	}
	if n < 0 || n > maxFloats {
		return nil, fmt.Errorf("arena: cannot hold %d values", n)
	}
	p, err := a.alloc(n * 8)
	if err != nil {
		return nil, fmt.Errorf("arena: map %d values (%d MB): %w", n, n>>17, err)
	}
	if p == nil { // no mapping on this system: the Go heap
		return make([]float64, n), nil
	}
	return unsafe.Slice((*float64)(p), n), nil
}

// Strings returns a []string of length n, every value "", for a string
// column: only its headers (16 bytes a value) are outside the Go heap.
// The collector never scans that storage, so a string stored in it must
// not point into the Go heap, or the collector could free the bytes while
// the column still holds them: store only "" and values from Intern.
func (a *Arena) Strings(n int) ([]string, error) {
	if a == nil || n == 0 {
		return make([]string, n), nil
	}
	if n < 0 || n > maxFloats/2 {
		return nil, fmt.Errorf("arena: cannot hold %d strings", n)
	}
	p, err := a.alloc(n * 16)
	if err != nil {
		return nil, fmt.Errorf("arena: map %d strings (%d MB): %w", n, n>>16, err)
	}
	if p == nil {
		return make([]string, n), nil
	}
	return unsafe.Slice((*string)(p), n), nil
}

// alloc maps size zeroed bytes and remembers the mapping by the address
// it returns; nil when this system has no mapping.
func (a *Arena) alloc(size int) (unsafe.Pointer, error) {
	b, mapping, err := mapZeroed(size)
	if err != nil || b == nil {
		return nil, err
	}
	p := unsafe.Pointer(unsafe.SliceData(b))
	a.mu.Lock()
	if a.maps == nil {
		a.maps = map[uintptr][]byte{}
	}
	a.maps[uintptr(p)] = mapping
	a.mu.Unlock()
	return p, nil
}

// maxFloats bounds one request (64 GiB), far above any column fit holds,
// so that n*8 cannot overflow.
const maxFloats = 1 << 33

// Free releases the storage of xs, a slice Floats returned (or a reslice
// of it that starts at its first value), before Close. Slices of other
// storage are ignored, so a caller may pass what it holds without knowing
// where it came from. Nothing may use the storage afterwards.
func (a *Arena) Free(xs []float64) {
	if cap(xs) > 0 {
		a.free(unsafe.Pointer(unsafe.SliceData(xs)))
	}
}

// FreeStrings is Free for storage from Strings.
func (a *Arena) FreeStrings(xs []string) {
	if cap(xs) > 0 {
		a.free(unsafe.Pointer(unsafe.SliceData(xs)))
	}
}

// free unmaps the mapping that starts at p, if the arena has one.
func (a *Arena) free(p unsafe.Pointer) {
	if a == nil {
		return
	}
	a.mu.Lock()
	b, ok := a.maps[uintptr(p)]
	delete(a.maps, uintptr(p))
	a.mu.Unlock()
	if ok {
		unmap(b)
	}
}

// Close releases all storage the Arena handed out; nothing may use it
// afterwards. The Arena can be used again.
func (a *Arena) Close() error {
	if a == nil {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, b := range a.maps {
		unmap(b)
	}
	a.maps = nil
	return nil
}

// Mapped reports how many bytes the Arena holds mapped (not all of them
// need be in memory: only written pages are).
func (a *Arena) Mapped() int {
	if a == nil {
		return 0
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for _, b := range a.maps {
		n += len(b)
	}
	return n
}
