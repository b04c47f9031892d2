package parquetio

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/normguard/normguard/table"
)

// writeParquetRows writes rows to a new file in dir with parquet-go's own
// writer (the reference encoder) and returns its path.
// TestParquetReaderReleasesBuffersAtEnd checks that reaching the end of
// the input drops the batch's columns and the columns' conversion
// buffers, which a fit would otherwise keep live until Close, and that
// Next stays false without an error.
func TestParquetReaderReleasesBuffersAtEnd(t *testing.T) {
	rows := make([]wideRow, 3000)
	for i := range rows {
		v := float64(i)
		c := fmt.Sprint("cat", i%3)
		rows[i] = wideRow{N: int64(i), X: &v, C: &c, T: fmt.Sprint("t", i)}
	}
	path := writeParquetRows(t, rows, parquet.MaxRowsPerRowGroup(1000))
	r, err := Open(path, Options{BatchRows: 500})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	fields := []table.Field{{Name: "t", Kind: table.String}, {Name: "c", Kind: table.String}, {Name: "x", Kind: table.Numeric}, {Name: "n", Kind: table.Numeric}}
	if err := r.Project(fields); err != nil {
		t.Fatal(err)
	}
	n := 0
	for r.Next() {
		b := r.Batch()
		for i := range b.Rows {
			if got := b.Cols[3].Num[i]; got != float64(n+i) {
				t.Fatalf("row %d: n = %v", n+i, got)
			}
		}
		n += b.Rows
	}
	if r.Err() != nil || n != len(rows) {
		t.Fatalf("read %d rows, error %v; want %d", n, r.Err(), len(rows))
	}
	for j, c := range r.batch.Cols {
		if c.Num != nil || c.Str != nil || c.Null != nil {
			t.Fatalf("after the end: batch column %d still holds its buffers", j)
		}
	}
	for _, c := range r.cols {
		if c.intern != nil || c.null != nil || c.dict != nil || c.dictNum != nil || c.dictStr != nil || c.def != nil || c.idx != nil {
			t.Fatalf("after the end: column %q still holds its conversion buffers", c.name)
		}
	}
	if r.Next() || r.Err() != nil {
		t.Fatalf("Next after the end: true or error %v", r.Err())
	}
}

func writeParquetRows[T any](t testing.TB, rows []T, opts ...parquet.WriterOption) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "data.parquet")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := parquet.NewGenericWriter[T](f, opts...)
	if _, err := w.Write(rows); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// readParquet reads the projected fields of the file at path into one
// batch (copied), checking batch starts along the way.
func readParquet(t testing.TB, path string, opts Options, fields []table.Field) ([]table.Column, error) {
	t.Helper()
	r, err := Open(path, opts)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	if fields != nil {
		if err := r.Project(fields); err != nil {
			return nil, err
		}
	}
	var cols []table.Column
	var rows int64
	for r.Next() {
		b := r.Batch()
		if b.Start != rows || b.Lines != nil {
			t.Fatalf("batch Start %d, Lines %v: want Start %d, Lines nil", b.Start, b.Lines, rows)
		}
		if cols == nil {
			cols = table.NewColumns(fieldsOf(b.Cols))
		}
		for j := range b.Cols {
			appendColumn(&cols[j], &b.Cols[j], b.Rows)
		}
		rows += int64(b.Rows)
	}
	return cols, r.Err()
}

func fieldsOf(cols []table.Column) []table.Field {
	fields := make([]table.Field, len(cols))
	for i, c := range cols {
		fields[i] = table.Field{Name: c.Name, Kind: c.Kind}
	}
	return fields
}

func appendColumn(dst, src *table.Column, n int) {
	if src.Kind == table.Numeric {
		dst.Num = append(dst.Num, src.Num[:n]...)
		return
	}
	for i := range n {
		missing := src.Null != nil && src.Null[i]
		if missing && src.Str[i] != "" {
			panic("null string with text")
		}
		dst.Str = append(dst.Str, src.Str[i])
		dst.Null = append(dst.Null, missing)
	}
}

