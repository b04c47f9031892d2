package table

import (
	"bytes"
	"compress/gzip"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// dialectBatch is a small table whose cells exercise quoting: delimiters
// of every dialect, quotes, newlines, missing values and numbers.
func dialectBatch() (*Batch, []Field) {
	fields := []Field{{Name: "x", Kind: Numeric}, {Name: "name; with\tdelims", Kind: String}, {Name: "y|z", Kind: Numeric}}
	b := &Batch{Rows: 4, Cols: []Column{
		{Name: fields[0].Name, Kind: Numeric, Num: []float64{1.5, -2, math.NaN(), 1e-300}},
		{Name: fields[1].Name, Kind: String, Str: []string{"a,b", "c;d", "", "t\tab \"q\"\nline"}, Null: []bool{false, false, true, false}},
		{Name: fields[2].Name, Kind: Numeric, Num: []float64{0, math.Inf(1), 3, 0.1}},
	}}
	return b, fields
}

// readTable reads every column of the table at path (projected as fields).
func readTable(t *testing.T, path string, fields []Field) ([]Column, int) {
	t.Helper()
	r, err := Open(path)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer r.Close()
	if err := r.Project(fields); err != nil {
		t.Fatalf("project %s: %v", path, err)
	}
	cols, rows, err := ReadAll(r, fields)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return cols, rows
}

// sameCells compares columns cell by cell (NaN equals NaN; a missing
// string equals a missing string).
func sameCells(t *testing.T, got, want []Column, rows int) {
	t.Helper()
	for j := range want {
		for i := 0; i < rows; i++ {
			switch want[j].Kind {
			case Numeric:
				g, w := got[j].Num[i], want[j].Num[i]
				if g != w && !(math.IsNaN(g) && math.IsNaN(w)) {
					t.Errorf("column %q row %d: got %v, want %v", want[j].Name, i, g, w)
				}
			default:
				if got[j].IsMissing(i) != want[j].IsMissing(i) || !want[j].IsMissing(i) && got[j].Str[i] != want[j].Str[i] {
					t.Errorf("column %q row %d: got %q (missing %v), want %q (missing %v)", want[j].Name, i,
						got[j].Str[i], got[j].IsMissing(i), want[j].Str[i], want[j].IsMissing(i))
				}
			}
		}
	}
}

// TestDialectRoundTrip writes a table in every text dialect and
// compression through Create and reads it back through Open.
func TestDialectRoundTrip(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{
		"t.csv", "t.tsv", "t.csv.gz", "t.tsv.gz", "t.jsonl.gz", "t.csv.zst", "t.tsv.zst", "t.jsonl.zst", "T.TSV.GZ",
	} {
		t.Run(name, func(t *testing.T) {
			b, fields := dialectBatch()
			path := filepath.Join(dir, name)
			w, err := Create(path, fields)
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Write(b); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			cols, rows := readTable(t, path, fields)
			if rows != b.Rows {
				t.Fatalf("got %d rows, want %d", rows, b.Rows)
			}
			sameCells(t, cols, b.Cols, rows)
		})
	}
}

// TestTSVIsTabs checks the bytes a .tsv output holds and that a plain
// .csv output keeps commas.
func TestTSVIsTabs(t *testing.T) {
	dir := t.TempDir()
	fields := []Field{{Name: "a", Kind: Numeric}, {Name: "b", Kind: String}}
	b := &Batch{Rows: 2, Cols: []Column{
		{Name: "a", Kind: Numeric, Num: []float64{1, 2.5}},
		{Name: "b", Kind: String, Str: []string{"x,y", "p\tq"}},
	}}
	for name, want := range map[string]string{
		"o.tsv": "a\tb\n1\tx,y\n2.5\t\"p\tq\"\n",
		"o.csv": "a,b\n1,\"x,y\"\n2.5,p\tq\n",
	} {
		path := filepath.Join(dir, name)
		w, err := Create(path, fields)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Write(b); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != want {
			t.Errorf("%s: got %q, want %q", name, got, want)
		}
	}
}

// TestCompressedByStandardTools reads files made by the gzip and zstd
// command-line tools (testdata/README.md) and by the standard encoders,
// and checks they hold exactly the rows of the plain CSV.
func TestCompressedByStandardTools(t *testing.T) {
	fields := []Field{{Name: "species", Kind: String}, {Name: "bill_length_mm", Kind: Numeric}, {Name: "year", Kind: Numeric}}
	want, rows := readTable(t, "testdata/penguins_head.csv", fields)
	if rows != 20 {
		t.Fatalf("plain CSV: got %d rows, want 20", rows)
	}
	plain, err := os.ReadFile("testdata/penguins_head.csv")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var gz bytes.Buffer
	gw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	gw.Write(plain)
	gw.Close()
	gzPath := filepath.Join(dir, "enc.csv.gz")
	os.WriteFile(gzPath, gz.Bytes(), 0o644)
	zw, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	zPath := filepath.Join(dir, "enc.tsv.zst")
	os.WriteFile(zPath, zw.EncodeAll(bytes.ReplaceAll(plain, []byte(","), []byte("\t")), nil), 0o644)
	zw.Close()
	for _, path := range []string{"testdata/penguins_head.csv.gz", "testdata/penguins_head.tsv.zst", gzPath, zPath} {
		got, n := readTable(t, path, fields)
		if n != rows {
			t.Errorf("%s: got %d rows, want %d", path, n, rows)
		}
		sameCells(t, got, want, rows)
	}
}

// TestCorruptCompressed checks that damaged compressed input is an error
// naming the file, never a panic or a silently short table.
func TestCorruptCompressed(t *testing.T) {
	dir := t.TempDir()
	gz, err := os.ReadFile("testdata/penguins_head.csv.gz")
	if err != nil {
		t.Fatal(err)
	}
	zs, err := os.ReadFile("testdata/penguins_head.tsv.zst")
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string][]byte{
		"notgzip.csv.gz":    []byte("a,b\n1,2\n"),
		"truncated.csv.gz":  gz[:len(gz)/2],
		"badcrc.csv.gz":     append(append([]byte(nil), gz[:len(gz)-8]...), 0, 0, 0, 0, 0, 0, 0, 0),
		"notzstd.csv.zst":   []byte("a,b\n1,2\n"),
		"truncated.tsv.zst": zs[:len(zs)/2],
		"empty.jsonl.gz":    nil,
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, name)
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			err := readErr(path)
			if err == nil {
				t.Fatalf("got no error, want one naming %s", path)
			}
			t.Log(err)
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name %s", err, path)
			}
		})
	}
}

