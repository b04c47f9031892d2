package table

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// readJSONL reads input with the given projection (nil: none, all String)
// through a reader with the given block size, joining the batches.
func readJSONL(t *testing.T, input string, fields []Field, opts JSONLOptions, block int) (readResult, error) {
	t.Helper()
	r, err := newJSONLReader(strings.NewReader(input), "data.jsonl", opts, block)
	if err != nil {
		return readResult{}, err
	}
	defer r.Close()
	if fields != nil {
		if err := r.Project(fields); err != nil {
			return readResult{}, err
		}
	}
	var res readResult
	for r.Next() {
		b := r.Batch()
		if res.cols == nil {
			res.cols = make([]Column, len(b.Cols))
			for i, c := range b.Cols {
				res.cols[i] = Column{Name: c.Name, Kind: c.Kind}
			}
		}
		for i := range b.Cols {
			c, out := &b.Cols[i], &res.cols[i]
			if c.Len() != b.Rows {
				t.Fatalf("column %q has %d rows, batch has %d", c.Name, c.Len(), b.Rows)
			}
			if c.Kind == Numeric {
				out.Num = append(out.Num, c.Num...)
				continue
			}
			out.Str = append(out.Str, c.Str...)
			for j := 0; j < b.Rows; j++ {
				out.Null = append(out.Null, c.IsMissing(j))
			}
		}
		if len(b.Lines) != b.Rows {
			t.Fatalf("batch has %d lines for %d rows", len(b.Lines), b.Rows)
		}
		res.lines = append(res.lines, b.Lines...)
		res.starts = append(res.starts, b.Start)
		res.batches++
	}
	return res, r.Err()
}

func TestJSONLReaderHeader(t *testing.T) {
	tests := []struct {
		name, input string
		want        []string
	}{
		{"text order, not sorted", `{"b":1,"a":2,"c":3}`, []string{"b", "a", "c"}},
		{"escaped keys", `{"x\ty":1,"\u00e9":2,"q\"":3,"s\/":4}`, []string{"x\ty", "é", `q"`, "s/"}},
		{"after blank lines and a BOM", "\xEF\xBB\xBF\n  \r\n{ \"k\" : null }\n", []string{"k"}},
		{"empty object", "{}\n{}\n", []string{}},
		{"keys of the first row only", "{\"a\":1}\n{}\n", []string{"a"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := NewJSONLReader(strings.NewReader(tc.input), "h.jsonl", JSONLOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if got := r.Header(); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got header %q, want %q", got, tc.want)
			}
		})
	}
}

