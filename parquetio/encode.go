package parquetio

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"math"
	"math/bits"
	"strings"
	"unsafe"

	"github.com/klauspost/compress/s2"
	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"

	"github.com/normguard/normguard/table"
)

// The Writer encodes pages itself for its fixed schema (optional
// DOUBLE and optional dictionary-encoded UTF-8 BYTE_ARRAY columns): a
// column encoder turns []float64 or []string straight into data pages
// (version 2: definition levels as an RLE/bit-packed hybrid of bit width 1,
// then the non-null values PLAIN or as RLE_DICTIONARY indexes, compressed
// with Snappy), without a parquet.Value per cell. Every page header
// carries the CRC-32 (IEEE) of the page's bytes as written (levels and
// compressed values), which readers check: a damaged page is refused
// instead of read as other numbers.

// parquetPageRows is the number of rows in a data page, the last page of a
// column chunk excepted: a page of doubles holds 256 KiB of values.
const parquetPageRows = 1 << 15

// parquetPageBytes ends a page of plain-encoded strings early once its
// values reach this size.
const parquetPageBytes = 1 << 20

// maxPageHeader bounds the size of a data page header, whose fields are all
// integers: the header is written into a gap of this size before the page.
const maxPageHeader = 128

// errPageTooLarge is returned for a page past Parquet's 2 GiB page limit.
var errPageTooLarge = errors.New("a page holds more than 2 GiB; split very long strings")

// pageSpan locates a page's bytes (header included) in a chunk buffer.
type pageSpan struct{ start, end int }

// columnEncoder encodes one column's chunk of the current row group: full
// pages are compressed as rows arrive, and the chunk is written out in one
// piece when the row group ends. Encoders of different columns share
// nothing, so they run concurrently.
type columnEncoder struct {
	kind table.Kind
	mem  *chunkMem // where chunk buffers come from; nil: the Go heap

	chunk        *encodedChunk
	rows         int64 // rows in the chunk
	nulls        int64
	uncompressed int64 // data pages' headers and uncompressed bodies
	dictPages    int   // data pages encoded with the dictionary

	// The page being filled: bit i of def is set when row i has a value.
	def       []byte
	pageRows  int
	pageNulls int
	vals      []byte  // PLAIN values
	idx       []int32 // dictionary indexes, in dictionary mode

	// Numeric statistics of the chunk.
	min, max float64
	hasValue bool

	// The chunk's dictionary; plain is set once it has outgrown
	// parquetDictionaryMaxBytes, for the rest of the row group.
	dict     map[string]int32
	dictData []byte // PLAIN-encoded entries
	dictLen  int
	plain    bool

	// raw: the chunk's data pages are stored uncompressed, its first
	// page having gained too little from Snappy (see flushPage).
	raw bool

	levels  []byte
	header  headerWriter
	encoder *thrift.Encoder
}

// minSaving is the least share of a page's values Snappy must save for a
// chunk's pages to stay compressed: doubles of full precision (a
// standardized column) save nothing, and compressing them, then
// decompressing them on every read, is CPU for no bytes.
const minSaving = 1.0 / 16

// encodedChunk holds the encoded pages of a column chunk.
type encodedChunk struct {
	dictPage []byte     // header and body of the dictionary page, if any
	buf      []byte     // the data pages, with gaps between them
	pages    []pageSpan // each data page's bytes in buf
}

// size returns the size of the chunk in the file.
func (c *encodedChunk) size() int64 {
	n := int64(len(c.dictPage))
	for _, p := range c.pages {
		n += int64(p.end - p.start)
	}
	return n
}

// writeTo writes the chunk's pages in order.
func (c *encodedChunk) writeTo(w io.Writer) error {
	if _, err := w.Write(c.dictPage); err != nil {
		return err
	}
	for _, p := range c.pages {
		if _, err := w.Write(c.buf[p.start:p.end]); err != nil {
			return err
		}
	}
	return nil
}

// headerWriter is an io.Writer appending to a byte slice, for the thrift
// encoder.
type headerWriter struct{ b []byte }

