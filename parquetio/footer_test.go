package parquetio

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"

	"github.com/normguard/normguard/table"
)

// withFooter returns the Parquet file data with its footer decoded,
// changed by edit and encoded again in its place.
func withFooter(t *testing.T, data []byte, edit func(md *format.FileMetaData)) []byte {
	t.Helper()
	footer := int64(binary.LittleEndian.Uint32(data[len(data)-8:]))
	start := int64(len(data)) - 8 - footer
	var md format.FileMetaData
	var protocol thrift.CompactProtocol
	if err := thrift.Unmarshal(&protocol, data[start:len(data)-8], &md); err != nil {
		t.Fatal(err)
	}
	edit(&md)
	b, err := thrift.Marshal(&protocol, &md)
	if err != nil {
		t.Fatal(err)
	}
	out := append(data[:start:start], b...)
	out = binary.LittleEndian.AppendUint32(out, uint32(len(b)))
	return append(out, "PAR1"...)
}

// TestParquetDamagedFooter: the page checksums do not cover the footer,
// so the reader checks it against itself and against the pages. One
// flipped bit of a footer (attack run 5, N4) made a DOUBLE column's schema
// type INT32 (it read as other numbers: 67137568 for -1.28), FIXED_LEN_BYTE_ARRAY
// or an unknown type (it read as empty on every row), all with exit 0.
// Each damage below is refused with an error naming the file and the
// column, wrapping ErrCorrupt; the undamaged file still reads.
func TestParquetDamagedFooter(t *testing.T) {
	path := writeEncodeCase(t, encodeCase{name: "footer", batch: checksumBatch()}, 1)
	valid, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// The leaf "y" is schema element 2 and column chunk 1.
	chunk := func(md *format.FileMetaData) *format.ColumnMetaData { return &md.RowGroups[0].Columns[1].MetaData }
	cases := []struct {
		name string
		edit func(md *format.FileMetaData)
		want string
	}{
		{"schema type INT32", func(md *format.FileMetaData) { md.Schema[2].Type.V = format.Int32 },
			`column "y": the schema gives the column type INT32 and its chunk's metadata DOUBLE`},
		{"schema type unknown", func(md *format.FileMetaData) { md.Schema[2].Type.V = -6 },
			`column "y": the schema gives the column type unknown (-6) and its chunk's metadata DOUBLE`},
		{"schema type FIXED_LEN_BYTE_ARRAY", func(md *format.FileMetaData) { md.Schema[2].Type.V = format.FixedLenByteArray },
			`column "y": the schema gives the column type FIXED_LEN_BYTE_ARRAY`},
		{"chunk type", func(md *format.FileMetaData) { chunk(md).Type = format.Float },
			`column "y": the schema gives the column type DOUBLE and its chunk's metadata FLOAT`},
		{"chunk values", func(md *format.FileMetaData) { chunk(md).NumValues-- },
			`column "y": the chunk's metadata says`},
		{"chunk path", func(md *format.FileMetaData) { chunk(md).PathInSchema = []string{"x"} },
			`the chunk's metadata is for column "x", the schema's leaf is "y"`},
		{"chunk into the footer", func(md *format.FileMetaData) { chunk(md).TotalCompressedSize = int64(len(valid)) },
			`column "y": chunk of`},
		{"data page outside the chunk", func(md *format.FileMetaData) { chunk(md).DataPageOffset = 2 },
			`column "y"`},
		// Snappy pages read as uncompressed gave other numbers ("x" is
		// compressed; "y" is not, its pages say so).
		{"chunk codec", func(md *format.FileMetaData) { md.RowGroups[0].Columns[0].MetaData.Codec = format.Uncompressed },
			`column "x", row group 0: not a valid parquet file: page at offset`},
		// Attack run 6: places swapped or shared, the Thrift still valid.
		{"two chunks' places swapped", func(md *format.FileMetaData) {
			a, b := &md.RowGroups[0].Columns[0].MetaData, &md.RowGroups[0].Columns[1].MetaData
			a.DataPageOffset, b.DataPageOffset = b.DataPageOffset, a.DataPageOffset
			a.DictionaryPageOffset, b.DictionaryPageOffset = b.DictionaryPageOffset, a.DictionaryPageOffset
			a.TotalCompressedSize, b.TotalCompressedSize = b.TotalCompressedSize, a.TotalCompressedSize
			a.TotalUncompressedSize, b.TotalUncompressedSize = b.TotalUncompressedSize, a.TotalUncompressedSize
		}, `normguard writes chunks in schema order`},
		{"a chunk pointing at another's, another writer", func(md *format.FileMetaData) {
			md.CreatedBy = "another writer"
			a, b := &md.RowGroups[0].Columns[0].MetaData, &md.RowGroups[0].Columns[1].MetaData
			b.DataPageOffset, b.DictionaryPageOffset, b.TotalCompressedSize = a.DataPageOffset, a.DictionaryPageOffset, a.TotalCompressedSize
		}, `the chunks of columns "x" and "y" overlap`},
		// Every count one lower: the footer agrees with itself, not
		// with the pages (this read the first rows and dropped the last).
		{"one row fewer", func(md *format.FileMetaData) {
			md.NumRows--
			for g := range md.RowGroups {
				md.RowGroups[g].NumRows--
				for j := range md.RowGroups[g].Columns {
					md.RowGroups[g].Columns[j].MetaData.NumValues--
				}
			}
		}, `column "x", row group 0: not a valid parquet file: the chunk's pages hold`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			bad := filepath.Join(t.TempDir(), "bad.parquet")
			if err := os.WriteFile(bad, withFooter(t, valid, tc.edit), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := readParquet(t, bad, Options{}, nil)
			if err == nil || !errors.Is(err, ErrCorrupt) || !strings.HasPrefix(err.Error(), bad+": ") || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error wrapping ErrCorrupt naming %s and saying %q", err, bad, tc.want)
			}
		})
	}
	// Re-encoded without a change, the footer still reads, every value.
	same := filepath.Join(t.TempDir(), "same.parquet")
	if err := os.WriteFile(same, withFooter(t, valid, func(*format.FileMetaData) {}), 0o644); err != nil {
		t.Fatal(err)
	}
	cols, err := readParquet(t, same, Options{}, []table.Field{{Name: "y", Kind: table.Numeric}})
	if err != nil {
		t.Fatal(err)
	}
	checkNum(t, cols[0], checksumBatch().Cols[1].Num)
}