// checkNum compares numbers bit for bit (any NaN matches any NaN).
func checkNum(t *testing.T, c table.Column, want []float64) {
	t.Helper()
	if c.Kind != table.Numeric || len(c.Num) != len(want) {
		t.Fatalf("column %q: got kind %s, %d rows; want numeric, %d rows", c.Name, c.Kind, len(c.Num), len(want))
	}
	for i, w := range want {
		g := c.Num[i]
		if math.Float64bits(g) != math.Float64bits(w) && !(math.IsNaN(g) && math.IsNaN(w)) {
			t.Errorf("column %q row %d: got %v, want %v", c.Name, i, g, w)
		}
	}
}

// checkStr compares strings; nil in want marks a missing value.
func checkStr(t *testing.T, c table.Column, want []*string) {
	t.Helper()
	if c.Kind != table.String || len(c.Str) != len(want) {
		t.Fatalf("column %q: got kind %s, %d rows; want categorical, %d rows", c.Name, c.Kind, len(c.Str), len(want))
	}
	for i, w := range want {
		missing := c.Null != nil && c.Null[i]
		switch {
		case w == nil && !missing:
			t.Errorf("column %q row %d: got %q, want missing", c.Name, i, c.Str[i])
		case w != nil && (missing || c.Str[i] != *w):
			t.Errorf("column %q row %d: got %q (missing %v), want %q", c.Name, i, c.Str[i], missing, *w)
		}
	}
}

func strs(values ...string) []*string {
	out := make([]*string, len(values))
	for i := range values {
		if values[i] != "<null>" {
			out[i] = &values[i]
		}
	}
	return out
}

func ptr[T any](v T) *T { return &v }

// typedRow has a column of every physical type normguard reads.
type typedRow struct {
	I8    int8     `parquet:"i8"`
	I32   int32    `parquet:"i32"`
	I64   int64    `parquet:"i64"`
	U32   uint32   `parquet:"u32"`
	U64   uint64   `parquet:"u64"`
	F32   float32  `parquet:"f32"`
	F64   float64  `parquet:"f64"`
	B     bool     `parquet:"b"`
	S     string   `parquet:"s"`
	SD    string   `parquet:"sd,dict"`
	FL    [3]byte  `parquet:"fl"`
	D32   int32    `parquet:"d32,decimal(2:9)"`
	D64   int64    `parquet:"d64,decimal(3:18)"`
	OF64  *float64 `parquet:"of64,optional"`
	OI64  *int64   `parquet:"oi64,optional"`
	OB    *bool    `parquet:"ob,optional"`
	OS    *string  `parquet:"os,optional"`
	OSD   *string  `parquet:"osd,optional,dict"`
	OF64D *float64 `parquet:"of64d,optional,dict"`
}

var typedRows = []typedRow{
	{I8: -8, I32: -2147483648, I64: 1<<53 + 1, U32: 4294967295, U64: 1<<64 - 1, F32: 0.1, F64: 0.1, B: true,
		S: "a", SD: "x", FL: [3]byte{'a', 'b', 'c'}, D32: 12345, D64: -1, OF64: ptr(math.Copysign(0, -1)), OI64: ptr(int64(7)),
		OB: ptr(false), OS: ptr(""), OSD: ptr("p"), OF64D: ptr(2.5)},
	{I8: 127, I32: 7, I64: -3, U32: 0, U64: 0, F32: float32(math.Inf(-1)), F64: math.Inf(1), B: false,
		S: "é, \"q\"\n", SD: "y", FL: [3]byte{'x', 'y', 'z'}, D32: -5, D64: 1000,
		OSD: ptr("q")},
	{I8: 0, I32: 0, I64: 0, F32: 1.5, F64: 5e-324, B: true, S: "", SD: "x", D32: 10, D64: 123456789,
		OF64: ptr(1e300), OB: ptr(true), OS: ptr("NA"), OSD: ptr("p"), OF64D: ptr(2.5)},
}

