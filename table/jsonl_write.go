package table

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"unicode/utf8"
)

// JSONLWriter writes batches as JSON Lines: one object per row, its keys
// the writer's field names in field order. It implements Writer.
//
// Values are written as follows:
//
//	Numeric  finite  AppendFloat's shortest round-trip text: 3, 0.5, -0, 1e-05
//	         NaN     null
//	         ±Inf    the strings "Infinity" and "-Infinity" (JSON has no
//	                 literal for them; JSONLReader reads them back as ±Inf
//	                 in a Numeric column)
//	String   present a JSON string
//	         missing null
//
// Strings (and keys) escape '"', '\\' and control characters; other text is
// written as UTF-8, with each invalid UTF-8 byte replaced by U+FFFD, so the
// output is always valid JSON. Reading the output with JSONLReader gives
// back the same numbers bit for bit and the same (valid UTF-8) strings.
//
// A table with no rows is an empty file, which JSONLReader rejects: the
// column names live only in the rows.
//
// A writer made by CreateJSONL writes to a temporary file beside the
// destination and renames it into place on Close; Abort removes it.
type JSONLWriter struct {
	fields []Field
	keys   [][]byte // per field: `{"name":` for the first, `,"name":` after
	w      *bufio.Writer
	out    *tempFile // nil when writing to a plain io.Writer
	line   []byte
	err    error
	done   bool
}

// CreateJSONL creates a JSON Lines writer for the file at path ("-" writes
// standard output, without atomicity). A path ending in .gz or .zst is
// compressed as it is written (see CompressionOf).
func CreateJSONL(path string, fields []Field) (*JSONLWriter, error) {
	if path == "-" {
		return NewJSONLWriter(os.Stdout, fields), nil
	}
	tf, err := createOutput(path)
	if err != nil {
		return nil, err
	}
	jw := NewJSONLWriter(tf.writer(), fields)
	jw.out = tf
	return jw, nil
}

// NewJSONLWriter returns a writer of JSON Lines to w. Close flushes its
// buffer; it does not close w.
func NewJSONLWriter(w io.Writer, fields []Field) *JSONLWriter {
	jw := &JSONLWriter{
		fields: append([]Field(nil), fields...),
		keys:   make([][]byte, len(fields)),
		w:      bufio.NewWriterSize(w, writeBufferSize),
	}
	for j, f := range fields {
		sep := byte(',')
		if j == 0 {
			sep = '{'
		}
		jw.keys[j] = append(appendJSONString([]byte{sep}, f.Name), ':')
	}
	return jw
}

// Write appends the batch's rows. Its columns must match the writer's
// fields by name and kind, in order, and hold b.Rows rows each.
func (jw *JSONLWriter) Write(b *Batch) error {
	if jw.done {
		return errors.New("jsonl write: writer already closed")
	}
	if jw.err != nil {
		return jw.err
	}
	if err := checkJSONLBatch("jsonl write", jw.fields, b); err != nil {
		return err
	}
	for i := 0; i < b.Rows; i++ {
		line := jw.line[:0]
		if len(b.Cols) == 0 {
			line = append(line, '{')
		}
		for j := range b.Cols {
			line = append(line, jw.keys[j]...)
			c := &b.Cols[j]
			switch {
			case c.Kind == Numeric:
				line = AppendJSONFloat(line, c.Num[i])
			case c.Null != nil && c.Null[i]:
				line = append(line, "null"...)
			default:
				line = appendJSONString(line, c.Str[i])
			}
		}
		line = append(line, '}', '\n')
		jw.line = line
		if _, err := jw.w.Write(line); err != nil {
			jw.err = fmt.Errorf("jsonl write: %w", err)
			return jw.err
		}
	}
	return nil
}

// checkJSONLBatch validates a batch against a writer's fields; op prefixes the
// error.
func checkJSONLBatch(op string, fields []Field, b *Batch) error {
	if len(b.Cols) != len(fields) {
		return fmt.Errorf("%s: batch has %d columns, the writer has %d", op, len(b.Cols), len(fields))
	}
	for j, f := range fields {
		c := &b.Cols[j]
		if c.Name != f.Name || c.Kind != f.Kind {
			return fmt.Errorf("%s: column %d is %q (%s), want %q (%s)", op, j+1, c.Name, c.Kind, f.Name, f.Kind)
		}
		if c.Len() < b.Rows || (c.Kind == String && c.Null != nil && len(c.Null) < b.Rows) {
			return fmt.Errorf("%s: column %q has %d rows, the batch has %d", op, c.Name, c.Len(), b.Rows)
		}
	}
	return nil
}

// AppendJSONFloat appends v as a JSON value, as JSONLWriter writes a
// Numeric cell: null for NaN, the strings "Infinity" and "-Infinity" for
// ±Inf, else AppendFloat's text (always valid JSON number syntax, the
// shortest that parses back to v's bits). It is the one encoding of
// output numbers in JSON: the server's transform answer uses it too, so
// a value reads the same from POST /transform and from a .jsonl file.
func AppendJSONFloat(dst []byte, v float64) []byte {
	switch {
	case math.IsNaN(v):
		return append(dst, "null"...)
	case math.IsInf(v, 1):
		return append(dst, `"Infinity"`...)
	case math.IsInf(v, -1):
		return append(dst, `"-Infinity"`...)
	case v == math.Trunc(v) && math.Abs(v) < 1<<53 && (v != 0 || !math.Signbit(v)):
		// An integer (one-hot, ordinal, count outputs): AppendFloat's
		// text is its decimal digits, which AppendInt writes 2x faster
		// (0 and 1 take AppendFloat's slow path, through strconv).
		return strconv.AppendInt(dst, int64(v), 10)
	}
	return AppendFloat(dst, v)
}

const jsonlHexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string: '"', '\\' and control
// characters escaped (\n, \r, \t, \b, \f or \u00XX), invalid UTF-8 bytes
// replaced by U+FFFD, other text as is.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < utf8.RuneSelf && c != '"' && c != '\\' {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			ch, size := utf8.DecodeRuneInString(s[i:])
			if ch != utf8.RuneError || size != 1 {
				i += size
				continue
			}
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		case '\b':
			dst = append(dst, '\\', 'b')
		case '\f':
			dst = append(dst, '\\', 'f')
		default:
			if c < 0x20 {
				dst = append(dst, '\\', 'u', '0', '0', jsonlHexDigits[c>>4], jsonlHexDigits[c&0xf])
			} else {
				dst = utf8.AppendRune(dst, utf8.RuneError)
			}
		}
		i++
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// Close flushes the output and, for a file, syncs it and renames it into
// place. After a failed Write the output is discarded and the error
// returned. Close after Close or Abort does nothing.
func (jw *JSONLWriter) Close() error {
	if jw.done {
		return nil
	}
	jw.done = true
	if jw.err == nil {
		if err := jw.w.Flush(); err != nil {
			jw.err = fmt.Errorf("jsonl write: %w", err)
		}
	}
	if jw.out == nil {
		return jw.err
	}
	if jw.err != nil {
		jw.out.remove()
		return jw.err
	}
	return jw.out.commit()
}

// Abort discards the output: for a file, the temporary file is removed and
// the destination left untouched. Abort after Close or Abort does nothing.
func (jw *JSONLWriter) Abort() error {
	if jw.done {
		return nil
	}
	jw.done = true
	if jw.out == nil {
		return nil
	}
	return jw.out.remove()
}
