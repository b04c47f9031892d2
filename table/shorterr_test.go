package table

import (
	"fmt"
	"strings"
	"testing"
)

// TestErrorsQuoteShortly checks that errors quote a long value by its
// first bytes and its length, and list the first names of a long header
// (a 100 MB value was repeated whole on stderr, a 2M-column header gave
// an 18.9 MB message: issue 12, F10).
func TestErrorsQuoteShortly(t *testing.T) {
	long := strings.Repeat("A", 1<<20)
	wide := make([]string, 100000)
	for i := range wide {
		wide[i] = fmt.Sprintf("c%d", i)
	}
	wideHeader := strings.Join(wide, ",") + "\n" + strings.Repeat("1,", len(wide)-1) + "1\n"
	tests := []struct {
		name   string
		input  string
		jsonl  bool
		fields []Field
		want   string // a part of the error
	}{
		{"csv number", "a,b\n" + long + ",x\n", false, []Field{{"a", Numeric}},
			`column "a": cannot parse "` + long[:64] + `"... (1048576 bytes) as a number`},
		{"csv column name", "a," + long + "\n1,\n", false, []Field{{long, Numeric}, {"zz", Numeric}},
			`data.csv: column "zz" is not in the header; the header has: "a", "` + long[:64] + `"... (1048576 bytes)`},
		{"csv duplicate column", long + "," + long + "\n1,2\n", false, nil,
			`duplicate column "` + long[:64] + `"... (1048576 bytes) in the header`},
		{"csv wide header", wideHeader, false, []Field{{"a", Numeric}},
			`the header has: "c0", "c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8", "c9", "c10", "c11", "c12", "c13", "c14", "c15", "c16", "c17", "c18", "c19", and 99980 more`},
		{"csv many missing", "a\n1\n", false, func() []Field {
			var fs []Field
			for _, n := range wide {
				fs = append(fs, Field{n, Numeric})
			}
			return fs
		}(), `columns "c0", "c1", "c2"`},
		{"csv one field header", long + ";b\n1;2\n", false, nil, `the header is one field "` + long[:64] + `"... (1048578 bytes)`},
		{"jsonl number", `{"a":"` + long + `"}` + "\n", true, []Field{{"a", Numeric}},
			`cannot parse "` + long[:64] + `"... (1048576 bytes) as a number`},
		{"jsonl key", `{"a":1}` + "\n" + `{"` + long + `":1}` + "\n", true, nil,
			`column "` + long[:64] + `"... (1048576 bytes): jsonl syntax error: key is not in the first row`},
		{"jsonl bad number", `{"a":1}` + "\n" + `{"` + long + `":01}` + "\n", true, nil,
			`invalid number "01" for key "` + long[:64] + `"... (1048576 bytes)`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			if tc.jsonl {
				_, err = readJSONL(t, tc.input, tc.fields, JSONLOptions{}, blockSize)
			} else {
				_, err = readCSV(t, tc.input, tc.fields, CSVOptions{}, blockSize)
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got error %.600v, want one holding %.300q", err, tc.want)
			}
			if n := len(err.Error()); n > 1000 {
				t.Errorf("the error is %d bytes long", n)
			}
		})
	}
}
