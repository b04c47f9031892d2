package parquetio

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"slices"
	"strings"

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
// It returns the footer's offset: column chunks must end before it.
func checkParquetFrame(src io.ReaderAt, size int64) (int64, error) {
	const magic = "PAR1"
	if size < 12 {
		return 0, fmt.Errorf("%d bytes is too short for a parquet file", size)
	}
	var head [4]byte
	var tail [8]byte
	if _, err := src.ReadAt(head[:], 0); err != nil {
		return 0, err
	}
	if _, err := src.ReadAt(tail[:], size-8); err != nil && !(errors.Is(err, io.EOF)) {
		return 0, err
	}
	switch {
	case string(tail[4:]) == "PARE":
		return 0, errors.New("the file is encrypted, which normguard does not support")
	case string(head[:]) != magic || string(tail[4:]) != magic:
		return 0, errors.New("missing PAR1 magic bytes at the start or end of the file")
	}
	footer := int64(binary.LittleEndian.Uint32(tail[:4]))
	if footer > size-12 {
		return 0, fmt.Errorf("footer of %d bytes in a file of %d bytes", footer, size)
	}
	return size - 8 - footer, nil
}

// schemaLeaf is a leaf of the footer's schema: the element, its path and
// whether it or an ancestor is repeated.
type schemaLeaf struct {
	elem     *format.SchemaElement
	path     []string
	repeated bool
}

// schemaLeaves returns the leaves of the footer's flattened schema in
// order (the order of the column chunks in a row group).
func schemaLeaves(md *format.FileMetaData) ([]schemaLeaf, error) {
	var leaves []schemaLeaf
	var walk func(i int, path []string, repeated bool) (int, error)
	walk = func(i int, path []string, repeated bool) (int, error) {
		if i >= len(md.Schema) {
			return 0, fmt.Errorf("the schema has %d elements, fewer than its groups' children", len(md.Schema))
		}
		e := &md.Schema[i]
		children := 0
		if e.NumChildren.Valid {
			children = int(e.NumChildren.V)
		}
		if i > 0 {
			path = append(path[:len(path):len(path)], e.Name)
			repeated = repeated || e.RepetitionType.Valid && e.RepetitionType.V == format.Repeated
		}
		if children <= 0 && i > 0 {
			leaves = append(leaves, schemaLeaf{elem: e, path: path, repeated: repeated})
			return i + 1, nil
		}
		next := i + 1
		for range children {
			var err error
			if next, err = walk(next, path, repeated); err != nil {
				return 0, err
			}
		}
		return next, nil
	}
	if len(md.Schema) == 0 {
		return nil, errors.New("the footer has no schema")
	}
	if _, err := walk(0, nil, false); err != nil {
		return nil, err
	}
	return leaves, nil
}

// checkChunks checks the column chunks the footer describes against the
// rest of the footer, so that one damaged byte of it is an error rather
// than a column read with another type or as empty (the page checksums do
// not cover the footer): each chunk lies within the file's data (before
// the footer at offset footer) with its pages inside it, has the physical
// type and path of its schema leaf, and holds one value (or null) per row
// of its row group when the column is not repeated, at least one when it
// is.
func checkChunks(md *format.FileMetaData, size, footer int64) error {
	leaves, err := schemaLeaves(md)
	if err != nil {
		return err
	}
	for g := range md.RowGroups {
		rg := &md.RowGroups[g]
		if len(rg.Columns) != len(leaves) {
			return fmt.Errorf("row group %d has %d column chunks; the schema has %d leaf columns", g, len(rg.Columns), len(leaves))
		}
		for j := range rg.Columns {
			m := &rg.Columns[j].MetaData
			leaf := &leaves[j]
			name := strings.Join(leaf.path, ".")
			start := chunkStart(m)
			// A chunk of no rows may have no pages, hence no place.
			empty := m.TotalCompressedSize == 0 && m.NumValues == 0 && rg.NumRows == 0
			if !empty && (start < 4 || m.TotalCompressedSize <= 0 || m.TotalCompressedSize > footer-start) {
				return fmt.Errorf("row group %d, column %q: chunk of %d bytes at offset %d, where the data ends at byte %d of %d",
					g, name, m.TotalCompressedSize, start, footer, size)
			}
			if end := start + m.TotalCompressedSize; !empty && (m.DataPageOffset < start || m.DataPageOffset >= end) {
				return fmt.Errorf("row group %d, column %q: first data page at offset %d, outside its chunk [%d, %d)",
					g, name, m.DataPageOffset, start, end)
			}
			if !leaf.elem.Type.Valid || leaf.elem.Type.V != m.Type {
				return fmt.Errorf("row group %d, column %q: the schema gives the column type %s and its chunk's metadata %s",
					g, name, typeName(leaf.elem), m.Type)
			}
			if m.Type == format.FixedLenByteArray && leaf.elem.TypeLength.V <= 0 {
				return fmt.Errorf("column %q: FIXED_LEN_BYTE_ARRAY of length %d", name, leaf.elem.TypeLength.V)
			}
			if !slices.Equal(m.PathInSchema, leaf.path) {
				return fmt.Errorf("row group %d, column %d: the chunk's metadata is for column %q, the schema's leaf is %q",
					g, j, strings.Join(m.PathInSchema, "."), name)
			}
			if m.NumValues < rg.NumRows || !leaf.repeated && m.NumValues != rg.NumRows {
				return fmt.Errorf("row group %d, column %q: the chunk's metadata says %d values (nulls included) for %d rows",
					g, name, m.NumValues, rg.NumRows)
			}
		}
		if err := checkChunkPlaces(md, g, leaves); err != nil {
			return err
		}
	}
	return nil
}

