package table

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/normguard/normguard/internal/errtext"
)

// FormatNPY is the format of NumPy .npy files (see FormatOf).
const FormatNPY = "npy"

// ErrNPY is wrapped by the errors about .npy files this package cannot
// read: another dtype, another number of dimensions, a malformed header.
var ErrNPY = errors.New("unsupported .npy file")

func init() {
	RegisterFormat(FormatNPY, FileFormat{
		Open: func(path string, opts OpenOptions) (Reader, error) {
			return OpenNPY(path, NPYOptions{BatchRows: opts.BatchRows})
		},
		Create: func(path string, _ []Field) (Writer, error) {
			return nil, fmt.Errorf("%s: normguard reads .npy files but does not write them; write the output as .parquet, .csv or .jsonl", path)
		},
	})
}

// npyFormat is FormatOf for a .npy path: NumPy files are read as they
// are, never compressed.
func npyFormat(path, compression string) (string, error) {
	if compression != CompressionNone {
		return "", fmt.Errorf("%s: a .npy file is read uncompressed (it is read by position); decompress it first", path)
	}
	return FormatNPY, nil
}

// npyMaxHeader is numpy.load's default max_header_size: it refuses a
// longer header unless told to trust the file.
const npyMaxHeader = 10000

// npyMaxValues bounds the values of one batch (8 MB of float64), so a
// batch of wide vectors stays small.
const npyMaxValues = 1 << 20

// NPYReader reads a 2-D NumPy array (.npy, format versions 1 to 3) of
// shape (rows, dim) as one Vector column of dimension dim, named after the
// file's stem (emb.npy holds the column "emb"). It implements Reader,
// RowCounter and Progresser.
//
// The element type may be float16, float32 or float64 ('<f2', '<f4',
// '<f8' and their big-endian '>' forms); the column's DType records it. The
// array may be in C order (rows one after another, read sequentially) or
// Fortran order (dimensions one after another, read from a file with one
// positioned read per dimension and batch). Either way the reader holds one
// batch of at most BatchRows rows and about a million values at a time.
type NPYReader struct {
	name    string
	column  string
	f       *os.File
	br      *bufio.Reader
	dtype   string
	size    int // bytes per value
	order   binary.ByteOrder
	fortran bool
	rows    int64
	dim     int
	data    int64 // offset of the first value
	batch   Batch
	read    int64 // rows delivered
	per     int   // rows per batch
	buf     []byte
	done    bool
	err     error
	project bool
}

// OpenNPY opens the .npy file at path and reads its header.
func OpenNPY(path string, opts NPYOptions) (*NPYReader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	r := &NPYReader{name: path, f: f, br: bufio.NewReaderSize(f, 1<<16)}
	r.column = opts.Column
	if r.column == "" {
		base := filepath.Base(path)
		r.column = strings.TrimSuffix(base, filepath.Ext(base))
	}
	if err := r.readHeader(); err != nil {
		f.Close()
		return nil, err
	}
	r.per = opts.BatchRows
	if r.per <= 0 {
		r.per = DefaultBatchRows
	}
	r.per = max(1, min(r.per, npyMaxValues/max(r.dim, 1)))
	return r, nil
}

// NPYOptions configures an NPY reader. The zero value is ready to use.
type NPYOptions struct {
	// BatchRows is the most rows per batch (0 means DefaultBatchRows); a
	// batch also holds at most about a million values.
	BatchRows int
	// Column names the vector column ("" is the file's stem).
	Column string
}

// readHeader parses the magic string, the version, and the header dict
// {'descr': ..., 'fortran_order': ..., 'shape': (...)}.
func (r *NPYReader) readHeader() error {
	var pre [8]byte
	if _, err := io.ReadFull(r.br, pre[:]); err != nil {
		return r.headerError("the file is shorter than a .npy header")
	}
	if string(pre[:6]) != "\x93NUMPY" {
		return r.headerError("not a .npy file (no \\x93NUMPY magic string); save the array with numpy.save")
	}
	if pre[7] != 0 {
		return r.headerError(fmt.Sprintf("format version %d.%d is not supported (1.0, 2.0 and 3.0 are, as numpy reads)", pre[6], pre[7]))
	}
	var hlen int
	switch pre[6] {
	case 1:
		var b [2]byte
		if _, err := io.ReadFull(r.br, b[:]); err != nil {
			return r.headerError("truncated header length")
		}
		hlen = int(binary.LittleEndian.Uint16(b[:]))
		r.data = 10
	case 2, 3:
		var b [4]byte
		if _, err := io.ReadFull(r.br, b[:]); err != nil {
			return r.headerError("truncated header length")
		}
		hlen = int(binary.LittleEndian.Uint32(b[:]))
		r.data = 12
	default:
		return r.headerError(fmt.Sprintf("format version %d.%d is not supported (1.0 to 3.0 are)", pre[6], pre[7]))
	}
	if hlen > npyMaxHeader {
		return r.headerError(fmt.Sprintf("header of %d bytes is longer than numpy.load reads (max_header_size %d); a 2-D array's header takes about 128", hlen, npyMaxHeader))
	}
	h := make([]byte, hlen)
	if _, err := io.ReadFull(r.br, h); err != nil {
		return r.headerError("truncated header")
	}
	r.data += int64(hlen)
	return r.parseDict(string(h))
}

