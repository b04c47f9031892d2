package table

import (
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/klauspost/compress/zstd"
)

// Compressions a file name can end in, as CompressionOf names them.
const (
	CompressionNone = ""
	CompressionGzip = "gzip"
	CompressionZstd = "zstd"
)

// CompressionOf returns the compression a path's last extension names
// (case-insensitive): ".gz" gzip, ".zst" zstd, anything else none. rest is
// the path without that extension, which names the table's format.
func CompressionOf(path string) (compression, rest string) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".gz":
		return CompressionGzip, path[:len(path)-3]
	case ".zst":
		return CompressionZstd, path[:len(path)-4]
	}
	return CompressionNone, path
}

// source is an opened input: the (decompressed) bytes to read, what to
// close when done, and how far through the file reading is.
type source struct {
	r       io.Reader
	closer  io.Closer
	counter *countingReader // counts the file's own (compressed) bytes
	size    int64           // the file's size, 0 when unknown
}

// openSource opens the file at path for reading, decompressing it as its
// extension says (see CompressionOf). A file that is not valid gzip or
// zstd gives an error naming it, at open or on a later read.
func openSource(path string) (*source, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	s := &source{closer: f, counter: &countingReader{r: f}}
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		s.size = st.Size()
	}
	s.r = s.counter
	switch c, _ := CompressionOf(path); c {
	case CompressionGzip:
		zr, err := gzip.NewReader(s.counter)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("%s: not a valid gzip file (%v): check the file, or drop the .gz from its name if it is not compressed", path, err)
		}
		s.r = &decompressed{r: zr, format: c}
		s.closer = closers{zr, f}
	case CompressionZstd:
		zr, err := zstd.NewReader(s.counter)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("%s: zstd: %w", path, err)
		}
		s.r = &decompressed{r: zr, format: c}
		s.closer = closers{zstdCloser{zr}, f}
	}
	return s, nil
}

// decompressed names the compression in a decompressor's errors. A
// truncated stream's io.ErrUnexpectedEOF is wrapped too, so readers that
// take a bare io.ErrUnexpectedEOF for the end of a short read do not
// mistake a cut-off file for a complete one.
type decompressed struct {
	r      io.Reader
	format string
}

func (d *decompressed) Read(p []byte) (int, error) {
	n, err := d.r.Read(p)
	switch {
	case err == nil || err == io.EOF:
	case errors.Is(err, io.ErrUnexpectedEOF):
		err = fmt.Errorf("invalid %s data: %w: the file ends early; was it cut off?", d.format, err)
	default:
		err = fmt.Errorf("invalid %s data: %w", d.format, err)
	}
	return n, err
}

// zstdCloser adapts a zstd.Decoder, whose Close returns nothing.
type zstdCloser struct{ d *zstd.Decoder }

func (z zstdCloser) Close() error { z.d.Close(); return nil }

// closers closes each in order and returns the first error.
type closers []io.Closer

func (cs closers) Close() error {
	var first error
	for _, c := range cs {
		if err := c.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// createOutput creates the temporary file of an output at path, writing
// through a compressor when the path's extension names one. Writers write
// to its writer; commit closes the compressor before the rename.
func createOutput(path string) (*tempFile, error) {
	tf, err := createTemp(path)
	if err != nil {
		return nil, err
	}
	switch c, _ := CompressionOf(path); c {
	case CompressionGzip:
		// Level 1: writing a 150 MB transform output took 2.8 s against
		// 7.7 s at the default level 6, for a file 12% larger; the
		// compressor should not be the slowest stage.
		enc, _ := gzip.NewWriterLevel(tf.out, gzip.BestSpeed) // a valid level: no error
		tf.enc = enc
	case CompressionZstd:
		enc, err := zstd.NewWriter(tf.out)
		if err != nil {
			tf.remove()
			return nil, fmt.Errorf("create %s: %w", path, err)
		}
		tf.enc = enc
	}
	return tf, nil
}

// errCompressedParquet is returned for a Parquet file name with a
// compression extension: Parquet compresses its pages itself.
var errCompressedParquet = errors.New("a Parquet file is not wrapped in gzip or zstd: Parquet compresses its own pages; decompress it or name it .parquet")
