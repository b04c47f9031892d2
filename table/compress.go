package table

import (
	"compress/gzip"
	"encoding/binary"
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
		enc, _ := gzip.NewWriterLevel(tf.base(), gzip.BestSpeed) // a valid level: no error
		tf.enc = enc
	case CompressionZstd:
		enc, err := zstd.NewWriter(tf.base())
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

// assumedRatio is how many times its size a compressed file is taken to
// expand to when the file does not record its decompressed size, or may
// record it short (see TextSize). CSV of numbers typically compresses 3 to
// 10 times with gzip or zstd; taking the high end errs toward spilling,
// which costs some speed, rather than toward running out of memory.
const assumedRatio = 10

// TextSize estimates how many bytes of text (or of Parquet) the data file
// at path holds once decompressed, for deciding before reading it whether
// its columns fit in memory. ok is false when that cannot be told (standard
// input, a pipe, a file that cannot be opened).
//
//   - An uncompressed file: its size.
//   - gzip: the larger of the size its trailer records (ISIZE: the
//     decompressed size of the last member, modulo 4 GiB) and assumedRatio
//     times the file's size.
//   - zstd: the larger of the content size its first frame's header
//     records (when the compressor wrote it, as the zstd tool does for a
//     file) and assumedRatio times the file's size.
//
// The size a gzip or zstd file records is exact for a file written in one
// piece of up to 4 GiB of text (gzip) or of any size (zstd, one frame);
// concatenated members or frames, or gzip past 4 GiB, record less, and
// then the assumed ratio is what is left. fit --spill auto compared a .gz
// file's own size with memory: a 10 MB .gz of 2 GB of rows never spilled
// and took 4.6 GB (issue 12, F2).
func TextSize(path string) (size int64, ok bool) {
	if path == "-" {
		return 0, false
	}
	f, err := os.Open(path)
	if err != nil {
		return 0, false
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		return 0, false
	}
	size = st.Size()
	c, _ := CompressionOf(path)
	if c == CompressionNone {
		return size, true
	}
	recorded := int64(0)
	switch c {
	case CompressionGzip:
		var tail [4]byte
		if size >= 18 { // a gzip header and trailer at least
			if _, err := f.ReadAt(tail[:], size-4); err == nil {
				recorded = int64(binary.LittleEndian.Uint32(tail[:]))
			}
		}
	case CompressionZstd:
		head := make([]byte, zstd.HeaderMaxSize)
		n, _ := io.ReadFull(f, head)
		var h zstd.Header
		if h.Decode(head[:n]) == nil && h.HasFCS {
			recorded = int64(min(h.FrameContentSize, 1<<62))
		}
	}
	return max(recorded, size*assumedRatio), true
}