// parseDict reads the header dict as numpy.lib.format reads it (a Python
// literal of a dict, ast.literal_eval), and as strictly: exactly the keys
// 'descr' (a string), 'fortran_order' (True or False) and 'shape' (a tuple
// of sizes), each once, and after the dict only the padding numpy writes
// (spaces and a final newline). A duplicate key (literal_eval keeps the
// last), another key or other text after the dict is refused, naming it.
func (r *NPYReader) parseDict(h string) error {
	d, err := parseNPYHeader(h)
	if err != nil {
		return r.headerError(err.Error() + "; write the file with numpy.save")
	}
	descr := d.descr
	switch {
	case len(descr) == 3 && descr[0] == '<':
		r.order = binary.LittleEndian
	case len(descr) == 3 && descr[0] == '>':
		r.order = binary.BigEndian
	default:
		return r.dtypeError(descr)
	}
	switch descr[1:] {
	case "f2":
		r.dtype, r.size = DTypeFloat16, 2
	case "f4":
		r.dtype, r.size = DTypeFloat32, 4
	case "f8":
		r.dtype, r.size = DTypeFloat64, 8
	default:
		return r.dtypeError(descr)
	}
	r.fortran = d.fortran
	shape := errtext.Shorten(d.shapeText)
	if len(d.shape) != 2 {
		return fmt.Errorf("%s: %w: the array has shape %s; normguard reads a 2-D array of shape (rows, dimension), one vector per row: reshape it with numpy.reshape(a, (len(a), -1))", r.name, ErrNPY, shape)
	}
	if d.shape[1] == 0 || d.shape[1] > 1<<24 {
		return fmt.Errorf("%s: %w: the array has shape %s: a vector needs between 1 and 16777216 values", r.name, ErrNPY, shape)
	}
	r.rows, r.dim = d.shape[0], int(d.shape[1])
	if r.rows > (math.MaxInt64-r.data)/(int64(r.dim)*int64(r.size)) {
		return fmt.Errorf("%s: %w: the array has shape %s: too large for a file", r.name, ErrNPY, shape)
	}
	if st, err := r.f.Stat(); err == nil {
		want := r.data + r.rows*int64(r.dim)*int64(r.size)
		switch {
		case st.Size() < want:
			return fmt.Errorf("%s: %w: the header promises %d x %d values (%d bytes in all) but the file has %d bytes; the file is truncated",
				r.name, ErrNPY, r.rows, r.dim, want, st.Size())
		case st.Size() > want:
			return fmt.Errorf("%s: %w: the header promises %d x %d values (%d bytes in all) but the file has %d bytes: %d bytes follow the array (another array appended, or a damaged header); save one array per file with numpy.save",
				r.name, ErrNPY, r.rows, r.dim, want, st.Size(), st.Size()-want)
		}
	}
	return nil
}

// npyHeader is the header dict of a .npy file.
type npyHeader struct {
	descr     string
	fortran   bool
	shape     []int64
	shapeText string
}

// npyKeys are the keys numpy requires, no more and no fewer.
var npyKeys = []string{"descr", "fortran_order", "shape"}

