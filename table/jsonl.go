package table

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"

	"github.com/normguard/normguard/internal/errtext"
)

// ErrJSONLSyntax is wrapped by the errors a JSONL reader returns for input
// that is not one flat JSON object per line: malformed JSON, nested values,
// duplicate keys, keys the first row does not have.
var ErrJSONLSyntax = errors.New("jsonl syntax error")

// ErrNotUTF8 is wrapped by the error a JSONL reader returns for a key, or
// a value of a column read, that is not UTF-8 text.
var ErrNotUTF8 = errors.New("text that is not UTF-8")

// jsonlHint is the hint of a JSONL syntax error.
const jsonlHint = "each line must hold one flat JSON object"

// JSONLOptions configures a JSONL reader. The zero value is ready to use.
type JSONLOptions struct {
	// BatchRows is the number of rows per batch (0 means DefaultBatchRows).
	BatchRows int
}

// JSONLReader reads a JSON Lines file as batches of columns. It implements
// Reader.
//
// The input holds one JSON object per line (a line ends in LF or CRLF;
// blank lines are skipped but counted in line numbers; a leading UTF-8 byte
// order mark is skipped). The header is the keys of the first object, in
// the order they appear in its text. Later objects may list those keys in
// any order and may omit some (the value is then missing), but every key
// must be one of the first object's, and no object may repeat a key.
// Values must be scalars; a nested object or array is an error naming the
// line and key.
//
// A value becomes a cell as follows:
//
//	JSON value      Numeric column                 String column
//	null / absent   NaN (missing)                  missing
//	number          strconv.ParseFloat of its text its text, as written
//	string          parsed like a CSV cell (*)     the text
//	true / false    a *ParseError (**)             "true" / "false"
//
// (**) as the CSV cell "true" is, and as type inference takes it (text):
// write 1 / 0, or declare the column categorical.
//
// (*) spaces and tabs are trimmed, pandas' NA strings ("NA", "null", "",
// ...) are missing, "Infinity" and "-Infinity" give ±Inf, and other text is
// a *ParseError naming the file, line and column. A number beyond the
// float64 range gives ±Inf. Strings are decoded as encoding/json does,
// escapes resolved, but for text that is not UTF-8 (bytes UTF-8 does not
// have, as in a Latin-1 file, or an unpaired surrogate escape such as
// \udce9), which encoding/json turns into U+FFFD: such a key, or such a
// value of a column read, is a *ParseError wrapping ErrNotUTF8 naming the
// line and column (a value of a column not read is skipped). So String
// cells are always valid UTF-8, and two values differing only in such
// bytes are never merged into one.
//
// The reader scans each line with a small hand-written scanner (no
// reflection, no per-value allocation), reuses its buffers across batches
// and lets repeated values of a string column share one string.
type JSONLReader struct {
	textInput
	batchRows int

	header    []string
	index     map[string]int
	proj      []jsonlProjection
	projected bool
	started   bool
	done      bool
	rows      int64 // data rows delivered so far

	// The object being converted: its line number, its text, its key/value
	// pairs in text order (unescaped strings live in arena) and, per header
	// column, its value.
	lineNo    int64
	lineStart int // index of text in buf
	text      []byte
	arena     []byte
	pairs     []jsonlPair
	slots     []jsonlValue

	batch Batch
	err   error
}

// jsonlProjection is one requested column.
type jsonlProjection struct {
	field  int // index in the header
	kind   Kind
	intern interner     // String columns: repeated values share storage
	null   []bool       // String columns: mask buffer reused across batches
	nulls  bool         // the current batch has a missing value
	vec    *jsonlVector // Vector columns: dimension (vector_jsonl.go)
}

// Kinds of JSON values; valueAbsent marks a key the object does not have.
const (
	valueAbsent uint8 = iota
	valueNull
	valueFalse
	valueTrue
	valueNumber
	valueString
)

// jsonlText locates text of the current object: text[lo:hi], or
// arena[lo:hi] when inArena. bad marks a string that is not UTF-8: lo:hi
// then locate its raw text between the quotes in text.
type jsonlText struct {
	lo, hi  int32
	inArena bool
	bad     bool
}

// jsonlValue is one value of the current object; text is set for numbers
// (the literal) and strings (the decoded text). A number's value is num
// when exact, else strconv.ParseFloat of its text.
type jsonlValue struct {
	kind  uint8
	exact bool
	text  jsonlText
	num   float64
}