func TestJSONLReaderValues(t *testing.T) {
	tests := []struct {
		name   string
		input  string
		fields []Field // nil: no projection
		want   []Column
		lines  []int64
	}{
		{
			name:   "key order and missing keys",
			input:  "{\"a\":1,\"b\":\"x\"}\n{\"b\":\"y\",\"a\":2}\n{\"b\":\"z\"}\n{}\n",
			fields: []Field{{"a", Numeric}, {"b", String}},
			want:   []Column{num("a", 1, 2, nan, nan), str("b", "x", "y", "z", "<null>")},
			lines:  []int64{1, 2, 3, 4},
		},
		{
			name:   "null",
			input:  "{\"a\":null,\"b\":null}\n{\"a\":0,\"b\":\"\"}\n",
			fields: []Field{{"a", Numeric}, {"b", String}},
			want:   []Column{num("a", nan, 0), str("b", "<null>", "")},
			lines:  []int64{1, 2},
		},
		{
			name:   "booleans in a String column",
			input:  "{\"a\":1,\"b\":false}\n{\"a\":0,\"b\":true}\n",
			fields: []Field{{"a", Numeric}, {"b", String}},
			want:   []Column{num("a", 1, 0), str("b", "false", "true")},
			lines:  []int64{1, 2},
		},
		{
			name:   "numbers under a String projection keep their text",
			input:  `{"n":1.50}` + "\n" + `{"n":-0}` + "\n" + `{"n":1E+2}` + "\n" + `{"n":12345678901234567890}` + "\n",
			fields: []Field{{"n", String}},
			want:   []Column{str("n", "1.50", "-0", "1E+2", "12345678901234567890")},
			lines:  []int64{1, 2, 3, 4},
		},
		{
			name: "strings under a Numeric projection parse like CSV cells",
			input: `{"n":" 2.5 "}` + "\n" + `{"n":"NA"}` + "\n" + `{"n":""}` + "\n" + `{"n":"null"}` + "\n" +
				`{"n":"Infinity"}` + "\n" + `{"n":"-Infinity"}` + "\n" + `{"n":"1e3"}` + "\n",
			fields: []Field{{"n", Numeric}},
			want:   []Column{num("n", 2.5, nan, nan, nan, math.Inf(1), math.Inf(-1), 1000)},
			lines:  []int64{1, 2, 3, 4, 5, 6, 7},
		},
		{
			name:   "NA strings are text in a String column",
			input:  `{"s":"NA"}` + "\n" + `{"s":"null"}` + "\n",
			fields: []Field{{"s", String}},
			want:   []Column{str("s", "NA", "null")},
			lines:  []int64{1, 2},
		},
		{
			name: "numbers per the JSON grammar, parsed exactly",
			input: `{"n":0}` + "\n" + `{"n":-0}` + "\n" + `{"n":0.1}` + "\n" + `{"n":1e-7}` + "\n" + `{"n":2.5E+3}` + "\n" +
				`{"n":1e400}` + "\n" + `{"n":-1e400}` + "\n" + `{"n":4.9e-324}` + "\n" + `{"n":1e-400}` + "\n" +
				`{"n":9007199254740993}` + "\n" + `{"n":0.30000000000000004}` + "\n",
			fields: []Field{{"n", Numeric}},
			want: []Column{num("n", 0, math.Copysign(0, -1), 0.1, 1e-7, 2500, math.Inf(1), math.Inf(-1),
				5e-324, 0, 9007199254740992, 0.30000000000000004)},
			lines: []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11},
		},
		{
			name: "escapes and unicode",
			input: `{"s":"q\" b\\ s\/ \b\f\n\r\t"}` + "\n" + `{"s":"\u00e9\u4E2D\ud83d\ude00"}` + "\n" +
				`{"s":"héllo 中文 😀"}` + "\n" + `{"s":"given \ufffd and \uFFFD"}` + "\n" +
				"{\"s\":\"given \xef\xbf\xbd\"}\n" + `{"s":"\u0000"}` + "\n",
			fields: []Field{{"s", String}},
			want: []Column{str("s", "q\" b\\ s/ \b\f\n\r\t", "é中😀", "héllo 中文 😀",
				"given \uFFFD and \uFFFD", "given \uFFFD", "\x00")},
			lines: []int64{1, 2, 3, 4, 5, 6},
		},
		{
			name:   "blank lines are skipped but counted",
			input:  "\n{\"a\":1}\n\n  \t\n{\"a\":2}\n\n",
			fields: []Field{{"a", Numeric}},
			want:   []Column{num("a", 1, 2)},
			lines:  []int64{2, 5},
		},
		{
			name:   "BOM, CRLF and no final newline",
			input:  "\xEF\xBB\xBF{\"a\":1}\r\n\r\n{\"a\":2}\r\n{\"a\":3}",
			fields: []Field{{"a", Numeric}},
			want:   []Column{num("a", 1, 2, 3)},
			lines:  []int64{1, 3, 4},
		},
		{
			name:  "no projection reads every column as String",
			input: "{\"b\":1,\"a\":\"x\"}\n{\"a\":null,\"b\":true}\n",
			want:  []Column{str("b", "1", "true"), str("a", "x", "<null>")},
			lines: []int64{1, 2},
		},
		{
			name:   "a column projected twice, in another order",
			input:  "{\"a\":1,\"b\":2}\n",
			fields: []Field{{"b", Numeric}, {"a", String}, {"a", Numeric}},
			want:   []Column{num("b", 2), str("a", "1"), num("a", 1)},
			lines:  []int64{1},
		},
		{
			name:   "whitespace around tokens",
			input:  " \t{ \"a\" :\t-1.5 , \"b\" : \"x\" } \t\r\n",
			fields: []Field{{"a", Numeric}, {"b", String}},
			want:   []Column{num("a", -1.5), str("b", "x")},
			lines:  []int64{1},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, block := range bufSizes {
				res, err := readJSONL(t, tc.input, tc.fields, JSONLOptions{}, block)
				if err != nil {
					t.Fatalf("block %d: %v", block, err)
				}
				sameColumns(t, res.cols, tc.want)
				if !reflect.DeepEqual(res.lines, tc.lines) {
					t.Errorf("block %d: got lines %v, want %v", block, res.lines, tc.lines)
				}
			}
		})
	}
}

