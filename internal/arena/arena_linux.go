//go:build linux

package arena

import "syscall"

// mapZeroed maps n bytes of private anonymous memory. MAP_NORESERVE: the
// storage is sized from an estimate of the rows, and only the pages
// written need memory, so the unwritten rest should not count against the
// system's commit limit either.
func mapZeroed(n int) ([]byte, error) {
	return syscall.Mmap(-1, 0, n, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON|syscall.MAP_NORESERVE)
}

// unmap returns a mapping to the system.
func unmap(b []byte) { syscall.Munmap(b) }