func (w *headerWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

func newColumnEncoder(kind table.Kind) *columnEncoder {
	e := &columnEncoder{kind: kind, def: make([]byte, parquetPageRows/8), chunk: new(encodedChunk)}
	var protocol thrift.CompactProtocol
	e.encoder = thrift.NewEncoder(protocol.NewWriter(&e.header))
	e.reset()
	return e
}

// reset starts a new chunk, keeping the buffers.
func (e *columnEncoder) reset() {
	c := e.chunk
	c.dictPage, c.buf, c.pages = c.dictPage[:0], c.buf[:0], c.pages[:0]
	e.rows, e.nulls, e.uncompressed, e.dictPages = 0, 0, 0, 0
	e.min, e.max, e.hasValue = 0, 0, false
	e.raw = false
	if e.kind == table.String {
		if e.dict == nil || len(e.dict) > 1<<16 {
			e.dict = make(map[string]int32)
		} else {
			clear(e.dict)
		}
		e.dictData, e.dictLen, e.plain = e.dictData[:0], 0, false
	}
	e.startPage()
}

func (e *columnEncoder) startPage() {
	clear(e.def)
	e.pageRows, e.pageNulls = 0, 0
	e.vals, e.idx = e.vals[:0], e.idx[:0]
}

// appendColumn encodes rows [lo, hi) of c.
func (e *columnEncoder) appendColumn(c *table.Column, lo, hi int) error {
	if c.Kind == table.Numeric {
		for x := c.Num[lo:hi]; len(x) > 0; {
			k := min(len(x), parquetPageRows-e.pageRows)
			e.appendDoubles(x[:k])
			x = x[k:]
			if e.pageRows == parquetPageRows {
				if err := e.flushPage(); err != nil {
					return err
				}
			}
		}
		return nil
	}
	var null []bool
	if c.Null != nil {
		null = c.Null[lo:hi]
	}
	return e.appendStrings(c.Str[lo:hi], null)
}

// appendDoubles adds x to the page, which has room for them: NaN is null,
// every other value is kept bit for bit. Rows go eight at a time (one
// byte of definition levels) in a single pass over x.
func (e *columnEncoder) appendDoubles(x []float64) {
	lo, hi := e.min, e.max
	if !e.hasValue {
		lo, hi = math.Inf(1), math.Inf(-1)
	}
	n := len(e.vals)
	e.vals = grow(e.vals, 8*len(x))[:n+8*len(x)]
	out := e.vals[n:]
	w, row, nulls := 0, e.pageRows, 0
	for i := 0; i < len(x); {
		if row&7 != 0 || len(x)-i < 8 {
			// A row outside the page's whole bytes of levels.
			if v := x[i]; v != v {
				nulls++
			} else {
				binary.LittleEndian.PutUint64(out[w:], math.Float64bits(v))
				w += 8
				e.def[row>>3] |= 1 << (row & 7)
				lo, hi = min(v, lo), max(v, hi)
			}
			i++
			row++
			continue
		}
		block := (*[8]float64)(x[i : i+8])
		mask := present(block[0]) | present(block[1])<<1 | present(block[2])<<2 | present(block[3])<<3 |
			present(block[4])<<4 | present(block[5])<<5 | present(block[6])<<6 | present(block[7])<<7
		e.def[row>>3] = mask
		i += 8
		row += 8
		if mask == 0xff {
			o := (*[64]byte)(out[w : w+64])
			for k, v := range block {
				if v < lo {
					lo = v
				}
				if v > hi {
					hi = v
				}
				binary.LittleEndian.PutUint64(o[8*k:], math.Float64bits(v))
			}
			w += 64
			continue
		}
		nulls += 8 - bits.OnesCount8(mask)
		for _, v := range block {
			if v == v {
				binary.LittleEndian.PutUint64(out[w:], math.Float64bits(v))
				w += 8
				lo, hi = min(v, lo), max(v, hi)
			}
		}
	}
	e.vals = e.vals[:n+w]
	e.pageRows = row
	e.pageNulls += nulls
	if nulls < len(x) {
		e.min, e.max, e.hasValue = lo, hi, true
	}
}

// present returns 1 for a value, 0 for NaN.
func present(v float64) byte {
	if v == v {
		return 1
	}
	return 0
}

// appendStrings adds str to the chunk (null marks missing rows, nil when
// none is), flushing pages as they fill.
func (e *columnEncoder) appendStrings(str []string, null []bool) error {
	// Readers give repeated values shared storage: a string at the same
	// address and of the same length as an earlier one of this call has
	// the same text, and its index is found without hashing the text.
	var seen [256]struct {
		p  *byte
		n  int
		id int32
	}
	for i, s := range str {
		if null != nil && null[i] {
			e.pageNulls++
		} else {
			if !e.plain {
				p := unsafe.StringData(s)
				slot := &seen[(uintptr(unsafe.Pointer(p))>>3^uintptr(len(s)))&255]
				id := slot.id - 1 // ids are stored plus one: zero is an empty slot
				if slot.p != p || slot.n != len(s) || id < 0 {
					var ok bool
					if id, ok = e.dict[s]; !ok {
						id = -1
						if len(e.dictData)+4+len(s) > parquetDictionaryMaxBytes {
							// The rows so far keep the dictionary; the
							// rest of the row group is plain.
							if err := e.flushPage(); err != nil {
								return err
							}
							e.plain = true
						} else {
							id = int32(e.dictLen)
							e.dict[strings.Clone(s)] = id
							e.dictData = binary.LittleEndian.AppendUint32(e.dictData, uint32(len(s)))
							e.dictData = append(e.dictData, s...)
							e.dictLen++
						}
					}
					if id >= 0 {
						slot.p, slot.n, slot.id = p, len(s), id+1
					}
				}
				if id >= 0 {
					e.idx = append(e.idx, id)
				}
			}
			if e.plain {
				e.vals = binary.LittleEndian.AppendUint32(e.vals, uint32(len(s)))
				e.vals = append(e.vals, s...)
			}
			e.def[e.pageRows>>3] |= 1 << (e.pageRows & 7)
		}
		e.pageRows++
		if e.pageRows == parquetPageRows || (e.plain && len(e.vals) >= parquetPageBytes) {
			if err := e.flushPage(); err != nil {
				return err
			}
		}
	}
	return nil
}

// flushPage encodes the page being filled, if it has rows, and starts the
// next one.
func (e *columnEncoder) flushPage() error {
	n := e.pageRows
	if n == 0 {
		return nil
	}
	e.levels = appendLevels(e.levels[:0], e.def, n, e.pageNulls)
	enc := format.Plain
	body := e.vals
	if e.kind == table.String && !e.plain {
		// RLE_DICTIONARY: the bit width, then the indexes.
		enc = format.RLEDictionary
		width := 1
		if e.dictLen > 2 {
			width = bits.Len(uint(e.dictLen - 1))
		}
		body = append(e.vals[:0], byte(width))
		body = appendBitPacked(body, e.idx, width)
		e.vals = body
		e.dictPages++
	}
	if len(body)+len(e.levels) > math.MaxInt32-maxPageHeader {
		return errPageTooLarge
	}

	c := e.chunk
	start := len(c.buf)
	at := start + maxPageHeader
	need := maxPageHeader + len(e.levels) + s2.MaxEncodedLen(len(body))
	if cap(c.buf) == 0 {
		// Room for a row group of pages like the first one, so that the
		// buffer does not grow page by page.
		if e.mem != nil {
			c.buf = e.mem.bytes(need * (RowGroupRows / parquetPageRows))
		} else {
			c.buf = make([]byte, 0, need*(RowGroupRows/parquetPageRows))
		}
	}
	c.buf = grow(c.buf, need)[:start+need]
	copy(c.buf[at:], e.levels)
	// A data page (version 2) says whether its values are compressed:
	// the chunk's first page is compressed, and when that saves less than
	// minSaving of it, it and the chunk's later pages are stored as they
	// are (readers skip the decompression: is_compressed false).
	var comp []byte
	if !e.raw {
		comp = s2.EncodeSnappy(c.buf[at+len(e.levels):], body)
		e.raw = len(c.pages) == 0 && float64(len(comp)) > float64(len(body))*(1-minSaving)
	}
	if e.raw {
		comp = c.buf[at+len(e.levels) : at+len(e.levels)+len(body)]
		copy(comp, body)
	}
	end := at + len(e.levels) + len(comp)
	c.buf = c.buf[:end]

	h := format.PageHeader{
		Type:                 format.DataPageV2,
		UncompressedPageSize: int32(len(e.levels) + len(body)),
		CompressedPageSize:   int32(len(e.levels) + len(comp)),
		CRC:                  int32(crc32.ChecksumIEEE(c.buf[at:end])),
	}
	h.DataPageHeaderV2.Set(format.DataPageHeaderV2{
		NumValues:                  int32(n),
		NumNulls:                   int32(e.pageNulls),
		NumRows:                    int32(n),
		Encoding:                   enc,
		DefinitionLevelsByteLength: int32(len(e.levels)),
		Statistics:                 format.Statistics{NullCount: int64(e.pageNulls)},
	})
	if e.raw {
		h.DataPageHeaderV2.V.IsCompressed = thrift.New(false)
	}
	hb, err := e.encodeHeader(&h)
	if err != nil {
		return err
	}
	if len(hb) > maxPageHeader {
		return errors.New("internal error: page header too long")
	}
	copy(c.buf[at-len(hb):], hb)
	c.pages = append(c.pages, pageSpan{at - len(hb), end})
	e.uncompressed += int64(len(hb)) + int64(h.UncompressedPageSize)
	e.rows += int64(n)
	e.nulls += int64(e.pageNulls)
	e.startPage()
	return nil
}

// encodeHeader returns the thrift compact encoding of h, valid until the
// next call.
func (e *columnEncoder) encodeHeader(h *format.PageHeader) ([]byte, error) {
	e.header.b = e.header.b[:0]
	err := e.encoder.Encode(h)
	return e.header.b, err
}

// finish ends the chunk: it flushes the last page and builds the
// dictionary page, if any page used the dictionary.
func (e *columnEncoder) finish() error {
	if err := e.flushPage(); err != nil {
		return err
	}
	if e.dictPages == 0 {
		return nil
	}
	comp := s2.EncodeSnappy(nil, e.dictData)
	h := format.PageHeader{
		Type:                 format.DictionaryPage,
		UncompressedPageSize: int32(len(e.dictData)),
		CompressedPageSize:   int32(len(comp)),
		CRC:                  int32(crc32.ChecksumIEEE(comp)),
	}
	h.DictionaryPageHeader.Set(format.DictionaryPageHeader{NumValues: int32(e.dictLen), Encoding: format.Plain})
	hb, err := e.encodeHeader(&h)
	if err != nil {
		return err
	}
	e.chunk.dictPage = append(append(e.chunk.dictPage[:0], hb...), comp...)
	e.uncompressed += int64(len(hb)) + int64(len(e.dictData))
	return nil
}

// metadata returns the chunk's metadata for a chunk whose first page is
// written at offset off. It is called after finish.
func (e *columnEncoder) metadata(name string, off int64) format.ColumnMetaData {
	m := format.ColumnMetaData{
		Type:                  format.Double,
		PathInSchema:          []string{name},
		Codec:                 format.Snappy,
		NumValues:             e.rows,
		TotalUncompressedSize: e.uncompressed,
		TotalCompressedSize:   e.chunk.size(),
		DataPageOffset:        off,
		Statistics:            format.Statistics{NullCount: e.nulls},
	}
	if e.kind == table.String {
		m.Type = format.ByteArray
		if len(e.chunk.dictPage) > 0 {
			m.DictionaryPageOffset = off
			m.DataPageOffset = off + int64(len(e.chunk.dictPage))
		}
	}
	// Encodings in ascending order: PLAIN (values or the dictionary),
	// RLE (definition levels), RLE_DICTIONARY (indexes).
	m.Encoding = []format.Encoding{format.Plain, format.RLE}
	if e.dictPages > 0 {
		m.Encoding = append(m.Encoding, format.RLEDictionary)
	}
	if e.kind == table.Numeric && e.hasValue {
		// Zeros are stored as -0 for a minimum and +0 for a maximum, as
		// the format asks, since -0 and +0 compare equal.
		lo, hi := e.min, e.max
		if lo == 0 {
			lo = math.Copysign(0, -1)
		}
		if hi == 0 {
			hi = 0
		}
		m.Statistics.MinValue = binary.LittleEndian.AppendUint64(nil, math.Float64bits(lo))
		m.Statistics.MaxValue = binary.LittleEndian.AppendUint64(nil, math.Float64bits(hi))
	}
	return m
}

// grow returns b with room for n more bytes past its length.
func grow(b []byte, n int) []byte {
	if cap(b)-len(b) >= n {
		return b
	}
	nb := make([]byte, len(b), 2*cap(b)+n)
	copy(nb, b)
	return nb
}

// setBits sets bits [lo, hi) of b.
func setBits(b []byte, lo, hi int) {
	for ; lo < hi && lo&7 != 0; lo++ {
		b[lo>>3] |= 1 << (lo & 7)
	}
	for ; lo+8 <= hi; lo += 8 {
		b[lo>>3] = 0xff
	}
	for ; lo < hi; lo++ {
		b[lo>>3] |= 1 << (lo & 7)
	}
}

// appendLevels appends the definition levels of n rows, bit i of def set
// when row i has a value (levels 1 and 0), as an RLE/bit-packed hybrid of
// bit width 1. nulls is the number of unset bits.
//
// A page without nulls (or without values) is one RLE run; otherwise bytes
// of def that are all ones or all zeros for 32 rows or more become RLE
// runs, and the rest is bit-packed.
func appendLevels(dst, def []byte, n, nulls int) []byte {
	switch nulls {
	case 0:
		return append(binary.AppendUvarint(dst, uint64(n)<<1), 1)
	case n:
		return append(binary.AppendUvarint(dst, uint64(n)<<1), 0)
	}
	const minRun = 4 // bytes
	full := n / 8
	packed := 0 // start of the pending bit-packed bytes
	flushPacked := func(end int) {
		if end > packed {
			dst = binary.AppendUvarint(dst, uint64(end-packed)<<1|1)
			dst = append(dst, def[packed:end]...)
		}
	}
	for i := 0; i < full; {
		b := def[i]
		if b != 0 && b != 0xff {
			i++
			continue
		}
		j := i + 1
		for j < full && def[j] == b {
			j++
		}
		if j-i < minRun {
			i = j
			continue
		}
		flushPacked(i)
		dst = append(binary.AppendUvarint(dst, uint64(8*(j-i))<<1), b&1)
		i, packed = j, j
	}
	// The rows past the last whole byte are bit-packed with zero padding.
	flushPacked((n + 7) / 8)
	return dst
}

// appendBitPacked appends idx as one bit-packed run of the given bit width
// (at most 32), padded with zeros to a multiple of 8 values.
func appendBitPacked(dst []byte, idx []int32, width int) []byte {
	groups := (len(idx) + 7) / 8
	dst = binary.AppendUvarint(dst, uint64(groups)<<1|1)
	n := len(dst)
	dst = grow(dst, groups*width)
	dst = dst[:n+groups*width]
	out := dst[n:]
	clear(out)
	var acc uint64
	nbits := 0
	k := 0
	for _, v := range idx {
		acc |= uint64(uint32(v)) << nbits
		nbits += width
		for nbits >= 8 {
			out[k] = byte(acc)
			acc >>= 8
			nbits -= 8
			k++
		}
	}
	if nbits > 0 {
		out[k] = byte(acc)
	}
	return dst
}