// parseNPYHeader parses the header dict h, a Python literal: an error
// says what is wrong, quoting at most a short prefix of the header.
func parseNPYHeader(h string) (npyHeader, error) {
	var d npyHeader
	p := &npyParser{s: h}
	p.space()
	if !p.eat('{') {
		return d, fmt.Errorf("the header is not a Python dict: %s", errtext.Quote(h))
	}
	seen := map[string]bool{}
	for {
		p.space()
		if p.eat('}') {
			break
		}
		key, ok := p.str()
		if !ok {
			return d, fmt.Errorf("the header dict's keys must be strings, at byte %d: %s", p.i, errtext.Quote(h[p.i:]))
		}
		if !slices.Contains(npyKeys, key) {
			return d, fmt.Errorf("the header has the key %s; numpy allows only 'descr', 'fortran_order' and 'shape'", errtext.Quote(key))
		}
		if seen[key] {
			return d, fmt.Errorf("the header names %s twice", errtext.Quote(key))
		}
		seen[key] = true
		p.space()
		if !p.eat(':') {
			return d, fmt.Errorf("the header dict has no ':' after the key %s", errtext.Quote(key))
		}
		p.space()
		start := p.i
		switch key {
		case "descr":
			if d.descr, ok = p.str(); !ok {
				p.i = start
				p.skipValue()
				return d, fmt.Errorf("'descr' is %s, not a string naming the element type: save the vectors as float32 or float64", errtext.Quote(h[start:p.i]))
			}
		case "fortran_order":
			switch {
			case strings.HasPrefix(h[p.i:], "True"):
				d.fortran, p.i = true, p.i+4
			case strings.HasPrefix(h[p.i:], "False"):
				d.fortran, p.i = false, p.i+5
			default:
				p.i = start
				p.skipValue()
				return d, fmt.Errorf("'fortran_order' is %s, not True or False", errtext.Quote(h[start:p.i]))
			}
		case "shape":
			if d.shape, ok = p.tuple(); !ok {
				p.i = start
				p.skipValue()
				return d, fmt.Errorf("'shape' is %s, not a tuple of sizes", errtext.Quote(h[start:p.i]))
			}
			d.shapeText = h[start:p.i]
		}
		p.space()
		if p.eat('}') {
			break
		}
		if !p.eat(',') {
			return d, fmt.Errorf("the header dict has %s after the value of %s where ',' or '}' belongs", errtext.Quote(h[p.i:]), errtext.Quote(key))
		}
	}
	if rest := h[p.i:]; strings.Trim(rest, " \n") != "" {
		return d, fmt.Errorf("the header holds %s after its dict; numpy pads it with spaces and a newline only", errtext.Quote(rest))
	}
	for _, k := range npyKeys {
		if !seen[k] {
			return d, fmt.Errorf("the header has no %s", errtext.Quote(k))
		}
	}
	return d, nil
}

// npyParser reads a Python literal from s at i.
type npyParser struct {
	s string
	i int
}

func (p *npyParser) space() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t' || p.s[p.i] == '\n' || p.s[p.i] == '\r') {
		p.i++
	}
}

func (p *npyParser) eat(c byte) bool {
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

// str reads a string literal in single or double quotes without escapes.
func (p *npyParser) str() (string, bool) {
	if p.i >= len(p.s) || p.s[p.i] != '\'' && p.s[p.i] != '"' {
		return "", false
	}
	q := p.s[p.i]
	end := strings.IndexByte(p.s[p.i+1:], q)
	if end < 0 {
		return "", false
	}
	v := p.s[p.i+1 : p.i+1+end]
	if strings.ContainsAny(v, "\\\n") {
		return "", false
	}
	p.i += end + 2
	return v, true
}

// tuple reads a tuple of non-negative integers: "()", "(n,)", "(n, m)",
// "(n, m,)"; Python 2's long suffix L is allowed, as numpy allows it.
// "(n)" is n, not a tuple.
func (p *npyParser) tuple() ([]int64, bool) {
	if !p.eat('(') {
		return nil, false
	}
	var out []int64
	comma := false
	for {
		p.space()
		if p.eat(')') {
			return out, len(out) != 1 || comma
		}
		if len(out) > 0 && !comma {
			return nil, false
		}
		start := p.i
		for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
			p.i++
		}
		n, err := strconv.ParseInt(p.s[start:p.i], 10, 64)
		if err != nil {
			return nil, false
		}
		if p.i < len(p.s) && (p.s[p.i] == 'L' || p.s[p.i] == 'l') {
			p.i++
		}
		out = append(out, n)
		p.space()
		comma = p.eat(',')
	}
}

// skipValue moves past a malformed value, to the next ',' or '}' outside
// brackets (or the end), for the error to quote it.
func (p *npyParser) skipValue() {
	depth := 0
	for ; p.i < len(p.s); p.i++ {
		switch p.s[p.i] {
		case '(', '[', '{':
			depth++
		case ')', ']', '}':
			if depth == 0 {
				return
			}
			depth--
		case ',':
			if depth == 0 {
				return
			}
		}
	}
}

func (r *NPYReader) headerError(msg string) error {
	return fmt.Errorf("%s: %w: %s", r.name, ErrNPY, msg)
}

func (r *NPYReader) dtypeError(descr string) error {
	return fmt.Errorf("%s: %w: element type %q is not supported; save the vectors as float32 or float64 (a.astype(numpy.float32))", r.name, ErrNPY, descr)
}

// Header returns the one column's name.
func (r *NPYReader) Header() []string { return []string{r.column} }

// NumRows returns the array's row count, from its header.
func (r *NPYReader) NumRows() int64 { return r.rows }

// Progress returns the rows read and the array's row count.
func (r *NPYReader) Progress() (done, total int64) { return r.read, r.rows }

// Dim returns the array's second dimension, the vectors' length.
func (r *NPYReader) Dim() int { return r.dim }