func TestParquetTypes(t *testing.T) {
	path := writeParquetRows(t, typedRows)
	r, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	wantHeader := []string{"i8", "i32", "i64", "u32", "u64", "f32", "f64", "b", "s", "sd", "fl", "d32", "d64",
		"of64", "oi64", "ob", "os", "osd", "of64d"}
	if got := r.Header(); !slices.Equal(got, wantHeader) {
		t.Errorf("header: got %q, want %q", got, wantHeader)
	}
	if got := r.NumRows(); got != 3 {
		t.Errorf("NumRows: got %d, want 3", got)
	}
	r.Close()

	nan := math.NaN()
	// Without Project, columns come in their natural kinds.
	cols, err := readParquet(t, path, Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]table.Column{}
	for _, c := range cols {
		byName[c.Name] = c
	}
	numeric := []struct {
		name string
		want []float64
	}{
		{"i8", []float64{-8, 127, 0}},
		{"i32", []float64{-2147483648, 7, 0}},
		{"i64", []float64{1 << 53, -3, 0}}, // 2^53+1 rounds to even, as float64(int64) does
		{"u32", []float64{4294967295, 0, 0}},
		{"u64", []float64{1 << 64, 0, 0}},
		{"f32", []float64{float64(float32(0.1)), math.Inf(-1), 1.5}},
		{"f64", []float64{0.1, math.Inf(1), 5e-324}},
		{"b", []float64{1, 0, 1}},
		{"d32", []float64{123.45, -0.05, 0.1}},
		{"d64", []float64{-0.001, 1, 123456.789}},
		{"of64", []float64{math.Copysign(0, -1), nan, 1e300}},
		{"oi64", []float64{7, nan, nan}},
		{"ob", []float64{0, nan, 1}},
		{"of64d", []float64{2.5, nan, 2.5}},
	}
	for _, tc := range numeric {
		t.Run(tc.name, func(t *testing.T) { checkNum(t, byName[tc.name], tc.want) })
	}
	text := []struct {
		name string
		want []*string
	}{
		{"s", strs("a", "é, \"q\"\n", "")},
		{"sd", strs("x", "y", "x")},
		{"fl", strs("abc", "xyz", "\x00\x00\x00")},
		{"os", strs("", "<null>", "NA")},
		{"osd", strs("p", "q", "p")},
	}
	for _, tc := range text {
		t.Run(tc.name, func(t *testing.T) { checkStr(t, byName[tc.name], tc.want) })
	}
}