// jsonlPair is one key and its value.
type jsonlPair struct {
	key jsonlText
	val jsonlValue
}

// OpenJSONL opens the JSON Lines file at path ("-" reads standard input)
// and reads its first object's keys as the header. A path ending in .gz
// or .zst is decompressed as it is read (see CompressionOf).
func OpenJSONL(path string, opts JSONLOptions) (*JSONLReader, error) {
	return openText(path, func(src io.Reader, name string) (*JSONLReader, error) {
		return NewJSONLReader(src, name, opts)
	})
}

func (r *JSONLReader) input() *textInput { return &r.textInput }

// EstimateRows implements RowEstimator: the rows read so far extrapolated
// to the whole file by the bytes consumed (0 when that cannot be told).
func (r *JSONLReader) EstimateRows() int64 { return r.estimateRows(r.rows) }

// NewJSONLReader returns a reader of the JSON Lines text in src and reads
// its first object's keys as the header. name identifies the source in
// error messages. Close does not close src. An input without any object is
// an error wrapping ErrNoHeader.
func NewJSONLReader(src io.Reader, name string, opts JSONLOptions) (*JSONLReader, error) {
	return newJSONLReader(src, name, opts, blockSize)
}

// newJSONLReader is NewJSONLReader with a given block size (tests use tiny
// blocks to make lines straddle refills).
func newJSONLReader(src io.Reader, name string, opts JSONLOptions, block int) (*JSONLReader, error) {
	r := &JSONLReader{batchRows: opts.BatchRows}
	r.rowWord, r.rowErr, r.rowHint = "line", ErrJSONLSyntax, jsonlHint
	r.longCell = r.findLongValue
	if r.batchRows <= 0 {
		r.batchRows = DefaultBatchRows
	}
	if err := r.startText(src, name, block); err != nil {
		return nil, err
	}
	if err := r.readHeader(); err != nil {
		return nil, r.encodingHint(err)
	}
	return r, nil
}

// readHeader takes the header from the first object's keys, leaving the
// object unread: it is also the first data row.
func (r *JSONLReader) readHeader() error {
	for {
		ok, err := r.nextLine()
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("%s: %w (no JSON object to take the column names from)", r.name, ErrNoHeader)
		}
		if isBlankJSON(r.text) {
			continue
		}
		if err := r.scanObject(); err != nil {
			return err
		}
		r.header = make([]string, len(r.pairs))
		r.index = make(map[string]int, len(r.pairs))
		for i, p := range r.pairs {
			name := string(r.bytesOf(p.key))
			if _, dup := r.index[name]; dup {
				return r.keyError(name, "duplicate key", "give each key once")
			}
			r.header[i] = name
			r.index[name] = i
		}
		r.slots = make([]jsonlValue, len(r.header))
		r.pos, r.line = r.lineStart, r.lineNo
		return nil
	}
}

// Header returns the first object's keys in text order.
func (r *JSONLReader) Header() []string {
	return slices.Clone(r.header)
}

// Project selects the columns batches hold, in order, and their kinds
// (Numeric or String). It must be called before the first Next; without
// it every column is read as String. The error for absent columns names
// them, the file and the header's columns.
func (r *JSONLReader) Project(fields []Field) error {
	if r.started {
		return fmt.Errorf("%s: project: called after reading started", r.name)
	}
	at, err := resolveFields(r.name, "the header (the first row's keys)", r.index, r.header, scalarFields(fields))
	if err != nil {
		return err
	}
	proj := make([]jsonlProjection, len(fields))
	for i, f := range fields {
		proj[i] = jsonlProjection{field: at[i], kind: f.Kind}
		if f.Kind == String {
			proj[i].intern = interner{}
		}
		if f.Kind == Vector {
			proj[i].vec = &jsonlVector{}
		}
	}
	r.proj = proj
	r.batch.Cols = NewColumns(fields)
	r.projected = true
	return nil
}

// Next reads the next batch of up to BatchRows rows. It returns false at
// the end of the input or on error (see Err).
func (r *JSONLReader) Next() bool {
	if r.err != nil || r.done {
		return false
	}
	if !r.projected {
		fields := make([]Field, len(r.header))
		for i, h := range r.header {
			fields[i] = Field{Name: h, Kind: String}
		}
		if err := r.Project(fields); err != nil {
			r.err = err
			return false
		}
	}
	r.started = true
	r.startBatch()
	n := 0
	for n < r.batchRows {
		ok, err := r.nextLine()
		if err != nil {
			r.err = err
			return false
		}
		if !ok {
			break
		}
		if isBlankJSON(r.text) {
			continue
		}
		if err := r.readRow(); err != nil {
			r.err = err
			return false
		}
		n++
	}
	r.finishBatch(n)
	if n == 0 {
		r.done = true
		return false
	}
	r.rows += int64(n)
	return true
}

