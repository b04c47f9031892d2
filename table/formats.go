package table

import (
	"fmt"
	"sync"
)

// FileFormat opens and creates the tables of one file format that lives
// outside this package, so that table's core does not import its library:
// Parquet is registered by package parquetio (import it, blank if need
// be, wherever Open or Create must handle .parquet files).
type FileFormat struct {
	// Open opens the table at path for reading.
	Open func(path string, opts OpenOptions) (Reader, error)
	// Create creates the table at path for writing with the given columns.
	Create func(path string, fields []Field) (Writer, error)
}

var (
	formatsMu sync.RWMutex
	formats   = map[string]FileFormat{}
)

// RegisterFormat makes Open and Create handle the files FormatOf names
// format (FormatParquet) with f. It is meant to be called from an init
// function; a later registration of the same format replaces the earlier.
func RegisterFormat(format string, f FileFormat) {
	formatsMu.Lock()
	defer formatsMu.Unlock()
	formats[format] = f
}

// registered returns the FileFormat registered for format, or an error
// saying which package to import.
func registered(path, format string) (FileFormat, error) {
	formatsMu.RLock()
	f, ok := formats[format]
	formatsMu.RUnlock()
	if !ok {
		return FileFormat{}, fmt.Errorf("%s: %s files are not supported by this program: it must import %s", path, format, formatPackage(format))
	}
	return f, nil
}

// formatPackage names the package that registers format.
func formatPackage(format string) string {
	if format == FormatParquet {
		return "github.com/normguard/normguard/parquetio"
	}
	return "the package that registers " + format
}