func TestJSONLReaderErrors(t *testing.T) {
	const syntaxHint = "; each line must hold one flat JSON object"
	tests := []struct {
		name, input string
		fields      []Field
		want        string
		syntax      bool // the error wraps ErrJSONLSyntax
	}{
		{"extra key", "{\"a\":1}\n\n{\"a\":2,\"z\":3}\n", nil,
			`data.jsonl:3: column "z": jsonl syntax error: key is not in the first row; all rows must use the first row's keys; add the key to the first row (with null if it has no value there)`, true},
		{"duplicate key in the first row", "{\"a\":1,\"a\":2}\n", nil,
			`data.jsonl:1: column "a": jsonl syntax error: duplicate key; give each key once`, true},
		{"duplicate key in a later row", "{\"a\":1,\"b\":1}\n{\"b\":1,\"b\":2}\n", nil,
			`data.jsonl:2: column "b": jsonl syntax error: duplicate key; give each key once`, true},
		{"nested object", "{\"a\":1}\n{\"a\":{\"b\":1}}\n", nil,
			`data.jsonl:2: column "a": jsonl syntax error: value is an object; only strings, numbers, booleans and null are supported; flatten nested values into keys of their own, or encode them as strings`, true},
		{"nested array in the first row", "{\"a\":[1,2]}\n", nil,
			`data.jsonl:1: column "a": jsonl syntax error: value is an array; only strings, numbers, booleans and null are supported; declare the column ` + "`type: vector`" + ` in the spec to read arrays of numbers as vectors, or flatten nested values into keys of their own`, true},
		{"not an object", "{\"a\":1}\n[1]\n", nil,
			`data.jsonl:2: jsonl syntax error: expected a JSON object, found '[' (byte 1 of the line)` + syntaxHint, true},
		{"missing colon", "{\"a\" 1}\n", nil,
			`data.jsonl:1: jsonl syntax error: expected ':' after key "a", found '1' (byte 6 of the line)` + syntaxHint, true},
		{"missing comma", "{\"a\":1}\n{\"a\":1 \"b\":2}\n", nil,
			`data.jsonl:2: jsonl syntax error: expected ',' or '}' after the value of key "a", found '"' (byte 8 of the line)` + syntaxHint, true},
		{"trailing comma", "{\"a\":1,}\n", nil,
			`data.jsonl:1: jsonl syntax error: expected a key string, found '}' (byte 8 of the line)` + syntaxHint, true},
		{"object over two lines", "{\"a\":1,\n\"b\":2}\n", nil,
			`data.jsonl:1: jsonl syntax error: expected a key string, found the end of the line (byte 8 of the line)` + syntaxHint, true},
		{"text after the object", "{\"a\":1} x\n", nil,
			`data.jsonl:1: jsonl syntax error: unexpected 'x' after the object (byte 9 of the line)` + syntaxHint, true},
		{"two objects on a line", "{\"a\":1}{\"a\":2}\n", nil,
			`data.jsonl:1: jsonl syntax error: unexpected '{' after the object (byte 8 of the line)` + syntaxHint, true},
		{"unterminated string", "{\"a\":1}\n{\"a\":\"x}\n", nil,
			`data.jsonl:2: jsonl syntax error: string never closed before the end of the line (byte 6 of the line)` + syntaxHint, true},
		{"raw control character", "{\"a\":\"x\ty\"}\n", nil,
			`data.jsonl:1: jsonl syntax error: control character '\t' in a string; escape it (byte 8 of the line)` + syntaxHint, true},
		{"bad escape", `{"a":"\x"}`, nil,
			`data.jsonl:1: jsonl syntax error: invalid escape "\\x" in a string (byte 7 of the line)` + syntaxHint, true},
		{"short unicode escape", `{"a":"\u12"}`, nil,
			`data.jsonl:1: jsonl syntax error: invalid escape "\\u12\"}"; \u needs four hex digits (byte 7 of the line)` + syntaxHint, true},
		{"leading zero", `{"a":01}`, nil,
			`data.jsonl:1: jsonl syntax error: invalid number "01" for key "a" (byte 6 of the line)` + syntaxHint, true},
		{"plus sign", `{"a":+1}`, nil,
			`data.jsonl:1: jsonl syntax error: expected a value for key "a", found '+' (byte 6 of the line)` + syntaxHint, true},
		{"bare point", `{"a":1.}`, nil,
			`data.jsonl:1: jsonl syntax error: invalid number "1." for key "a" (byte 6 of the line)` + syntaxHint, true},
		{"empty exponent", `{"a":1e}`, nil,
			`data.jsonl:1: jsonl syntax error: invalid number "1e" for key "a" (byte 6 of the line)` + syntaxHint, true},
		{"lone minus", `{"a":-}`, nil,
			`data.jsonl:1: jsonl syntax error: invalid number "-" for key "a" (byte 6 of the line)` + syntaxHint, true},
		{"NaN literal", `{"a":NaN}`, nil,
			`data.jsonl:1: jsonl syntax error: expected a value for key "a", found 'N' (byte 6 of the line)` + syntaxHint, true},
		{"single quotes", `{'a':1}`, nil,
			`data.jsonl:1: jsonl syntax error: expected a key string, found '\'' (byte 2 of the line)` + syntaxHint, true},
		{"text in a numeric column", "{\"age\":31}\n{\"age\":\"abc\"}\n", []Field{{"age", Numeric}},
			"data.jsonl:2: column \"age\": cannot parse \"abc\" as a number; declare the column `type: categorical` in the spec or fix the value", false},
		{"no object at all", "\n \n", nil,
			"data.jsonl: empty file: no header row (no JSON object to take the column names from)", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, block := range bufSizes {
				_, err := readJSONL(t, tc.input, tc.fields, JSONLOptions{}, block)
				if err == nil || err.Error() != tc.want {
					t.Fatalf("block %d: got error %v, want %q", block, err, tc.want)
				}
				if got := errors.Is(err, ErrJSONLSyntax); got != tc.syntax {
					t.Errorf("errors.Is(err, ErrJSONLSyntax): got %v, want %v", got, tc.syntax)
				}
			}
		})
	}
	if _, err := readJSONL(t, "", nil, JSONLOptions{}, blockSize); !errors.Is(err, ErrNoHeader) {
		t.Errorf("empty input: got %v, want an error wrapping ErrNoHeader", err)
	}
	var pe *ParseError
	if _, err := readJSONL(t, "{\"a\":1}\n{\"a\":[]}\n", nil, JSONLOptions{}, blockSize); !errors.As(err, &pe) || pe.Line != 2 || pe.Column != "a" {
		t.Errorf("nested value: got %#v, want a *ParseError at line 2, column a", err)
	}
}

