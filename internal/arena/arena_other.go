//go:build !linux

package arena

// mapZeroed reports that this system has no mapping: the Arena allocates
// on the Go heap.
func mapZeroed(int) ([]byte, error) { return nil, nil }

// unmap is never called: nothing is mapped.
func unmap([]byte) {}
