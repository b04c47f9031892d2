package table

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// bufSizes are the reader buffer sizes every content test runs with: tiny
// ones make rows, quotes, CRLFs and the BOM straddle refills.
var bufSizes = []int{4, 5, 7, 16, 64, blockSize}

// readResult is a whole input read through a CSVReader, batches joined.
type readResult struct {
	cols    []Column
	lines   []int64
	starts  []int64 // Batch.Start of each batch
	batches int
}

// readCSV reads input with the given projection (nil: none, all String).
func readCSV(t *testing.T, input string, fields []Field, opts CSVOptions, bufSize int) (readResult, error) {
	t.Helper()
	r, err := newCSVReader(strings.NewReader(input), "data.csv", opts, bufSize)
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

// num and str build expected columns; str marks "<null>" as missing.
func num(name string, v ...float64) Column { return Column{Name: name, Kind: Numeric, Num: v} }

func str(name string, v ...string) Column {
	c := Column{Name: name, Kind: String, Str: make([]string, len(v)), Null: make([]bool, len(v))}
	for i, s := range v {
		if s == "<null>" {
			c.Null[i] = true
			continue
		}
		c.Str[i] = s
	}
	return c
}

// sameColumns compares columns, numbers bitwise (NaN equals NaN).
func sameColumns(t *testing.T, got, want []Column) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d columns, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Name != w.Name || g.Kind != w.Kind {
			t.Fatalf("column %d: got %q (%s), want %q (%s)", i, g.Name, g.Kind, w.Name, w.Kind)
		}
		if g.Len() != w.Len() {
			t.Fatalf("column %q: got %d rows, want %d", w.Name, g.Len(), w.Len())
		}
		for j := 0; j < w.Len(); j++ {
			if w.Kind == Numeric {
				if math.Float64bits(g.Num[j]) != math.Float64bits(w.Num[j]) && !(math.IsNaN(g.Num[j]) && math.IsNaN(w.Num[j])) {
					t.Errorf("column %q row %d: got %v, want %v", w.Name, j, g.Num[j], w.Num[j])
				}
				continue
			}
			if g.Str[j] != w.Str[j] || g.Null[j] != w.Null[j] {
				t.Errorf("column %q row %d: got %q (missing %v), want %q (missing %v)", w.Name, j, g.Str[j], g.Null[j], w.Str[j], w.Null[j])
			}
		}
	}
}

var nan = math.NaN()