func TestJSONLReaderProject(t *testing.T) {
	r, err := NewJSONLReader(strings.NewReader("{\"a\":1,\"b\":2}\n"), "p.jsonl", JSONLOptions{})
	if err != nil {
		t.Fatal(err)
	}
	err = r.Project([]Field{{"a", Numeric}, {"x", Numeric}, {"y", String}})
	want := `p.jsonl: columns "x", "y" are not in the header (the first row's keys); the header has: "a", "b"`
	if err == nil || err.Error() != want {
		t.Errorf("got %v, want %q", err, want)
	}
	if !r.Next() {
		t.Fatal(r.Err())
	}
	if err := r.Project([]Field{{"a", Numeric}}); err == nil {
		t.Error("Project after Next: got no error, want one")
	}
}

// TestJSONLReaderExactFloats writes random bit patterns with AppendFloat,
// as JSON numbers and as JSON strings, and checks they read back with the
// same bits (the reference being the bits themselves).
func TestJSONLReaderExactFloats(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var want []float64
	var sb strings.Builder
	for i := 0; i < 20000; i++ {
		bits := rng.Uint64()
		if i%4 == 0 {
			bits &^= 0x7ff << 52 // subnormals and zeros
		}
		v := math.Float64frombits(bits)
		if i%3 == 0 {
			v = math.Ldexp(rng.Float64(), rng.IntN(120)-60)
		}
		if math.IsNaN(v) {
			continue
		}
		want = append(want, v)
		text := string(AppendFloat(nil, v))
		fmt.Fprintf(&sb, "{\"n\":%s,\"s\":%q}\n", text, text)
	}
	res, err := readJSONL(t, sb.String(), []Field{{"n", Numeric}, {"s", Numeric}}, JSONLOptions{}, blockSize)
	if err != nil {
		t.Fatal(err)
	}
	sameColumns(t, res.cols, []Column{num("n", want...), num("s", want...)})
}

