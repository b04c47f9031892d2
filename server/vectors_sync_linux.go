//go:build linux

package server

import (
	"os"
	"syscall"
)

// syncData makes f's data durable (fdatasync: its size too, not its
// modification time). The vector journal syncs twice per request (the
// frame, then its acknowledged length, rewritten in place); the second
// changes no size, so it costs a data write and a cache flush rather than
// a metadata commit.
func syncData(f *os.File) error {
	for {
		err := syscall.Fdatasync(int(f.Fd()))
		if err != syscall.EINTR {
			if err != nil {
				return &os.PathError{Op: "fdatasync", Path: f.Name(), Err: err}
			}
			return nil
		}
	}
}
