package table

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/normguard/normguard/internal/odirect"
	"github.com/normguard/normguard/internal/tempfile"
)

// tempFile is a temporary file beside its destination path, renamed into
// place on commit. Its bytes go through out, which writes them past the
// page cache where the system allows it (internal/odirect). When enc is
// set (a compressed output, see createOutput), text goes through it into
// out.
type tempFile struct {
	file *os.File
	out  *odirect.Writer
	enc  io.WriteCloser
	path string
}

// writer returns where an output's bytes go: the compressor, or the file.
func (t *tempFile) writer() io.Writer {
	if t.enc != nil {
		return t.enc
	}
	return t.out
}

// createTemp creates a temporary file in path's directory, named so that
// a later run removes it if this process dies before commit or remove
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

// commit syncs the temporary file and renames it over the destination,
// keeping the destination's permissions when it exists. On failure the
// temporary file is removed.
func (t *tempFile) commit() error {
	if err := t.rename(); err != nil {
		t.remove()
		return fmt.Errorf("write %s: %w", t.path, err)
	}
	return nil
}

func (t *tempFile) rename() error {
	if t.enc != nil {
		enc := t.enc
		t.enc = nil
		if err := enc.Close(); err != nil {
			return err
		}
	}
	if err := t.out.Close(); err != nil {
		return err
	}
	return tempfile.Commit(t.file, t.path)
}

// remove closes and deletes the temporary file.
func (t *tempFile) remove() error {
	if t.enc != nil {
		t.enc.Close() // stops a zstd encoder's goroutines; the bytes are discarded
		t.enc = nil
	}
	t.out.Abort()
	return tempfile.Discard(t.file)
}
