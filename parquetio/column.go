package parquetio

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"unsafe"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/encoding"
	"github.com/parquet-go/parquet-go/format"

	"github.com/normguard/normguard/table"
)

// parquetColumn reads one projected column of a Parquet file, page by page,
// converting values straight from the pages' typed slices into the
// batch's buffers.
type parquetColumn struct {
	file     string // the file name, for errors
	name     string
	leaf     int          // index of the leaf column (and of its chunk in a row group)
	kind     parquet.Kind // physical type, -1 for the NULL logical type
	unsigned bool         // INT32/INT64 holding unsigned values
	scale    int32        // DECIMAL scale, -1 when not a decimal
	maxDef   byte
	want     table.Kind
	intern   map[string]string // table.String projections: repeated values share storage
	null     []bool            // table.String projections: mask buffer reused across batches
	scratch  []byte

	// The column chunk being read and its current page: rows [row,
	// pageRows) of the page are unread; val is the index of the next
	// non-null value in data (or idx for a dictionary-encoded page).
	pages    parquet.Pages
	group    int
	pageNo   int                    // data pages read from the chunk
	src      io.ReaderAt            // the file, to locate a damaged page
	meta     *format.ColumnMetaData // the chunk's metadata
	page     parquet.Page
	def      []byte // definition levels, nil when every row has a value
	data     encoding.Values
	idx      []int32 // dictionary indexes of a dictionary-encoded page
	allNull  bool    // the page holds no values (NULL logical type)
	pageRows int
	row, val int

	// The decoded dictionary of the chunk.
	dict       parquet.Dictionary
	dictNum    []float64
	dictStr    []string
	dictNull   []bool // scratch: dictionary entries are never null
	dictBad    []bool // table.Numeric projection of text: entries that are not numbers
	dictHasBad bool
}

// newParquetColumn checks that column c can be projected as f.
func newParquetColumn(file string, c *parquet.Column, f table.Field) (*parquetColumn, error) {
	t := c.Type()
	pc := &parquetColumn{
		file:     file,
		name:     f.Name,
		leaf:     c.Index(),
		kind:     t.Kind(),
		unsigned: isUnsigned(t),
		scale:    decimalScale(t),
		maxDef:   byte(c.MaxDefinitionLevel()),
		want:     f.Kind,
	}
	switch pc.kind {
	case parquet.Boolean, parquet.Int32, parquet.Int64, parquet.Float, parquet.Double, -1:
	case parquet.ByteArray, parquet.FixedLenByteArray:
		if pc.scale >= 0 {
			return nil, fmt.Errorf("%s: column %q is a DECIMAL stored as bytes, which normguard does not read; store it as DOUBLE (or INT32/INT64 decimal)", file, f.Name)
		}
	case parquet.Int96:
		return nil, fmt.Errorf("%s: column %q has the legacy INT96 timestamp type, which normguard does not read; store it as an INT64 timestamp or a DOUBLE", file, f.Name)
	default:
		return nil, fmt.Errorf("%s: column %q has an unsupported type %s", file, f.Name, t)
	}
	if f.Kind == table.String {
		pc.intern = make(map[string]string)
	}
	return pc, nil
}

// startChunk starts reading the column's chunk of row group g, whose
// metadata is meta, in src.
func (c *parquetColumn) startChunk(chunk parquet.ColumnChunk, g int, src io.ReaderAt, meta *format.ColumnMetaData) {
	c.closePages()
	c.pages = chunk.Pages()
	c.group = g
	c.pageNo = 0
	c.src, c.meta = src, meta
	c.dict = nil
}

// closePages releases the current page and closes the chunk's pages.
func (c *parquetColumn) closePages() {
	if c.page != nil {
		parquet.Release(c.page)
		c.page = nil
	}
	if c.pages != nil {
		c.pages.Close()
		c.pages = nil
	}
	c.pageRows, c.row, c.val = 0, 0, 0
}