// checkChunkPlaces refuses column chunks of row group g that overlap (one
// column's metadata pointing at another's bytes reads that column's
// values under its name), and, in a file normguard wrote, chunks out of
// the schema's order: its writer puts them in order, so two columns'
// places swapped in the footer are damage, not a layout.
func checkChunkPlaces(md *format.FileMetaData, g int, leaves []schemaLeaf) error {
	type place struct {
		start, end int64
		j          int
	}
	rg := &md.RowGroups[g]
	places := make([]place, 0, len(rg.Columns))
	for j := range rg.Columns {
		m := &rg.Columns[j].MetaData
		if m.TotalCompressedSize == 0 {
			continue
		}
		start := chunkStart(m)
		places = append(places, place{start, start + m.TotalCompressedSize, j})
	}
	name := func(j int) string { return strings.Join(leaves[j].path, ".") }
	if md.CreatedBy == writerName {
		for k := 1; k < len(places); k++ {
			if places[k].start < places[k-1].end {
				return fmt.Errorf("row group %d: column %q's chunk starts at byte %d, before the end of column %q's (%d), which comes before it in the schema; normguard writes chunks in schema order",
					g, name(places[k].j), places[k].start, name(places[k-1].j), places[k-1].end)
			}
		}
		return nil
	}
	slices.SortFunc(places, func(a, b place) int { return cmp.Compare(a.start, b.start) })
	for k := 1; k < len(places); k++ {
		if places[k].start < places[k-1].end {
			return fmt.Errorf("row group %d: the chunks of columns %q and %q overlap (bytes %d to %d and %d to %d)",
				g, name(places[k-1].j), name(places[k].j), places[k-1].start, places[k-1].end, places[k].start, places[k].end)
		}
	}
	return nil
}

// typeName returns the physical type of a schema element for messages.
func typeName(e *format.SchemaElement) string {
	switch {
	case !e.Type.Valid:
		return "none"
	case e.Type.V < format.Boolean || e.Type.V > format.FixedLenByteArray:
		return fmt.Sprintf("unknown (%d)", e.Type.V)
	}
	return e.Type.V.String()
}

// checkPages checks the headers of the pages of a column chunk: each page
// lies within the chunk and has plausible sizes.
// The data pages' value counts (nulls included) must add up to the
// chunk's in its metadata: a column that would read as empty, or stop
// short, where the metadata promises values is damaged.
func checkPages(src io.ReaderAt, m *format.ColumnMetaData) error {
	values := int64(0)
	err := walkPages(src, m, func(h *format.PageHeader, at, body, size int64) error {
		if err := checkPayload(src, m.Codec, h, body, size); err != nil {
			return fmt.Errorf("page at offset %d: %v", at, err)
		}
		// A damaged codec in the metadata would read compressed bytes
		// as values.
		if m.Codec == format.Uncompressed && h.CompressedPageSize != h.UncompressedPageSize {
			return fmt.Errorf("page at offset %d: %d bytes that uncompress to %d, in a chunk whose metadata says it is not compressed",
				at, h.CompressedPageSize, h.UncompressedPageSize)
		}
		switch {
		case h.DataPageHeader.Valid:
			values += int64(h.DataPageHeader.V.NumValues)
		case h.DataPageHeaderV2.Valid:
			values += int64(h.DataPageHeaderV2.V.NumValues)
		}
		return nil
	})
	if err == nil && values != m.NumValues {
		return fmt.Errorf("the chunk's pages hold %d values (nulls included), its metadata says %d", values, m.NumValues)
	}
	return err
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
