package parquetio

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/normguard/normguard/internal/tempfile"
)

// tempFile is a temporary file beside its destination path, renamed into
// place on commit, as table's writers do. Unlike them it writes through
// the page cache: O_DIRECT (internal/odirect) made a Parquet transform
// of the benchmark table slower (0.73 -> 0.98 s), its 132 MB waiting on
// the device one request at a time, for little kernel CPU saved.
type tempFile struct {
	file *os.File
	path string
}

// createTemp creates a temporary file in path's directory, named so that
// a later run removes it if this process dies before rename or remove
// (internal/tempfile).
func createTemp(path string) (*tempFile, error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := tempfile.Create(dir, base)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	return &tempFile{file: f, path: path}, nil
}

// rename commits the temporary file over the destination
// (tempfile.Commit).
func (t *tempFile) rename() error { return tempfile.Commit(t.file, t.path) }

// remove closes and deletes the temporary file.
func (t *tempFile) remove() error { return tempfile.Discard(t.file) }

// resize returns s with length n, reusing its array when it is large
// enough (the old contents are kept, not cleared).
func resize[T any](s []T, n int) []T {
	if cap(s) >= n {
		return s[:n]
	}
	return make([]T, n)
}
