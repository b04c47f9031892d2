package parquetio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"

	"github.com/normguard/normguard/table"
)

// encodeBenchBatch is rows x (20 numeric + 2 string) columns: numbers with
// a few decimal digits, about 1% missing, and string columns drawing from
// 50 and 5000 distinct values.
func encodeBenchBatch(rows int) (*table.Batch, []table.Field) {
	rng := rand.New(rand.NewPCG(5, 8))
	var fields []table.Field
	for j := range 20 {
		fields = append(fields, table.Field{Name: fmt.Sprintf("x%d", j), Kind: table.Numeric})
	}
	fields = append(fields, table.Field{Name: "cat50", Kind: table.String}, table.Field{Name: "cat5000", Kind: table.String})
	levels := [2][]string{make([]string, 50), make([]string, 5000)}
	for k := range levels {
		for i := range levels[k] {
			levels[k][i] = fmt.Sprintf("level-%d-%d", k, i)
		}
	}
	b := &table.Batch{Rows: rows, Cols: table.NewColumns(fields)}
	for j := range b.Cols {
		c := &b.Cols[j]
		c.Resize(rows)
		for i := range rows {
			missing := rng.IntN(100) == 0
			switch {
			case j < 20 && missing:
				c.Num[i] = math.NaN()
			case j < 20:
				scale := math.Pow10(2 + j%3)
				c.Num[i] = math.Round(rng.NormFloat64()*float64(j*j+1)*10*scale) / scale
			case missing:
				c.SetNull(i)
			default:
				l := levels[j-20]
				c.Str[i] = l[rng.IntN(len(l))]
			}
		}
	}
	return b, fields
}

// BenchmarkParquetEncode writes 1M x (20 float64 + 2 strings of 50 and
// 5000 distinct values) to a file, in batches of table.DefaultBatchRows.
func BenchmarkParquetEncode(b *testing.B) {
	for _, rows := range []int{100000, 1000000} {
		batch, fields := encodeBenchBatch(rows)
		dir := b.TempDir()
		b.Run(fmt.Sprintf("rows=%d", rows), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(rows) * 20 * 8)
			path := filepath.Join(dir, "bench.parquet")
			for b.Loop() {
				writeBenchParquet(b, path, batch, fields)
			}
			if st, err := os.Stat(path); err == nil {
				b.ReportMetric(float64(st.Size())/float64(rows), "file-bytes/row")
			}
		})
	}
}

// encodeCase is a table written by the Writer and read back.
type encodeCase struct {
	name  string
	batch *table.Batch
	split int // rows per Write call (0: one call)
}

// numCol and strCol build columns; a nil string pointer is a null.
func numCol(name string, x []float64) table.Column {
	return table.Column{Name: name, Kind: table.Numeric, Num: x}
}

func strCol(name string, x []*string) table.Column {
	c := table.Column{Name: name, Kind: table.String, Str: make([]string, len(x)), Null: make([]bool, len(x))}
	for i, s := range x {
		if s == nil {
			c.Null[i] = true
		} else {
			c.Str[i] = *s
		}
	}
	return c
}

func repeatNum(v float64, n int) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = v
	}
	return x
}

