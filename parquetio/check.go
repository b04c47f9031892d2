package parquetio

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"

	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"
	"github.com/pierrec/lz4/v4"
)

// The library allocates buffers from sizes read in the file before it can
// tell whether they are plausible; these checks run first, so that damaged
// sizes give an error instead of a huge allocation.

// Limits on one page, far above what writers produce (pyarrow's largest
// default row group is 1<<26 rows).
const (
	maxPageBytes  = 1 << 28
	maxPageValues = 1 << 26
)

// checkParquetFrame checks the magic bytes around a Parquet file and that
// its footer fits in it, before the library allocates the footer's buffer.
func checkParquetFrame(src io.ReaderAt, size int64) error {
	const magic = "PAR1"
	if size < 12 {
		return fmt.Errorf("%d bytes is too short for a parquet file", size)
	}
	var head [4]byte
	var tail [8]byte
	if _, err := src.ReadAt(head[:], 0); err != nil {
		return err
	}
	if _, err := src.ReadAt(tail[:], size-8); err != nil && !(errors.Is(err, io.EOF)) {
		return err
	}
	switch {
	case string(tail[4:]) == "PARE":
		return errors.New("the file is encrypted, which normguard does not support")
	case string(head[:]) != magic || string(tail[4:]) != magic:
		return errors.New("missing PAR1 magic bytes at the start or end of the file")
	}
	if footer := int64(binary.LittleEndian.Uint32(tail[:4])); footer > size-12 {
		return fmt.Errorf("footer of %d bytes in a file of %d bytes", footer, size)
	}
	return nil
}

// checkChunks checks that the column chunks the footer describes lie
// within the file.
func checkChunks(md *format.FileMetaData, size int64) error {
	for g := range md.RowGroups {
		for j := range md.RowGroups[g].Columns {
			m := &md.RowGroups[g].Columns[j].MetaData
			start := m.DataPageOffset
			if m.DictionaryPageOffset > 0 {
				start = min(start, m.DictionaryPageOffset)
			}
			if start < 4 || m.TotalCompressedSize < 0 || m.TotalCompressedSize > size-start || m.NumValues < 0 {
				return fmt.Errorf("row group %d, column %d: chunk of %d bytes at offset %d in a file of %d bytes",
					g, j, m.TotalCompressedSize, start, size)
			}
		}
	}
	return nil
}

// checkPages checks the headers of the pages of a column chunk: each page
// lies within the chunk and has plausible sizes.
func checkPages(src io.ReaderAt, m *format.ColumnMetaData) error {
	return walkPages(src, m, func(h *format.PageHeader, at, body, size int64) error {
		if err := checkPayload(src, m.Codec, h, body, size); err != nil {
			return fmt.Errorf("page at offset %d: %v", at, err)
		}
		return nil
	})
}

// chunkStart returns the offset of a column chunk's first page.
func chunkStart(m *format.ColumnMetaData) int64 {
	start := m.DataPageOffset
	if m.DictionaryPageOffset > 0 {
		start = min(start, m.DictionaryPageOffset)
	}
	return start
}

// walkPages decodes the headers of the pages of a column chunk in order,
// checks that each page lies within the chunk and has plausible sizes,
// and calls fn with each header, the page's offset in the file, the
// offset of its bytes past the header and their size.
func walkPages(src io.ReaderAt, m *format.ColumnMetaData, fn func(h *format.PageHeader, at, body, size int64) error) error {
	start := chunkStart(m)
	var protocol thrift.CompactProtocol
	buf := make([]byte, 256)
	for pos := int64(0); pos < m.TotalCompressedSize; {
		left := m.TotalCompressedSize - pos
		var header format.PageHeader
		var n int
		for window := int64(256); ; window *= 4 {
			window = min(window, left)
			if int64(cap(buf)) < window {
				buf = make([]byte, window)
			}
			b := buf[:window]
			if _, err := src.ReadAt(b, start+pos); err != nil && !errors.Is(err, io.EOF) {
				return err
			}
			header = format.PageHeader{}
			r := protocol.NewReaderFromBytes(b)
			err := thrift.NewDecoder(r).Decode(&header)
			if err == nil {
				n = r.BytesRead()
				break
			}
			if window == left {
				return fmt.Errorf("page header at offset %d: %v", start+pos, err)
			}
		}
		numValues := int32(0)
		switch {
		case header.DataPageHeader.Valid:
			numValues = header.DataPageHeader.V.NumValues
		case header.DataPageHeaderV2.Valid:
			numValues = header.DataPageHeaderV2.V.NumValues
		case header.DictionaryPageHeader.Valid:
			numValues = header.DictionaryPageHeader.V.NumValues
		}
		size := int64(header.CompressedPageSize)
		if size < 0 || size > left-int64(n) || header.UncompressedPageSize < 0 ||
			header.UncompressedPageSize > maxPageBytes || numValues < 0 || numValues > maxPageValues {
			return fmt.Errorf("page at offset %d: %d bytes (%d uncompressed) and %d values in a chunk with %d bytes left",
				start+pos, size, header.UncompressedPageSize, numValues, left-int64(n))
		}
		if err := fn(&header, start+pos, start+pos+int64(n), size); err != nil {
			return err
		}
		pos += int64(n) + size
	}
	return nil
}

