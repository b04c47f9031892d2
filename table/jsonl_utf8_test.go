package table

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestJSONLReaderRefusesTextNotUTF8: a key, or a value of a column read,
// that is not UTF-8 (Latin-1 bytes, an unpaired surrogate escape) was
// read as encoding/json reads it, U+FFFD, so "caf\xe9" and "caf\xe8" became
// one category (attack run 32 F2). It is refused naming the line, the
// column and the bytes; a value of a column not read is skipped.
func TestJSONLReaderRefusesTextNotUTF8(t *testing.T) {
	tests := []struct {
		name, input string
		fields      []Field // nil: every column, as String
		line        int64
		column      string
		want        []string // in the message
	}{
		{"Latin-1 byte in a String column", "{\"x\":1,\"city\":\"bar\"}\n\n{\"x\":2,\"city\":\"caf\xe9\"}\n",
			[]Field{{"x", Numeric}, {"city", String}}, 3, "city",
			[]string{`"caf\xe9"`, "byte 0xE9 (byte 19 of the line)", "iconv -f WINDOWS-1252 -t UTF-8"}},
		{"Latin-1 byte in a Numeric column", "{\"x\":\"1\xb5\"}\n", []Field{{"x", Numeric}}, 1, "x",
			[]string{`"1\xb5"`, "byte 0xB5", "iconv"}},
		{"unprojected reading", "{\"a\":\"ok\",\"b\":\"x\xff\"}\n", nil, 1, "b", []string{`"x\xff"`}},
		{"truncated sequence", "{\"s\":\"\xe2\x82\"}\n", nil, 1, "s", []string{`"\xe2\x82"`, "byte 0xE2"}},
		{"overlong encoding", "{\"s\":\"\xc0\xaf\"}\n", nil, 1, "s", []string{"byte 0xC0"}},
		{"surrogate encoded in UTF-8 (CESU-8)", "{\"s\":\"\xed\xa0\x80\"}\n", nil, 1, "s", []string{"byte 0xED"}},
		{"after an escape", "{\"s\":\"a\\n\xe9\"}\n", nil, 1, "s", []string{`"a\\n\xe9"`, "byte 0xE9 (byte 10 of the line)"}},
		{"key in the first row", "{\"caf\xe9\":1}\n", nil, 1, "", []string{`the key "caf\xe9"`, "iconv"}},
		{"key in a later row", "{\"a\":1}\n{\"a\":2,\"\xe9\":3}\n", []Field{{"a", Numeric}}, 2, "", []string{`the key "\xe9"`}},
		{"unpaired low surrogate (Python's surrogateescape)", `{"s":"caf\udce9"}` + "\n", nil, 1, "s",
			[]string{`\udce9 (byte 10 of the line), an unpaired UTF-16 surrogate`, "surrogateescape"}},
		{"high surrogate at the end", `{"s":"\ud83d"}` + "\n", nil, 1, "s", []string{`\ud83d`}},
		{"high surrogate before a non-surrogate", `{"s":"\ud83d\u0041"}` + "\n", nil, 1, "s", []string{`\ud83d`}},
		{"pair in the wrong order", `{"s":"\ude00\ud83d"}` + "\n", nil, 1, "s", []string{`\ude00 (byte 7`}},
		{"unpaired surrogate in a key", `{"\uDFFF":1}` + "\n", nil, 1, "", []string{`\uDFFF`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, block := range bufSizes {
				_, err := readJSONL(t, tc.input, tc.fields, JSONLOptions{}, block)
				var pe *ParseError
				if !errors.As(err, &pe) || !errors.Is(err, ErrNotUTF8) {
					t.Fatalf("block %d: got %v, want a *ParseError wrapping ErrNotUTF8", block, err)
				}
				if pe.File != "data.jsonl" || pe.Line != tc.line || pe.Column != tc.column {
					t.Errorf("block %d: got %s:%d column %q, want data.jsonl:%d column %q", block, pe.File, pe.Line, pe.Column, tc.line, tc.column)
				}
				for _, w := range tc.want {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("block %d: got %q, want it to hold %q", block, err, w)
					}
				}
			}
		})
	}
}

// TestJSONLNotUTF8IsWhatEncodingJSONReplaces checks the refused inputs
// against the oracle: encoding/json reads each refused value as text
// holding U+FFFD where the input holds no U+FFFD, so distinct values
// become one.
func TestJSONLNotUTF8IsWhatEncodingJSONReplaces(t *testing.T) {
	for _, line := range []string{"{\"s\":\"caf\xe9\"}", "{\"s\":\"caf\xe8\"}", `{"s":"caf\udce9"}`, `{"s":"caf\udce8"}`} {
		var m map[string]string
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("%q: encoding/json: %v", line, err)
		}
		if m["s"] != "caf\uFFFD" {
			t.Fatalf("%q: encoding/json gives %q, want %q", line, m["s"], "caf\uFFFD")
		}
		if _, err := readJSONL(t, line+"\n", []Field{{"s", String}}, JSONLOptions{}, blockSize); !errors.Is(err, ErrNotUTF8) {
			t.Errorf("%q: got %v, want an error wrapping ErrNotUTF8", line, err)
		}
	}
}

// TestJSONLReaderSkipsTextNotUTF8NotRead: a value that is not UTF-8 in a
// column not read (a free-text column the spec leaves out) does not stop
// the read, as in a CSV file; the columns read come through intact, and
// a value given as U+FFFD (the character, or its escape) is UTF-8 text.
func TestJSONLReaderSkipsTextNotUTF8NotRead(t *testing.T) {
	input := "{\"x\":1,\"note\":\"caf\xe9\",\"s\":\"\xef\xbf\xbd\"}\n" +
		`{"x":2,"note":"cut \ud83d","s":"\ufffd\ud83d\ude00"}` + "\n" +
		"{\"x\":3,\"note\":\"\xff\xfe\",\"s\":\"ok\"}\n"
	for _, block := range bufSizes {
		res, err := readJSONL(t, input, []Field{{"s", String}, {"x", Numeric}}, JSONLOptions{}, block)
		if err != nil {
			t.Fatalf("block %d: %v", block, err)
		}
		sameColumns(t, res.cols, []Column{str("s", "\uFFFD", "\uFFFD😀", "ok"), num("x", 1, 2, 3)})
		for _, s := range res.cols[0].Str {
			if !utf8.ValidString(s) {
				t.Errorf("block %d: cell %q is not UTF-8", block, s)
			}
		}
	}
	// The same file read whole is refused at the first such value.
	_, err := readJSONL(t, input, nil, JSONLOptions{}, blockSize)
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Line != 1 || pe.Column != "note" || !errors.Is(err, ErrNotUTF8) {
		t.Errorf("read whole: got %v, want line 1, column \"note\", wrapping ErrNotUTF8", err)
	}
	if !bytes.Contains([]byte(err.Error()), []byte(`"caf\xe9"`)) {
		t.Errorf("read whole: got %q, want the value shown escaped", err)
	}
}
