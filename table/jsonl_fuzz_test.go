package table

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strconv"
	"testing"
	"unicode/utf8"
)

// readAllJSONL reads every column of data as kind with the given block
// and batch sizes, joining the batches.
func readAllJSONL(data []byte, block, batchRows int, kind Kind) (header []string, cols []Column, rows int, err error) {
	r, err := newJSONLReader(bytes.NewReader(data), "fuzz.jsonl", JSONLOptions{BatchRows: batchRows}, block)
	if err != nil {
		return nil, nil, 0, err
	}
	header = r.Header()
	fields := make([]Field, len(header))
	for i, h := range header {
		fields[i] = Field{Name: h, Kind: kind}
	}
	if err := r.Project(fields); err != nil {
		return nil, nil, 0, err
	}
	cols = NewColumns(fields)
	for r.Next() {
		b := r.Batch()
		rows += b.Rows
		for i := range b.Cols {
			c := &b.Cols[i]
			for j := 0; j < b.Rows; j++ {
				if kind == Numeric {
					cols[i].Num = append(cols[i].Num, c.Num[j])
					continue
				}
				cols[i].Str = append(cols[i].Str, c.Str[j])
				cols[i].Null = append(cols[i].Null, c.IsMissing(j))
			}
		}
	}
	if r.Err() == nil && rows == 0 {
		return nil, nil, 0, errors.New("no rows although the header was read")
	}
	return header, cols, rows, r.Err()
}

// bitsDiffer reports whether two floats differ bitwise, NaN equal to NaN.
func bitsDiffer(a, b float64) bool {
	return math.Float64bits(a) != math.Float64bits(b) && !(math.IsNaN(a) && math.IsNaN(b))
}

// FuzzJSONLReader checks that the reader never panics, that its result does
// not depend on block or batch size, that it agrees with encoding/json, and
// that writing what it read with JSONLWriter and reading that again gives
// the same header and cells (as strings, and as numbers bit for bit).
func FuzzJSONLReader(f *testing.F) {
	f.Add([]byte("{\"a\":1,\"b\":\"x\"}\n"))
	f.Add([]byte("{\"a\":\"4_7.4\",\"b\":\"0x1p3\"}\n{\"a\":\"1.e3\",\"b\":\"-Infinity\"}\n"))
	f.Add([]byte("{\"a\":\"caf\xe9\",\"b\":\"\\udce9\\\\udce9\"}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		header, cols, rows, err := readAllJSONL(data, 1<<16, 0, String)
		h2, cols2, rows2, err2 := readAllJSONL(data, 4+len(data)%13, 1+len(data)%5, String)
		if (err == nil) != (err2 == nil) || err != nil && err.Error() != err2.Error() {
			t.Fatalf("block size changes the error: %v vs %v", err, err2)
		}
		if err != nil {
			checkRejectionFair(t, data, err)
			return
		}
		if rows != rows2 || !reflect.DeepEqual(header, h2) || !reflect.DeepEqual(cols, cols2) {
			t.Fatalf("block size changes the result: %q %+v vs %q %+v", header, cols, h2, cols2)
		}
		for i, line := range bytes.Split(data, []byte("\n")) {
			if i == 0 {
				line = bytes.TrimPrefix(line, []byte("\xEF\xBB\xBF"))
			}
			if !isBlankJSON(line) {
				checkAgainstEncodingJSON(t, line)
			}
		}
		roundTripJSONL(t, header, cols, rows, String)
		if header, cols, rows, err := readAllJSONL(data, 1<<16, 0, Numeric); err == nil {
			roundTripJSONL(t, header, cols, rows, Numeric)
		}
	})
}

// checkRejectionFair checks that a rejected one-line input is not a flat
// JSON object with unique keys holding UTF-8 text, which the reader must
// accept, and that a refusal of text that is not UTF-8 is for input
// holding some.
func checkRejectionFair(t *testing.T, data []byte, err error) {
	t.Helper()
	if errors.Is(err, ErrNotUTF8) {
		if utf8.Valid(data) && !hasLoneSurrogate(data) {
			t.Fatalf("refused %q, all UTF-8, as not UTF-8: %v", data, err)
		}
		return
	}
	line := bytes.TrimPrefix(data, []byte("\xEF\xBB\xBF"))
	if bytes.IndexByte(line, '\n') >= 0 || len(line) >= 1<<20 || !flatUniqueObject(line) {
		return
	}
	t.Fatalf("rejected %q, a flat JSON object with unique keys: %v", line, err)
}

// flatUniqueObject reports whether encoding/json sees line as one object
// whose values are scalars and whose keys are distinct.
func flatUniqueObject(line []byte) bool {
	if !json.Valid(line) {
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return false
	}
	seen := map[string]bool{}
	for dec.More() {
		key, err := dec.Token()
		if err != nil || seen[key.(string)] {
			return false
		}
		seen[key.(string)] = true
		val, err := dec.Token()
		if _, nested := val.(json.Delim); err != nil || nested {
			return false
		}
	}
	return true
}

// roundTripJSONL writes columns read from data and reads them back.
func roundTripJSONL(t *testing.T, header []string, cols []Column, rows int, kind Kind) {
	t.Helper()
	fields := make([]Field, len(header))
	for i, h := range header {
		fields[i] = Field{Name: h, Kind: kind}
	}
	var out bytes.Buffer
	w := NewJSONLWriter(&out, fields)
	if err := w.Write(&Batch{Cols: cols, Rows: rows}); err != nil {
		t.Fatalf("write: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	header2, cols2, rows2, err := readAllJSONL(out.Bytes(), 1<<16, 0, kind)
	if err != nil {
		t.Fatalf("reading the re-encoded %q: %v", out.String(), err)
	}
	if !reflect.DeepEqual(header2, header) || rows2 != rows {
		t.Fatalf("re-encoded: got header %q and %d rows, want %q and %d (text %q)", header2, rows2, header, rows, out.String())
	}
	for i := range cols {
		c, c2 := &cols[i], &cols2[i]
		for j := range c.Num {
			if bitsDiffer(c2.Num[j], c.Num[j]) {
				t.Fatalf("re-encoded column %q row %d: got %v, want %v (text %q)", c.Name, j, c2.Num[j], c.Num[j], out.String())
			}
		}
		if !reflect.DeepEqual(c2.Str, c.Str) || !reflect.DeepEqual(c2.Null, c.Null) {
			t.Fatalf("re-encoded column %q: got %q %v, want %q %v (text %q)", c.Name, c2.Str, c2.Null, c.Str, c.Null, out.String())
		}
	}
}

// hasLoneSurrogate reports whether data holds a \uXXXX escape of a UTF-16
// surrogate that is not the high half of a pair followed by its low half
// (escapes are taken in order, so the u of an escaped backslash's "\\u"
// starts none).
func hasLoneSurrogate(data []byte) bool {
	hex := func(i int) (int, bool) {
		if i+6 > len(data) || data[i] != '\\' || data[i+1] != 'u' {
			return 0, false
		}
		v, err := strconv.ParseUint(string(data[i+2:i+6]), 16, 16)
		return int(v), err == nil
	}
	for i := 0; i < len(data); i++ {
		if data[i] != '\\' {
			continue
		}
		v, ok := hex(i)
		switch {
		case !ok:
			i++ // the escaped byte
		case v >= 0xD800 && v < 0xDC00:
			if lo, ok := hex(i + 6); ok && lo >= 0xDC00 && lo < 0xE000 {
				i += 11
				continue
			}
			return true
		case v >= 0xDC00 && v < 0xE000:
			return true
		default:
			i += 5
		}
	}
	return false
}
