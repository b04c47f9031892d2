//go:build !unix

package registry

import "os"

// withMapped calls fn with the first n bytes of f, read into memory where
// mapping is not available.
func withMapped(f *os.File, n int64, fn func([]byte) error) error { return readAll(f, n, fn) }