func TestParquetProjectionKinds(t *testing.T) {
	path := writeParquetRows(t, typedRows)
	cols, err := readParquet(t, path, Options{}, []table.Field{
		{Name: "of64d", Kind: table.String}, {Name: "i64", Kind: table.String}, {Name: "u64", Kind: table.String}, {Name: "f32", Kind: table.String}, {Name: "f64", Kind: table.String},
		{Name: "b", Kind: table.String}, {Name: "ob", Kind: table.String}, {Name: "d32", Kind: table.String}, {Name: "i8", Kind: table.Numeric}, {Name: "sd", Kind: table.String},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := fieldsOf(cols); got[0].Name != "of64d" || got[8].Name != "i8" {
		t.Fatalf("projection order: got %v", got)
	}
	checkStr(t, cols[0], strs("2.5", "<null>", "2.5"))
	checkStr(t, cols[1], strs("9007199254740993", "-3", "0"))
	checkStr(t, cols[2], strs("18446744073709551615", "0", "0"))
	checkStr(t, cols[3], strs("0.1", "-inf", "1.5"))
	checkStr(t, cols[4], strs("0.1", "inf", "5e-324"))
	checkStr(t, cols[5], strs("True", "False", "True"))
	checkStr(t, cols[6], strs("False", "<null>", "True"))
	checkStr(t, cols[7], strs("123.45", "-0.05", "0.1"))
	checkNum(t, cols[8], []float64{-8, 127, 0})
	checkStr(t, cols[9], strs("x", "y", "x"))
}

// textRow holds numbers as text, plain and dictionary-encoded.
type textRow struct {
	S  *string `parquet:"s,optional"`
	SD *string `parquet:"sd,optional,dict"`
}

func TestParquetTextAsNumber(t *testing.T) {
	cases := []struct {
		name    string
		values  []*string
		want    []float64
		wantErr string // for both columns; the bad value is on the third row
	}{
		{"numbers", []*string{ptr("1.5"), ptr(" -2 "), ptr("1e3"), ptr("inf"), ptr("0.1")},
			[]float64{1.5, -2, 1000, math.Inf(1), 0.1}, ""},
		{"missing", []*string{nil, ptr(""), ptr("NA"), ptr("nan"), ptr("None")},
			[]float64{math.NaN(), math.NaN(), math.NaN(), math.NaN(), math.NaN()}, ""},
		{"not a number", []*string{ptr("1"), nil, ptr("abc"), ptr("2"), ptr("abc")},
			nil, `data.parquet: row 3: column "%s": cannot parse "abc" as a number; declare the column`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rows := make([]textRow, len(tc.values))
			for i, v := range tc.values {
				rows[i] = textRow{S: v, SD: v}
			}
			path := writeParquetRows(t, rows)
			for _, col := range []string{"s", "sd"} {
				cols, err := readParquet(t, path, Options{BatchRows: 2}, []table.Field{{Name: col, Kind: table.Numeric}})
				if tc.wantErr != "" {
					want := fmt.Sprintf(tc.wantErr, col)
					var ce *table.CellError
					if err == nil || !strings.Contains(err.Error(), want) || !errors.As(err, &ce) || ce.Row != 3 {
						t.Errorf("%s: got error %v, want %q (a *table.CellError on row 3)", col, err, want)
					}
					continue
				}
				if err != nil {
					t.Fatalf("%s: %v", col, err)
				}
				checkNum(t, cols[0], tc.want)
			}
		})
	}
}

// groupRow has nested and repeated columns beside flat ones.
type groupRow struct {
	A      float64              `parquet:"a"`
	Nested struct{ X, Y int32 } `parquet:"nested"`
	List   []string             `parquet:"list"` // a list of numbers would be a vector column
	Z      string               `parquet:"z"`
}

func TestParquetSchemaErrors(t *testing.T) {
	path := writeParquetRows(t, []groupRow{{A: 1, Z: "z"}, {A: 2, List: []string{"1", "2"}, Z: "w"}})
	r, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if got, want := r.Header(), []string{"a", "z"}; !slices.Equal(got, want) {
		t.Errorf("header: got %q, want %q (nested and repeated columns left out)", got, want)
	}
	cases := []struct {
		name   string
		fields []table.Field
		want   string
	}{
		{"nested", []table.Field{{Name: "a", Kind: table.Numeric}, {Name: "nested", Kind: table.Numeric}}, `column "nested" is a nested (group) column; normguard reads flat columns only`},
		{"repeated", []table.Field{{Name: "list", Kind: table.Numeric}}, `column "list" is a repeated column`},
		{"absent", []table.Field{{Name: "a", Kind: table.Numeric}, {Name: "b", Kind: table.Numeric}}, `column "b" is not in the file; its columns are: "a", "z"`},
		{"two absent", []table.Field{{Name: "b", Kind: table.Numeric}, {Name: "c", Kind: table.String}}, `columns "b", "c" are not in the file`},
		{"unknown kind", []table.Field{{Name: "a", Kind: table.KindUnknown}}, `column "a" has kind unknown`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := r.Project(tc.fields)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), path+": ") {
				t.Errorf("got %v, want an error naming the file and containing %q", err, tc.want)
			}
		})
	}
	// The flat columns still read.
	if err := r.Project([]table.Field{{Name: "z", Kind: table.String}, {Name: "a", Kind: table.Numeric}}); err != nil {
		t.Fatal(err)
	}
	if !r.Next() {
		t.Fatal(r.Err())
	}
	checkStr(t, r.Batch().Cols[0], strs("z", "w"))
	checkNum(t, r.Batch().Cols[1], []float64{1, 2})
	if err := r.Project([]table.Field{{Name: "a", Kind: table.Numeric}}); err == nil {
		t.Error("Project after Next: got nil, want an error")
	}
}