// nextLine sets text to the next line (without its LF) and lineNo to its
// number, consuming it. It returns false at the end of the input.
func (r *JSONLReader) nextLine() (bool, error) {
	for {
		data := r.buf[r.pos:r.end]
		r.lineStart = r.pos
		if k := bytes.IndexByte(data, '\n'); k >= 0 {
			r.text = data[:k]
			r.pos += k + 1
			break
		}
		if r.eof {
			if len(data) == 0 {
				return false, nil
			}
			r.text = data
			r.pos = r.end
			break
		}
		if err := r.fill(); err != nil {
			return false, err
		}
	}
	if len(r.text) > MaxCellBytes {
		if err := r.findLongValue(r.text, r.line); err != nil {
			return false, err
		}
	}
	r.lineNo = r.line
	r.line++
	return true, nil
}

// findLongValue returns the error for the first key or value of an
// object's line longer than MaxCellBytes (its text in the file, quotes and
// escapes included; an array whole), or nil when there is none. The line
// may be cut short (the unread input fill holds), so a value still growing
// counts by what is there. It only measures: the scanner (scanObject)
// checks the syntax. A data row with more keys than the header is refused
// here too.
func (r *JSONLReader) findLongValue(line []byte, lineNo int64) error {
	depth, keys := 0, 0
	var key []byte // the key of the value being read, at depth 1
	valueAt := -1  // where that value starts, or -1 before its ':'
	// between counts the bytes outside every key and value: white space
	// around the pairs, or bytes that are no JSON at all (attack run 12:
	// 900 MB of spaces between two keys, or /dev/zero named x.jsonl, were
	// held whole, up to 1 GiB, before the row was judged).
	between := 0
	tooLong := func(what string) error {
		return &ParseError{File: r.name, Line: lineNo, Column: string(key),
			Err:  fmt.Errorf("%w: %s holds more than %d bytes (16 MiB), the most a cell may hold", ErrCellTooLong, what, MaxCellBytes),
			Hint: "shorten or leave out the long values"}
	}
	for i := 0; i < len(line); i++ {
		switch line[i] {
		case '"':
			start := i
			for i++; i < len(line) && line[i] != '"'; i++ {
				if line[i] == '\\' {
					i++
				}
			}
			if depth == 1 && valueAt < 0 {
				if min(i, len(line))-start > MaxCellBytes {
					key = nil
					return tooLong("a key")
				}
				key = line[start+1 : min(i, len(line))]
				// Every key is one of the first object's, once: an object
				// with more keys is refused before its pairs are held.
				if keys++; len(r.header) > 0 && keys > len(r.header) {
					return &ParseError{File: r.name, Line: lineNo,
						Err:  fmt.Errorf("%w: the object has more keys than the first row's %d", ErrJSONLSyntax, len(r.header)),
						Hint: "all rows must use the first row's keys, each once"}
				}
			}
		case ':':
			if depth == 1 {
				valueAt = i + 1
			}
		case '{', '[':
			depth++
		case ',', '}', ']':
			if line[i] != ',' {
				depth--
			}
			if depth <= 1 && valueAt >= 0 && (depth == 0 || line[i] == ',') {
				if i-valueAt > MaxCellBytes {
					return tooLong("the value")
				}
				valueAt = -1
			}
		default:
			if depth <= 0 || depth == 1 && valueAt < 0 {
				if between++; between > MaxCellBytes {
					return &ParseError{File: r.name, Line: lineNo,
						Err:  fmt.Errorf("%w: the line holds more than %d bytes (16 MiB) outside its keys and values (white space, or bytes that are not JSON)", ErrJSONLSyntax, MaxCellBytes),
						Hint: "each line must be one JSON object; remove the padding"}
				}
			}
		}
	}
	if valueAt >= 0 && len(line)-valueAt > MaxCellBytes {
		return tooLong("the value")
	}
	return nil
}

// isBlankJSON reports whether a line holds only JSON whitespace.
func isBlankJSON(line []byte) bool {
	return skipSpace(line, 0) == len(line)
}

// skipSpace returns the index of the first byte at or after i that is not
// JSON whitespace (a line holds no LF).
func skipSpace(line []byte, i int) int {
	for i < len(line) && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r') {
		i++
	}
	return i
}

