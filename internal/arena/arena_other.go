//go:build !linux

package arena

// mapZeroed reports that this system has no mapping: the Arena allocates
// on the Go heap.
func mapZeroed(int) (region, mapping []byte, err error) { return nil, nil, nil }

// unmap is never called: nothing is mapped.
func unmap([]byte) {}
