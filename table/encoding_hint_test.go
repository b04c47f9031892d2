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
// file's last line (3 here), not one past it. NUL bytes stay data: a CSV
// holding one in a cell is read as before.
func TestUTF16WithoutBOMNamed(t *testing.T) {
	csv := utf16LE("a,b,c,d,e\n1,2,3,4,5\n6,7,8,9,10\n") // 3 lines
	err := readAllText(t, "u16.csv", csv)
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Line != 3 || !strings.Contains(err.Error(), "looks like UTF-16LE text without a byte order mark") ||
		!strings.Contains(err.Error(), "iconv -f UTF-16LE -t UTF-8 u16.csv") {
		t.Errorf("UTF-16LE CSV: %v; want a parse error on line 3 (the last) naming UTF-16LE and iconv", err)
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
