package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/normguard/normguard/internal/errtext"
	"github.com/normguard/normguard/monitor"
	"github.com/normguard/normguard/table"
)

// maxDepth bounds the nesting of values the decoder skips, so a hostile
// body cannot exhaust the stack.
const maxDepth = 64

// rowsBody decodes a request body {"rows": [{"col": value, ...}, ...]}
// straight into columns: numbers (or numeric strings) for numeric fields,
// strings (or numbers, kept as written) for categorical ones, null for a
// missing value. Keys the fields do not name are skipped, as are other
// top-level keys. It accepts exactly the JSON that encoding/json accepts,
// but for text that is not UTF-8 in a key or a value read (encoding/json
// reads it as U+FFFD; see notUTF8), and gives the values
// transform.Transformer.RowsBatch would give for it;
// decoding by hand avoids a map per row on the transform hot path.
type rowsBody struct {
	fields []table.Field
	index  map[string]int
	// absentOK makes a field absent from a row a missing value instead of
	// an error (observations are monitored as sent).
	absentOK bool
	maxRows  int

	buf []byte
	pos int
	row int
	// inRow is set while a row's object is read, for what an error of
	// text that is not UTF-8 names.
	inRow bool
	seen  []int // seen[j] == row+1 once field j is set in the current row
	cols  []table.Column
	n     int
	// extra collects, when not nil, the names of keys no field names.
	extra map[string]bool
	// vectors maps a vector column to its dimension fields (vectors.go).
	vectors map[string][]int
	// eventTime is 1 + the index of a text field read only for the rows'
	// event time (serve --time-column naming a column the artifact does
	// not read), or 0. A JSON number there is Unix seconds, kept as its
	// digits; a JSON string is a time in a text layout, or no time: a
	// string of digits ("2026", "20261206") is not read as seconds.
	eventTime int
}

func newRowsBody(fields []table.Field, absentOK bool, maxRows int) *rowsBody {
	return &rowsBody{fields: fields, index: fieldIndex(fields), absentOK: absentOK, maxRows: maxRows}
}

// fieldIndex maps each field's name to its position. The decoder only
// reads it, so one map can serve every request of an artifact.
func fieldIndex(fields []table.Field) map[string]int {
	index := make(map[string]int, len(fields))
	for j, f := range fields {
		index[f.Name] = j
	}
	return index
}

// decode parses buf and returns the columns (shaped as fields) and the row
// count. Errors name the row (1-based) and column.
func (d *rowsBody) decode(buf []byte) ([]table.Column, int, error) {
	d.buf, d.pos, d.n = buf, 0, 0
	d.seen = make([]int, len(d.fields))
	gotRows := false
	if err := bodyEncodingError(buf); err != nil {
		return nil, 0, err
	}
	if err := d.expect('{'); err != nil {
		return nil, 0, err
	}
	if d.peekIs('}') {
		d.pos++
	} else {
		for {
			key, err := d.key()
			if err != nil {
				return nil, 0, err
			}
			if string(key) == "rows" {
				// Given twice, the first list's rows were dropped without a
				// word (encoding/json takes the last; attack run 12).
				if gotRows {
					return nil, 0, d.errf(`"rows" is given twice; send every row in one "rows" list`)
				}
				gotRows = true
				d.n = 0
				d.cols = table.NewColumns(d.fields)
				clear(d.seen)
				if err := d.rows(); err != nil {
					return nil, 0, err
				}
			} else {
				// Skipped, a key meant for the request was lost without a
				// word: {"stage": "output", "rows": [...]} stored input
				// rows (attack run 15).
				return nil, 0, d.errf(`unknown key %s: the body holds only "rows" (the stage, version and producer go in the query: ?stage=output)`, errtext.Quote(string(key)))
			}
			more, err := d.next('}')
			if err != nil {
				return nil, 0, err
			}
			if !more {
				break
			}
		}
	}
	d.space()
	if d.pos != len(d.buf) {
		return nil, 0, d.errf("unexpected data after the JSON object")
	}
	if !gotRows {
		return nil, 0, fmt.Errorf(`the body has no "rows": send {"rows": [{"column": value, ...}]}`)
	}
	return d.cols, d.n, nil
}

