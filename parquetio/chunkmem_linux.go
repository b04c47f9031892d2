//go:build linux

package parquetio

import (
	"sync"
	"syscall"
	"unsafe"
)

// hugePage is the size of a transparent huge page on Linux (x86-64,
// arm64 with 4 KiB pages).
const hugePage = 2 << 20

// chunkMem hands out the buffers a Writer encodes column chunks into as
// anonymous memory asked to be backed by huge pages. On the Go heap they
// were filled 4 KiB page by page: the first two row groups of a Parquet
// transform of the benchmark table touched 66 MB of fresh memory, a
// quarter of the page faults of `fit --transform-out` (12,000 of 51,000),
// and a page fault costs about 12 µs in this virtual machine. A huge page
// is resident whole once touched, so only the whole huge pages of a
// buffer get them, its tail small pages: a buffer is sized for a row
// group of pages that do not compress, which a chunk of doubles nearly
// fills. The zero value is ready to use; release unmaps everything.
type chunkMem struct {
	mu   sync.Mutex
	maps [][]byte
}

// bytes returns a zeroed buffer of length 0 and capacity at least n.
func (m *chunkMem) bytes(n int) []byte {
	huge := n / hugePage * hugePage
	if huge == 0 {
		return make([]byte, 0, n)
	}
	size := (n + 4095) &^ 4095
	mapping, err := syscall.Mmap(-1, 0, size+hugePage, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON|syscall.MAP_NORESERVE)
	if err != nil {
		return make([]byte, 0, n)
	}
	start := uintptr(unsafe.Pointer(unsafe.SliceData(mapping)))
	off := int((start+hugePage-1)&^(hugePage-1) - start)
	buf := mapping[off : off+size : off+size]
	syscall.Madvise(buf[:huge], syscall.MADV_HUGEPAGE) // a hint: small pages without it
	m.mu.Lock()
	m.maps = append(m.maps, mapping)
	m.mu.Unlock()
	return buf[:0]
}

// release unmaps every buffer bytes returned; nothing may use them
// afterwards.
func (m *chunkMem) release() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, b := range m.maps {
		syscall.Munmap(b)
	}
	m.maps = nil
}

// discard gives the memory of every buffer back to the system, keeping
// the mappings (which then read as zeros) until release: the Reader
// discards its batch buffers when the input ends, while its last batch
// may still be referenced.
func (m *chunkMem) discard() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, b := range m.maps {
		syscall.Madvise(b, syscall.MADV_DONTNEED)
	}
}
