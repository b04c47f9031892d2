package table

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// File formats, as FormatOf names them.
const (
	FormatCSV     = "csv"
	FormatParquet = "parquet"
	FormatJSONL   = "jsonl"
)

// FormatOf returns the format of the file at path, from its extension
// (case-insensitive): ".csv", ".tsv" or "-" (stdin/stdout) is CSV (a TSV
// is CSV with tabs, see DialectOf), ".parquet" Parquet, ".jsonl" JSON
// Lines. A CSV, TSV or JSON Lines name may end in ".gz" or ".zst" (see
// CompressionOf); a Parquet one may not, since Parquet compresses its own
// pages. Other extensions are an error listing the supported ones.
func FormatOf(path string) (string, error) {
	if path == "-" {
		return FormatCSV, nil
	}
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return "", fmt.Errorf("%s is a folder, not a data file: pass a .csv, .tsv, .parquet or .jsonl file in it", path)
	}
	compression, rest := CompressionOf(path)
	switch ext := strings.ToLower(filepath.Ext(rest)); ext {
	case ".csv", ".tsv":
		return FormatCSV, nil
	case ".parquet":
		if compression != CompressionNone {
			return "", fmt.Errorf("%s: %w", path, errCompressedParquet)
		}
		return FormatParquet, nil
	case ".jsonl":
		return FormatJSONL, nil
	case ".npy":
		return npyFormat(path, compression)
	default:
		ext = strings.ToLower(filepath.Ext(path))
		if ext == "" {
			ext = "no extension"
		} else {
			ext = fmt.Sprintf("extension %q", ext)
		}
		return "", fmt.Errorf("%s: unsupported file type (%s): use .csv, .tsv, .parquet or .jsonl (.csv, .tsv and .jsonl may end in .gz or .zst), or - for CSV on standard input/output", path, ext)
	}
}

// Open opens the table at path for reading, choosing the reader by the
// file's extension (see FormatOf), decompressing a .gz or .zst file as it
// reads and splitting a CSV or TSV by its dialect (see DialectOf). Parquet
// is read by the reader package parquetio registers (RegisterFormat).
func Open(path string) (Reader, error) {
	return OpenWith(path, OpenOptions{})
}

// OpenOptions tune OpenWith. The zero value gives Open's defaults.
type OpenOptions struct {
	// BatchRows is the most rows a batch holds (0 means
	// DefaultBatchRows). It never changes what is read.
	BatchRows int
}

// OpenWith is Open with options.
func OpenWith(path string, opts OpenOptions) (Reader, error) {
	format, err := FormatOf(path)
	if err != nil {
		return nil, err
	}
	switch format {
	case FormatCSV:
	case FormatJSONL:
		r, err := OpenJSONL(path, JSONLOptions{BatchRows: opts.BatchRows})
		if err != nil {
			return nil, err
		}
		return r, nil
	default:
		f, err := registered(path, format)
		if err != nil {
			return nil, err
		}
		return f.Open(path, opts)
	}
	r, err := OpenCSV(path, CSVOptions{BatchRows: opts.BatchRows})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// Create creates the table at path for writing with the given columns,
// choosing the writer by the file's extension (see FormatOf), compressing
// a .gz or .zst file and delimiting a CSV or TSV by its dialect. Parquet
// is written by the writer package parquetio registers (RegisterFormat).
func Create(path string, fields []Field) (Writer, error) {
	format, err := FormatOf(path)
	if err != nil {
		return nil, err
	}
	switch format {
	case FormatCSV:
	case FormatJSONL:
		w, err := CreateJSONL(path, fields)
		if err != nil {
			return nil, err
		}
		return w, nil
	default:
		f, err := registered(path, format)
		if err != nil {
			return nil, err
		}
		return f.Create(path, fields)
	}
	w, err := CreateCSV(path, fields)
	if err != nil {
		return nil, err
	}
	return w, nil
}