// release drops the column's conversion buffers and dictionary (see
// Reader.release); the pages must be closed.
func (c *parquetColumn) release() {
	c.intern, c.null, c.scratch = nil, nil, nil
	c.def, c.idx, c.data = nil, nil, encoding.Values{}
	c.dict, c.dictNum, c.dictStr, c.dictNull, c.dictBad = nil, nil, nil, nil, nil
}

// corrupt returns an error about damaged data in the column.
func (c *parquetColumn) corrupt(msg string, args ...any) error {
	return fmt.Errorf("%s: column %q, row group %d: %w: %s", c.file, c.name, c.group, ErrCorrupt, fmt.Sprintf(msg, args...))
}

// checksumError returns the error for a column chunk (metadata meta in
// src) holding a page whose bytes do not match its CRC-32, naming the file,
// column, row group and page, or nil when every page matches (or has no
// checksum). It is called once reading the chunk has failed: the library
// checks the CRC of each page it reads and fails on a mismatch, and this
// says where.
func checksumError(src io.ReaderAt, meta *format.ColumnMetaData, file, column string, group int) error {
	if src == nil || meta == nil {
		return nil
	}
	bad, ok := findBadChecksum(src, meta)
	if !ok {
		return nil
	}
	page := fmt.Sprintf("data page %d", bad.index)
	if bad.dict {
		page = "dictionary page"
	}
	return fmt.Errorf("%s: column %q, row group %d, %s (at byte %d): %w: the page's bytes do not match its CRC-32 checksum, so the file is damaged; restore it from a good copy or write it again",
		file, column, group, page, bad.at, ErrCorrupt)
}

// nextPage moves to the chunk's next page holding rows.
func (c *parquetColumn) nextPage() error {
	for {
		if c.page != nil {
			parquet.Release(c.page)
			c.page = nil
		}
		if c.pages == nil {
			return c.corrupt("no column chunk")
		}
		p, err := c.readPage()
		if errors.Is(err, io.EOF) {
			return c.corrupt("the column chunk holds fewer values than the row group's rows")
		}
		if err != nil {
			if cerr := checksumError(c.src, c.meta, c.file, c.name, c.group); cerr != nil {
				return cerr
			}
			var dp *decodePanic
			if errors.As(err, &dp) {
				return err
			}
			return c.corrupt("%v", err)
		}
		c.page = p
		c.pageNo++
		if err := c.setPage(p); err != nil {
			return err
		}
		if c.pageRows > 0 {
			return nil
		}
	}
}

// readPage reads the chunk's next page, turning a library panic on
// damaged data into an error naming the page.
func (c *parquetColumn) readPage() (p parquet.Page, err error) {
	defer func() {
		if v := recover(); v != nil {
			p, err = nil, recovered(fmt.Sprintf("%s: column %q, row group %d, data page %d", c.file, c.name, c.group, c.pageNo), v)
		}
	}()
	return c.pages.ReadPage()
}

// setPage prepares page p for reading and checks that its levels and
// values agree, so the conversions below index within bounds.
func (c *parquetColumn) setPage(p parquet.Page) error {
	c.pageRows, c.row, c.val = int(p.NumRows()), 0, 0
	c.def, c.idx, c.allNull = nil, nil, false
	c.data = p.Data()
	if c.pageRows < 0 {
		return c.corrupt("page with %d rows", c.pageRows)
	}
	present := c.pageRows
	if c.maxDef > 0 {
		c.def = p.DefinitionLevels()
		if len(c.def) != c.pageRows {
			return c.corrupt("page with %d rows and %d definition levels", c.pageRows, len(c.def))
		}
		present = 0
		for _, d := range c.def {
			if d == c.maxDef {
				present++
			}
		}
	}
	if dict := p.Dictionary(); dict != nil {
		if c.data.Kind() != encoding.Int32 {
			return c.corrupt("dictionary page indexes of type %s", c.data.Kind())
		}
		c.idx = c.data.Int32()
		if len(c.idx) < present {
			return c.corrupt("page with %d values and %d dictionary indexes", present, len(c.idx))
		}
		if dict != c.dict {
			if err := c.loadDictionary(dict); err != nil {
				return err
			}
		}
		return nil
	}
	if c.data.Kind() == encoding.Undefined {
		c.allNull = true
		return nil
	}
	if n, ok := c.countValues(&c.data); !ok || n < present {
		return c.corrupt("page with %d values of type %s where %d are needed", n, c.data.Kind(), present)
	}
	return nil
}