// Project selects the column: fields must be the one column, as Vector
// (or empty: the column is read without being named).
func (r *NPYReader) Project(fields []Field) error {
	for _, f := range fields {
		if f.Name != r.column {
			return fmt.Errorf("%s: column %q is not in the file: a .npy file holds one vector column named after the file, %q; rename the file or the column", r.name, f.Name, r.column)
		}
		if f.Kind != Vector {
			return fmt.Errorf("%s: %w", r.name, &vectorValueError{column: f.Name,
				err: fmt.Errorf("column %q is a vector column (a %d-dimensional array); declare it `type: vector` in the spec", f.Name, r.dim)})
		}
	}
	if len(fields) > 1 {
		return fmt.Errorf("%s: column %q is projected %d times; name it once", r.name, r.column, len(fields))
	}
	r.batch.Cols = NewColumns(fields)
	r.project = true
	return nil
}

// Next reads the next batch of rows.
func (r *NPYReader) Next() bool {
	if r.err != nil || r.done {
		return false
	}
	if !r.project {
		if err := r.Project([]Field{{Name: r.column, Kind: Vector}}); err != nil {
			r.err = err
			return false
		}
	}
	n := int(min(int64(r.per), r.rows-r.read))
	if n <= 0 {
		r.done = true
		return false
	}
	r.batch.Start = r.read
	r.batch.Rows = n
	if len(r.batch.Cols) == 0 {
		r.read += int64(n)
		return true
	}
	c := &r.batch.Cols[0]
	c.Dim, c.DType, c.Null = r.dim, r.dtype, nil
	c.Vec = growFloats(c.Vec, n*r.dim)
	var err error
	if r.fortran {
		err = r.readFortran(c.Vec, n)
	} else {
		err = r.readC(c.Vec)
	}
	if err != nil {
		r.err = fmt.Errorf("%s: rows %d to %d: %w", r.name, r.read+1, r.read+int64(n), err)
		return false
	}
	r.read += int64(n)
	return true
}

// readC decodes the next len(dst) values of a C-ordered array.
func (r *NPYReader) readC(dst []float64) error {
	const chunk = 1 << 16
	for len(dst) > 0 {
		k := min(len(dst), chunk/r.size)
		r.buf = growBytes(r.buf, k*r.size)
		if _, err := io.ReadFull(r.br, r.buf); err != nil {
			return fmt.Errorf("the file ends early: %w", err)
		}
		r.decode(dst[:k], r.buf)
		dst = dst[k:]
	}
	return nil
}

// readFortran decodes rows [read, read+n) of a Fortran-ordered array into
// dst (row-major): one positioned read per dimension.
func (r *NPYReader) readFortran(dst []float64, n int) error {
	r.buf = growBytes(r.buf, n*r.size)
	col := make([]float64, n)
	for k := range r.dim {
		off := r.data + (int64(k)*r.rows+r.read)*int64(r.size)
		if _, err := r.f.ReadAt(r.buf, off); err != nil {
			return fmt.Errorf("the file ends early: %w", err)
		}
		r.decode(col, r.buf)
		for i, x := range col {
			dst[i*r.dim+k] = x
		}
	}
	return nil
}

// decode converts the values in b to dst.
func (r *NPYReader) decode(dst []float64, b []byte) {
	switch r.size {
	case 8:
		for i := range dst {
			dst[i] = math.Float64frombits(r.order.Uint64(b[8*i:]))
		}
	case 4:
		for i := range dst {
			dst[i] = float64(math.Float32frombits(r.order.Uint32(b[4*i:])))
		}
	default:
		for i := range dst {
			dst[i] = Float16(r.order.Uint16(b[2*i:]))
		}
	}
}

// Float16 returns the value of the IEEE 754 binary16 number with bits h.
func Float16(h uint16) float64 {
	sign := 1.0
	if h&0x8000 != 0 {
		sign = -1
	}
	exp := int(h>>10) & 0x1f
	frac := float64(h & 0x3ff)
	switch exp {
	case 0:
		return sign * math.Ldexp(frac, -24)
	case 0x1f:
		if frac != 0 {
			return math.NaN()
		}
		return math.Inf(int(sign))
	}
	return sign * math.Ldexp(1024+frac, exp-25)
}

func growBytes(b []byte, n int) []byte {
	if cap(b) >= n {
		return b[:n]
	}
	return make([]byte, n)
}

// Batch returns the current batch; its buffers are reused by Next.
func (r *NPYReader) Batch() *Batch { return &r.batch }

// Err returns the first error met.
func (r *NPYReader) Err() error { return r.err }

// Close closes the file.
func (r *NPYReader) Close() error {
	if r.f == nil {
		return nil
	}
	f := r.f
	r.f = nil
	return f.Close()
}
