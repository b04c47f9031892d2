package fit

import (
	"fmt"
	"os"
	"sync"
	"syscall"
	"unsafe"
)

// Spill allocates the numeric columns of a fit in memory-mapped temporary
// files instead of the Go heap. The kernel then pages column data between
// memory and disk as needed, so a fit whose columns do not fit in memory
// slows down instead of running out of memory. The files are unlinked at
// once; Close unmaps them. A nil *Spill allocates on the heap.
type Spill struct {
	dir  string
	mu   sync.Mutex
	maps [][]byte
}

// NewSpill returns a Spill that creates its files in dir ("" is
// os.TempDir()).
func NewSpill(dir string) *Spill { return &Spill{dir: dir} }

// Floats returns a zeroed []float64 of length n.
func (s *Spill) Floats(n int) ([]float64, error) {
	if s == nil || n == 0 {
		return make([]float64, n), nil
	}
	f, err := os.CreateTemp(s.dir, "normguard-column-*")
	if err != nil {
		return nil, fmt.Errorf("spill: %w", err)
	}
	defer f.Close()
	os.Remove(f.Name())
	size := n * 8
	if err := f.Truncate(int64(size)); err != nil {
		return nil, fmt.Errorf("spill: %w", err)
	}
	b, err := syscall.Mmap(int(f.Fd()), 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("spill: map %d bytes: %w", size, err)
	}
	s.mu.Lock()
	s.maps = append(s.maps, b)
	s.mu.Unlock()
	return unsafe.Slice((*float64)(unsafe.Pointer(&b[0])), n), nil
}

// Close unmaps every column. Slices it returned must not be used after.
func (s *Spill) Close() error {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, b := range s.maps {
		syscall.Munmap(b)
	}
	s.maps = nil
	return nil
}