// wideRow is a row of the multi-row-group test.
type wideRow struct {
	X *float64 `parquet:"x,optional"`
	N int64    `parquet:"n"`
	C *string  `parquet:"c,optional,dict"`
	T string   `parquet:"t"`
}

func TestParquetRowGroupsAndPages(t *testing.T) {
	const n = 5000
	rng := rand.New(rand.NewPCG(1, 2))
	rows := make([]wideRow, n)
	wantX, wantN := make([]float64, n), make([]float64, n)
	wantC, wantT := make([]*string, n), make([]*string, n)
	for i := range rows {
		rows[i].N = int64(i)
		wantN[i] = float64(i)
		wantX[i] = math.NaN()
		if rng.IntN(10) > 0 {
			v := rng.NormFloat64()
			rows[i].X, wantX[i] = &v, v
		}
		if rng.IntN(10) > 0 {
			c := fmt.Sprintf("cat%d", rng.IntN(5))
			rows[i].C, wantC[i] = &c, &c
		}
		rows[i].T = fmt.Sprint("t", i)
		wantT[i] = &rows[i].T
	}
	path := writeParquetRows(t, rows, parquet.MaxRowsPerRowGroup(1234), parquet.PageBufferSize(512))
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := f.Stat()
	pf, err := parquet.OpenFile(f, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	if got := len(pf.RowGroups()); got != 5 {
		t.Fatalf("the test file has %d row groups, want 5", got)
	}
	f.Close()
	fields := []table.Field{{Name: "t", Kind: table.String}, {Name: "c", Kind: table.String}, {Name: "x", Kind: table.Numeric}, {Name: "n", Kind: table.Numeric}}
	for _, opts := range []Options{{}, {BatchRows: 1}, {BatchRows: 1000}, {BatchRows: 1100, Workers: 2}, {Workers: 3}} {
		t.Run(fmt.Sprintf("batch=%d/workers=%d", opts.BatchRows, opts.Workers), func(t *testing.T) {
			cols, err := readParquet(t, path, opts, fields)
			if err != nil {
				t.Fatal(err)
			}
			checkStr(t, cols[0], wantT)
			checkStr(t, cols[1], wantC)
			checkNum(t, cols[2], wantX)
			checkNum(t, cols[3], wantN)
		})
	}
}

func TestParquetCorrupt(t *testing.T) {
	valid, err := os.ReadFile(writeParquetRows(t, typedRows))
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	random := make([]byte, 4096)
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	cases := map[string][]byte{
		"empty":                  {},
		"magic only":             []byte("PAR1"),
		"random bytes":           random,
		"csv":                    []byte("a,b\n1,2\n"),
		"random framed in magic": append(append([]byte("PAR1"), random...), "PAR1"...),
		"truncated half":         valid[:len(valid)/2],
		"truncated tail":         valid[:len(valid)-1],
		"no footer length":       append(valid[:len(valid)-8:len(valid)-8], "PAR1"...),
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "bad.parquet")
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := readParquet(t, path, Options{}, nil)
			if err == nil || !strings.HasPrefix(err.Error(), path+": ") {
				t.Errorf("got %v, want an error naming %s", err, path)
			}
		})
	}
	// Damage inside the data pages must give an error or plausible values,
	// never a panic: flip bytes one region at a time.
	for off := 4; off < len(valid)-8; off += 7 {
		data := slices.Clone(valid)
		for k := off; k < min(off+4, len(data)-8); k++ {
			data[k] ^= 0x5a
		}
		readBytes(data)
	}
}