// TestJSONLNumbersMatchStrconv checks scanNumber's fast path and fallback
// against strconv.ParseFloat on random literals around its limits: up to
// 21 digits (2^53 and 19 digits are the fast path's bounds), exponents
// around ±22, leading and trailing zeros.
func TestJSONLNumbersMatchStrconv(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 9))
	literals := []string{"9007199254740992", "9007199254740993", "9007199254740993e-22", "1e22", "1e23",
		"1e-22", "1e-23", "1234567890123456789", "12345678901234567890", "0.1234567890123456789",
		"0.00000000000000000000001", "100000000000000000000000e-10", "-0.0e0", "0e400", "1E+022"}
	for i := 0; i < 50000; i++ {
		var sb strings.Builder
		if rng.IntN(2) == 0 {
			sb.WriteByte('-')
		}
		digits := 1 + rng.IntN(21)
		point := rng.IntN(digits + 1)
		for d := 0; d < digits; d++ {
			if d == point && d > 0 {
				sb.WriteByte('.')
			}
			c := byte('0' + rng.IntN(10))
			if d == 0 && point != 1 {
				c = byte('1' + rng.IntN(9)) // no leading zero unless "0."
			}
			if rng.IntN(4) == 0 && d > 0 {
				c = '0'
			}
			sb.WriteByte(c)
		}
		if rng.IntN(2) == 0 {
			fmt.Fprintf(&sb, "e%d", rng.IntN(61)-30)
		}
		literals = append(literals, sb.String())
	}
	for _, lit := range literals {
		end, v, exact := scanNumber([]byte(lit), 0)
		if end != len(lit) {
			t.Fatalf("scanNumber(%q): got end %d, want %d", lit, end, len(lit))
		}
		if !exact {
			v = parseJSONNumber([]byte(lit))
		}
		want, err := strconv.ParseFloat(lit, 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			t.Fatalf("strconv.ParseFloat(%q): %v", lit, err)
		}
		if math.Float64bits(v) != math.Float64bits(want) {
			t.Fatalf("%q: got %v (exact path %v), want %v", lit, v, exact, want)
		}
	}
}

func TestJSONLReaderBatchSizesAgree(t *testing.T) {
	var sb strings.Builder
	for i := 0; i < 100; i++ {
		if i%9 == 4 {
			sb.WriteString("\n")
		}
		switch i % 4 {
		case 0:
			fmt.Fprintf(&sb, "{\"x\":%d.25,\"c\":\"v%d\",\"b\":true}\n", i, i%3)
		case 1:
			fmt.Fprintf(&sb, "{\"c\":null,\"x\":\"%d\"}\n", i)
		case 2:
			fmt.Fprintf(&sb, "{\"b\":false}\r\n")
		default:
			fmt.Fprintf(&sb, "{\"x\":-%de-3,\"b\":null,\"c\":\"caf\\u00e9\"}\n", i)
		}
	}
	fields := []Field{{"c", String}, {"x", Numeric}, {"b", String}}
	whole, err := readJSONL(t, sb.String(), fields, JSONLOptions{}, blockSize)
	if err != nil {
		t.Fatal(err)
	}
	if whole.batches != 1 {
		t.Fatalf("got %d batches, want 1", whole.batches)
	}
	for _, rows := range []int{1, 7} {
		for _, block := range bufSizes {
			got, err := readJSONL(t, sb.String(), fields, JSONLOptions{BatchRows: rows}, block)
			if err != nil {
				t.Fatal(err)
			}
			sameColumns(t, got.cols, whole.cols)
			if !reflect.DeepEqual(got.lines, whole.lines) {
				t.Errorf("batch %d, block %d: got lines %v, want %v", rows, block, got.lines, whole.lines)
			}
			if want := (100 + rows - 1) / rows; got.batches != want {
				t.Errorf("batch %d: got %d batches, want %d", rows, got.batches, want)
			}
			for i, s := range got.starts {
				if s != int64(i*rows) {
					t.Errorf("batch %d: batch %d starts at %d, want %d", rows, i, s, i*rows)
				}
			}
		}
	}
}

func TestJSONLReaderNullMask(t *testing.T) {
	r, err := NewJSONLReader(strings.NewReader("{\"s\":\"a\"}\n{\"s\":null}\n{}\n{\"s\":\"b\"}\n{\"s\":\"c\"}\n"), "n.jsonl", JSONLOptions{BatchRows: 2})
	if err != nil {
		t.Fatal(err)
	}
	var masks [][]bool
	for r.Next() {
		c := r.Batch().Cols[0]
		masks = append(masks, append([]bool(nil), c.Null...))
	}
	// A batch with no missing value has a nil mask (Column's contract).
	if want := [][]bool{{false, true}, {true, false}, nil}; !reflect.DeepEqual(masks, want) {
		t.Errorf("got masks %v, want %v", masks, want)
	}
}

