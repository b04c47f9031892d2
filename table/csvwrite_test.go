package table

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCSVWriterText(t *testing.T) {
	tests := []struct {
		name   string
		fields []Field
		cols   []Column
		want   string
	}{
		{"numbers", []Field{{"x", Numeric}, {"y", Numeric}},
			[]Column{num("x", 3, 0.5, nan, math.Inf(1)), num("y", math.Copysign(0, -1), 1e-05, 1.5e16, math.Inf(-1))},
			"x,y\n3,-0\n0.5,1e-05\n,1.5e+16\ninf,-inf\n"},
		{"strings", []Field{{"s", String}, {"n", Numeric}},
			[]Column{str("s", "plain", "a,b", `say "hi"`, "two\nlines", "cr\r", "<null>", "", "NA", "null", " padded "), num("n", 1, 2, 3, 4, 5, 6, 7, 8, 9, 10)},
			"s,n\nplain,1\n\"a,b\",2\n\"say \"\"hi\"\"\",3\n\"two\nlines\",4\n\"cr\r\",5\n,6\n,7\n\"NA\",8\n\"null\",9\n padded ,10\n"},
		{"one numeric column keeps missing rows", []Field{{"x", Numeric}},
			[]Column{num("x", 1, nan, 2)}, "x\n1\n\"\"\n2\n"},
		{"one string column keeps blank rows", []Field{{"s", String}},
			[]Column{str("s", "a", "<null>", "", " ", "b")}, "s\na\n\"\"\n\"\"\n\" \"\nb\n"},
		{"header quoting", []Field{{"a,b", Numeric}, {`q"`, Numeric}, {"", Numeric}},
			[]Column{num("a,b", 1), num(`q"`, 2), num("", 3)}, "\"a,b\",\"q\"\"\",\n1,2,3\n"},
		{"empty single header", []Field{{"", String}},
			[]Column{str("", "x")}, "\"\"\nx\n"},
		{"header starting with a byte order mark", []Field{{"\xEF\xBB\xBFa", Numeric}},
			[]Column{num("\xEF\xBB\xBFa", 1)}, "\"\xEF\xBB\xBFa\"\n1\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			w := NewCSVWriter(&out, tc.fields)
			b := &Batch{Cols: tc.cols, Rows: tc.cols[0].Len()}
			if err := w.Write(b); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if got := out.String(); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// TestCSVWriterRoundTrip writes batches and reads them back: numbers come
// back bit for bit, strings unchanged, missing values missing.
func TestCSVWriterRoundTrip(t *testing.T) {
	fields := []Field{{"x", Numeric}, {"s", String}}
	cols := []Column{
		num("x", 0.1, math.Copysign(0, -1), 5e-324, math.MaxFloat64, nan, 1e-7, 123456.789, math.Inf(1)),
		str("s", "a", "b,c", "d\"e", "<null>", "f\r\ng", " ", "NaN-ish", "\xEF\xBB\xBF"),
	}
	var out bytes.Buffer
	w := NewCSVWriter(&out, fields)
	// Two batches, to check the header is written once.
	for _, b := range []*Batch{{Cols: sliceCols(cols, 0, 3), Rows: 3}, {Cols: sliceCols(cols, 3, 8), Rows: 5}} {
		if err := w.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	res, err := readCSV(t, out.String(), fields, CSVOptions{}, blockSize)
	if err != nil {
		t.Fatal(err)
	}
	sameColumns(t, res.cols, cols)
}

func sliceCols(cols []Column, lo, hi int) []Column {
	out := make([]Column, len(cols))
	for i := range cols {
		out[i] = cols[i].Slice(lo, hi)
	}
	return out
}

func TestCSVWriterRejectsMismatchedBatch(t *testing.T) {
	fields := []Field{{"x", Numeric}, {"s", String}}
	tests := []struct {
		name string
		b    *Batch
		want string
	}{
		{"column count", &Batch{Cols: []Column{num("x", 1)}, Rows: 1},
			"csv write: batch has 1 columns, the writer has 2"},
		{"name", &Batch{Cols: []Column{num("y", 1), str("s", "a")}, Rows: 1},
			`csv write: column 1 is "y" (numeric), want "x" (numeric)`},
		{"kind", &Batch{Cols: []Column{num("x", 1), num("s", 1)}, Rows: 1},
			`csv write: column 2 is "s" (numeric), want "s" (categorical)`},
		{"short column", &Batch{Cols: []Column{num("x", 1), str("s", "a")}, Rows: 2},
			`csv write: column "x" has 1 rows, the batch has 2`},
	}
	for _, tc := range tests {
		w := NewCSVWriter(&bytes.Buffer{}, fields)
		if err := w.Write(tc.b); err == nil || err.Error() != tc.want {
			t.Errorf("%s: got error %v, want %q", tc.name, err, tc.want)
		}
	}
}

// dirNames lists the names in dir.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestCreateCSVAtomic(t *testing.T) {
	fields := []Field{{"x", Numeric}}
	batch := &Batch{Cols: []Column{num("x", 1, 2)}, Rows: 2}

	t.Run("abort leaves nothing", func(t *testing.T) {
		dir := t.TempDir()
		w, err := CreateCSV(filepath.Join(dir, "out.csv"), fields)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Write(batch); err != nil {
			t.Fatal(err)
		}
		if err := w.Abort(); err != nil {
			t.Fatal(err)
		}
		if names := dirNames(t, dir); len(names) != 0 {
			t.Errorf("got files %q after Abort, want none", names)
		}
		if err := w.Close(); err != nil {
			t.Errorf("Close after Abort: got %v, want nil", err)
		}
		if names := dirNames(t, dir); len(names) != 0 {
			t.Errorf("got files %q after Abort then Close, want none", names)
		}
		if err := w.Write(batch); err == nil {
			t.Error("Write after Abort: got no error, want one")
		}
	})

	t.Run("existing file untouched until close", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "out.csv")
		if err := os.WriteFile(path, []byte("old\n"), 0o640); err != nil {
			t.Fatal(err)
		}
		w, err := CreateCSV(path, fields)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Write(batch); err != nil {
			t.Fatal(err)
		}
		if got, _ := os.ReadFile(path); string(got) != "old\n" {
			t.Errorf("before Close: got %q, want %q", got, "old\n")
		}
		if names := dirNames(t, dir); len(names) != 2 || !strings.HasPrefix(names[0], ".out.csv.normguard-tmp-") {
			t.Errorf("before Close: got files %q, want the destination and one .out.csv.normguard-tmp-* file", names)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if got, _ := os.ReadFile(path); string(got) != "x\n1\n2\n" {
			t.Errorf("after Close: got %q, want %q", got, "x\n1\n2\n")
		}
		if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o640 {
			t.Errorf("after Close: got mode %v (%v), want the old file's -rw-r-----", st.Mode(), err)
		}
		if names := dirNames(t, dir); len(names) != 1 {
			t.Errorf("after Close: got files %q, want only out.csv", names)
		}
		if err := w.Abort(); err != nil {
			t.Errorf("Abort after Close: got %v, want nil", err)
		}
		if _, err := os.Stat(path); err != nil {
			t.Errorf("Abort after Close removed the output: %v", err)
		}
	})

	t.Run("aborted overwrite keeps the old file", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "out.csv")
		if err := os.WriteFile(path, []byte("old\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		w, err := CreateCSV(path, fields)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(batch)
		w.Abort()
		if got, _ := os.ReadFile(path); string(got) != "old\n" {
			t.Errorf("got %q, want %q", got, "old\n")
		}
		if names := dirNames(t, dir); len(names) != 1 {
			t.Errorf("got files %q, want only out.csv", names)
		}
	})

	t.Run("missing directory", func(t *testing.T) {
		_, err := CreateCSV(filepath.Join(t.TempDir(), "no", "out.csv"), fields)
		if !errors.Is(err, os.ErrNotExist) {
			t.Errorf("got %v, want a not-exist error", err)
		}
	})
}

func TestFormatOf(t *testing.T) {
	tests := []struct {
		path, want string
		err        bool
	}{
		{"-", FormatCSV, false},
		{"a.csv", FormatCSV, false},
		{"dir.x/A.CSV", FormatCSV, false},
		{"a.parquet", FormatParquet, false},
		{"a.jsonl", FormatJSONL, false},
		{"a.json", "", true},
		{"a", "", true},
		{"a.csv.gz", FormatCSV, false},
		{"a.tsv", FormatCSV, false},
		{"a.jsonl.zst", FormatJSONL, false},
		{"a.parquet.gz", "", true},
		{"a.gz", "", true},
	}
	for _, tc := range tests {
		got, err := FormatOf(tc.path)
		if got != tc.want || (err != nil) != tc.err {
			t.Errorf("FormatOf(%q): got %q, %v; want %q, error %v", tc.path, got, err, tc.want, tc.err)
		}
	}
	_, err := FormatOf("data.txt")
	if want := `data.txt: unsupported file type (extension ".txt"): use .csv, .tsv, .parquet or .jsonl (.csv, .tsv and .jsonl may end in .gz or .zst), or - for CSV on standard input/output`; err == nil || err.Error() != want {
		t.Errorf("got %v, want %q", err, want)
	}
}

// TestOpenAndCreate writes and reads back a table through Create and Open
// in every built-in format, chosen by extension (parquetio tests Parquet,
// which it registers).
func TestOpenAndCreate(t *testing.T) {
	dir := t.TempDir()
	fields := []Field{{"x", Numeric}, {"s", String}}
	for _, name := range []string{"t.csv", "t.jsonl"} {
		path := filepath.Join(dir, name)
		w, err := Create(path, fields)
		if err != nil {
			t.Fatalf("Create(%s): %v", name, err)
		}
		b := &Batch{Cols: []Column{num("x", 4, math.NaN()), {Name: "s", Kind: String, Str: []string{"a,b", ""}, Null: []bool{false, true}}}, Rows: 2}
		if err := w.Write(b); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		r, err := Open(path)
		if err != nil {
			t.Fatalf("Open(%s): %v", name, err)
		}
		if err := r.Project(fields); err != nil {
			t.Fatal(err)
		}
		if !r.Next() {
			t.Fatalf("%s: no rows back (err %v)", name, r.Err())
		}
		got := r.Batch()
		if got.Rows != 2 || got.Cols[0].Num[0] != 4 || !math.IsNaN(got.Cols[0].Num[1]) ||
			got.Cols[1].Str[0] != "a,b" || !got.Cols[1].IsMissing(1) {
			t.Errorf("%s: got %+v back", name, got.Cols)
		}
		r.Close()
	}
	if r, err := Open(filepath.Join(dir, "t.xlsx")); r != nil || err == nil {
		t.Errorf("Open(t.xlsx): got %v, %v; want nil and an error", r, err)
	}
	if names := dirNames(t, dir); len(names) != 2 {
		t.Errorf("got files %q, want only the two tables", names)
	}
}