// countValues returns the number of values in data, and false when their
// type is not the column's.
func (c *parquetColumn) countValues(data *encoding.Values) (int, bool) {
	switch k := data.Kind(); {
	case k == encoding.Boolean && c.kind == parquet.Boolean:
		return 8 * len(data.Boolean()), true
	case k == encoding.Int32 && c.kind == parquet.Int32:
		return len(data.Int32()), true
	case k == encoding.Int64 && c.kind == parquet.Int64:
		return len(data.Int64()), true
	case k == encoding.Float && c.kind == parquet.Float:
		return len(data.Float()), true
	case k == encoding.Double && c.kind == parquet.Double:
		return len(data.Double()), true
	case k == encoding.ByteArray && c.kind == parquet.ByteArray:
		b, off := data.ByteArray()
		if len(off) == 0 {
			return 0, true
		}
		if int(off[len(off)-1]) > len(b) {
			return 0, false
		}
		return len(off) - 1, true
	case k == encoding.FixedLenByteArray && c.kind == parquet.FixedLenByteArray:
		b, size := data.FixedLenByteArray()
		if size <= 0 {
			return 0, size == 0
		}
		return len(b) / size, true
	}
	return 0, false
}

// loadDictionary converts the entries of dict to the projected kind once,
// so that dictionary-encoded pages convert by indexing.
func (c *parquetColumn) loadDictionary(dict parquet.Dictionary) error {
	c.dict = nil
	dp := dict.Page()
	data := dp.Data()
	n, ok := c.countValues(&data)
	if !ok || n < dict.Len() {
		return c.corrupt("dictionary of %d entries with %d values of type %s", dict.Len(), n, data.Kind())
	}
	n = dict.Len()
	if c.want == table.String {
		c.dictStr = resize(c.dictStr, n)
		c.dictNull = resize(c.dictNull, n)
		c.convertString(c.dictStr, c.dictNull, nil, &data, 0)
	} else {
		c.dictNum = resize(c.dictNum, n)
		c.dictBad = resize(c.dictBad, n)
		clear(c.dictBad)
		c.dictHasBad = false
		if c.kind == parquet.ByteArray || c.kind == parquet.FixedLenByteArray {
			for i := range n {
				v, ok := table.ParseNumber(textAt(&data, c.kind, i))
				if !ok {
					v, c.dictBad[i], c.dictHasBad = math.NaN(), true, true
				}
				c.dictNum[i] = v
			}
		} else {
			c.convertNumeric(c.dictNum, nil, &data, 0)
		}
	}
	c.dict = dict
	return nil
}

// readNumeric fills dst with the chunk's next len(dst) rows as numbers;
// start is the 0-based file row of dst[0], for errors.
func (c *parquetColumn) readNumeric(dst []float64, start int64) error {
	for filled := 0; filled < len(dst); {
		if c.row == c.pageRows {
			if err := c.nextPage(); err != nil {
				return err
			}
		}
		k := min(len(dst)-filled, c.pageRows-c.row)
		out := dst[filled : filled+k]
		var def []byte
		if c.def != nil {
			def = c.def[c.row : c.row+k]
		}
		var used, bad int
		switch {
		case c.allNull:
			fillNaN(out)
		case c.idx != nil:
			used, bad = gatherFloats(out, def, c.maxDef, c.idx[c.val:], c.dictNum)
			if bad >= 0 {
				return c.corrupt("dictionary index %d out of range [0, %d)", c.idx[c.val+bad], len(c.dictNum))
			}
			if c.dictHasBad {
				if i, text := c.firstBadEntry(def, used); i >= 0 {
					return c.notANumber(start+int64(filled+i), text)
				}
			}
		default:
			used, bad = c.convertNumeric(out, def, &c.data, c.val)
			if bad >= 0 {
				return c.notANumber(start+int64(filled+bad), textAt(&c.data, c.kind, c.val+denseIndex(def, c.maxDef, bad)))
			}
		}
		c.row += k
		c.val += used
		filled += k
	}
	return nil
}

