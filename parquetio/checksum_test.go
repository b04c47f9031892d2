package parquetio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"

	"github.com/normguard/normguard/table"
)

// checksumBatch has two pages per column: two numeric columns and a
// dictionary-encoded string column with a null now and then.
func checksumBatch() *table.Batch {
	const n = parquetPageRows + 1000
	x, y := make([]float64, n), make([]float64, n)
	s := make([]*string, n)
	cities := []string{"Paris", "Lyon", "Nice"}
	for i := range n {
		x[i] = float64(i%1000) / 8
		y[i] = math.Sqrt(float64(i))
		if i%17 != 0 {
			s[i] = &cities[i%3]
		}
	}
	return &table.Batch{Rows: n, Cols: []table.Column{numCol("x", x), numCol("y", y), strCol("s", s)}}
}

// pageAt is a page of a file: its header, and where its header and its
// bytes start.
type pageAt struct {
	h        format.PageHeader
	at, body int64
}

// filePages returns the footer of the Parquet file data and the pages of
// each column chunk, [row group][column].
func filePages(t *testing.T, data []byte) (*format.FileMetaData, [][][]pageAt) {
	t.Helper()
	footer := int64(binary.LittleEndian.Uint32(data[len(data)-8:]))
	var md format.FileMetaData
	var protocol thrift.CompactProtocol
	if err := thrift.Unmarshal(&protocol, data[int64(len(data))-8-footer:len(data)-8], &md); err != nil {
		t.Fatal(err)
	}
	out := make([][][]pageAt, len(md.RowGroups))
	for g := range md.RowGroups {
		for j := range md.RowGroups[g].Columns {
			var pages []pageAt
			err := walkPages(bytes.NewReader(data), &md.RowGroups[g].Columns[j].MetaData, func(h *format.PageHeader, at, body, size int64) error {
				pages = append(pages, pageAt{*h, at, body})
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			out[g] = append(out[g], pages)
		}
	}
	return &md, out
}

// TestParquetPageChecksums: every page the Writer writes, dictionary
// pages included, carries the CRC-32 of its bytes; a byte flipped in a
// data page or a dictionary page is refused with an error naming the
// file, column, row group and page (before, it read as other numbers).
func TestParquetPageChecksums(t *testing.T) {
	batch := checksumBatch()
	path := writeEncodeCase(t, encodeCase{name: "crc", batch: batch}, 2)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	_, pages := filePages(t, data)
	dict := false
	for j, chunk := range pages[0] {
		if len(chunk) < 2 {
			t.Fatalf("column %d: %d pages, want 2 or more", j, len(chunk))
		}
		for k, p := range chunk {
			body := data[p.body : p.body+int64(p.h.CompressedPageSize)]
			if p.h.CRC == 0 || uint32(p.h.CRC) != crc32.ChecksumIEEE(body) {
				t.Errorf("column %d page %d (%s): CRC %#x, its bytes' is %#x", j, k, p.h.Type, uint32(p.h.CRC), crc32.ChecksumIEEE(body))
			}
			dict = dict || p.h.Type == format.DictionaryPage
		}
	}
	if !dict {
		t.Fatal("no dictionary page written")
	}

	fields := fieldsOf(batch.Cols)
	if _, err := readParquet(t, path, Options{}, fields); err != nil {
		t.Fatalf("the undamaged file: %v", err)
	}
	cases := []struct {
		name      string
		col, page int    // the page flipped (index among the chunk's pages)
		want      string // in the error, after the file name
	}{
		{"numeric data page", 1, 1, `: column "y", row group 0, data page 1 (at byte %d): not a valid parquet file: the page's bytes do not match its CRC-32 checksum`},
		{"string data page", 2, 1, `: column "s", row group 0, data page 0 (at byte %d): not a valid parquet file: the page's bytes do not match its CRC-32 checksum`},
		{"dictionary page", 2, 0, `: column "s", row group 0, dictionary page (at byte %d): not a valid parquet file: the page's bytes do not match its CRC-32 checksum`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := pages[0][tc.col][tc.page]
			bad := bytes.Clone(data)
			bad[p.body+int64(p.h.CompressedPageSize)/2] ^= 0x10
			badPath := filepath.Join(t.TempDir(), "bad.parquet")
			if err := os.WriteFile(badPath, bad, 0o644); err != nil {
				t.Fatal(err)
			}
			for _, workers := range []int{1, 2} {
				_, err := readParquet(t, badPath, Options{Workers: workers}, fields)
				want := badPath + fmt.Sprintf(tc.want, p.at)
				if err == nil || !errors.Is(err, ErrCorrupt) || !strings.HasPrefix(err.Error(), want) {
					t.Fatalf("workers %d: got %v\nwant an error starting %s", workers, err, want)
				}
			}
		})
	}
}

// TestParquetNoChecksums: a file whose pages carry no CRC (pyarrow's
// default, and normguard's files before checksums) still reads.
func TestParquetNoChecksums(t *testing.T) {
	batch := checksumBatch()
	path := writeEncodeCase(t, encodeCase{name: "crc", batch: batch}, 2)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	plain := filepath.Join(t.TempDir(), "nocrc.parquet")
	if err := os.WriteFile(plain, stripChecksums(t, data), 0o644); err != nil {
		t.Fatal(err)
	}
	_, pages := filePages(t, must(os.ReadFile(plain)))
	for _, p := range pages[0][2] {
		if p.h.CRC != 0 {
			t.Fatal("stripChecksums left a CRC")
		}
	}
	fields := fieldsOf(batch.Cols)
	got, err := readParquet(t, plain, Options{}, fields)
	if err != nil {
		t.Fatal(err)
	}
	want := must(readParquet(t, path, Options{}, fields))
	for j := range want {
		for i := range want[j].Str {
			if got[j].Str[i] != want[j].Str[i] {
				t.Fatalf("column %d row %d: %q, want %q", j, i, got[j].Str[i], want[j].Str[i])
			}
		}
		for i := range want[j].Num {
			if math.Float64bits(got[j].Num[i]) != math.Float64bits(want[j].Num[i]) {
				t.Fatalf("column %d row %d: %v, want %v", j, i, got[j].Num[i], want[j].Num[i])
			}
		}
	}
}

// stripChecksums rewrites a Parquet file with the CRC left out of every
// page header, the chunks' offsets and sizes adjusted.
func stripChecksums(t *testing.T, data []byte) []byte {
	t.Helper()
	md, pages := filePages(t, data)
	out := []byte(parquetMagic)
	var protocol thrift.CompactProtocol
	for g := range md.RowGroups {
		rg := &md.RowGroups[g]
		rg.FileOffset = int64(len(out))
		rg.TotalCompressedSize = 0
		for j := range rg.Columns {
			m := &rg.Columns[j].MetaData
			start := int64(len(out))
			rg.Columns[j].FileOffset = start
			m.DictionaryPageOffset = 0
			for k, p := range pages[g][j] {
				if p.h.Type == format.DictionaryPage {
					m.DictionaryPageOffset = int64(len(out))
				} else if k == 0 || pages[g][j][k-1].h.Type == format.DictionaryPage {
					m.DataPageOffset = int64(len(out))
				}
				h := p.h
				h.CRC = 0
				hb, err := thrift.Marshal(&protocol, &h)
				if err != nil {
					t.Fatal(err)
				}
				out = append(out, hb...)
				out = append(out, data[p.body:p.body+int64(h.CompressedPageSize)]...)
			}
			m.TotalCompressedSize = int64(len(out)) - start
			rg.TotalCompressedSize += m.TotalCompressedSize
		}
	}
	footer, err := thrift.Marshal(&protocol, md)
	if err != nil {
		t.Fatal(err)
	}
	out = append(out, footer...)
	out = binary.LittleEndian.AppendUint32(out, uint32(len(footer)))
	return append(out, parquetMagic...)
}

// TestParquetPanicWording: a page the library panics on (here dictionary
// indexes whose run overruns the page, from a fuzzed file without
// checksums) gives an error in user terms naming the file, column, row
// group and page, without Go's runtime text.
func TestParquetPanicWording(t *testing.T) {
	path := filepath.Join("testdata", "damaged_rle.parquet")
	_, err := readParquet(t, path, Options{}, nil)
	want := path + `: column "species", row group 0, data page 0: not a valid parquet file: its data could not be decoded; the file is damaged, or is not a Parquet file this reader supports`
	if err == nil || err.Error() != want || !errors.Is(err, ErrCorrupt) {
		t.Fatalf("got %v\nwant %s", err, want)
	}
	var dp *decodePanic
	if !errors.As(err, &dp) || !strings.Contains(dp.internal, "runtime error") {
		t.Errorf("the panic's text is not kept for debugging: %#v", dp)
	}
}
