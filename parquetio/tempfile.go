package parquetio

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/normguard/normguard/internal/odirect"
	"github.com/normguard/normguard/internal/tempfile"
)

// tempFile is a temporary file beside its destination path, renamed into
// place on commit, as table's writers do. Its bytes go through out,
// which writes them past the page cache where the system allows it
// (internal/odirect).
type tempFile struct {
	file *os.File
	out  *odirect.Writer
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
	return &tempFile{file: f, out: odirect.New(f), path: path}, nil
}

// rename writes out's last bytes and commits the temporary file over the
// destination (tempfile.Commit).
func (t *tempFile) rename() error {
	if err := t.out.Close(); err != nil {
		return err
	}
	return tempfile.Commit(t.file, t.path)
}

// remove closes and deletes the temporary file.
func (t *tempFile) remove() error {
	t.out.Abort()
	return tempfile.Discard(t.file)
}

// resize returns s with length n, reusing its array when it is large
// enough (the old contents are kept, not cleared).
func resize[T any](s []T, n int) []T {
	if cap(s) >= n {
		return s[:n]
	}
	return make([]T, n)
}
