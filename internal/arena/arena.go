// Package arena hands out storage for large []float64 columns outside the
// Go heap.
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

// Arena hands out zeroed []float64 storage; see the package comment. The
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
	b, mapping, err := mapZeroed(n * 8)
	if err != nil {
		return nil, fmt.Errorf("arena: map %d values (%d MB): %w", n, n>>17, err)
	}
	if b == nil { // no mapping on this system: the Go heap
		return make([]float64, n), nil
	}
	a.mu.Lock()
	if a.maps == nil {
		a.maps = map[uintptr][]byte{}
	}
	a.maps[uintptr(unsafe.Pointer(unsafe.SliceData(b)))] = mapping
	a.mu.Unlock()
	return unsafe.Slice((*float64)(unsafe.Pointer(unsafe.SliceData(b))), n), nil
}

// maxFloats bounds one request (64 GiB), far above any column fit holds,
// so that n*8 cannot overflow.
const maxFloats = 1 << 33

// Free releases the storage of xs, a slice Floats returned (or a reslice
// of it that starts at its first value), before Close. Slices of other
// storage are ignored, so a caller may pass what it holds without knowing
// where it came from. Nothing may use the storage afterwards.
func (a *Arena) Free(xs []float64) {
	if a == nil || cap(xs) == 0 {
		return
	}
	at := uintptr(unsafe.Pointer(unsafe.SliceData(xs)))
	a.mu.Lock()
	b, ok := a.maps[at]
	delete(a.maps, at)
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
