package table

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// TestCSVReaderCROnlyLineEndings: a file with classic-Mac CR-only line
// endings was read as one header line, then refused for a "duplicate
// column" (a data value, with advice to rename it) or read as a header of
// every cell and no rows (attack run 12 F8). It is refused naming its line
// endings, at every buffer size, while CRLF files and CRs in quoted fields
// are read as before.
func TestCSVReaderCROnlyLineEndings(t *testing.T) {
	long := "a,b\r" + strings.Repeat("1,2\r", 40000) // 160 KB, past the 64 KiB window
	refused := []struct{ name, input string }{
		{"rows", "a,b\r1,2\r3,4\r"},
		{"duplicate value", "a,b\r1,1\r"},       // was: duplicate column "1"
		{"no final CR", "a,b\r1,2"},             // was: header a, b\r1, 2
		{"quoted header", "\"a\",\"b\"\r1,2\r"}, // quotes do not hide the CRs
		{"blank lines first", "\r\ra,b\r1,2\r"},
		{"bom", "\xEF\xBB\xBFa,b\r1,2\r"},
		{"long", long},
	}
	for _, tc := range refused {
		for _, bs := range bufSizes {
			_, err := newCSVReader(strings.NewReader(tc.input), "mac.csv", CSVOptions{}, bs)
			if err == nil {
				t.Fatalf("%s, buffer %d: read without error", tc.name, bs)
			}
			msg := err.Error()
			if !errors.Is(err, ErrSyntax) || !strings.HasPrefix(msg, "mac.csv:1: ") ||
				!strings.Contains(msg, "CR-only (classic Mac) line endings") ||
				!strings.Contains(msg, "convert the line endings to LF or CRLF") ||
				!strings.Contains(msg, `tr '\r' '\n'`) || strings.Contains(msg, "duplicate") {
				t.Fatalf("%s, buffer %d: got %q, want a syntax error naming the CR-only line endings", tc.name, bs, msg)
			}
		}
	}

	// Read as before: CRLF, a CR at the very end, CRs in quoted fields
	// (with or without an LF in the file), a bare CR in a header ended by LF.
	read := []struct {
		name, input string
		header      []string
		want        []Column // nil: no rows
	}{
		{"crlf", "a,b\r\n1,2\r\n3,4\r\n", []string{"a", "b"},
			[]Column{str("a", "1", "3"), str("b", "2", "4")}},
		{"crlf no final", "a,b\r\n1,2", []string{"a", "b"},
			[]Column{str("a", "1"), str("b", "2")}},
		{"header only, final cr", "a,b\r", []string{"a", "b"}, nil},
		{"quoted cr", "\"a\rx\",b\n\"1\r2\",3\n", []string{"a\rx", "b"},
			[]Column{str("a\rx", "1\r2"), str("b", "3")}},
		{"quoted cr crlf", "\"a\rx\",b\r\n\"1\r2\",3\r\n", []string{"a\rx", "b"},
			[]Column{str("a\rx", "1\r2"), str("b", "3")}},
		{"quoted cr, no lf", "\"a\rx\",\"b\r\"", []string{"a\rx", "b\r"}, nil},
		{"doubled quote then cr", "\"a\"\"\rx\",b\n1,2\n", []string{"a\"\rx", "b"},
			[]Column{str("a\"\rx", "1"), str("b", "2")}},
		{"bare cr in an lf header", "a\rb,c\n1,2\n", []string{"a\rb", "c"},
			[]Column{str("a\rb", "1"), str("c", "2")}},
	}
	for _, tc := range read {
		for _, bs := range bufSizes {
			r, err := newCSVReader(strings.NewReader(tc.input), "data.csv", CSVOptions{}, bs)
			if err != nil {
				t.Fatalf("%s, buffer %d: %v", tc.name, bs, err)
			}
			if h := r.Header(); !reflect.DeepEqual(h, tc.header) {
				t.Fatalf("%s, buffer %d: header %q, want %q", tc.name, bs, h, tc.header)
			}
			res, err := readCSV(t, tc.input, nil, CSVOptions{}, bs)
			if err != nil {
				t.Fatalf("%s, buffer %d: %v", tc.name, bs, err)
			}
			if tc.want == nil {
				if res.cols != nil {
					t.Fatalf("%s, buffer %d: got rows %+v, want none", tc.name, bs, res.cols)
				}
				continue
			}
			sameColumns(t, res.cols, tc.want)
		}
	}
}