// badPage locates a page of a column chunk whose bytes do not match the
// CRC-32 its header records (pages without one are not checked).
type badPage struct {
	dict  bool  // the dictionary page
	index int   // else the data page's index in the chunk, from 0 as row groups'
	at    int64 // offset of the page (its header) in the file
}

// errBadChecksum stops walkPages at the first page failing its checksum.
var errBadChecksum = errors.New("checksum mismatch")

// findBadChecksum returns the first page of a column chunk whose CRC-32
// does not match its bytes, if any. It runs only once reading the chunk
// has failed (the library checks each page's CRC as it reads it), to say
// which page is damaged; it reads the chunk through a small buffer.
func findBadChecksum(src io.ReaderAt, m *format.ColumnMetaData) (badPage, bool) {
	var bad badPage
	buf := make([]byte, 64<<10)
	data := 0 // data pages met
	err := walkPages(src, m, func(h *format.PageHeader, at, body, size int64) error {
		page := badPage{dict: h.Type == format.DictionaryPage, index: data, at: at}
		if !page.dict {
			data++
		}
		if h.CRC == 0 {
			return nil
		}
		sum := crc32.NewIEEE()
		if _, err := io.CopyBuffer(sum, io.NewSectionReader(src, body, size), buf); err != nil {
			return err
		}
		if sum.Sum32() != uint32(h.CRC) {
			bad = page
			return errBadChecksum
		}
		return nil
	})
	return bad, err == errBadChecksum
}

// checkPayload checks that a compressed page decompresses to no more than
// its header says: the library sizes its output from the compressed
// stream (Snappy) or grows it without bound on bad input (LZ4_RAW).
func checkPayload(src io.ReaderAt, codec format.CompressionCodec, h *format.PageHeader, off, size int64) error {
	if codec != format.Snappy && codec != format.Lz4Raw {
		return nil
	}
	want := int64(h.UncompressedPageSize)
	if v2 := h.DataPageHeaderV2; v2.Valid {
		levels := int64(v2.V.DefinitionLevelsByteLength) + int64(v2.V.RepetitionLevelsByteLength)
		if levels > size || levels > want {
			return fmt.Errorf("levels of %d bytes in a page of %d bytes", levels, size)
		}
		if v2.V.IsCompressed.Valid && !v2.V.IsCompressed.V {
			return nil
		}
		off, size, want = off+levels, size-levels, want-levels
	}
	if codec == format.Snappy {
		var head [binary.MaxVarintLen64]byte
		b := head[:min(size, int64(len(head)))]
		if _, err := src.ReadAt(b, off); err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		if n, k := binary.Uvarint(b); k > 0 && n > uint64(want) {
			return fmt.Errorf("snappy data of %d bytes where the header says %d", n, want)
		}
		return nil
	}
	data := make([]byte, size)
	if _, err := src.ReadAt(data, off); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	if n, err := lz4.UncompressBlock(data, make([]byte, want)); err != nil || int64(n) != want {
		return fmt.Errorf("lz4 data does not decompress to the %d bytes the header says", want)
	}
	return nil
}