// readRow scans the current line's object, matches its keys to the header
// and appends its values to the batch.
func (r *JSONLReader) readRow() error {
	if err := r.scanObject(); err != nil {
		return err
	}
	for i := range r.slots {
		r.slots[i].kind = valueAbsent
	}
	for k := range r.pairs {
		p := &r.pairs[k]
		key := r.bytesOf(p.key)
		// Rows usually list the keys in the header's order.
		j := k
		if j >= len(r.header) || string(key) != r.header[j] {
			var ok bool
			if j, ok = r.index[string(key)]; !ok {
				return r.keyError(string(key), "key is not in the first row",
					"all rows must use the first row's keys; add the key to the first row (with null if it has no value there)")
			}
		}
		if r.slots[j].kind != valueAbsent {
			return r.keyError(string(key), "duplicate key", "give each key once")
		}
		r.slots[j] = p.val
	}
	b := &r.batch
	for j := range r.proj {
		p := &r.proj[j]
		c := &b.Cols[j]
		v := &r.slots[p.field]
		if p.kind == Vector || v.kind == valueArray {
			if err := r.readVector(c, p, v); err != nil {
				return err
			}
			continue
		}
		if v.text.bad && v.kind == valueString {
			return r.notUTF8Error(c.Name, v.text)
		}
		if p.kind == Numeric {
			x, ok := r.number(v)
			if !ok {
				if v.kind == valueTrue || v.kind == valueFalse {
					return r.booleanError(c.Name, v.kind == valueTrue)
				}
				return r.valueError(c.Name, r.bytesOf(v.text))
			}
			c.Num = append(c.Num, x)
			continue
		}
		s, null := r.str(v, p)
		c.Str = append(c.Str, s)
		p.null = append(p.null, null)
		p.nulls = p.nulls || null
	}
	b.Lines = append(b.Lines, r.lineNo)
	return nil
}

// number converts a value for a Numeric column; ok is false for a string
// that is not a number and for a boolean (which a CSV reader refuses as
// "true" too, and which type inference calls text).
func (r *JSONLReader) number(v *jsonlValue) (float64, bool) {
	switch v.kind {
	case valueNumber:
		if v.exact {
			return v.num, true
		}
		return parseJSONNumber(r.bytesOf(v.text)), true
	case valueString:
		return parseNumber(r.bytesOf(v.text))
	case valueTrue, valueFalse:
		return math.NaN(), false
	default:
		return math.NaN(), true
	}
}

// parseJSONNumber parses a literal the scanner has checked against the
// JSON number grammar: strconv.ParseFloat's value, ±Inf beyond the float64
// range.
func parseJSONNumber(b []byte) float64 {
	// strconv.ParseFloat does not retain its argument.
	v, _ := strconv.ParseFloat(unsafe.String(unsafe.SliceData(b), len(b)), 64)
	return v
}

// str converts a value for a String column, interning it; null reports a
// missing value.
func (r *JSONLReader) str(v *jsonlValue, p *jsonlProjection) (s string, null bool) {
	switch v.kind {
	case valueNumber, valueString:
	case valueTrue:
		return "true", false
	case valueFalse:
		return "false", false
	default:
		return "", true
	}
	return p.intern.of(r.bytesOf(v.text)), false
}

// bytesOf returns the text t locates.
func (r *JSONLReader) bytesOf(t jsonlText) []byte {
	if t.inArena {
		return r.arena[t.lo:t.hi]
	}
	return r.text[t.lo:t.hi]
}

// startBatch empties the batch's buffers, keeping their storage.
func (r *JSONLReader) startBatch() {
	b := &r.batch
	b.Start = r.rows
	b.Lines = b.Lines[:0]
	for j := range r.proj {
		c, p := &b.Cols[j], &r.proj[j]
		c.Num, c.Str, c.Vec = c.Num[:0], c.Str[:0], c.Vec[:0]
		p.null, p.nulls = p.null[:0], false
		if p.vec != nil {
			p.vec.pending = 0
		}
	}
}

// finishBatch sets the batch's row count and null masks.
func (r *JSONLReader) finishBatch(n int) {
	b := &r.batch
	b.Rows = n
	for j := range r.proj {
		c, p := &b.Cols[j], &r.proj[j]
		c.Null = nil
		if (p.kind == String || p.kind == Vector) && p.nulls {
			c.Null = p.null
		}
	}
}

