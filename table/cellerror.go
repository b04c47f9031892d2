package table

import (
	"fmt"
	"strings"

	"github.com/normguard/normguard/internal/errtext"
)

// CellError locates a value that a row-addressed reader (Parquet) cannot
// convert: the file, the 1-based data row and the column.
type CellError struct {
	File   string
	Row    int64 // 1-based data row
	Column string
	Err    error
	Hint   string // what the user can do about it, if anything
}

// Error formats the error as
//
//	data.parquet: row 17: column "age": cannot parse "abc" as a number; <hint>
func (e *CellError) Error() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "%s: row %d: column %s: %v", e.File, e.Row, errtext.Quote(e.Column), e.Err)
	if e.Hint != "" {
		sb.WriteString("; ")
		sb.WriteString(e.Hint)
	}
	return sb.String()
}

// Unwrap returns the underlying error.
func (e *CellError) Unwrap() error { return e.Err }
