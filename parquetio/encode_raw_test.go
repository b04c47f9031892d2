package parquetio

import (
	"math"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"

	"github.com/normguard/normguard/table"
)

// dataPages decodes the headers of a column chunk's pages from the file's
// bytes (dictionary pages are skipped).
func dataPages(t *testing.T, data []byte, m *format.ColumnMetaData) []format.PageHeader {
	t.Helper()
	var out []format.PageHeader
	pos := m.DataPageOffset
	if m.DictionaryPageOffset > 0 && m.DictionaryPageOffset < pos {
		pos = m.DictionaryPageOffset
	}
	end := pos + m.TotalCompressedSize
	for pos < end {
		var h format.PageHeader
		var protocol thrift.CompactProtocol
		r := protocol.NewReaderFromBytes(data[pos:end])
		if err := thrift.NewDecoder(r).Decode(&h); err != nil {
			t.Fatalf("page header at %d: %v", pos, err)
		}
		pos += int64(r.BytesRead()) + int64(h.CompressedPageSize)
		if h.DataPageHeaderV2.Valid {
			out = append(out, h)
		}
	}
	return out
}

// TestParquetIncompressiblePagesStoredRaw writes a column of doubles of full
// precision (a standardized column), which Snappy cannot shrink, and one of
// small integers, which it can: the first chunk's data pages are stored
// uncompressed (is_compressed false, compressed size = uncompressed size),
// the second's compressed; both read back bit for bit with normguard's
// reader and parquet-go's.
func TestParquetIncompressiblePagesStoredRaw(t *testing.T) {
	const n = 3*parquetPageRows + 1000
	rng := rand.New(rand.NewPCG(7, 8))
	noise, counts := make([]float64, n), make([]float64, n)
	for i := range noise {
		noise[i] = rng.NormFloat64()
		counts[i] = float64(rng.IntN(50))
		if i%97 == 0 {
			noise[i] = math.NaN() // missing
		}
	}
	batch := &table.Batch{Rows: n, Cols: []table.Column{numCol("noise", noise), numCol("counts", counts)}}
	path := writeEncodeCase(t, encodeCase{name: "raw", batch: batch}, 2)

	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pf := openParquetGo(t, path)
	md := pf.Metadata()
	for _, g := range md.RowGroups {
		for j, cc := range g.Columns {
			pages := dataPages(t, data, &cc.MetaData)
			if len(pages) == 0 {
				t.Fatalf("column %d: no data pages", j)
			}
			for k, h := range pages {
				flag := h.DataPageHeaderV2.V.IsCompressed
				raw := flag.Valid && !flag.V
				switch {
				case j == 0 && (!raw || h.CompressedPageSize != h.UncompressedPageSize):
					t.Errorf("noise page %d: is_compressed %v, %d bytes of %d: want stored raw", k, flag, h.CompressedPageSize, h.UncompressedPageSize)
				case j == 1 && (raw || h.CompressedPageSize >= h.UncompressedPageSize):
					t.Errorf("counts page %d: is_compressed %v, %d bytes of %d: want compressed", k, flag, h.CompressedPageSize, h.UncompressedPageSize)
				}
			}
		}
	}

	fields := fieldsOf(batch.Cols)
	for name, cols := range map[string][]table.Column{
		"parquet-go": readRowsParquetGo(t, pf, fields),
		"normguard":  must(readParquet(t, path, Options{}, fields)),
	} {
		for j, want := range [][]float64{noise, counts} {
			got := cols[j].Num
			if len(got) != n {
				t.Fatalf("%s: column %d has %d rows, want %d", name, j, len(got), n)
			}
			for i := range want {
				if math.Float64bits(got[i]) != math.Float64bits(want[i]) {
					t.Fatalf("%s: column %d row %d: got %v, want %v", name, j, i, got[i], want[i])
				}
			}
		}
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
