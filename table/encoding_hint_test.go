package table

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// readAllText reads every column of a CSV or JSONL text as strings and
// returns the reader's error (from the header or the rows).
func readAllText(t *testing.T, name string, data []byte) error {
	t.Helper()
	var r Reader
	var err error
	if strings.HasSuffix(name, ".jsonl") {
		r, err = NewJSONLReader(bytes.NewReader(data), name, JSONLOptions{})
	} else {
		r, err = NewCSVReader(bytes.NewReader(data), name, CSVOptions{})
	}
	if err != nil {
		return err
	}
	fields := make([]Field, len(r.Header()))
	for i, h := range r.Header() {
		fields[i] = Field{Name: h, Kind: String}
	}
	if err := r.Project(fields); err != nil {
		return err
	}
	for r.Next() {
	}
	return r.Err()
}

// utf16LE encodes ASCII text as UTF-16LE without a byte order mark, as
// pandas' to_csv(encoding="utf-16-le") writes it.
func utf16LE(s string) []byte {
	var b []byte
	for i := 0; i < len(s); i++ {
		b = append(b, s[i], 0)
	}
	return b
}

// TestUTF16WithoutBOMNamed (attack run 18 F7a): a UTF-16LE file without a
// byte order mark failed as "u16.csv:51: row has 1 fields" for a 50-line
// file, or "found '\x00'" in JSON Lines, with no word of the encoding. The
// error names the encoding and the conversion, and the CSV error names the
// file's header (line 1: its names hold the NUL bytes, attack run 20),
// not a line past the file's end. NUL bytes stay data: a CSV holding one
// in a cell is read as before.
func TestUTF16WithoutBOMNamed(t *testing.T) {
	csv := utf16LE("a,b,c,d,e\n1,2,3,4,5\n6,7,8,9,10\n") // 3 lines
	err := readAllText(t, "u16.csv", csv)
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Line != 1 || !strings.Contains(err.Error(), "looks like UTF-16LE text without a byte order mark") ||
		!strings.Contains(err.Error(), "iconv -f UTF-16LE -t UTF-8 u16.csv") {
		t.Errorf("UTF-16LE CSV: %v; want a parse error on line 1 (the header) naming UTF-16LE and iconv", err)
	}
	jl := utf16LE(`{"a": 1, "b": "x"}` + "\n" + `{"a": 2, "b": "y"}` + "\n")
	err = readAllText(t, "u16.jsonl", jl)
	if !errors.As(err, &pe) || pe.Line != 1 || !strings.Contains(err.Error(), "iconv -f UTF-16LE -t UTF-8 u16.jsonl") {
		t.Errorf("UTF-16LE JSONL: %v; want a parse error on line 1 naming UTF-16LE and iconv", err)
	}
	// NUL as data, and a header of plain ASCII: no error, no hint.
	if err := readAllText(t, "nul.csv", []byte("a,b\n\x00x,1\n2,\x00\n")); err != nil {
		t.Errorf("a CSV with NUL bytes in its cells: %v, want it read", err)
	}
	for in, want := range map[string]string{
		string(utf16LE("a,b\n")):     "UTF-16LE",
		"\x00a\x00,\x00b\x00\n":      "UTF-16BE",
		"a,b\n1,2\n":                 "",
		"\x00x,1\n":                  "",
		"a\x00":                      "", // too short to tell
		string(utf16LE("é,b\n"))[1:]: "",
	} {
		if got := wideWithoutBOM([]byte(in)); got != want {
			t.Errorf("wideWithoutBOM(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestJSONLCROnlyNamed (attack run 18 F7b): JSON Lines with CR-only line
// endings failed as "unexpected '{' after the object (byte 104 of the
// line)"; the error names the CR-only line endings and the conversion, as
// the CSV reader does.
func TestJSONLCROnlyNamed(t *testing.T) {
	line := `{"a": 1, "b": "x"}` // 18 bytes: the CR is byte 19
	err := readAllText(t, "cr.jsonl", []byte(line+"\r"+line+"\r"+line+"\r"))
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Line != 1 || !strings.Contains(err.Error(), "at byte 19, ends a line: the file's lines end in CR only") ||
		!strings.Contains(err.Error(), `tr '\r' '\n'`) {
		t.Errorf("CR-only JSONL: %v; want the CR-only line endings named, with tr", err)
	}
	// CRLF is read as before.
	if err := readAllText(t, "crlf.jsonl", []byte(line+"\r\n"+line+"\r\n")); err != nil {
		t.Errorf("CRLF JSONL: %v", err)
	}
}

// TestNULInHeaderRefused (attack run 20 F3): a one-column UTF-16 file
// without a byte order mark parses (one field a line), so no parse error
// carried the encoding hint and commands named a column "x\x00". A NUL
// byte in a column name is refused naming the column, with the UTF-16
// hint when the file looks like it, and escaped.
func TestNULInHeaderRefused(t *testing.T) {
	cases := map[string]string{
		"x\x00\n\x001\x00\n\x002\x00\n":        "UTF-16LE",
		"\x00x\x00\n\x001\x00\n\x002\x00\n":    "UTF-16BE",
		"a,b\x00c\n1,2\n":                      "save it as UTF-8",
		"0\x000\x000000,0000":                  "column 1 of the header",
		"x\x00,\x00y\x00\n\x001\x00,\x002\x00": "UTF-16LE",
	}
	for data, want := range cases {
		err := readAllText(t, "u.csv", []byte(data))
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "holds a NUL byte") ||
			strings.IndexByte(err.Error(), 0) >= 0 || !strings.Contains(err.Error(), "u.csv:1") {
			t.Errorf("%q: %v; want a refusal at u.csv:1 naming the NUL byte and %q, with no raw NUL", data, err, want)
		}
	}
	if err := readAllText(t, "ok.csv", []byte("a,b\n\x00x,1\n")); err != nil {
		t.Errorf("a NUL byte in a cell is data: %v", err)
	}
}