// Batch returns the current batch; its buffers are reused by Next.
func (r *JSONLReader) Batch() *Batch { return &r.batch }

// Err returns the first error met, if any.
func (r *JSONLReader) Err() error { return r.encodingHint(r.err) }

// Close closes the file OpenJSONL opened; it does not close a reader passed
// to NewJSONLReader.
func (r *JSONLReader) Close() error {
	r.done = true
	return r.closeText()
}

// scanObject parses the current line as one flat JSON object into pairs,
// checking it against the JSON grammar (RFC 8259).
func (r *JSONLReader) scanObject() error {
	line := r.text
	r.pairs, r.arena = r.pairs[:0], r.arena[:0]
	i := skipSpace(line, 0)
	if i == len(line) || line[i] != '{' {
		return r.syntaxError(i, "expected a JSON object, found %s", describe(line, i))
	}
	i = skipSpace(line, i+1)
	if i < len(line) && line[i] == '}' {
		return r.endObject(i + 1)
	}
	for {
		if i == len(line) || line[i] != '"' {
			return r.syntaxError(i, "expected a key string, found %s", describe(line, i))
		}
		var p jsonlPair
		var err error
		if i, p.key, err = r.scanString(i + 1); err != nil {
			return err
		}
		if p.key.bad {
			return r.notUTF8Error("", p.key)
		}
		i = skipSpace(line, i)
		if i == len(line) || line[i] != ':' {
			return r.syntaxError(i, "expected ':' after key %s, found %s", errtext.QuoteBytes(r.bytesOf(p.key)), describe(line, i))
		}
		i = skipSpace(line, i+1)
		if i, err = r.scanValue(i, &p); err != nil {
			return err
		}
		r.pairs = append(r.pairs, p)
		i = skipSpace(line, i)
		if i < len(line) && line[i] == ',' {
			i = skipSpace(line, i+1)
			continue
		}
		if i < len(line) && line[i] == '}' {
			return r.endObject(i + 1)
		}
		return r.syntaxError(i, "expected ',' or '}' after the value of key %s, found %s", errtext.QuoteBytes(r.bytesOf(p.key)), describe(line, i))
	}
}

// endObject checks that only whitespace follows the object's closing brace
// at text[i-1].
func (r *JSONLReader) endObject(i int) error {
	if i = skipSpace(r.text, i); i < len(r.text) {
		return r.syntaxError(i, "unexpected %s after the object", describe(r.text, i))
	}
	return nil
}

// scanValue scans the value of pair p at text[i], returning the index just
// past it.
func (r *JSONLReader) scanValue(i int, p *jsonlPair) (int, error) {
	line := r.text
	if i == len(line) {
		return i, r.syntaxError(i, "expected a value for key %s, found the end of the line", errtext.QuoteBytes(r.bytesOf(p.key)))
	}
	switch c := line[i]; {
	case c == '"':
		p.val.kind = valueString
		return r.scanStringValue(i+1, &p.val.text)
	case c == '-' || c >= '0' && c <= '9':
		end, v, exact := scanNumber(line, i)
		if end < 0 || end < len(line) && isNumberByte(line[end]) {
			tail := i
			for tail < len(line) && isNumberByte(line[tail]) {
				tail++
			}
			return i, r.syntaxError(i, "invalid number %s for key %s", errtext.QuoteBytes(line[i:tail]), errtext.QuoteBytes(r.bytesOf(p.key)))
		}
		p.val = jsonlValue{kind: valueNumber, exact: exact, text: jsonlText{lo: int32(i), hi: int32(end)}, num: v}
		return end, nil
	case c == 't' && bytes.HasPrefix(line[i:], []byte("true")):
		p.val.kind = valueTrue
		return i + 4, nil
	case c == 'f' && bytes.HasPrefix(line[i:], []byte("false")):
		p.val.kind = valueFalse
		return i + 5, nil
	case c == 'n' && bytes.HasPrefix(line[i:], []byte("null")):
		p.val.kind = valueNull
		return i + 4, nil
	case c == '[':
		return r.scanArray(i, p)
	case c == '{':
		what := "an object"
		if c == '[' {
			what = "an array"
		}
		return i, &ParseError{File: r.name, Line: r.lineNo, Column: string(r.bytesOf(p.key)),
			Err:  fmt.Errorf("%w: value is %s; only strings, numbers, booleans and null are supported", ErrJSONLSyntax, what),
			Hint: "flatten nested values into keys of their own, or encode them as strings"}
	default:
		return i, r.syntaxError(i, "expected a value for key %s, found %s", errtext.QuoteBytes(r.bytesOf(p.key)), describe(line, i))
	}
}