// encodeCases covers float corner cases, nulls in every pattern the
// definition levels encode differently, dictionaries and their fallback,
// several row groups and empty tables.
func encodeCases() []encodeCase {
	nan := math.NaN()
	corners := []float64{0, math.Copysign(0, -1), math.Inf(1), math.Inf(-1), nan, math.MaxFloat64, -math.MaxFloat64,
		math.SmallestNonzeroFloat64, -math.SmallestNonzeroFloat64, 2.2250738585072009e-308, 0x1p-1022, 0.1, -1e300, 1}
	text := strs("a", "", "<null>", "", "é\x00ü", "<null>", "a", strings.Repeat("long", 500), "NA", "b,\"c\"\n", "", "z", "a", "<null>")

	// Null patterns around the 8-row groups and 32-row runs of the levels.
	var pattern []float64
	var patternText []*string
	for _, run := range []int{1, 7, 8, 9, 31, 32, 33, 64, 65, 3, 200, 1, 1, 2} {
		for _, present := range []bool{true, false} {
			for range run {
				v, sp := nan, (*string)(nil)
				if present {
					v, sp = float64(len(pattern)), ptr(fmt.Sprint("v", len(pattern)%5))
				}
				pattern = append(pattern, v)
				patternText = append(patternText, sp)
			}
		}
	}

	rng := rand.New(rand.NewPCG(9, 10))
	big := 2*RowGroupRows + parquetPageRows + 17
	x, y := make([]float64, big), make([]float64, big)
	cat, wide := make([]*string, big), make([]*string, big)
	for i := range big {
		x[i] = rng.NormFloat64()
		if rng.IntN(50) == 0 {
			x[i] = nan
		}
		y[i] = float64(i)
		if rng.IntN(20) > 0 {
			cat[i] = ptr(fmt.Sprint("cat", rng.IntN(60)))
		}
		// Distinct 40-byte values outgrow the 1 MiB dictionary after
		// about 23,000 of a row group's rows.
		wide[i] = ptr(fmt.Sprintf("%040d", i))
	}
	return []encodeCase{
		{"corners", &table.Batch{Rows: len(corners), Cols: []table.Column{
			numCol("x", corners), strCol("s", text), numCol("nan", repeatNum(nan, len(corners)))}}, 0},
		{"corners one row per write", &table.Batch{Rows: len(corners), Cols: []table.Column{
			numCol("x", corners), strCol("s", text), numCol("nan", repeatNum(nan, len(corners)))}}, 1},
		{"null patterns", &table.Batch{Rows: len(pattern), Cols: []table.Column{
			numCol("p", pattern), strCol("t", patternText)}}, 0},
		{"all null", &table.Batch{Rows: 1000, Cols: []table.Column{
			numCol("x", repeatNum(nan, 1000)), strCol("s", make([]*string, 1000))}}, 300},
		{"no nulls", &table.Batch{Rows: parquetPageRows + 1, Cols: []table.Column{
			numCol("x", y[:parquetPageRows+1]), {Name: "s", Kind: table.String, Str: make([]string, parquetPageRows+1)}}}, 0},
		{"row groups and dictionary fallback", &table.Batch{Rows: big, Cols: []table.Column{
			numCol("x", x), strCol("cat", cat), numCol("y", y), strCol("wide", wide)}}, 10007},
		{"zero rows", &table.Batch{Rows: 0, Cols: []table.Column{numCol("x", nil), strCol("s", nil)}}, 0},
	}
}

