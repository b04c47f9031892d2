package parquetio

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/normguard/normguard/internal/tempfile"
)

// tempFile is a temporary file beside its destination path, renamed into
// place on commit, as table's writers do.
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

// rename syncs the temporary file and renames it over the destination,
// keeping the destination's permissions when it exists.
func (t *tempFile) rename() error {
	mode := fs.FileMode(0o644)
	if st, err := os.Stat(t.path); err == nil {
		mode = st.Mode().Perm()
	}
	if err := t.file.Chmod(mode); err != nil {
		return err
	}
	if err := t.file.Sync(); err != nil {
		return err
	}
	if err := t.file.Close(); err != nil {
		return err
	}
	return os.Rename(t.file.Name(), t.path)
}

// remove closes and deletes the temporary file.
func (t *tempFile) remove() error {
	t.file.Close()
	if err := os.Remove(t.file.Name()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// resize returns s with length n, reusing its array when it is large
// enough (the old contents are kept, not cleared).
func resize[T any](s []T, n int) []T {
	if cap(s) >= n {
		return s[:n]
	}
	return make([]T, n)
}