// scanStringValue is scanString storing the text in *t.
func (r *JSONLReader) scanStringValue(i int, t *jsonlText) (int, error) {
	i, s, err := r.scanString(i)
	*t = s
	return i, err
}

// isNumberByte reports whether c can continue a number-like run of text;
// used to reject "01", "1.", "1e", "2x" as one bad number.
func isNumberByte(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '.' || c == '+' || c == '-'
}

// scanNumber checks the text at line[i] against the JSON number grammar
//
//	-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?
//
// and returns the index just past the number, or -1 when the text does not
// match. When the number is m * 10^e with an integer m <= 2^53 (at most 19
// digits) and |e| <= 22, both m and 10^|e| are exact float64 values and one
// IEEE multiplication or division rounds correctly (Clinger's fast path,
// the one strconv.ParseFloat itself takes), so v is the value and exact is
// true; otherwise the caller parses the text with strconv.ParseFloat.
func scanNumber(line []byte, i int) (end int, v float64, exact bool) {
	neg := line[i] == '-'
	if neg {
		i++
	}
	var m uint64
	digits, scale := 0, 0 // digits in m; m * 10^scale is the value so far
	dropped := false      // digits beyond the 19th were not accumulated
	if i < len(line) && line[i] == '0' {
		i++
	} else if i < len(line) && line[i]-'1' < 9 {
		for ; i < len(line) && line[i]-'0' < 10; i++ {
			if digits < 19 {
				m = m*10 + uint64(line[i]-'0')
				digits++
			} else {
				dropped = true
			}
		}
	} else {
		return -1, 0, false
	}
	if i < len(line) && line[i] == '.' {
		i++
		start := i
		for ; i < len(line) && line[i]-'0' < 10; i++ {
			if digits < 19 {
				m = m*10 + uint64(line[i]-'0')
				digits++
				scale--
			} else {
				dropped = true
			}
		}
		if i == start {
			return -1, 0, false
		}
	}
	if i < len(line) && (line[i] == 'e' || line[i] == 'E') {
		i++
		eneg := false
		if i < len(line) && (line[i] == '+' || line[i] == '-') {
			eneg = line[i] == '-'
			i++
		}
		start, e := i, 0
		for ; i < len(line) && line[i]-'0' < 10; i++ {
			if e < 10000 {
				e = e*10 + int(line[i]-'0')
			}
		}
		if i == start {
			return -1, 0, false
		}
		if eneg {
			e = -e
		}
		scale += e
	}
	if dropped || m > 1<<53 || scale < -22 || scale > 22 {
		return i, 0, false
	}
	v = float64(m)
	if scale < 0 {
		v /= pow10[-scale]
	} else {
		v *= pow10[scale]
	}
	if neg {
		v = -v
	}
	return i, v, true
}

// scanString scans the string whose opening quote is at text[i-1] and
// returns the index just past its closing quote and where its decoded text
// lies: in text when it needs no decoding, else in arena.
//
// Decoding matches encoding/json for text: the escapes \" \\ \/ \b \f \n \r
// \t and \uXXXX (a surrogate pair gives one code point), and control
// characters must be escaped. A string that is not UTF-8 (bytes UTF-8 does
// not have, or an unpaired surrogate escape) is not decoded: encoding/json
// turns it into U+FFFD, which merged distinct values silently (attack run
// 32 F2). Its text is marked bad and locates its raw bytes between the
// quotes; whoever reads it refuses it (see notUTF8Error).
func (r *JSONLReader) scanString(i int) (int, jsonlText, error) {
	line := r.text
	start := i
	// Fast path: printable ASCII and valid UTF-8 need no copy.
	for i < len(line) {
		c := line[i]
		if c == '"' {
			return i + 1, jsonlText{lo: int32(start), hi: int32(i)}, nil
		}
		if c == '\\' || c < 0x20 {
			break
		}
		if c < utf8.RuneSelf {
			i++
			continue
		}
		ch, size := utf8.DecodeRune(line[i:])
		if ch == utf8.RuneError && size == 1 {
			break
		}
		i += size
	}
	lo := len(r.arena)
	r.arena = append(r.arena, line[start:i]...)
	bad := false
	for i < len(line) {
		c := line[i]
		switch {
		case c == '"':
			if bad {
				r.arena = r.arena[:lo]
				return i + 1, jsonlText{lo: int32(start), hi: int32(i), bad: true}, nil
			}
			return i + 1, jsonlText{lo: int32(lo), hi: int32(len(r.arena)), inArena: true}, nil
		case c < 0x20:
			return i, jsonlText{}, r.syntaxError(i, "control character %q in a string; escape it", c)
		case c == '\\':
			var err error
			var lone bool
			if i, lone, err = r.unescape(i); err != nil {
				return i, jsonlText{}, err
			}
			bad = bad || lone
		case c < utf8.RuneSelf:
			r.arena = append(r.arena, c)
			i++
		default:
			ch, size := utf8.DecodeRune(line[i:])
			if ch == utf8.RuneError && size == 1 {
				bad = true
			} else {
				r.arena = append(r.arena, line[i:i+size]...)
			}
			i += size
		}
	}
	return i, jsonlText{}, r.syntaxError(start-1, "string never closed before the end of the line")
}