// readBytes reads every column of a Parquet file held in memory, the way
// the fuzz test does; it returns the error met, if any.
func readBytes(data []byte) error {
	r, err := NewReader(strings.NewReader(string(data)), int64(len(data)), "fuzz.parquet", Options{BatchRows: 7})
	if err != nil {
		return err
	}
	defer r.Close()
	for _, kind := range []table.Kind{table.Numeric, table.String} {
		var fields []table.Field
		for _, h := range r.Header() {
			fields = append(fields, table.Field{Name: h, Kind: kind})
		}
		r2, err := NewReader(strings.NewReader(string(data)), int64(len(data)), "fuzz.parquet", Options{BatchRows: 7})
		if err != nil {
			return err
		}
		if err := r2.Project(fields); err != nil {
			r2.Close()
			continue // e.g. an INT96 column
		}
		for r2.Next() {
		}
		r2.Close()
	}
	for r.Next() {
	}
	return r.Err()
}

// roundTripBatch has every float64 corner case and string edge case.
func roundTripBatch() (*table.Batch, []table.Field) {
	nums := []float64{0, math.Copysign(0, -1), 1, -1, 0.1, math.NaN(), math.Inf(1), math.Inf(-1),
		math.MaxFloat64, math.SmallestNonzeroFloat64, -2.2250738585072014e-308, 1e16, 123456789.123456789}
	strs := []string{"a", "", "NA", "é\x00", "b,\"c\"\n", "a", "", "long " + strings.Repeat("x", 300), "a", "z", "a", "", "q"}
	null := make([]bool, len(strs))
	null[1], null[6] = true, true
	strs[1], strs[6] = "", ""
	fields := []table.Field{{Name: "x", Kind: table.Numeric}, {Name: "s", Kind: table.String}, {Name: "y", Kind: table.Numeric}}
	y := make([]float64, len(nums))
	for i := range y {
		y[i] = math.NaN()
	}
	return &table.Batch{Rows: len(nums), Cols: []table.Column{
		{Name: "x", Kind: table.Numeric, Num: nums},
		{Name: "s", Kind: table.String, Str: strs, Null: null},
		{Name: "y", Kind: table.Numeric, Num: y},
	}}, fields
}

func TestParquetWriterRoundTrip(t *testing.T) {
	b, fields := roundTripBatch()
	cases := []struct {
		name    string
		batches int // the batch is written this many times
	}{
		{"one batch", 1},
		{"two batches", 2},
		{"several row groups", RowGroupRows/b.Rows + 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "out.parquet")
			w, err := Create(path, fields)
			if err != nil {
				t.Fatal(err)
			}
			for range tc.batches {
				if err := w.Write(b); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			r, err := table.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			if got := r.Header(); !slices.Equal(got, []string{"x", "s", "y"}) {
				t.Errorf("header: got %q, want [x s y] in the writer's order", got)
			}
			r.Close()
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			st, _ := f.Stat()
			pf, err := parquet.OpenFile(f, st.Size())
			if err != nil {
				t.Fatal(err)
			}
			f.Close()
			total := tc.batches * b.Rows
			if got, want := len(pf.RowGroups()), (total+RowGroupRows-1)/RowGroupRows; got != want {
				t.Errorf("row groups: got %d, want %d for %d rows", got, want, total)
			}
			cols, err := readParquet(t, path, Options{}, nil)
			if err != nil {
				t.Fatal(err)
			}
			var wantX, wantY []float64
			var wantS []*string
			for range tc.batches {
				wantX = append(wantX, b.Cols[0].Num...)
				wantY = append(wantY, b.Cols[2].Num...)
				for i, s := range b.Cols[1].Str {
					if b.Cols[1].Null[i] {
						wantS = append(wantS, nil)
					} else {
						wantS = append(wantS, &s)
					}
				}
			}
			if fieldsOf(cols)[1].Kind != table.String {
				t.Fatalf("column s: got kind %s, want categorical", cols[1].Kind)
			}
			checkNum(t, cols[0], wantX)
			checkStr(t, cols[1], wantS)
			checkNum(t, cols[2], wantY)
		})
	}
}