// readString fills dst and null with the chunk's next len(dst) rows as
// text.
func (c *parquetColumn) readString(dst []string, null []bool, start int64) error {
	for filled := 0; filled < len(dst); {
		if c.row == c.pageRows {
			if err := c.nextPage(); err != nil {
				return err
			}
		}
		k := min(len(dst)-filled, c.pageRows-c.row)
		out, outNull := dst[filled:filled+k], null[filled:filled+k]
		var def []byte
		if c.def != nil {
			def = c.def[c.row : c.row+k]
		}
		var used int
		switch {
		case c.allNull:
			clear(out)
			for i := range outNull {
				outNull[i] = true
			}
		case c.idx != nil:
			bad := 0
			used, bad = gatherStrings(out, outNull, def, c.maxDef, c.idx[c.val:], c.dictStr)
			if bad >= 0 {
				return c.corrupt("dictionary index %d out of range [0, %d)", c.idx[c.val+bad], len(c.dictStr))
			}
		default:
			used = c.convertString(out, outNull, def, &c.data, c.val)
		}
		c.row += k
		c.val += used
		filled += k
	}
	return nil
}

// notANumber returns the error for text that does not parse as a number at
// 0-based file row.
func (c *parquetColumn) notANumber(row int64, text []byte) error {
	if len(text) > maxQuoted {
		text = append(text[:maxQuoted:maxQuoted], "..."...)
	}
	return &table.CellError{File: c.file, Row: row + 1, Column: c.name,
		Err:  fmt.Errorf("cannot parse %q as a number", text),
		Hint: "declare the column `type: categorical` in the spec or fix the value"}
}

// firstBadEntry returns the first row of a dictionary-encoded run (def,
// the next used indexes) whose entry is not a number, and its text; -1 if
// none.
func (c *parquetColumn) firstBadEntry(def []byte, used int) (int, []byte) {
	idx := c.idx[c.val : c.val+used]
	v := 0
	for i := range max(len(def), used) {
		if def != nil && def[i] != c.maxDef {
			continue
		}
		if ix := idx[v]; c.dictBad[ix] {
			data := c.dict.Page().Data()
			return i, textAt(&data, c.kind, int(ix))
		}
		v++
	}
	return -1, nil
}

// denseIndex returns the index among the non-null values of row i of a run
// with definition levels def (nil: all present).
func denseIndex(def []byte, maxDef byte, i int) int {
	if def == nil {
		return i
	}
	n := 0
	for _, d := range def[:i] {
		if d == maxDef {
			n++
		}
	}
	return n
}

// textAt returns value i of byte array data.
func textAt(data *encoding.Values, kind parquet.Kind, i int) []byte {
	if kind == parquet.FixedLenByteArray {
		b, size := data.FixedLenByteArray()
		return b[i*size : (i+1)*size]
	}
	b, off := data.ByteArray()
	return b[off[i]:off[i+1]]
}

