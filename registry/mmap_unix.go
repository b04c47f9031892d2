//go:build unix

package registry

import (
	"os"
	"syscall"
)

// withMapped calls fn with the first n bytes of f mapped read-only, so
// that reading a large upload does not copy it into the heap.
func withMapped(f *os.File, n int64, fn func([]byte) error) error {
	if n == 0 {
		return fn(nil)
	}
	data, err := syscall.Mmap(int(f.Fd()), 0, int(n), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return readAll(f, n, fn)
	}
	defer syscall.Munmap(data)
	return fn(data)
}
