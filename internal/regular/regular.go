// Package regular opens files that must be plain files (state files,
// markers, journals, registry files) without blocking: a FIFO put in
// their place by hand hung the process that opened it (attack runs 11
// and 12), waiting for a writer or reader that never comes.
package regular

import (
	"fmt"
	"io"
	"os"
	"syscall"
)

// NotRegularError is a path that names something other than a plain
// file.
type NotRegularError struct {
	Path string
	Kind string // "a FIFO", "a device", "a folder", ...
}

func (e *NotRegularError) Error() string {
	return fmt.Sprintf("%s is not a regular file but %s", e.Path, e.Kind)
}

// OpenFile opens path with flag and perm as os.OpenFile does, but without
// blocking on a FIFO, and refuses anything but a regular file with a
// *NotRegularError. It returns the open file's stat.
func OpenFile(path string, flag int, perm os.FileMode) (*os.File, os.FileInfo, error) {
	f, err := os.OpenFile(path, flag|syscall.O_NONBLOCK, perm)
	if err != nil {
		return nil, nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, nil, &NotRegularError{Path: path, Kind: Kind(st.Mode())}
	}
	return f, st, nil
}

// Open opens path for reading (see OpenFile).
func Open(path string) (*os.File, os.FileInfo, error) {
	return OpenFile(path, os.O_RDONLY, 0)
}

// ReadFile reads the regular file at path.
func ReadFile(path string) ([]byte, error) {
	f, _, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

// Kind names what a file mode that is not regular is.
func Kind(m os.FileMode) string {
	switch {
	case m&os.ModeNamedPipe != 0:
		return "a FIFO"
	case m&os.ModeDevice != 0:
		return "a device"
	case m.IsDir():
		return "a folder"
	case m&os.ModeSocket != 0:
		return "a socket"
	default:
		return "not a plain file"
	}
}