func TestJSONLReaderInternsStrings(t *testing.T) {
	var sb strings.Builder
	for i := 0; i < 1000; i++ {
		fmt.Fprintf(&sb, "{\"c\":%q,\"n\":%d}\n", []string{"red", "green", "blue"}[i%3], i%2)
	}
	r, err := NewJSONLReader(strings.NewReader(sb.String()), "c.jsonl", JSONLOptions{BatchRows: 100})
	if err != nil {
		t.Fatal(err)
	}
	r.Next() // warm the intern tables and buffers
	allocs := testing.AllocsPerRun(1, func() {
		for r.Next() {
		}
	})
	if allocs > 0 {
		t.Errorf("got %v allocations reading repeated values, want 0", allocs)
	}
}

// TestJSONLReaderAgreesWithEncodingJSON decodes each accepted line with
// encoding/json too: strings (escapes, surrogate pairs, UTF-8), numbers'
// text, booleans and null must agree. (Text that is not UTF-8, which
// encoding/json reads as U+FFFD, is refused: TestJSONLReaderRefusesTextNotUTF8.)
func TestJSONLReaderAgreesWithEncodingJSON(t *testing.T) {
	lines := []string{
		`{"a":"plain","b":1,"c":true}`,
		`{"a":"\ud83d\ude00 \uD83D\uDE00 x\udbff\udfff \ud800\udc00","b":-0.0e-0,"c":false}`,
		"{\"a\":\"\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xef\xbf\xbd \xf4\x8f\xbf\xbf\",\"b\":1E400,\"c\":null}",
		`{"a":"\"\\\/\b\f\n\r\t\u0001\u001f\u007f\u2028","b":123456789012345678901234567890}`,
		`{"b":0.000001,"a":"","c":null}`,
		"{\"\xc3\xa9\":1}",
	}
	for _, line := range lines {
		checkAgainstEncodingJSON(t, []byte(line))
	}
}

// checkAgainstEncodingJSON reads one line with JSONLReader (all columns
// String) and with encoding/json, and compares the values.
func checkAgainstEncodingJSON(t *testing.T, line []byte) {
	t.Helper()
	res, err := readJSONL(t, string(line), nil, JSONLOptions{}, blockSize)
	if err != nil {
		t.Fatalf("%q: %v", line, err)
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("%q: encoding/json: %v", line, err)
	}
	if len(m) != len(res.cols) {
		t.Fatalf("%q: got %d keys, encoding/json has %d", line, len(res.cols), len(m))
	}
	for _, c := range res.cols {
		v, ok := m[c.Name]
		if !ok {
			t.Fatalf("%q: got key %q, encoding/json has no such key", line, c.Name)
		}
		want, null := "", false
		switch v := v.(type) {
		case nil:
			null = true
		case string:
			want = v
		case json.Number:
			want = v.String()
		case bool:
			want = fmt.Sprint(v)
		default:
			t.Fatalf("%q: key %q: encoding/json gives %T", line, c.Name, v)
		}
		if c.Str[0] != want || c.Null[0] != null {
			t.Errorf("%q: key %q: got %q (missing %v), want %q (missing %v)", line, c.Name, c.Str[0], c.Null[0], want, null)
		}
	}
}

