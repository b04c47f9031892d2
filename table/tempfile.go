package table

import (
	"bufio"
	"fmt"
	"io"

	"github.com/normguard/normguard/internal/odirect"
	"github.com/normguard/normguard/internal/tempfile"
)

// tempFile is an output file being written (tempfile.Output): usually a
// temporary file beside its destination path, renamed into place on
// commit, whose bytes go through out, which writes them past the page
// cache where the system allows it (internal/odirect). An existing
// character device or FIFO, or standard output, is written in place
// through buf instead (O_DIRECT is no use there, and turning it on for
// standard output would change the caller's open file). When enc is set
// (a compressed output, see createOutput), text goes through it first.
type tempFile struct {
	o    *tempfile.Output
	out  *odirect.Writer // nil when written in place
	buf  *bufio.Writer   // when written in place
	enc  io.WriteCloser
	path string
}

// inPlaceBuffer is the write buffer of an output written in place.
const inPlaceBuffer = 1 << 20

// writer returns where an output's bytes go: the compressor, or the file.
func (t *tempFile) writer() io.Writer {
	if t.enc != nil {
		return t.enc
	}
	return t.base()
}

// base returns the writer of the file itself (under any compressor).
func (t *tempFile) base() io.Writer {
	if t.out != nil {
		return t.out
	}
	return t.buf
}

// createTemp opens the output at path (tempfile.CreateOutput): a
// temporary file in the directory of path (or of its symbolic link's
// target), named so that a later run removes it if this process dies
// before commit or remove (internal/tempfile); or, for a device, FIFO or
// standard output, the destination itself.
func createTemp(path string) (*tempFile, error) {
	o, err := tempfile.CreateOutput(path)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	t := &tempFile{o: o, path: path}
	if o.InPlace() {
		t.buf = bufio.NewWriterSize(o.File(), inPlaceBuffer)
	} else {
		t.out = odirect.New(o.File())
	}
	return t, nil
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
	if t.out != nil {
		if err := t.out.Close(); err != nil {
			return err
		}
	} else if err := t.buf.Flush(); err != nil {
		return err
	}
	return t.o.Commit()
}

// remove closes and deletes the temporary file (an output written in
// place is closed; what reached it stays).
func (t *tempFile) remove() error {
	if t.enc != nil {
		t.enc.Close() // stops a zstd encoder's goroutines; the bytes are discarded
		t.enc = nil
	}
	if t.out != nil {
		t.out.Abort()
	}
	return t.o.Discard()
}
