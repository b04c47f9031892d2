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
// (case-insensitive): ".csv" or "-" (stdin/stdout) is CSV, ".parquet"
// Parquet, ".jsonl" JSON Lines. Other extensions are an error listing the
// supported ones.
func FormatOf(path string) (string, error) {
	if path == "-" {
		return FormatCSV, nil
	}
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return "", fmt.Errorf("%s is a folder, not a data file: pass a .csv, .parquet or .jsonl file in it", path)
	}
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".csv":
		return FormatCSV, nil
	case ".parquet":
		return FormatParquet, nil
	case ".jsonl":
		return FormatJSONL, nil
	default:
		if ext == "" {
			ext = "no extension"
		} else {
			ext = fmt.Sprintf("extension %q", ext)
		}
		return "", fmt.Errorf("%s: unsupported file type (%s): use .csv, .parquet or .jsonl, or - for CSV on standard input/output", path, ext)
	}
}

// Open opens the table at path for reading, choosing the reader by the
// file's extension (see FormatOf).
func Open(path string) (Reader, error) {
	format, err := FormatOf(path)
	if err != nil {
		return nil, err
	}
	switch format {
	case FormatCSV:
	case FormatParquet:
		r, err := OpenParquet(path, ParquetOptions{})
		if err != nil {
			return nil, err
		}
		return r, nil
	case FormatJSONL:
		r, err := OpenJSONL(path, JSONLOptions{})
		if err != nil {
			return nil, err
		}
		return r, nil
	default:
		return nil, notYet(path, format)
	}
	r, err := OpenCSV(path, CSVOptions{})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// Create creates the table at path for writing with the given columns,
// choosing the writer by the file's extension (see FormatOf).
func Create(path string, fields []Field) (Writer, error) {
	format, err := FormatOf(path)
	if err != nil {
		return nil, err
	}
	switch format {
	case FormatCSV:
	case FormatParquet:
		w, err := CreateParquet(path, fields)
		if err != nil {
			return nil, err
		}
		return w, nil
	case FormatJSONL:
		w, err := CreateJSONL(path, fields)
		if err != nil {
			return nil, err
		}
		return w, nil
	default:
		return nil, notYet(path, format)
	}
	w, err := CreateCSV(path, fields)
	if err != nil {
		return nil, err
	}
	return w, nil
}

func notYet(path, format string) error {
	return fmt.Errorf("%s: %s support is coming in a later release; use CSV for now", path, format)
}