// unescape decodes the escape sequence at text[i] into arena and returns
// the index just past it; lone reports an unpaired surrogate escape, which
// stands for no character (arena then holds U+FFFD in its place).
func (r *JSONLReader) unescape(i int) (next int, lone bool, err error) {
	line := r.text
	if i+1 == len(line) {
		return i, false, r.syntaxError(i, "string never closed before the end of the line")
	}
	var c byte
	switch line[i+1] {
	case '"', '\\', '/':
		c = line[i+1]
	case 'b':
		c = '\b'
	case 'f':
		c = '\f'
	case 'n':
		c = '\n'
	case 'r':
		c = '\r'
	case 't':
		c = '\t'
	case 'u':
		ch, ok := hex4(line, i+2)
		if !ok {
			return i, false, r.syntaxError(i, "invalid escape %q; \\u needs four hex digits", escapeText(line, i))
		}
		i += 6
		if utf16.IsSurrogate(ch) {
			lo, ok := rune(-1), false
			if i+1 < len(line) && line[i] == '\\' && line[i+1] == 'u' {
				lo, ok = hex4(line, i+2)
			}
			if d := utf16.DecodeRune(ch, lo); ok && d != utf8.RuneError {
				ch = d
				i += 6
			} else {
				ch, lone = utf8.RuneError, true
			}
		}
		r.arena = utf8.AppendRune(r.arena, ch)
		return i, lone, nil
	default:
		return i, false, r.syntaxError(i, "invalid escape %q in a string", escapeText(line, i))
	}
	r.arena = append(r.arena, c)
	return i + 2, false, nil
}

// escapeText returns the escape sequence at line[i] for an error message.
func escapeText(line []byte, i int) []byte {
	end := i + 2
	if line[i+1] == 'u' {
		end = i + 6
	}
	return line[i:min(end, len(line))]
}

// hex4 decodes the four hex digits at line[i:].
func hex4(line []byte, i int) (rune, bool) {
	if i+4 > len(line) {
		return 0, false
	}
	var v rune
	for _, c := range line[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		v = v<<4 | rune(c)
	}
	return v, true
}

// describe names the byte at line[i] for an error message.
func describe(line []byte, i int) string {
	if i >= len(line) {
		return "the end of the line"
	}
	ch, _ := utf8.DecodeRune(line[i:])
	return strconv.QuoteRune(ch)
}

// syntaxError returns a *ParseError for malformed JSON at byte i of the
// current line.
func (r *JSONLReader) syntaxError(i int, format string, args ...any) error {
	if k := bareCR(r.text, i); k >= 0 {
		// JSON holds no raw CR but as white space: a CR with no LF after
		// it before the error is a classic-Mac line ending, and the
		// "line" is many (attack run 18 F7b).
		return &ParseError{File: r.name, Line: r.lineNo,
			Err: fmt.Errorf("%w: %s (byte %d of the line): a carriage return (CR) with no line feed (LF) after it, at byte %d, ends a line: the file's lines end in CR only (classic Mac)",
				ErrJSONLSyntax, fmt.Sprintf(format, args...), i+1, k+1),
			Hint: "convert the line endings to LF or CRLF, e.g. tr '\\r' '\\n' < old.jsonl > new.jsonl"}
	}
	return &ParseError{File: r.name, Line: r.lineNo,
		Err:  fmt.Errorf("%w: %s (byte %d of the line)", ErrJSONLSyntax, fmt.Sprintf(format, args...), i+1),
		Hint: jsonlHint}
}

