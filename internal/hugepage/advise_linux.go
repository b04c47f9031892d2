//go:build linux

package hugepage

import (
	"syscall"
	"unsafe"
)

// advise marks n bytes from p (both multiples of Size) for huge pages;
// an error (no THP in this kernel) leaves the memory as it is.
func advise(p unsafe.Pointer, n uintptr) {
	syscall.Syscall(syscall.SYS_MADVISE, uintptr(p), n, syscall.MADV_HUGEPAGE)
}
