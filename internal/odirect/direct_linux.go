//go:build linux

package odirect

import (
	"errors"
	"os"
	"syscall"

	"github.com/normguard/normguard/internal/hugemap"
)

// mapBuffers maps n bytes of anonymous memory (n a multiple of
// hugemap.PageSize) starting on a huge page boundary, which is also a
// block boundary, and asks for huge pages there: 4 page faults per 8 MiB
// buffer instead of 2,048. mapping is what unmap releases.
func mapBuffers(n int) (region, mapping []byte, err error) { return hugemap.Map(n, n) }

// unmap releases a mapping of mapBuffers (nil: nothing).
func unmap(mapping []byte) { hugemap.Unmap(mapping) }

// setDirect turns O_DIRECT on or off for f's open file description.
func setDirect(f *os.File, on bool) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var opErr error
	err = rc.Control(func(fd uintptr) {
		flags, _, errno := syscall.Syscall(syscall.SYS_FCNTL, fd, syscall.F_GETFL, 0)
		if errno != 0 {
			opErr = errno
			return
		}
		if on {
			flags |= syscall.O_DIRECT
		} else {
			flags &^= syscall.O_DIRECT
		}
		if _, _, errno := syscall.Syscall(syscall.SYS_FCNTL, fd, syscall.F_SETFL, flags); errno != 0 {
			opErr = errno
		}
	})
	if err != nil {
		return err
	}
	return opErr
}

// isInvalid reports whether err is EINVAL, what a direct write the file
// system cannot do returns.
func isInvalid(err error) bool { return errors.Is(err, syscall.EINVAL) }