func (d *rowsBody) rows() error {
	d.space()
	if d.pos >= len(d.buf) || d.buf[d.pos] != '[' {
		return d.errf(`"rows" must be an array of objects`)
	}
	d.pos++
	if d.peekIs(']') {
		d.pos++
		return nil
	}
	for {
		if d.n >= d.maxRows {
			return &apiError{413, "too_many_rows", fmt.Sprintf("more than %d rows in one request: split the batch", d.maxRows)}
		}
		if err := d.object(); err != nil {
			return err
		}
		d.n++
		more, err := d.next(']')
		if err != nil {
			return err
		}
		if !more {
			return nil
		}
	}
}

// object reads one row into the columns.
func (d *rowsBody) object() error {
	d.row = d.n
	for j := range d.cols {
		c := &d.cols[j]
		if c.Kind == table.Numeric {
			c.Num = append(c.Num, math.NaN())
		} else {
			c.Str = append(c.Str, "")
			c.Null = append(c.Null, true)
		}
	}
	d.space()
	if d.pos >= len(d.buf) || d.buf[d.pos] != '{' {
		return d.rowErr("", "each row must be a JSON object")
	}
	d.pos++
	d.inRow = true
	defer func() { d.inRow = false }()
	if d.peekIs('}') {
		d.pos++
	} else {
		for {
			key, err := d.key()
			if err != nil {
				return err
			}
			j, ok := d.index[string(key)]
			// A key given twice: which value to take is a guess (encoding/
			// json takes the last), and the CLI's JSONL reader refuses it.
			dup := ok && d.seen[j] == d.row+1
			if dims, isVec := d.vectors[string(key)]; !ok && isVec {
				dup = len(dims) > 0 && d.seen[dims[0]] == d.row+1
			}
			if dup {
				return d.rowErr(string(key), "duplicate key; give each key once")
			}
			if dims, isVec := d.vectors[string(key)]; !ok && isVec {
				if err := d.vector(string(key), dims); err != nil {
					return err
				}
			} else if !ok {
				if d.extra != nil && !d.extra[string(key)] && len(d.extra) < 100 {
					d.extra[string(key)] = true
				}
				if err := d.skip(0); err != nil {
					return err
				}
			} else {
				if err := d.value(j); err != nil {
					return err
				}
				d.seen[j] = d.row + 1
			}
			more, err := d.next('}')
			if err != nil {
				return err
			}
			if !more {
				break
			}
		}
	}
	if !d.absentOK {
		for j, s := range d.seen {
			if s != d.row+1 {
				return d.rowErr("", fmt.Sprintf("missing column %q (send null for a missing value)", d.fields[j].Name))
			}
		}
	}
	return nil
}

// value reads the value of field j in the current row.
func (d *rowsBody) value(j int) error {
	c := &d.cols[j]
	name := d.fields[j].Name
	d.space()
	if d.pos >= len(d.buf) {
		return d.errf("unexpected end of the body")
	}
	i := d.row
	switch ch := d.buf[d.pos]; {
	case ch == 'n':
		if err := d.literal("null"); err != nil {
			return err
		}
		if c.Kind == table.Numeric {
			c.Num[i] = math.NaN()
		} else {
			c.Str[i], c.Null[i] = "", true
		}
	case ch == '"':
		s, err := d.str(name)
		if err != nil {
			return err
		}
		if c.Kind != table.Numeric {
			if j+1 == d.eventTime {
				if t, ok := monitor.ParseEventTime(s); ok {
					s = t.Format(time.RFC3339Nano)
				} else {
					// No time: untimed, counted as such by the monitor.
					c.Str[i], c.Null[i] = "", true
					return nil
				}
			}
			c.Str[i], c.Null[i] = s, false
			return nil
		}
		// As the CLI's readers read a numeric cell given as text (table.
		// ParseNumber: pandas' syntax and missing-value tokens), so that a
		// row gives the same numbers through every entry point.
		x, ok := table.ParseNumber([]byte(s))
		if !ok {
			return d.rowErr(name, fmt.Sprintf("cannot parse %s as a number", errtext.Quote(s)))
		}
		if math.IsInf(x, 0) {
			return d.rowErr(name, fmt.Sprintf("%s is infinite; normguard, like scikit-learn, refuses infinite values", errtext.Quote(s)))
		}
		c.Num[i] = x
	case ch == '-' || ch >= '0' && ch <= '9':
		lit, err := d.number()
		if err != nil {
			return err
		}
		if c.Kind != table.Numeric {
			c.Str[i], c.Null[i] = string(lit), false
			return nil
		}
		x, err := strconv.ParseFloat(string(lit), 64)
		if err != nil || math.IsInf(x, 0) {
			return d.rowErr(name, fmt.Sprintf("%s is out of the float64 range", errtext.Quote(string(lit))))
		}
		c.Num[i] = x
	case ch == 't' || ch == 'f':
		word := "true"
		if ch == 'f' {
			word = "false"
		}
		if err := d.literal(word); err != nil {
			return err
		}
		if c.Kind == table.Numeric {
			return d.rowErr(name, "expected a number or null, got "+word)
		}
		c.Str[i], c.Null[i] = word, false
	default:
		return d.rowErr(name, "expected a number, a string or null")
	}
	return nil
}