// writeEncodeCase writes the case's batch to a new file with the given
// number of workers and returns its path.
func writeEncodeCase(t *testing.T, tc encodeCase, workers int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "out.parquet")
	w, err := Create(path, fieldsOf(tc.batch.Cols))
	if err != nil {
		t.Fatal(err)
	}
	w.workers = workers
	split := tc.split
	if split == 0 {
		split = max(tc.batch.Rows, 1)
	}
	for lo := 0; lo < tc.batch.Rows || lo == 0; lo += split {
		hi := min(tc.batch.Rows, lo+split)
		part := table.Batch{Rows: hi - lo, Cols: make([]table.Column, len(tc.batch.Cols))}
		for j := range part.Cols {
			part.Cols[j] = tc.batch.Cols[j].Slice(lo, hi)
		}
		if err := w.Write(&part); err != nil {
			t.Fatal(err)
		}
		if hi == tc.batch.Rows {
			break
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// openParquetGo opens the file with parquet-go's own reader.
func openParquetGo(t *testing.T, path string) *parquet.File {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pf, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("parquet-go cannot open the file: %v", err)
	}
	return pf
}

// readRowsParquetGo reads every row of the file with parquet-go's row
// reader, as columns (NaN and Null for nulls).
func readRowsParquetGo(t *testing.T, pf *parquet.File, fields []table.Field) []table.Column {
	t.Helper()
	cols := table.NewColumns(fields)
	buf := make([]parquet.Row, 100)
	for _, g := range pf.RowGroups() {
		rows := g.Rows()
		for {
			n, err := rows.ReadRows(buf)
			for _, row := range buf[:n] {
				if len(row) != len(fields) {
					t.Fatalf("row with %d values, want %d", len(row), len(fields))
				}
				for _, v := range row {
					c := &cols[v.Column()]
					switch {
					case c.Kind == table.Numeric && v.IsNull():
						c.Num = append(c.Num, math.NaN())
					case c.Kind == table.Numeric:
						c.Num = append(c.Num, v.Double())
					default:
						c.Str = append(c.Str, string(v.ByteArray()))
						c.Null = append(c.Null, v.IsNull())
					}
				}
			}
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		rows.Close()
	}
	return cols
}

// wantStrings returns a table.String column as checkStr's expectations.
func wantStrings(c table.Column) []*string {
	out := make([]*string, len(c.Str))
	for i := range c.Str {
		if c.Null == nil || !c.Null[i] {
			out[i] = &c.Str[i]
		}
	}
	return out
}

func TestParquetEncodeRoundTrip(t *testing.T) {
	for _, tc := range encodeCases() {
		t.Run(tc.name, func(t *testing.T) {
			path := writeEncodeCase(t, tc, 2)
			fields := fieldsOf(tc.batch.Cols)
			check := func(t *testing.T, cols []table.Column) {
				t.Helper()
				if len(cols) != len(fields) {
					t.Fatalf("got %d columns, want %d", len(cols), len(fields))
				}
				for j, c := range tc.batch.Cols {
					if c.Kind == table.Numeric {
						checkNum(t, cols[j], c.Num)
					} else {
						checkStr(t, cols[j], wantStrings(c))
					}
				}
			}
			t.Run("parquet-go", func(t *testing.T) {
				pf := openParquetGo(t, path)
				if got := pf.NumRows(); got != int64(tc.batch.Rows) {
					t.Errorf("NumRows: got %d, want %d", got, tc.batch.Rows)
				}
				check(t, readRowsParquetGo(t, pf, fields))
			})
			t.Run("Open", func(t *testing.T) {
				cols, err := readParquet(t, path, Options{Workers: 2, BatchRows: 4096}, fields)
				if err != nil {
					t.Fatal(err)
				}
				if tc.batch.Rows == 0 {
					r, err := Open(path, Options{})
					if err != nil {
						t.Fatal(err)
					}
					defer r.Close()
					if got, want := r.Header(), []string{"x", "s"}; !slices.Equal(got, want) {
						t.Errorf("header: got %q, want %q", got, want)
					}
					return
				}
				check(t, cols)
			})
			t.Run("metadata", func(t *testing.T) { checkEncodeMetadata(t, openParquetGo(t, path), tc.batch) })
		})
	}
}

// checkEncodeMetadata checks the footer against the batch: row groups of
// RowGroupRows rows, contiguous chunks in column order, value and
// null counts, DOUBLE minimum and maximum, and dictionary offsets.
func checkEncodeMetadata(t *testing.T, pf *parquet.File, b *table.Batch) {
	t.Helper()
	md := pf.Metadata()
	if got, want := len(md.RowGroups), (b.Rows+RowGroupRows-1)/RowGroupRows; got != want {
		t.Fatalf("row groups: got %d, want %d", got, want)
	}
	next := int64(4) // after the magic bytes
	for g, rg := range md.RowGroups {
		lo := g * RowGroupRows
		hi := min(b.Rows, lo+RowGroupRows)
		if rg.NumRows != int64(hi-lo) || rg.FileOffset != next || int(rg.Ordinal) != g {
			t.Errorf("row group %d: got %d rows at %d, ordinal %d; want %d rows at %d, ordinal %d",
				g, rg.NumRows, rg.FileOffset, rg.Ordinal, hi-lo, next, g)
		}
		for j, cc := range rg.Columns {
			m := cc.MetaData
			c := b.Cols[j].Slice(lo, hi)
			start := m.DataPageOffset
			if m.DictionaryPageOffset > 0 {
				if m.DictionaryPageOffset >= m.DataPageOffset {
					t.Errorf("row group %d column %d: dictionary page at %d after the data at %d", g, j, m.DictionaryPageOffset, m.DataPageOffset)
				}
				start = m.DictionaryPageOffset
			}
			if start != next || cc.FileOffset != start {
				t.Errorf("row group %d column %d: chunk at %d (file offset %d), want %d", g, j, start, cc.FileOffset, next)
			}
			next = start + m.TotalCompressedSize
			nulls := int64(0)
			lo, hi := math.Inf(1), math.Inf(-1)
			for i := range c.Len() {
				if c.IsMissing(i) {
					nulls++
				} else if c.Kind == table.Numeric {
					lo, hi = min(lo, c.Num[i]), max(hi, c.Num[i])
				}
			}
			if !slices.Equal(m.PathInSchema, []string{c.Name}) || m.Codec != format.Snappy || m.NumValues != int64(c.Len()) || m.Statistics.NullCount != nulls {
				t.Errorf("row group %d column %d: got path %q, codec %s, %d values, %d nulls; want [%q], SNAPPY, %d values, %d nulls",
					g, j, m.PathInSchema, m.Codec, m.NumValues, m.Statistics.NullCount, c.Name, c.Len(), nulls)
			}
			if c.Kind == table.Numeric && nulls < int64(c.Len()) {
				if lo == 0 {
					lo = math.Copysign(0, -1)
				}
				gotLo := math.Float64frombits(binary.LittleEndian.Uint64(m.Statistics.MinValue))
				gotHi := math.Float64frombits(binary.LittleEndian.Uint64(m.Statistics.MaxValue))
				if math.Float64bits(gotLo) != math.Float64bits(lo) || gotHi != hi {
					t.Errorf("row group %d column %d: got min %v, max %v; want %v, %v", g, j, gotLo, gotHi, lo, hi)
				}
			}
		}
	}
}

func TestParquetEncodeDeterministic(t *testing.T) {
	for _, tc := range encodeCases() {
		t.Run(tc.name, func(t *testing.T) {
			want, err := os.ReadFile(writeEncodeCase(t, tc, 1))
			if err != nil {
				t.Fatal(err)
			}
			for _, workers := range []int{2, 5} {
				for _, split := range []int{0, 997} {
					v := tc
					v.split = split
					got, err := os.ReadFile(writeEncodeCase(t, v, workers))
					if err != nil {
						t.Fatal(err)
					}
					if !bytes.Equal(got, want) {
						t.Errorf("workers %d, %d rows per write: got %d bytes, want the %d bytes written by one worker", workers, split, len(got), len(want))
					}
				}
			}
		})
	}
}

// TestParquetEncodeDictionaryFallback checks that a dictionary outgrowing
// parquetDictionaryMaxBytes switches the rest of the row group to plain
// pages, and that a small one is kept for the whole chunk.
func TestParquetEncodeDictionaryFallback(t *testing.T) {
	var tc encodeCase
	for _, c := range encodeCases() {
		if c.name == "row groups and dictionary fallback" {
			tc = c
		}
	}
	pf := openParquetGo(t, writeEncodeCase(t, tc, 2))
	cases := []struct {
		column           string
		wantPlain        bool
		wantDictionaryLE int // the dictionary's largest size
	}{
		{"cat", false, 60},
		{"wide", true, parquetDictionaryMaxBytes / 44},
	}
	for _, c := range cases {
		t.Run(c.column, func(t *testing.T) {
			leaf, ok := pf.Schema().Lookup(c.column)
			if !ok {
				t.Fatalf("no column %q", c.column)
			}
			for g, rg := range pf.RowGroups() {
				pages := rg.ColumnChunks()[leaf.ColumnIndex].Pages()
				indexed, plain := 0, 0
				for {
					p, err := pages.ReadPage()
					if errors.Is(err, io.EOF) {
						break
					}
					if err != nil {
						t.Fatal(err)
					}
					if d := p.Dictionary(); d != nil {
						indexed++
						if d.Len() > c.wantDictionaryLE {
							t.Errorf("row group %d: dictionary of %d entries, want at most %d", g, d.Len(), c.wantDictionaryLE)
						}
					} else {
						plain++
					}
					parquet.Release(p)
				}
				pages.Close()
				if indexed == 0 || (plain > 0) != c.wantPlain {
					t.Errorf("row group %d: got %d dictionary-indexed and %d plain pages; want some indexed, plain %v", g, indexed, plain, c.wantPlain)
				}
			}
		})
	}
}