// bareCR returns the index of the first CR of b before index i that is
// not followed by an LF (a final CR is a CRLF's, whose LF nextLine took),
// or -1.
func bareCR(b []byte, i int) int {
	for k := range min(i, len(b)) {
		if b[k] == '\r' && k+1 < len(b) && b[k+1] != '\n' {
			return k
		}
	}
	return -1
}

// keyError returns a *ParseError about a key of the current line.
func (r *JSONLReader) keyError(key, msg, hint string) error {
	return &ParseError{File: r.name, Line: r.lineNo, Column: key,
		Err: fmt.Errorf("%w: %s", ErrJSONLSyntax, msg), Hint: hint}
}

// valueError returns the *ParseError for a string that is not a number in
// a Numeric column.
func (r *JSONLReader) valueError(column string, text []byte) error {
	return &ParseError{File: r.name, Line: r.lineNo, Column: column,
		Err:  fmt.Errorf("cannot parse %s as a number", errtext.QuoteBytes(text)),
		Hint: "declare the column `type: categorical` in the spec or fix the value"}
}

// booleanError returns the *ParseError for a JSON boolean in a numeric
// column: refused as the CSV cell "true" is, not read as 1 or 0.
func (r *JSONLReader) booleanError(column string, v bool) error {
	return &ParseError{File: r.name, Line: r.lineNo, Column: column,
		Err:  fmt.Errorf("cannot parse the boolean %t as a number", v),
		Hint: "write the number (1 or 0), or declare the column `type: categorical` in the spec"}
}

// LendNumeric implements Lender: the next batch decodes projected column j
// into buf when it holds the batch.
func (r *JSONLReader) LendNumeric(j int, buf []float64) { r.batch.Cols[j].Num = buf[:0] }

// notUTF8Error returns the *ParseError for the string t (marked bad by
// scanString), the value of column, or a key when column is "": it names
// the first place that is not UTF-8 and what to do about it.
func (r *JSONLReader) notUTF8Error(column string, t jsonlText) error {
	raw := r.text[t.lo:t.hi]
	what := "the value"
	if column == "" {
		what = "the key"
	}
	at, lone := JSONStringNotUTF8(raw)
	if lone {
		return &ParseError{File: r.name, Line: r.lineNo, Column: column,
			Err: fmt.Errorf("%w: %s %s holds the escape %s (byte %d of the line), an unpaired UTF-16 surrogate, which stands for no character",
				ErrNotUTF8, what, errtext.QuoteBytes(raw), raw[at:at+6], int(t.lo)+at+1),
			Hint: "the text was cut inside a character, or decoded from bytes that are not UTF-8 (Python's errors=\"surrogateescape\"); write the text as UTF-8 (read as U+FFFD, distinct values would merge)"}
	}
	return &ParseError{File: r.name, Line: r.lineNo, Column: column,
		Err: fmt.Errorf("%w: %s %s holds the byte 0x%02X (byte %d of the line)",
			ErrNotUTF8, what, errtext.QuoteBytes(raw), raw[at], int(t.lo)+at+1),
		Hint: "the file is not UTF-8 (a Latin-1 or Windows-1252 file, or raw bytes); convert it (e.g. iconv -f WINDOWS-1252 -t UTF-8 IN > OUT) and run again"}
}

// JSONStringNotUTF8 returns the index in raw, the text of a JSON string
// between its quotes (escapes not resolved), of the first byte that is not
// UTF-8 or of the first unpaired surrogate escape (lone), or len(raw) when
// there is none: where the string holds text that encoding/json would
// read as U+FFFD.
func JSONStringNotUTF8(raw []byte) (at int, lone bool) {
	for i := 0; i < len(raw); {
		switch c := raw[i]; {
		case c == '\\' && i+1 < len(raw) && raw[i+1] == 'u':
			ch, ok := hex4(raw, i+2)
			if !ok {
				i += 2
				continue
			}
			if !utf16.IsSurrogate(ch) {
				i += 6
				continue
			}
			if i+7 < len(raw) && raw[i+6] == '\\' && raw[i+7] == 'u' {
				if lo, ok := hex4(raw, i+8); ok && utf16.DecodeRune(ch, lo) != utf8.RuneError {
					i += 12
					continue
				}
			}
			return i, true
		case c == '\\':
			i += 2
		case c < utf8.RuneSelf:
			i++
		default:
			ch, size := utf8.DecodeRune(raw[i:])
			if ch == utf8.RuneError && size == 1 {
				return i, false
			}
			i += size
		}
	}
	return len(raw), false
}