func TestCSVReaderValues(t *testing.T) {
	ab := []Field{{"a", Numeric}, {"b", String}}
	tests := []struct {
		name   string
		input  string
		fields []Field
		want   []Column
		lines  []int64
	}{
		{"basic", "a,b\n1,x\n2.5,y\n", ab,
			[]Column{num("a", 1, 2.5), str("b", "x", "y")}, []int64{2, 3}},
		{"no final newline", "a,b\n1,x\n2,y", ab,
			[]Column{num("a", 1, 2), str("b", "x", "y")}, []int64{2, 3}},
		{"bom", "\xEF\xBB\xBFa,b\n1,x\n", ab,
			[]Column{num("a", 1), str("b", "x")}, []int64{2}},
		{"crlf", "a,b\r\n1,x\r\n2,y\r\n", ab,
			[]Column{num("a", 1, 2), str("b", "x", "y")}, []int64{2, 3}},
		{"crlf no final newline", "a,b\r\n1,x\r\n2,y\r", ab,
			[]Column{num("a", 1, 2), str("b", "x", "y")}, []int64{2, 3}},
		{"bare cr is data", "a,b\n1,x\ry\n", ab,
			[]Column{num("a", 1), str("b", "x\ry")}, []int64{2}},
		{"quoted comma", "a,b\n1,\"x,y\"\n2,z\n", ab,
			[]Column{num("a", 1, 2), str("b", "x,y", "z")}, []int64{2, 3}},
		{"doubled quotes", "a,b\n1,\"say \"\"hi\"\"\"\n2,\"\"\"\"\n", ab,
			[]Column{num("a", 1, 2), str("b", `say "hi"`, `"`)}, []int64{2, 3}},
		{"newlines in quotes shift later lines", "a,b\n1,\"x\ny\nz\"\n2,w\n3,\"p\r\nq\"\r\n4,v\n", ab,
			[]Column{num("a", 1, 2, 3, 4), str("b", "x\ny\nz", "w", "p\r\nq", "v")}, []int64{2, 5, 6, 8}},
		{"quoted numbers", "a,b\n\"1.5\",x\n", ab,
			[]Column{num("a", 1.5), str("b", "x")}, []int64{2}},
		{"text after closing quote is kept", "a,b\n1,\"ab\"c\n", ab,
			[]Column{num("a", 1), str("b", "abc")}, []int64{2}},
		{"quote inside unquoted cell is literal", "a,b\n1,x\"y\n", ab,
			[]Column{num("a", 1), str("b", `x"y`)}, []int64{2}},
		{"quoted header", "\"a\",\"b\"\n1,x\n", ab,
			[]Column{num("a", 1), str("b", "x")}, []int64{2}},
		{"projection order", "a,b,c\n1,x,3\n", []Field{{"c", Numeric}, {"a", Numeric}},
			[]Column{num("c", 3), num("a", 1)}, []int64{2}},
		{"same column twice", "a,b\n1,x\n", []Field{{"a", Numeric}, {"a", String}},
			[]Column{num("a", 1), str("a", "1")}, []int64{2}},
		{"no projection reads all as strings", "a,b\n1,x\n", nil,
			[]Column{str("a", "1"), str("b", "x")}, []int64{2}},
		{"empty and quoted empty are missing", "a,b\n,\"\"\n\"\",\n1,x\n", ab,
			[]Column{num("a", nan, nan, 1), str("b", "<null>", "<null>", "x")}, []int64{2, 3, 4}},
		{"quoted NA is missing", "a,b\n\"NA\",\"NA\"\n", ab,
			[]Column{num("a", nan), str("b", "<null>")}, []int64{2}},
		{"blank lines skipped but counted", "\n\na,b\n\n1,x\n\n \t\n\r\n2,y\n\n", ab,
			[]Column{num("a", 1, 2), str("b", "x", "y")}, []int64{5, 9}},
		{"spaces around numbers", "a,b\n 1.5 ,x\n\t-2\t,y\n", ab,
			[]Column{num("a", 1.5, -2), str("b", "x", "y")}, []int64{2, 3}},
		{"spaces in strings kept", "a,b\n1, x \n", ab,
			[]Column{num("a", 1), str("b", " x ")}, []int64{2}},
		{"infinities", "a,b\ninf,x\n-inf,x\nInfinity,x\n-Infinity,x\n1e400,x\n-1e400,x\n", ab,
			[]Column{num("a", math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)),
				str("b", "x", "x", "x", "x", "x", "x")}, []int64{2, 3, 4, 5, 6, 7}},
		{"exact parsing", "a,b\n0.1,x\n5e-324,x\n1.7976931348623157e308,x\n-0,x\n", ab,
			[]Column{num("a", 0.1, 5e-324, math.MaxFloat64, math.Copysign(0, -1)), str("b", "x", "x", "x", "x")},
			[]int64{2, 3, 4, 5}},
		{"single column", "a\n1\n\n2\n", []Field{{"a", Numeric}},
			[]Column{num("a", 1, 2)}, []int64{2, 4}},
		{"single column quoted empty is a missing row", "a\n\"\"\n2\n", []Field{{"a", Numeric}},
			[]Column{num("a", nan, 2)}, []int64{2, 3}},
	}
	for _, tc := range tests {
		for _, size := range bufSizes {
			t.Run(fmt.Sprintf("%s/buf%d", tc.name, size), func(t *testing.T) {
				res, err := readCSV(t, tc.input, tc.fields, CSVOptions{}, size)
				if err != nil {
					t.Fatalf("got error %v, want none", err)
				}
				sameColumns(t, res.cols, tc.want)
				if !reflect.DeepEqual(res.lines, tc.lines) {
					t.Errorf("got lines %v, want %v", res.lines, tc.lines)
				}
			})
		}
	}
}

func TestCSVReaderNATokens(t *testing.T) {
	// pandas 1.5 io.parsers default na_values (pandas._libs.parsers.STR_NA_VALUES).
	tokens := []string{"", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan",
		"1.#IND", "1.#QNAN", "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null"}
	for _, tok := range tokens {
		input := "a,b\n" + tok + "," + tok + "\n"
		res, err := readCSV(t, input, []Field{{"a", Numeric}, {"b", String}}, CSVOptions{}, blockSize)
		if err != nil {
			t.Fatalf("%q: got error %v, want none", tok, err)
		}
		sameColumns(t, res.cols, []Column{num("a", nan), str("b", "<null>")})
	}
	// Near misses are values: strings stay, numbers fail.
	for _, tok := range []string{"na", "Null", "NONE", "N/A ", "none"} {
		res, err := readCSV(t, "b\n\""+tok+"\"\n", []Field{{"b", String}}, CSVOptions{}, blockSize)
		if err != nil {
			t.Fatalf("%q: got error %v, want none", tok, err)
		}
		sameColumns(t, res.cols, []Column{str("b", tok)})
	}
}