func isRange(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

func (d *rowsBody) rowErr(col, msg string) error {
	if col == "" {
		return badRequest("rows[%d]: %s", d.row, msg)
	}
	return badRequest("rows[%d].%s: %s", d.row, col, msg)
}

// bodyEncodingError names what a body that does not start with '{' is
// encoded as when its first bytes tell: a UTF-8 byte order mark (which
// Notepad and Windows PowerShell 5 write), UTF-16 or UTF-32 (by their byte
// order marks, or by a NUL byte beside the ASCII '{'). It returns nil for
// anything else, after looking at the first 4 bytes at most. JSON over HTTP is UTF-8 without a byte order mark (RFC
// 8259, section 8.1).
func bodyEncodingError(buf []byte) error {
	const send = "send the JSON as UTF-8 without a byte order mark"
	switch {
	case bytes.HasPrefix(buf, []byte{0xEF, 0xBB, 0xBF}):
		return badRequest("invalid JSON body: it starts with a UTF-8 byte order mark (bytes EF BB BF); remove them: %s", send)
	case bytes.HasPrefix(buf, []byte{0xFF, 0xFE, 0, 0}), bytes.HasPrefix(buf, []byte{0, 0, 0xFE, 0xFF}):
		return badRequest("invalid JSON body: it is UTF-32 (it starts with the byte order mark %s); %s (iconv -f UTF-32 -t UTF-8)", hexBytes(buf[:4]), send)
	case bytes.HasPrefix(buf, []byte{0xFF, 0xFE}), bytes.HasPrefix(buf, []byte{0xFE, 0xFF}):
		return badRequest("invalid JSON body: it is UTF-16 (it starts with the byte order mark %s); %s (iconv -f UTF-16 -t UTF-8)", hexBytes(buf[:2]), send)
	case len(buf) >= 2 && (buf[0] == '{' && buf[1] == 0 || buf[0] == 0 && buf[1] == '{'):
		return badRequest("invalid JSON body: it looks like UTF-16 (NUL bytes beside '{': %s); %s (iconv -f UTF-16 -t UTF-8)", hexBytes(buf[:2]), send)
	}
	return nil
}

// hexBytes writes b as upper-case hex pairs separated by spaces: "FF FE".
func hexBytes(b []byte) string {
	var sb strings.Builder
	for i, c := range b {
		if i > 0 {
			sb.WriteByte(' ')
		}
		fmt.Fprintf(&sb, "%02X", c)
	}
	return sb.String()
}

func (d *rowsBody) errf(format string, args ...any) error {
	return badRequest("invalid JSON body at byte %d: %s", d.pos, fmt.Sprintf(format, args...))
}

func (d *rowsBody) space() {
	for d.pos < len(d.buf) {
		switch d.buf[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

func (d *rowsBody) peekIs(ch byte) bool {
	d.space()
	return d.pos < len(d.buf) && d.buf[d.pos] == ch
}

func (d *rowsBody) expect(ch byte) error {
	if !d.peekIs(ch) {
		return d.errf("expected %q", ch)
	}
	d.pos++
	return nil
}

// next consumes a ',' (true: another element follows) or the closing
// bracket (false).
func (d *rowsBody) next(closing byte) (bool, error) {
	d.space()
	if d.pos < len(d.buf) {
		switch d.buf[d.pos] {
		case ',':
			d.pos++
			return true, nil
		case closing:
			d.pos++
			return false, nil
		}
	}
	return false, d.errf("expected ',' or %q", closing)
}

// key reads an object key and its colon. The key aliases the body when
// it has no escapes, so looking it up in a map does not allocate. A key
// that is not UTF-8 is refused (see notUTF8), unless inside a value
// skipped.
func (d *rowsBody) key() ([]byte, error) {
	return d.readKey(true)
}

// readKey is key; check refuses a key that is not UTF-8.
func (d *rowsBody) readKey(check bool) ([]byte, error) {
	d.space()
	if d.pos >= len(d.buf) || d.buf[d.pos] != '"' {
		return nil, d.errf("expected an object key")
	}
	start := d.pos
	kb, plain, err := d.scanStr()
	if err != nil {
		return nil, err
	}
	if !plain {
		k, err := d.unquote(d.buf[start:d.pos])
		if err != nil {
			return nil, err
		}
		if check {
			if err := d.notUTF8(k, start, ""); err != nil {
				return nil, err
			}
		}
		kb = []byte(k)
	}
	if err := d.expect(':'); err != nil {
		return nil, err
	}
	return kb, nil
}

func (d *rowsBody) literal(word string) error {
	if len(d.buf)-d.pos < len(word) || string(d.buf[d.pos:d.pos+len(word)]) != word {
		return d.errf("invalid literal")
	}
	d.pos += len(word)
	return nil
}

// str reads a JSON string, the value of field. Plain strings are sliced;
// strings with escapes or non-ASCII bytes are decoded by encoding/json, so
// escapes are handled exactly as encoding/json does, but for text that is
// not UTF-8, which it reads as U+FFFD: refused (see notUTF8).
func (d *rowsBody) str(field string) (string, error) {
	start := d.pos
	raw, plain, err := d.scanStr()
	if err != nil {
		return "", err
	}
	if plain {
		return string(raw), nil
	}
	s, err := d.unquote(d.buf[start:d.pos])
	if err == nil {
		err = d.notUTF8(s, start, field)
	}
	return s, err
}

// notUTF8 refuses the string s, decoded by encoding/json from the quoted
// text at buf[start:pos], when it holds text that is not UTF-8 (bytes
// UTF-8 does not have, as Latin-1 text has, or an unpaired surrogate
// escape): encoding/json reads such text as U+FFFD, so "caf\xe9" and
// "caf\xe8" became one category, answered 200 (attack run 32 F2). field
// names the value's column, or "" for a key. Only a string holding
// U+FFFD is looked at again, so valid text costs one scan of s.
func (d *rowsBody) notUTF8(s string, start int, field string) error {
	if !strings.ContainsRune(s, utf8.RuneError) {
		return nil
	}
	raw := d.buf[start+1 : d.pos-1]
	at, lone := table.JSONStringNotUTF8(raw)
	if at == len(raw) {
		return nil // U+FFFD given as such
	}
	where := ""
	switch {
	case d.inRow && field == "":
		where = fmt.Sprintf("rows[%d]: ", d.row)
	case d.inRow:
		where = fmt.Sprintf("rows[%d].%s: ", d.row, field)
	}
	what := "the value"
	if field == "" {
		what = "the key"
	}
	if lone {
		return badRequest("%s%s %s holds the escape %s (byte %d of the body), an unpaired UTF-16 surrogate, which stands for no character: "+
			"the text was cut inside a character, or decoded from bytes that are not UTF-8; send the text as UTF-8 (read as U+FFFD, distinct values would merge)",
			where, what, errtext.QuoteBytes(raw), raw[at:at+6], start+2+at)
	}
	return badRequest("%s%s %s holds the byte 0x%02X (byte %d of the body), which is not UTF-8: a JSON body is UTF-8 text (RFC 8259); "+
		"decode the text from its encoding (e.g. Latin-1 or Windows-1252) before building the body, or convert it (iconv -f WINDOWS-1252 -t UTF-8)",
		where, what, errtext.QuoteBytes(raw), raw[at], start+2+at)
}

// unquote decodes a quoted JSON string with encoding/json.
func (d *rowsBody) unquote(quoted []byte) (string, error) {
	var s string
	if err := json.Unmarshal(quoted, &s); err != nil {
		return "", d.errf("invalid string: %v", err)
	}
	return s, nil
}

// scanStr moves past a JSON string and returns its content between the
// quotes, and whether that content is plain ASCII without escapes (then it
// is the string's value).
func (d *rowsBody) scanStr() ([]byte, bool, error) {
	start := d.pos
	d.pos++
	plain := true
	for d.pos < len(d.buf) {
		ch := d.buf[d.pos]
		switch {
		case ch == '"':
			d.pos++
			return d.buf[start+1 : d.pos-1], plain, nil
		case ch == '\\':
			plain = false
			d.pos += 2
		case ch < 0x20:
			return nil, false, d.errf("control character in a string")
		case ch >= utf8.RuneSelf:
			plain = false
			d.pos++
		default:
			d.pos++
		}
	}
	return nil, false, d.errf("unterminated string")
}

// number reads a JSON number literal, validating its grammar.
func (d *rowsBody) number() ([]byte, error) {
	start := d.pos
	b := d.buf
	p := d.pos
	if p < len(b) && b[p] == '-' {
		p++
	}
	switch {
	case p < len(b) && b[p] == '0':
		p++
	case p < len(b) && b[p] >= '1' && b[p] <= '9':
		for p < len(b) && b[p] >= '0' && b[p] <= '9' {
			p++
		}
	default:
		d.pos = p
		return nil, d.errf("invalid number")
	}
	if p < len(b) && b[p] == '.' {
		p++
		q := p
		for p < len(b) && b[p] >= '0' && b[p] <= '9' {
			p++
		}
		if p == q {
			d.pos = p
			return nil, d.errf("invalid number")
		}
	}
	if p < len(b) && (b[p] == 'e' || b[p] == 'E') {
		p++
		if p < len(b) && (b[p] == '+' || b[p] == '-') {
			p++
		}
		q := p
		for p < len(b) && b[p] >= '0' && b[p] <= '9' {
			p++
		}
		if p == q {
			d.pos = p
			return nil, d.errf("invalid number")
		}
	}
	d.pos = p
	return b[start:p], nil
}

// skip reads and discards any JSON value.
func (d *rowsBody) skip(depth int) error {
	if depth > maxDepth {
		return d.errf("values nested deeper than %d", maxDepth)
	}
	d.space()
	if d.pos >= len(d.buf) {
		return d.errf("unexpected end of the body")
	}
	switch ch := d.buf[d.pos]; {
	case ch == '"':
		start := d.pos
		_, plain, err := d.scanStr()
		if err == nil && !plain {
			_, err = d.unquote(d.buf[start:d.pos])
		}
		return err
	case ch == 'n':
		return d.literal("null")
	case ch == 't':
		return d.literal("true")
	case ch == 'f':
		return d.literal("false")
	case ch == '-' || ch >= '0' && ch <= '9':
		_, err := d.number()
		return err
	case ch == '[':
		d.pos++
		if d.peekIs(']') {
			d.pos++
			return nil
		}
		for {
			if err := d.skip(depth + 1); err != nil {
				return err
			}
			more, err := d.next(']')
			if err != nil || !more {
				return err
			}
		}
	case ch == '{':
		d.pos++
		if d.peekIs('}') {
			d.pos++
			return nil
		}
		for {
			if _, err := d.readKey(false); err != nil {
				return err
			}
			if err := d.skip(depth + 1); err != nil {
				return err
			}
			more, err := d.next('}')
			if err != nil || !more {
				return err
			}
		}
	default:
		return d.errf("unexpected character %q", ch)
	}
}
