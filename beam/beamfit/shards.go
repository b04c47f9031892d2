package beamfit

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem"
	"github.com/normguard/normguard/parquetio"
	"github.com/normguard/normguard/table"
)

// remote reports whether path names a file on a Beam file system (a URL
// such as gs://bucket/x.csv or s3://bucket/x.csv) rather than a local file.
func remote(path string) bool { return strings.Contains(path, "://") }

// ListShards expands the data patterns (comma-separated; local globs or
// Beam file-system globs such as gs://bucket/train/*.parquet) into the
// shard paths, sorted and without duplicates: the order that defines the
// training set's row order.
func ListShards(ctx context.Context, patterns string) ([]string, error) {
	var paths []string
	for _, pat := range strings.Split(patterns, ",") {
		pat = strings.TrimSpace(pat)
		if pat == "" {
			continue
		}
		var got []string
		var err error
		if remote(pat) {
			got, err = listRemote(ctx, pat)
		} else {
			got, err = filepath.Glob(pat)
		}
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", pat, err)
		}
		if len(got) == 0 {
			return nil, fmt.Errorf("list %s: no file matches; check the path and quote the pattern so the shell does not expand it", pat)
		}
		paths = append(paths, got...)
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("no data files given: pass --data 'PATTERN'")
	}
	slices.Sort(paths)
	return slices.Compact(paths), nil
}

func listRemote(ctx context.Context, pattern string) ([]string, error) {
	fs, err := filesystem.New(ctx, pattern)
	if err != nil {
		return nil, err
	}
	defer fs.Close()
	return fs.List(ctx, pattern)
}

// OpenShard opens a data file (a local path or a Beam file-system URL)
// with the core's table reader for its extension; see openShard.
func OpenShard(ctx context.Context, path string) (table.Reader, error) { return openShard(ctx, path) }

// WriteFile writes data to a local path (atomically: a temporary file
// renamed into place) or to a Beam file-system URL (one upload).
func WriteFile(ctx context.Context, path string, data []byte, local func(string, []byte) error) error {
	return writeFile(ctx, path, data, local)
}

// Remote reports whether path names a file on a Beam file system (a URL
// such as gs://bucket/x.csv) rather than a local file.
func Remote(path string) bool { return remote(path) }

// openShard opens a shard with the core's table reader for its extension.
// A remote shard is read into memory first (Parquet needs random access).
func openShard(ctx context.Context, path string) (table.Reader, error) {
	if !remote(path) {
		return table.Open(path)
	}
	format, err := table.FormatOf(path)
	if err != nil {
		return nil, err
	}
	if c, _ := table.CompressionOf(path); c != table.CompressionNone {
		return nil, fmt.Errorf("open %s: compressed remote shards are not read yet; store the shards uncompressed or as Parquet (which compresses its own pages)", path)
	}
	fs, err := filesystem.New(ctx, path)
	if err != nil {
		return nil, err
	}
	defer fs.Close()
	rc, err := fs.OpenRead(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	data, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	switch format {
	case table.FormatParquet:
		return parquetio.NewReader(bytes.NewReader(data), int64(len(data)), path, parquetio.Options{})
	case table.FormatJSONL:
		return table.NewJSONLReader(bytes.NewReader(data), path, table.JSONLOptions{})
	default:
		return table.NewCSVReader(bytes.NewReader(data), path, table.CSVOptions{Delimiter: table.DialectOf(path).Delimiter})
	}
}

// writeFile writes data to path, atomically for a local path.
func writeFile(ctx context.Context, path string, data []byte, local func(string, []byte) error) error {
	if !remote(path) {
		return local(path, data)
	}
	fs, err := filesystem.New(ctx, path)
	if err != nil {
		return err
	}
	defer fs.Close()
	w, err := fs.OpenWrite(ctx, path)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := w.Write(data); err != nil {
		w.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
