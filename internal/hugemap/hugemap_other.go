//go:build !linux

package hugemap

// Supported tells whether Map maps memory here: not on this system, where
// callers allocate on the Go heap.
const Supported = false

// Map maps nothing here (nil, nil, nil).
func Map(n, huge int) (region, mapping []byte, err error) { return nil, nil, nil }

// Unmap is never given a mapping here.
func Unmap([]byte) {}

// Discard is never given a mapping here.
func Discard([]byte) {}