func TestCSVReaderErrors(t *testing.T) {
	ab := []Field{{"a", Numeric}, {"b", String}}
	tests := []struct {
		name   string
		input  string
		fields []Field
		msg    string // the whole error text
		line   int64  // 0: not a *ParseError
		syntax bool   // wraps ErrSyntax
	}{
		{"text in numeric column", "a,b\n1,x\nabc,y\n", ab,
			`data.csv:3: column "a": cannot parse "abc" as a number; declare the column ` + "`type: categorical`" + ` in the spec or fix the value`,
			3, false},
		{"earliest bad row wins across columns", "a,b,c\n1,2,3\n1,x,3\nz,2,3\n", []Field{{"c", Numeric}, {"a", Numeric}, {"b", Numeric}},
			`data.csv:3: column "b": cannot parse "x" as a number; declare the column ` + "`type: categorical`" + ` in the spec or fix the value`,
			3, false},
		{"bad number after quoted newline", "a,b\n1,\"x\ny\"\n1e,z\n", ab,
			`data.csv:4: column "a": cannot parse "1e" as a number; declare the column ` + "`type: categorical`" + ` in the spec or fix the value`,
			4, false},
		{"underscore in a number", "a,b\n1,x\n4_7.4,y\n", ab,
			`data.csv:3: column "a": cannot parse "4_7.4" as a number; declare the column ` + "`type: categorical`" + ` in the spec or fix the value`,
			3, false},
		{"hexadecimal number", "a,b\n0x1p3,x\n", ab,
			`data.csv:2: column "a": cannot parse "0x1p3" as a number; declare the column ` + "`type: categorical`" + ` in the spec or fix the value`,
			2, false},
		{"too many fields", "a,b\n1,x\n2,y,z\n", ab,
			"data.csv:3: csv syntax error: row has 3 fields, the header has 2; quote values that contain commas, and give every row one value per column",
			3, true},
		{"too few fields", "a,b\n1,x\n\n2\n", ab,
			"data.csv:4: csv syntax error: row has 1 fields, the header has 2; quote values that contain commas, and give every row one value per column",
			4, true},
		{"ragged quoted row", "a,b\n\"1\",\"x\",\"\"\n", ab,
			"data.csv:2: csv syntax error: row has 3 fields, the header has 2; quote values that contain commas, and give every row one value per column",
			2, true},
		{"unterminated quote", "a,b\n1,x\n2,\"y\nz\n", ab,
			"data.csv:3: csv syntax error: quoted field never closed before the end of the file; add the missing closing quote",
			3, true},
		{"unterminated quote in header", "a,\"b\n", ab,
			"data.csv:1: csv syntax error: quoted field never closed before the end of the file; add the missing closing quote",
			1, true},
		{"empty file", "", ab, "data.csv: empty file: no header row", 0, false},
		{"only blank lines", "\n \r\n\n", ab, "data.csv: empty file: no header row", 0, false},
		{"bom only", "\xEF\xBB\xBF", ab, "data.csv: empty file: no header row", 0, false},
		{"duplicate header", "a,b,a\n1,2,3\n", ab,
			`data.csv: duplicate column "a" in the header (columns 1 and 3); rename one of them`, 0, false},
		{"absent column", "a,b\n1,x\n", []Field{{"a", Numeric}, {"zz", Numeric}},
			`data.csv: column "zz" is not in the header; the header has: "a", "b"`, 0, false},
		{"absent columns", "a,b\n1,x\n", []Field{{"y", Numeric}, {"b", String}, {"z", String}},
			`data.csv: columns "y", "z" are not in the header; the header has: "a", "b"`, 0, false},
		{"unknown kind", "a,b\n1,x\n", []Field{{"a", KindUnknown}},
			`data.csv: project: column "a" has kind unknown; want numeric or categorical`, 0, false},
	}
	for _, tc := range tests {
		for _, size := range bufSizes {
			t.Run(fmt.Sprintf("%s/buf%d", tc.name, size), func(t *testing.T) {
				_, err := readCSV(t, tc.input, tc.fields, CSVOptions{}, size)
				if err == nil {
					t.Fatalf("got no error, want %q", tc.msg)
				}
				if err.Error() != tc.msg {
					t.Errorf("got error %q, want %q", err, tc.msg)
				}
				var pe *ParseError
				if isPE := errors.As(err, &pe); isPE != (tc.line > 0) {
					t.Fatalf("got *ParseError %v, want %v", isPE, tc.line > 0)
				}
				if pe != nil && pe.Line != tc.line {
					t.Errorf("got line %d, want %d", pe.Line, tc.line)
				}
				if got := errors.Is(err, ErrSyntax); got != tc.syntax {
					t.Errorf("got errors.Is(err, ErrSyntax) = %v, want %v", got, tc.syntax)
				}
			})
		}
	}
}