func TestJSONLWriterText(t *testing.T) {
	tests := []struct {
		name   string
		fields []Field
		cols   []Column
		want   string
	}{
		{"numbers", []Field{{"x", Numeric}, {"y", Numeric}},
			[]Column{num("x", 3, 0.5, nan, math.Inf(1)), num("y", math.Copysign(0, -1), 1e-05, 1.5e16, math.Inf(-1))},
			`{"x":3,"y":-0}` + "\n" + `{"x":0.5,"y":1e-05}` + "\n" + `{"x":null,"y":1.5e+16}` + "\n" + `{"x":"Infinity","y":"-Infinity"}` + "\n"},
		{"strings", []Field{{"s", String}},
			[]Column{str("s", "plain", "", "<null>", `q"b\`, "\n\r\t\b\f\x00\x1f\x7f", "é中😀", "bad\xffbyte", "\xe2\x82", "NA")},
			`{"s":"plain"}` + "\n" + `{"s":""}` + "\n" + `{"s":null}` + "\n" + `{"s":"q\"b\\"}` + "\n" +
				`{"s":"\n\r\t\b\f\u0000\u001f` + "\x7f" + `"}` + "\n" + `{"s":"é中😀"}` + "\n" +
				`{"s":"bad` + "\uFFFD" + `byte"}` + "\n" + `{"s":"` + "\uFFFD\uFFFD" + `"}` + "\n" + `{"s":"NA"}` + "\n"},
		{"keys are escaped, in field order", []Field{{"b\"", Numeric}, {"a\n", String}, {"", Numeric}},
			[]Column{num("b\"", 1), str("a\n", "x"), num("", 2)},
			`{"b\"":1,"a\n":"x","":2}` + "\n"},
		{"no columns", nil, nil, "{}\n{}\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			w := NewJSONLWriter(&out, tc.fields)
			rows := 2
			if len(tc.cols) > 0 {
				rows = tc.cols[0].Len()
			}
			if err := w.Write(&Batch{Cols: tc.cols, Rows: rows}); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if got := out.String(); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
			for _, line := range strings.SplitAfter(out.String(), "\n") {
				if line != "" && !json.Valid([]byte(line)) {
					t.Errorf("line %q is not valid JSON (encoding/json.Valid)", line)
				}
			}
		})
	}
}

// TestJSONLWriterRoundTrip writes batches and reads them back: numbers come
// back bit for bit, strings unchanged, missing values missing.
func TestJSONLWriterRoundTrip(t *testing.T) {
	fields := []Field{{"x", Numeric}, {"s", String}, {"y", Numeric}}
	rng := rand.New(rand.NewPCG(5, 6))
	xs := []float64{0.1, math.Copysign(0, -1), 5e-324, math.MaxFloat64, nan, 1e-7, 123456.789, math.Inf(1), math.Inf(-1), 0}
	ss := []string{"a", "b,c", "d\"e", "<null>", "f\r\ng", " ", "", "NA", "\xEF\xBB\xBF", "\u2028\x00é"}
	var ys []float64
	for range xs {
		ys = append(ys, math.Float64frombits(rng.Uint64()&^(1<<62))) // finite: exponent's top bit clear
	}
	cols := []Column{num("x", xs...), str("s", ss...), num("y", ys...)}
	var out bytes.Buffer
	w := NewJSONLWriter(&out, fields)
	for _, b := range []*Batch{{Cols: sliceCols(cols, 0, 3), Rows: 3}, {Cols: sliceCols(cols, 3, 10), Rows: 7}} {
		if err := w.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	res, err := readJSONL(t, out.String(), fields, JSONLOptions{}, blockSize)
	if err != nil {
		t.Fatal(err)
	}
	sameColumns(t, res.cols, cols)
}

func TestJSONLWriterRejectsMismatchedBatch(t *testing.T) {
	fields := []Field{{"x", Numeric}, {"s", String}}
	tests := []struct {
		name string
		b    *Batch
		want string
	}{
		{"column count", &Batch{Cols: []Column{num("x", 1)}, Rows: 1},
			"jsonl write: batch has 1 columns, the writer has 2"},
		{"kind", &Batch{Cols: []Column{num("x", 1), num("s", 1)}, Rows: 1},
			`jsonl write: column 2 is "s" (numeric), want "s" (categorical)`},
		{"short column", &Batch{Cols: []Column{num("x", 1), str("s", "a")}, Rows: 2},
			`jsonl write: column "x" has 1 rows, the batch has 2`},
	}
	for _, tc := range tests {
		w := NewJSONLWriter(&bytes.Buffer{}, fields)
		if err := w.Write(tc.b); err == nil || err.Error() != tc.want {
			t.Errorf("%s: got error %v, want %q", tc.name, err, tc.want)
		}
	}
}

func TestCreateJSONLAtomic(t *testing.T) {
	fields := []Field{{"x", Numeric}}
	batch := &Batch{Cols: []Column{num("x", 1, 2)}, Rows: 2}
	const want = "{\"x\":1}\n{\"x\":2}\n"

	t.Run("abort leaves nothing", func(t *testing.T) {
		dir := t.TempDir()
		w, err := CreateJSONL(filepath.Join(dir, "out.jsonl"), fields)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Write(batch); err != nil {
			t.Fatal(err)
		}
		if err := w.Abort(); err != nil {
			t.Fatal(err)
		}
		if names := dirNames(t, dir); len(names) != 0 {
			t.Errorf("got files %q after Abort, want none", names)
		}
		if err := w.Close(); err != nil {
			t.Errorf("Close after Abort: got %v, want nil", err)
		}
		if err := w.Write(batch); err == nil {
			t.Error("Write after Abort: got no error, want one")
		}
	})

	t.Run("existing file untouched until close", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "out.jsonl")
		if err := os.WriteFile(path, []byte("old\n"), 0o640); err != nil {
			t.Fatal(err)
		}
		w, err := CreateJSONL(path, fields)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Write(batch); err != nil {
			t.Fatal(err)
		}
		if got, _ := os.ReadFile(path); string(got) != "old\n" {
			t.Errorf("before Close: got %q, want %q", got, "old\n")
		}
		if names := dirNames(t, dir); len(names) != 2 || !strings.HasPrefix(names[0], ".out.jsonl.normguard-tmp-") {
			t.Errorf("before Close: got files %q, want the destination and one .out.jsonl.normguard-tmp-* file", names)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if got, _ := os.ReadFile(path); string(got) != want {
			t.Errorf("after Close: got %q, want %q", got, want)
		}
		if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o640 {
			t.Errorf("after Close: got mode %v (%v), want the old file's -rw-r-----", st.Mode(), err)
		}
		if names := dirNames(t, dir); len(names) != 1 {
			t.Errorf("after Close: got files %q, want only out.jsonl", names)
		}
		if err := w.Abort(); err != nil {
			t.Errorf("Abort after Close: got %v, want nil", err)
		}
		if _, err := os.Stat(path); err != nil {
			t.Errorf("Abort after Close removed the output: %v", err)
		}
	})

	t.Run("missing directory", func(t *testing.T) {
		_, err := CreateJSONL(filepath.Join(t.TempDir(), "no", "out.jsonl"), fields)
		if !errors.Is(err, os.ErrNotExist) {
			t.Errorf("got %v, want a not-exist error", err)
		}
	})
}

func TestOpenJSONL(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d.jsonl")
	if err := os.WriteFile(path, []byte("{\"a\":1}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := OpenJSONL(path, JSONLOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Project([]Field{{"a", Numeric}}); err != nil {
		t.Fatal(err)
	}
	if !r.Next() || r.Batch().Cols[0].Num[0] != 1 {
		t.Errorf("got no row 1, want a = 1 (err %v)", r.Err())
	}
	if err := r.Close(); err != nil {
		t.Errorf("got close error %v, want none", err)
	}
	if _, err := OpenJSONL(filepath.Join(t.TempDir(), "missing.jsonl"), JSONLOptions{}); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("got %v, want a not-exist error", err)
	}
}

// TestJSONLPaddingBounded: a line with more than MaxCellBytes outside its
// keys and values (white space between two keys, or NUL bytes that are
// no JSON) is refused while read, before it is held whole (attack run 12:
// 900 MB of spaces took transform to 2.2 GB and then succeeded).
func TestJSONLPaddingBounded(t *testing.T) {
	pad := strings.Repeat(" ", MaxCellBytes+1)
	for name, text := range map[string]string{
		"spaces between keys": "{\"a\": 1, \"b\": \"x\"}\n{\"a\": 2," + pad + "\"b\": \"y\"}\n",
		"spaces before a row": "{\"a\": 1, \"b\": \"x\"}\n" + pad + "{\"a\": 2, \"b\": \"y\"}\n",
		"NUL bytes":           "{\"a\": 1, \"b\": \"x\"}\n" + strings.Repeat("\x00", 3*MaxCellBytes),
	} {
		t.Run(name, func(t *testing.T) {
			r, err := NewJSONLReader(strings.NewReader(text), "p.jsonl", JSONLOptions{})
			if err != nil {
				t.Fatal(err)
			}
			for r.Next() {
			}
			var pe *ParseError
			if err := r.Err(); !errors.As(err, &pe) || pe.Line != 2 || !strings.Contains(err.Error(), "outside its keys and values") {
				t.Fatalf("got %v, want the padding refused at line 2", err)
			}
		})
	}
	// Padding within the bound is read as the JSON it is.
	r, err := NewJSONLReader(strings.NewReader("{\"a\": 1,"+strings.Repeat(" ", 1<<20)+"\"b\": \"x\"}\n"), "p.jsonl", JSONLOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rows := 0
	for r.Next() {
		rows += r.Batch().Rows
	}
	if err := r.Err(); err != nil || rows != 1 {
		t.Fatalf("1 MiB of spaces: %v, %d rows", err, rows)
	}
}
