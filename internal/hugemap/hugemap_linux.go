//go:build linux

package hugemap

import (
	"syscall"
	"unsafe"
)

// Supported tells whether Map maps memory here.
const Supported = true

// Map maps n bytes of private anonymous zeroed memory. With huge > 0 the
// region starts on a huge page boundary and its first huge bytes (rounded
// down to whole huge pages) are asked to be backed by huge pages; with
// huge 0 it is a plain mapping. MAP_NORESERVE: only the pages written
// need memory, so the unwritten rest does not count against the
// system's commit limit. mapping is what Unmap releases.
func Map(n, huge int) (region, mapping []byte, err error) {
	extra := 0
	if huge > 0 {
		extra = PageSize
	}
	mapping, err = syscall.Mmap(-1, 0, n+extra, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON|syscall.MAP_NORESERVE)
	if err != nil {
		return nil, nil, err
	}
	if extra == 0 {
		return mapping[:n:n], mapping, nil
	}
	start := uintptr(unsafe.Pointer(unsafe.SliceData(mapping)))
	off := int((start+PageSize-1)&^(PageSize-1) - start)
	region = mapping[off : off+n : off+n]
	if huge = min(huge, n) / PageSize * PageSize; huge > 0 {
		syscall.Madvise(region[:huge], syscall.MADV_HUGEPAGE) // a hint: small pages without it
	}
	return region, mapping, nil
}

// Unmap releases a mapping of Map (nil: nothing).
func Unmap(mapping []byte) {
	if mapping != nil {
		syscall.Munmap(mapping)
	}
}

// Discard gives the memory of a mapping back to the system, keeping the
// mapping, which then reads as zeros.
func Discard(mapping []byte) {
	if mapping != nil {
		syscall.Madvise(mapping, syscall.MADV_DONTNEED)
	}
}