func TestParquetWriterSchema(t *testing.T) {
	b, fields := roundTripBatch()
	path := filepath.Join(t.TempDir(), "out.parquet")
	w, err := Create(path, fields)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(b)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	pf, err := parquet.OpenFile(f, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"x: optional DOUBLE", "s: optional BYTE_ARRAY STRING RLE_DICTIONARY", "y: optional DOUBLE"}
	cols := pf.Root().Columns()
	for i, c := range cols {
		got := fmt.Sprintf("%s: optional %s", c.Name(), c.Type().Kind())
		if c.Type().LogicalType() != nil {
			got += " " + c.Type().LogicalType().String()
		}
		chunk := pf.Metadata().RowGroups[0].Columns[i].MetaData
		if slices.Contains(chunk.Encoding, 8) { // format.RLEDictionary
			got += " RLE_DICTIONARY"
		}
		if !c.Optional() || i >= len(want) || got != want[i] {
			t.Errorf("column %d: got %q (optional %v), want %q", i, got, c.Optional(), want[min(i, len(want)-1)])
		}
		if codec := chunk.Codec.String(); codec != "SNAPPY" {
			t.Errorf("column %d: got codec %s, want SNAPPY", i, codec)
		}
	}
}

func TestParquetWriterAtomic(t *testing.T) {
	b, fields := roundTripBatch()
	cases := []struct {
		name   string
		finish func(w *Writer) error
		exists bool // the destination exists afterwards
	}{
		{"abort", func(w *Writer) error { return w.Abort() }, false},
		{"bad batch then close", func(w *Writer) error {
			bad := *b
			bad.Cols = bad.Cols[:1]
			if err := w.Write(&bad); err == nil {
				return errors.New("write of a one-column batch: got nil error")
			}
			return w.Close()
		}, true},
		{"close then abort", func(w *Writer) error {
			if err := w.Close(); err != nil {
				return err
			}
			return w.Abort()
		}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "out.parquet")
			w, err := Create(path, fields)
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Write(b); err != nil {
				t.Fatal(err)
			}
			if err := tc.finish(w); err != nil {
				t.Fatal(err)
			}
			entries, _ := os.ReadDir(dir)
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
			}
			want := []string(nil)
			if tc.exists {
				want = []string{"out.parquet"}
			}
			if !slices.Equal(names, want) {
				t.Errorf("directory holds %q, want %q", names, want)
			}
		})
	}
}

func TestParquetCreateErrors(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name   string
		path   string
		fields []table.Field
		want   string
	}{
		{"stdout", "-", []table.Field{{Name: "x", Kind: table.Numeric}}, "parquet cannot be written to standard output"},
		{"no columns", filepath.Join(dir, "a.parquet"), nil, "needs at least one column"},
		{"duplicate", filepath.Join(dir, "a.parquet"), []table.Field{{Name: "x", Kind: table.Numeric}, {Name: "x", Kind: table.String}}, `duplicate column "x"`},
		{"unknown kind", filepath.Join(dir, "a.parquet"), []table.Field{{Name: "x", Kind: table.KindUnknown}}, `column "x" has kind unknown`},
		{"missing directory", filepath.Join(dir, "nope", "a.parquet"), []table.Field{{Name: "x", Kind: table.Numeric}}, "create "},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Create(tc.path, tc.fields)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("failed creates left %d files behind", len(entries))
	}
	if _, err := Open("-", Options{}); err == nil {
		t.Error("Open(-): got nil error, want one")
	}
	if _, err := table.Open(filepath.Join(dir, "missing.parquet")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Open of a missing file: got %v, want ErrNotExist", err)
	}
}
