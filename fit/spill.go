package fit

import (
	"fmt"
	"os"
	"sync"
	"syscall"
	"unsafe"

	"github.com/normguard/normguard/internal/arena"
	"github.com/normguard/normguard/stats"
)

// Spill allocates the numeric columns of a fit outside the Go heap, in
// one of two ways:
//
//   - NewSpill: memory-mapped temporary files. The kernel then pages column
//     data between memory and disk as needed, so a fit whose columns do
//     not fit in memory slows down instead of running out of memory. The
//     files are unlinked at once.
//   - NewArena: anonymous memory (internal/arena). Columns sized from an
//     estimate of the row count cost memory only for the rows read, and
//     the collector neither counts nor scans them, so the Go heap, and
//     the garbage it lets build up, stays small: the fit's peak memory is
//     close to the columns' own size.
//
// Close unmaps everything. A nil *Spill allocates on the heap.
type Spill struct {
	dir  string
	mem  *arena.Arena // NewArena's; nil for files
	mu   sync.Mutex
	maps [][]byte
	// free holds scratch buffers (Get, Put) not in use.
	free [][]float64
}

// NewSpill returns a Spill that creates its files in dir ("" is
// os.TempDir()).
func NewSpill(dir string) *Spill { return &Spill{dir: dir} }

// NewArena returns a Spill in anonymous memory (no files).
func NewArena() *Spill { return &Spill{mem: &arena.Arena{}} }

// InMemory reports whether s is an arena (NewArena): the fit's columns,
// string columns included, are then all outside the Go heap. Files
// (NewSpill) hold only the numeric columns.
func (s *Spill) InMemory() bool { return s != nil && s.mem != nil }

// Floats returns a zeroed []float64 of length n.
func (s *Spill) Floats(n int) ([]float64, error) {
	if s == nil || n == 0 {
		return make([]float64, n), nil
	}
	if s.mem != nil {
		return s.mem.Floats(n)
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

// Free gives back storage from Floats that is no longer used: an arena's
// is unmapped at once, a file's stays mapped until Close.
func (s *Spill) Free(xs []float64) {
	if s != nil && s.mem != nil {
		s.mem.Free(xs)
	}
}

// sortBuffers returns the scratch that fit's order statistics sort their
// copies of a column in: the Spill's own, reused from column to column,
// when it is an arena, else nil (the sorts allocate on the heap).
func (s *Spill) sortBuffers() stats.Buffers {
	if s == nil || s.mem == nil {
		return nil
	}
	return s
}

// Get returns a scratch buffer of length 0 and capacity at least n (its
// contents unspecified), reusing one Put gave back when one is large
// enough. It implements stats.Buffers. On failure to map it returns nil,
// and the caller allocates on the heap.
func (s *Spill) Get(n int) []float64 {
	s.mu.Lock()
	for i, b := range s.free {
		if cap(b) >= n {
			s.free = append(s.free[:i], s.free[i+1:]...)
			s.mu.Unlock()
			return b[:0]
		}
	}
	s.mu.Unlock()
	b, err := s.Floats(n)
	if err != nil {
		return nil
	}
	return b[:0]
}

// Put gives a buffer from Get back for reuse.
func (s *Spill) Put(b []float64) {
	if cap(b) == 0 {
		return
	}
	s.mu.Lock()
	s.free = append(s.free, b[:0])
	s.mu.Unlock()
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
	s.free = nil
	return s.mem.Close()
}