// readErr opens and reads every column of path as text, returning the
// first error.
func readErr(path string) error {
	r, err := Open(path)
	if err != nil {
		return err
	}
	defer r.Close()
	for r.Next() {
	}
	return r.Err()
}

// TestCompressedParquetRefused checks that a compression extension on a
// Parquet name is refused with the reason.
func TestCompressedParquetRefused(t *testing.T) {
	_, err := FormatOf("x.parquet.gz")
	if !errors.Is(err, errCompressedParquet) {
		t.Fatalf("got %v, want errCompressedParquet", err)
	}
	for path, want := range map[string]string{"a.tsv": FormatCSV, "a.TSV.zst": FormatCSV, "a.jsonl.gz": FormatJSONL, "a.csv.gz": FormatCSV} {
		if got, err := FormatOf(path); err != nil || got != want {
			t.Errorf("FormatOf(%q) = %q, %v; want %q", path, got, err, want)
		}
	}
	if _, err := FormatOf("a.txt.gz"); err == nil || !strings.Contains(err.Error(), `".gz"`) {
		t.Errorf("FormatOf(a.txt.gz): got %v, want an unsupported-extension error", err)
	}
}

// TestWrongDelimiterHint checks the hint for a semicolon-separated copy of
// penguins read as CSV, at open and when a column is looked up.
func TestWrongDelimiterHint(t *testing.T) {
	const path = "testdata/penguins_head_semicolon.csv"
	_, err := Open(path)
	if !errors.Is(err, ErrDelimiter) {
		t.Fatalf("got %v, want ErrDelimiter", err)
	}
	for _, want := range []string{path + ":1:", `one field "species;island;bill_length_mm;`, "semicolon-separated: pass --delimiter ';'"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	undo := SetDialect(path, Dialect{Delimiter: ';'})
	fields := []Field{{Name: "species", Kind: String}, {Name: "bill_length_mm", Kind: Numeric}, {Name: "year", Kind: Numeric}}
	got, rows := readTable(t, path, fields)
	undo()
	want, _ := readTable(t, "testdata/penguins_head.csv", fields)
	sameCells(t, got, want, rows)
	if _, err := Open(path); !errors.Is(err, ErrDelimiter) {
		t.Errorf("after undo: got %v, want ErrDelimiter again", err)
	}

	// A header split in two fields that still holds semicolons: the hint
	// comes with the lookup failure.
	r, err := NewCSVReader(strings.NewReader("a;b,c;d\n1;2,3;4\n"), "two.csv", CSVOptions{})
	if err != nil {
		t.Fatal(err)
	}
	err = r.Project([]Field{{Name: "a", Kind: Numeric}})
	if err == nil || !strings.Contains(err.Error(), "; the header looks semicolon-separated: pass --delimiter ';'") {
		t.Errorf("project: got %v, want the semicolon hint", err)
	}
	// A missing name that no split of the header gives gets no hint.
	err = r.Project([]Field{{Name: "e", Kind: Numeric}})
	if err == nil || strings.Contains(err.Error(), "separated") {
		t.Errorf("project of an absent name: got %v, want no delimiter hint", err)
	}

	// A TSV read as CSV names tabs.
	_, err = NewCSVReader(strings.NewReader("a\tb\n1\t2\n"), "t.csv", CSVOptions{})
	if err == nil || !strings.Contains(err.Error(), "tab-separated: pass --delimiter tab") {
		t.Errorf("tsv as csv: got %v, want the tab hint", err)
	}
	// A true one-column file whose name holds a semicolon is read.
	r, err = NewCSVReader(strings.NewReader("a;b\n\n1\n2\n"), "one.csv", CSVOptions{})
	if err != nil {
		t.Fatalf("one column: %v", err)
	}
	if h := r.Header(); !reflect.DeepEqual(h, []string{"a;b"}) {
		t.Errorf("one column: header %q", h)
	}
}

// TestParseDelimiter pins the spellings --delimiter accepts.
func TestParseDelimiter(t *testing.T) {
	for in, want := range map[string]byte{";": ';', "|": '|', ",": ',', `\t`: '\t', "tab": '\t', "TAB": '\t', "\t": '\t'} {
		if got, err := ParseDelimiter(in); err != nil || got != want {
			t.Errorf("ParseDelimiter(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", ";;", `"`, "\n", "é"} {
		if _, err := ParseDelimiter(in); err == nil {
			t.Errorf("ParseDelimiter(%q): got no error", in)
		}
	}
}

// TestTabLineIsARow checks that in a TSV a line of tabs is a row of empty
// cells, not a blank line, while a line of spaces is still skipped.
func TestTabLineIsARow(t *testing.T) {
	r, err := NewCSVReader(strings.NewReader("a\tb\n1\t2\n\t\n   \n3\t4\n"), "t.tsv", CSVOptions{Delimiter: '\t'})
	if err != nil {
		t.Fatal(err)
	}
	fields := []Field{{Name: "a", Kind: Numeric}, {Name: "b", Kind: Numeric}}
	if err := r.Project(fields); err != nil {
		t.Fatal(err)
	}
	cols, rows, err := ReadAll(r, fields)
	if err != nil {
		t.Fatal(err)
	}
	if rows != 3 || cols[0].Num[0] != 1 || !math.IsNaN(cols[0].Num[1]) || !math.IsNaN(cols[1].Num[1]) || cols[1].Num[2] != 4 {
		t.Errorf("got %d rows %v %v, want 3 rows [1 NaN 3] [2 NaN 4]", rows, cols[0].Num, cols[1].Num)
	}
}
