package server

import (
	"strings"
	"testing"
	"unicode/utf16"
)

// utf16LE encodes s as UTF-16 little-endian, with the byte order mark
// when bom is set (what Python's str.encode("utf-16") writes).
func utf16LE(s string, bom bool) []byte {
	var out []byte
	if bom {
		out = append(out, 0xFF, 0xFE)
	}
	for _, u := range utf16.Encode([]rune(s)) {
		out = append(out, byte(u), byte(u>>8))
	}
	return out
}

// TestBodyByteOrderMarkNamed: a body starting with a UTF-8 byte order
// mark, or in UTF-16 or UTF-32, is refused naming that and what to send,
// not as "expected '{' at byte 0" (attack run 36 F11).
func TestBodyByteOrderMarkNamed(t *testing.T) {
	const body = `{"rows":[{"age":1,"city":"x"}]}`
	tests := []struct {
		name string
		body []byte
		want []string
	}{
		{"utf-8 bom", append([]byte{0xEF, 0xBB, 0xBF}, body...), []string{"UTF-8 byte order mark", "EF BB BF", "remove them", "UTF-8 without a byte order mark"}},
		{"utf-16 le bom", utf16LE(body, true), []string{"UTF-16", "FF FE", "send the JSON as UTF-8"}},
		{"utf-16 le no bom", utf16LE(body, false), []string{"UTF-16", "send the JSON as UTF-8"}},
		{"utf-32 le bom", []byte{0xFF, 0xFE, 0, 0, '{', 0, 0, 0}, []string{"UTF-32", "FF FE 00 00"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := newRowsBody(testFields, false, 10).decode(tc.body)
			if err == nil {
				t.Fatal("got no error, want the body refused")
			}
			msg := err.Error()
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("got %q, want it to contain %q", msg, w)
				}
			}
			if strings.Contains(msg, "expected '{'") {
				t.Errorf("got %q, want the encoding named, not \"expected '{'\"", msg)
			}
		})
	}
	// A body that is plainly not JSON keeps the syntax error.
	_, _, err := newRowsBody(testFields, false, 10).decode([]byte("rows=1"))
	if err == nil || !strings.Contains(err.Error(), "expected '{'") {
		t.Errorf("plain text body: got %v, want \"expected '{'\"", err)
	}
}
