package table

import (
	"errors"
	"fmt"
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

// TestCSVReaderCROnlyRows: a header ending in LF with rows ending in CR
// only was refused for a wrong field count alone, which sends the user to
// quote commas. The refusal names the CR-only line endings and the line
// where they start, on the serial scan and on the two-goroutine scan of
// long unquoted runs (scanSplit), whose ragged rows the serial scan names.
func TestCSVReaderCROnlyRows(t *testing.T) {
	lfRows := strings.Repeat("1,2\n", 100000) // 400 KB: past minSplitBytes
	cases := []struct {
		name, input string
		line        int
	}{
		{"short", "a,b\n1,2\r3,4\r5,6\r", 2},
		{"quoted", "a,b\n\"1\",2\r\"3\",4\r", 2},
		{"after lf rows", "a,b\n1,2\n" + "3,4\r5,6\r", 3},
		{"after long lf run", "a,b\n" + lfRows + "3,4\r5,6\r7,8\n9,10\n" + lfRows, 100002},
	}
	for _, tc := range cases {
		for _, workers := range []int{1, 2} {
			for _, bs := range []int{4, 64, blockSize} {
				_, err := readCSV(t, tc.input, nil, CSVOptions{Workers: workers}, bs)
				if err == nil {
					t.Fatalf("%s, workers %d, buffer %d: read without error", tc.name, workers, bs)
				}
				msg := err.Error()
				want := fmt.Sprintf("data.csv:%d: ", tc.line)
				if !errors.Is(err, ErrSyntax) || !strings.HasPrefix(msg, want) ||
					!strings.Contains(msg, "lines end in CR only") || !strings.Contains(msg, `tr '\r' '\n'`) {
					t.Fatalf("%s, workers %d, buffer %d: got %q, want a syntax error at %q naming the CR-only line endings", tc.name, workers, bs, msg, want)
				}
			}
		}
	}
	// A ragged row without a CR keeps the old message, on both scans.
	for _, workers := range []int{1, 2} {
		_, err := readCSV(t, "a,b\n"+lfRows+"1,2,3\n"+lfRows, nil, CSVOptions{Workers: workers}, blockSize)
		if err == nil || !strings.HasPrefix(err.Error(), "data.csv:100002: ") ||
			!strings.Contains(err.Error(), "row has 3 fields, the header has 2") || strings.Contains(err.Error(), "CR only") {
			t.Fatalf("workers %d: got %v, want the field count at line 100002", workers, err)
		}
	}
}
