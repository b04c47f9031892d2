package table

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf16"
)

// TestWideEncodingRefused: a UTF-16 or UTF-32 file (Excel's "Unicode
// text") is refused naming its encoding and how to convert it, by the CSV
// and JSON Lines readers, by its byte order mark (attack run 16: "row has
// 1 fields" at a line past the file's end).
func TestWideEncodingRefused(t *testing.T) {
	text := "a,b\n1,2\n"
	le := func(bom bool) []byte {
		var b []byte
		if bom {
			b = append(b, 0xFF, 0xFE)
		}
		for _, u := range utf16.Encode([]rune(text)) {
			b = append(b, byte(u), byte(u>>8))
		}
		return b
	}
	be := func(bom bool) []byte {
		var b []byte
		if bom {
			b = append(b, 0xFE, 0xFF)
		}
		for _, u := range utf16.Encode([]rune(text)) {
			b = append(b, byte(u>>8), byte(u))
		}
		return b
	}
	cases := []struct {
		data []byte
		enc  string
	}{
		{le(true), "UTF-16LE"}, {be(true), "UTF-16BE"},
		{append([]byte{0xFF, 0xFE, 0, 0}, 'a', 0, 0, 0), "UTF-32LE"},
	}
	for _, c := range cases {
		_, err := NewCSVReader(bytes.NewReader(c.data), "u16.csv", CSVOptions{})
		if err == nil || !strings.Contains(err.Error(), "u16.csv: the file is "+c.enc+" text") || !strings.Contains(err.Error(), "iconv -f "+c.enc) {
			t.Errorf("% x...: %v, want an error naming %s", c.data[:4], err, c.enc)
		}
	}
	// UTF-8, with or without its byte order mark, and text that starts
	// with a NUL-free wide character still read.
	for _, ok := range []string{text, "\xEF\xBB\xBF" + text, "é,b\n1,2\n"} {
		if _, err := NewCSVReader(strings.NewReader(ok), "u8.csv", CSVOptions{}); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
}