// convertNumeric fills out from the values of data starting at from: one
// value per row where def is maxDef (or every row when def is nil), NaN
// elsewhere. It returns the number of values used and the row of the first
// text that is not a number, or -1.
func (c *parquetColumn) convertNumeric(out []float64, def []byte, data *encoding.Values, from int) (used, bad int) {
	switch c.kind {
	case parquet.Double:
		vals := data.Double()[from:]
		if def == nil {
			return copy(out, vals[:len(out)]), -1
		}
		return spreadFloats(out, def, c.maxDef, vals), -1
	case parquet.Float:
		return spreadFloats(out, def, c.maxDef, data.Float()[from:]), -1
	case parquet.Int32:
		switch {
		case c.scale > 0:
			return c.spreadDecimal(out, def, data.Int32()[from:]), -1
		case c.unsigned:
			return spreadFloats(out, def, c.maxDef, data.Uint32()[from:]), -1
		}
		return spreadFloats(out, def, c.maxDef, data.Int32()[from:]), -1
	case parquet.Int64:
		switch {
		case c.scale > 0:
			return c.spreadDecimal(out, def, data.Int64()[from:]), -1
		case c.unsigned:
			return spreadFloats(out, def, c.maxDef, data.Uint64()[from:]), -1
		}
		return spreadFloats(out, def, c.maxDef, data.Int64()[from:]), -1
	case parquet.Boolean:
		bits := data.Boolean()
		for i := range out {
			if def != nil && def[i] != c.maxDef {
				out[i] = math.NaN()
				continue
			}
			out[i] = float64(bits[(from+used)>>3] >> ((from + used) & 7) & 1)
			used++
		}
		return used, -1
	default: // text
		for i := range out {
			if def != nil && def[i] != c.maxDef {
				out[i] = math.NaN()
				continue
			}
			v, ok := table.ParseNumber(textAt(data, c.kind, from+used))
			if !ok {
				return used, i
			}
			out[i] = v
			used++
		}
		return used, -1
	}
}

// spreadDecimalOf is convertNumeric for INT32/INT64 decimals: the unscaled
// integer u becomes u * 10^-scale, correctly rounded (strconv parses the
// exact decimal text).
func spreadDecimalOf[T int32 | int64](c *parquetColumn, out []float64, def []byte, vals []T) int {
	v := 0
	for i := range out {
		if def != nil && def[i] != c.maxDef {
			out[i] = math.NaN()
			continue
		}
		b := strconv.AppendInt(c.scratch[:0], int64(vals[v]), 10)
		b = append(b, "e-"...)
		b = strconv.AppendInt(b, int64(c.scale), 10)
		c.scratch = b
		out[i], _ = strconv.ParseFloat(unsafe.String(unsafe.SliceData(b), len(b)), 64)
		v++
	}
	return v
}

// spreadDecimal dispatches to spreadDecimalOf.
func (c *parquetColumn) spreadDecimal(out []float64, def []byte, vals any) int {
	switch v := vals.(type) {
	case []int32:
		return spreadDecimalOf(c, out, def, v)
	case []int64:
		return spreadDecimalOf(c, out, def, v)
	}
	return 0
}

// spreadFloats stores vals into out as float64: one value per row where def
// is maxDef (or every row when def is nil), NaN elsewhere. It returns the
// number of values used.
func spreadFloats[T int32 | int64 | uint32 | uint64 | float32 | float64](out []float64, def []byte, maxDef byte, vals []T) int {
	if def == nil {
		vals = vals[:len(out)]
		for i, v := range vals {
			out[i] = float64(v)
		}
		return len(out)
	}
	def = def[:len(out)]
	n := 0
	for i, d := range def {
		if d == maxDef {
			out[i] = float64(vals[n])
			n++
		} else {
			out[i] = math.NaN()
		}
	}
	return n
}

// gatherFloats stores dict[idx[k]] into out for the k-th present row (see
// spreadFloats). It returns the number of indexes used and the row of the
// first index out of range, or -1.
func gatherFloats(out []float64, def []byte, maxDef byte, idx []int32, dict []float64) (used, bad int) {
	for i := range out {
		if def != nil && def[i] != maxDef {
			out[i] = math.NaN()
			continue
		}
		ix := idx[used]
		if uint(ix) >= uint(len(dict)) {
			return used, used
		}
		out[i] = dict[ix]
		used++
	}
	return used, -1
}