func TestCSVReaderEmptyIsErrNoHeader(t *testing.T) {
	_, err := NewCSVReader(strings.NewReader(""), "x.csv", CSVOptions{})
	if !errors.Is(err, ErrNoHeader) {
		t.Errorf("got %v, want an error wrapping ErrNoHeader", err)
	}
}

func TestCSVReaderHeaderOnly(t *testing.T) {
	for _, input := range []string{"a,b", "a,b\n", "a,b\r\n", "a,b\n\n\n"} {
		r, err := NewCSVReader(strings.NewReader(input), "h.csv", CSVOptions{})
		if err != nil {
			t.Fatalf("%q: got error %v, want none", input, err)
		}
		if got, want := r.Header(), []string{"a", "b"}; !reflect.DeepEqual(got, want) {
			t.Errorf("%q: got header %q, want %q", input, got, want)
		}
		if err := r.Project([]Field{{"a", Numeric}, {"b", String}}); err != nil {
			t.Fatal(err)
		}
		if r.Next() {
			t.Errorf("%q: got a batch of %d rows, want none", input, r.Batch().Rows)
		}
		if err := r.Err(); err != nil {
			t.Errorf("%q: got error %v, want none", input, err)
		}
	}
}

func TestCSVReaderHeaderVerbatim(t *testing.T) {
	r, err := NewCSVReader(strings.NewReader("\xEF\xBB\xBF x ,\"a,b\",\"q\"\"\",,NA\n"), "h.csv", CSVOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := r.Header(), []string{" x ", "a,b", `q"`, "", "NA"}; !reflect.DeepEqual(got, want) {
		t.Errorf("got header %q, want %q", got, want)
	}
}

func TestCSVReaderProjectAfterNext(t *testing.T) {
	r, err := NewCSVReader(strings.NewReader("a\n1\n"), "p.csv", CSVOptions{})
	if err != nil {
		t.Fatal(err)
	}
	r.Next()
	if err := r.Project([]Field{{"a", Numeric}}); err == nil {
		t.Error("got no error for Project after Next, want one")
	}
}

// mixedCSV builds an input exercising every rule, with rows varied enough
// that batch and buffer boundaries fall in all kinds of places.
func mixedCSV(rows int) string {
	var sb strings.Builder
	sb.WriteString("\xEF\xBB\xBFid,x,\"name\",y\r\n")
	for i := 0; i < rows; i++ {
		if i%11 == 3 {
			sb.WriteString("\n")
		}
		x := fmt.Sprint(float64(i) * 0.37)
		if i%13 == 5 {
			x = "NA"
		}
		name := fmt.Sprintf("n%d", i%4)
		switch i % 9 {
		case 1:
			name = "\"multi\nline, \"\"quoted\"\"\""
		case 2:
			name = ""
		case 4:
			name = "\"\""
		}
		eol := "\n"
		if i%2 == 0 {
			eol = "\r\n"
		}
		fmt.Fprintf(&sb, "%d,%s,%s,%g%s", i, x, name, 1/float64(i+1), eol)
	}
	return sb.String()
}

func TestCSVReaderBatchSizesAgree(t *testing.T) {
	input := mixedCSV(200)
	fields := []Field{{"y", Numeric}, {"name", String}, {"x", Numeric}, {"id", Numeric}}
	ref, err := readCSV(t, input, fields, CSVOptions{}, blockSize)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(ref.lines); got != 200 {
		t.Fatalf("got %d rows, want 200", got)
	}
	// Row i has id i; its line follows from the layout mixedCSV writes.
	line := int64(2)
	for i := 0; i < 200; i++ {
		if i%11 == 3 {
			line++
		}
		if ref.cols[3].Num[i] != float64(i) || ref.lines[i] != line {
			t.Fatalf("row %d: got id %v at line %d, want %d at line %d", i, ref.cols[3].Num[i], ref.lines[i], i, line)
		}
		line++
		if i%9 == 1 {
			line++
		}
	}
	for _, batch := range []int{1, 7, 64} {
		for _, size := range []int{4, 33, blockSize} {
			t.Run(fmt.Sprintf("batch%d/buf%d", batch, size), func(t *testing.T) {
				res, err := readCSV(t, input, fields, CSVOptions{BatchRows: batch}, size)
				if err != nil {
					t.Fatal(err)
				}
				sameColumns(t, res.cols, ref.cols)
				if !reflect.DeepEqual(res.lines, ref.lines) {
					t.Errorf("got lines %v, want %v", res.lines, ref.lines)
				}
				if want := (200 + batch - 1) / batch; res.batches != want {
					t.Errorf("got %d batches, want %d", res.batches, want)
				}
				for k, s := range res.starts {
					if s != int64(k*batch) {
						t.Errorf("batch %d: got Start %d, want %d", k, s, k*batch)
					}
				}
			})
		}
	}
}

func TestCSVReaderNullMask(t *testing.T) {
	r, err := NewCSVReader(strings.NewReader("s\na\nNA\nb\nc\n"), "n.csv", CSVOptions{BatchRows: 2})
	if err != nil {
		t.Fatal(err)
	}
	var masks [][]bool
	for r.Next() {
		c := r.Batch().Cols[0]
		masks = append(masks, append([]bool(nil), c.Null...))
	}
	// A batch with no missing value has a nil mask (Column's contract).
	if want := [][]bool{{false, true}, nil}; !reflect.DeepEqual(masks, want) {
		t.Errorf("got masks %v, want %v", masks, want)
	}
}

func TestOpenCSV(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d.csv")
	if err := os.WriteFile(path, []byte("a\n1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := OpenCSV(path, CSVOptions{})
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
	if _, err := OpenCSV(filepath.Join(t.TempDir(), "missing.csv"), CSVOptions{}); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("got %v, want a not-exist error", err)
	}
}

func TestCSVReaderInternsStrings(t *testing.T) {
	var sb strings.Builder
	sb.WriteString("c\n")
	for i := 0; i < 1000; i++ {
		sb.WriteString([]string{"red\n", "green\n", "blue\n"}[i%3])
	}
	r, err := NewCSVReader(strings.NewReader(sb.String()), "c.csv", CSVOptions{BatchRows: 100})
	if err != nil {
		t.Fatal(err)
	}
	r.Next() // warm the intern table
	allocs := testing.AllocsPerRun(1, func() {
		for r.Next() {
		}
	})
	if allocs > 0 {
		t.Errorf("got %v allocations reading repeated categories, want 0", allocs)
	}
}

func TestCSVReaderWorkersAgree(t *testing.T) {
	input := mixedCSV(6000)
	fields := []Field{{"y", Numeric}, {"name", String}, {"x", Numeric}, {"id", Numeric}}
	ref, err := readCSV(t, input, fields, CSVOptions{Workers: 1}, blockSize)
	if err != nil {
		t.Fatal(err)
	}
	for _, workers := range []int{2, 3, 8} {
		res, err := readCSV(t, input, fields, CSVOptions{Workers: workers, BatchRows: 5000}, blockSize)
		if err != nil {
			t.Fatal(err)
		}
		sameColumns(t, res.cols, ref.cols)
		if !reflect.DeepEqual(res.lines, ref.lines) {
			t.Errorf("workers %d: lines differ from one worker's", workers)
		}
	}

	// Bad cells in two columns: the earliest line is reported, however the
	// columns are scheduled.
	var sb strings.Builder
	sb.WriteString("a,b,c\n")
	for i := 0; i < 4000; i++ {
		a, c := "1", "2"
		if i == 3000 {
			a = "late"
		}
		if i == 2500 {
			c = "early"
		}
		fmt.Fprintf(&sb, "%s,x,%s\n", a, c)
	}
	want := `data.csv:2502: column "c": cannot parse "early" as a number; declare the column ` + "`type: categorical`" + ` in the spec or fix the value`
	for _, workers := range []int{1, 2, 3} {
		_, err := readCSV(t, sb.String(), []Field{{"a", Numeric}, {"b", String}, {"c", Numeric}}, CSVOptions{Workers: workers}, blockSize)
		if err == nil || err.Error() != want {
			t.Errorf("workers %d: got %v, want %q", workers, err, want)
		}
	}
}
