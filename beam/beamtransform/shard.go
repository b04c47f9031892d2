package beamtransform

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem"

	"github.com/normguard/normguard/beam/beamfit"
	"github.com/normguard/normguard/internal/tempfile"
	"github.com/normguard/normguard/table"
	"github.com/normguard/normguard/transform"
)

// rangeReader is a core table reader over the records of one range. Its
// line numbers are shifted by lineOffset, so that errors name the line of
// the whole file; skipFirst drops the first row (a JSON Lines range is
// read behind the file's first line, which gives the column names). A
// rangeReader without a Reader reads no row.
type rangeReader struct {
	table.Reader
	closer     io.Closer
	lineOffset int64
	skipFirst  bool
	batch      table.Batch
	errFixed   bool
}

func newRangeReader(path string, tf TextFile, src readCloser, lineOffset int64, skipFirst bool) (*rangeReader, error) {
	var r table.Reader
	var err error
	if tf.JSONL {
		r, err = table.NewJSONLReader(src, path, table.JSONLOptions{})
	} else {
		r, err = table.NewCSVReader(src, path, table.CSVOptions{Delimiter: tf.Delim})
	}
	if err != nil {
		src.Close()
		return nil, err
	}
	return &rangeReader{Reader: r, closer: src, lineOffset: lineOffset, skipFirst: skipFirst}, nil
}

// openWhole opens a whole file with the core reader for its extension.
func openWhole(ctx context.Context, path string) (table.Reader, error) {
	return beamfit.OpenShard(ctx, path)
}

// Header returns the source's columns (nil for a reader without rows).
func (r *rangeReader) Header() []string {
	if r.Reader == nil {
		return nil
	}
	return r.Reader.Header()
}

// Project selects the columns (see table.Reader); a reader without rows
// accepts any.
func (r *rangeReader) Project(fields []table.Field) error {
	if r.Reader == nil {
		return nil
	}
	return r.Reader.Project(fields)
}

// Next reads the next batch, its lines shifted and, once, its first row
// dropped.
func (r *rangeReader) Next() bool {
	if r.Reader == nil {
		return false
	}
	for r.Reader.Next() {
		b := r.Reader.Batch()
		r.batch = *b
		for i := range r.batch.Lines {
			r.batch.Lines[i] += r.lineOffset
		}
		if r.skipFirst {
			r.skipFirst = false
			r.batch.Cols = make([]table.Column, len(b.Cols))
			for j := range b.Cols {
				r.batch.Cols[j] = b.Cols[j].Slice(1, b.Rows)
			}
			r.batch.Rows--
			if r.batch.Lines != nil {
				r.batch.Lines = r.batch.Lines[1:]
			}
			if r.batch.Rows == 0 {
				continue
			}
		}
		return true
	}
	return false
}

// Batch returns the current batch.
func (r *rangeReader) Batch() *table.Batch { return &r.batch }

// Err returns the reader's error, its line shifted to the whole file's.
func (r *rangeReader) Err() error {
	if r.Reader == nil {
		return nil
	}
	err := r.Reader.Err()
	var pe *table.ParseError
	if !r.errFixed && errors.As(err, &pe) {
		pe.Line += r.lineOffset
		r.errFixed = true
	}
	return err
}

// Close closes the reader and its source.
func (r *rangeReader) Close() error {
	if r.Reader == nil {
		return nil
	}
	err := r.Reader.Close()
	if r.closer != nil {
		err = errors.Join(err, r.closer.Close())
	}
	return err
}

// skipWriter drops the first n bytes written to it: the header line of
// every shard but the first.
type skipWriter struct {
	w io.Writer
	n int
}

func (s *skipWriter) Write(p []byte) (int, error) {
	drop := min(s.n, len(p))
	s.n -= drop
	if drop == len(p) {
		return len(p), nil
	}
	n, err := s.w.Write(p[drop:])
	return n + drop, err
}

// writeShard transforms every row of r with t and writes them to the
// shard at path with the core writer for its extension, the header only
// when header is set. A local shard is written to a temporary file and
// renamed into place; a remote one is one upload, committed by Close.
func writeShard(ctx context.Context, t *transform.Transformer, r table.Reader, source, path string, header bool) (int64, error) {
	dst, commit, abort, err := create(ctx, path)
	if err != nil {
		return 0, err
	}
	var w table.Writer
	if format, _ := table.FormatOf(path); format == table.FormatJSONL {
		w = table.NewJSONLWriter(dst, t.Outputs())
	} else {
		delim := table.DialectOf(path).Delimiter
		skip := 0
		if !header {
			var hdr bytes.Buffer
			hw := table.NewCSVWriterDelimited(&hdr, t.Outputs(), delim)
			if err := hw.Close(); err != nil {
				abort()
				return 0, err
			}
			skip = hdr.Len()
		}
		w = table.NewCSVWriterDelimited(&skipWriter{w: dst, n: skip}, t.Outputs(), delim)
	}
	rows, err := t.Stream(ctx, r, w, source)
	if err == nil {
		err = w.Close()
	} else {
		w.Abort()
	}
	if err != nil {
		abort()
		return rows, err
	}
	if err := commit(); err != nil {
		return rows, fmt.Errorf("write %s: %w", path, err)
	}
	return rows, nil
}

// create opens a shard for writing. commit makes it visible; abort
// discards it (a remote upload that is never closed is never committed).
func create(ctx context.Context, path string) (w io.Writer, commit func() error, abort func(), err error) {
	if !beamfit.Remote(path) {
		dir, base := filepath.Split(path)
		if dir == "" {
			dir = "."
		}
		f, err := tempfile.Create(dir, base)
		if err != nil {
			return nil, nil, nil, err
		}
		commit = func() error {
			if err := f.Close(); err != nil {
				os.Remove(f.Name())
				return err
			}
			if err := os.Rename(f.Name(), path); err != nil {
				os.Remove(f.Name())
				return err
			}
			return nil
		}
		abort = func() { f.Close(); os.Remove(f.Name()) }
		return f, commit, abort, nil
	}
	fs, err := filesystem.New(ctx, path)
	if err != nil {
		return nil, nil, nil, err
	}
	wc, err := fs.OpenWrite(ctx, path)
	if err != nil {
		fs.Close()
		return nil, nil, nil, fmt.Errorf("write %s: %w", path, err)
	}
	commit = func() error { return errors.Join(wc.Close(), fs.Close()) }
	abort = func() { fs.Close() }
	return wc, commit, abort, nil
}