// gatherStrings is gatherFloats for text: absent rows are "" and null.
func gatherStrings(out []string, null []bool, def []byte, maxDef byte, idx []int32, dict []string) (used, bad int) {
	for i := range out {
		if def != nil && def[i] != maxDef {
			out[i], null[i] = "", true
			continue
		}
		ix := idx[used]
		if uint(ix) >= uint(len(dict)) {
			return used, used
		}
		out[i], null[i] = dict[ix], false
		used++
	}
	return used, -1
}

// convertString fills out and null from the values of data starting at
// from (see convertNumeric): text is copied, numbers formatted (integers
// in decimal, floats by table.AppendFloat, booleans as "False"/"True" the way
// pandas prints them). Repeated values share storage. It returns the
// number of values used.
func (c *parquetColumn) convertString(out []string, null []bool, def []byte, data *encoding.Values, from int) (used int) {
	for i := range out {
		if def != nil && def[i] != c.maxDef {
			out[i], null[i] = "", true
			continue
		}
		v := from + used
		var b []byte
		switch c.kind {
		case parquet.ByteArray, parquet.FixedLenByteArray:
			b = textAt(data, c.kind, v)
		case parquet.Boolean:
			if data.Boolean()[v>>3]>>(v&7)&1 == 1 {
				b = append(c.scratch[:0], "True"...)
			} else {
				b = append(c.scratch[:0], "False"...)
			}
		case parquet.Float:
			f, _ := strconv.ParseFloat(strconv.FormatFloat(float64(data.Float()[v]), 'g', -1, 32), 64)
			b = table.AppendFloat(c.scratch[:0], f)
		case parquet.Double:
			b = table.AppendFloat(c.scratch[:0], data.Double()[v])
		case parquet.Int32:
			switch {
			case c.scale > 0:
				var f [1]float64
				c.spreadDecimal(f[:], nil, data.Int32()[v:v+1])
				b = table.AppendFloat(c.scratch[:0], f[0])
			case c.unsigned:
				b = strconv.AppendUint(c.scratch[:0], uint64(data.Uint32()[v]), 10)
			default:
				b = strconv.AppendInt(c.scratch[:0], int64(data.Int32()[v]), 10)
			}
		case parquet.Int64:
			switch {
			case c.scale > 0:
				var f [1]float64
				c.spreadDecimal(f[:], nil, data.Int64()[v:v+1])
				b = table.AppendFloat(c.scratch[:0], f[0])
			case c.unsigned:
				b = strconv.AppendUint(c.scratch[:0], data.Uint64()[v], 10)
			default:
				b = strconv.AppendInt(c.scratch[:0], data.Int64()[v], 10)
			}
		}
		if c.kind != parquet.ByteArray && c.kind != parquet.FixedLenByteArray {
			c.scratch = b
		}
		out[i], null[i] = c.internBytes(b), false
		used++
	}
	return used
}

// internBytes returns b as a string, sharing storage with an equal earlier
// value of the column when there is one.
func (c *parquetColumn) internBytes(b []byte) string {
	if s, ok := c.intern[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(c.intern) < maxIntern && len(s) <= maxInternLen {
		c.intern[s] = s
	}
	return s
}

func fillNaN(out []float64) {
	nan := math.NaN()
	for i := range out {
		out[i] = nan
	}
}

const (
	// maxIntern bounds the distinct values a string column interns, so a
	// high-cardinality column (ids, free text) does not grow a huge map.
	maxIntern = 1 << 14
	// maxInternLen is the longest value worth interning.
	maxInternLen = 256
	// maxQuoted bounds the cell text quoted in an error message.
	maxQuoted = 64
	// minParallelRows is the smallest batch worth converting or encoding
	// concurrently.
	minParallelRows = 1024
)
