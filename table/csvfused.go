package table

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"sync"
)

// The fused path reads a run of whole, unquoted lines in one pass: each
// row's cells are found and numbers are parsed as they are met, straight
// into the batch's columns, instead of a scan pass recording every cell's
// span and a conversion pass reading the spans back column by column (two
// passes over the text, one over the spans). String cells still get a
// span, and are interned column by column afterwards (an intern table
// belongs to one goroutine). The run is cut into one segment per worker
// at line boundaries; a segment's first row is known before it is read by
// counting the line ends before it, since the fused path takes no blank
// line.
//
// It takes only what it can read exactly as the two-pass path does, and
// gives up on anything else — a blank line, a row with another number of
// fields, a numeric cell that is not a number — having consumed nothing:
// the two-pass path then reads the run, skipping blank lines and naming
// the bad cell or row as it always has.

// fusedField says what the fused path does with one field of the header.
type fusedField struct {
	kind uint8 // fusedSkip, fusedNum or fusedStr
	col  int32 // the projected column (fusedNum, fusedStr)
	str  int32 // fusedStr: index among the projected string columns
}

// maxFusedFails is how many times the fused path gives up before a reader
// stops trying it (a file with blank lines, say, is read in two passes).
const maxFusedFails = 3

const (
	fusedSkip uint8 = iota
	fusedNum
	fusedStr
)

// fusedPlan returns what to do with each header field, or nil when the
// fused path cannot read this projection: a single field (where a line of
// spaces is blank, not a row), a field projected twice, or a delimiter
// that can be part of a number or a line end.
func (r *CSVReader) fusedPlan() ([]fusedField, int) {
	if len(r.header) < 2 || bytes.IndexByte([]byte("0123456789.+-\r\n\" "), r.delim) >= 0 {
		return nil, 0
	}
	plan := make([]fusedField, len(r.header))
	nstr := 0
	for j := range r.proj {
		p := &r.proj[j]
		f := &plan[p.field]
		if f.kind != fusedSkip {
			return nil, 0
		}
		f.col = int32(j)
		if p.kind == Numeric {
			f.kind = fusedNum
		} else {
			f.kind, f.str = fusedStr, int32(nstr)
			nstr++
		}
	}
	return plan, nstr
}

// parseFused reads the whole, unquoted lines at the buffer's position, at
// most the batch's room past its n rows, with the fused path. It returns
// the rows read and ok; on !ok nothing is consumed (the batch's columns
// past n may have been written) and the two-pass path reads the lines;
// rows is -1 when the fused path read them and gave up.
func (r *CSVReader) parseFused(n int) (int, bool) {
	if !r.fusedChecked {
		r.fusedChecked = true
		r.plan, r.planStrs = r.fusedPlan()
	}
	limit := r.batchRows - n
	if r.plan == nil || limit <= 0 {
		return 0, false
	}
	data := r.buf[r.pos:r.end]
	last := bytes.LastIndexByte(data, '\n')
	// A run longer than MaxCellBytes (only after a long row grew the
	// buffer) may hold a line with a cell over the bound: scanRow checks
	// each line's length and names it.
	if last < 0 || last >= MaxCellBytes {
		return 0, false
	}
	data = data[:last+1]
	if bytes.IndexByte(data, '"') >= 0 {
		return 0, false
	}
	rows := bytes.Count(data, []byte{'\n'})
	if rows > limit {
		end := 0
		for range limit {
			end += bytes.IndexByte(data[end:], '\n') + 1
		}
		data, rows = data[:end], limit
	}
	// Segments: one per worker for a run worth splitting.
	segs := 1
	if r.workers > 1 && len(data) >= minSplitBytes {
		segs = r.workers
	}
	type segment struct{ lo, hi, row int }
	var bounds [8]segment
	segs = min(segs, len(bounds))
	lo, row := r.pos, n
	for s := range segs {
		hi := r.pos + len(data)
		if s < segs-1 {
			cut := r.pos + len(data)*(s+1)/segs
			if cut <= lo {
				continue
			}
			hi = cut + bytes.IndexByte(r.buf[cut:r.pos+len(data)], '\n') + 1
		}
		if hi <= lo {
			continue
		}
		bounds[s] = segment{lo, hi, row}
		row += bytes.Count(r.buf[lo:hi], []byte{'\n'})
		lo = hi
	}
	// The columns' room, and the string columns' spans.
	for j := range r.proj {
		if r.proj[j].kind == Numeric {
			c := &r.batch.Cols[j]
			c.Num = extendFloats(c.Num, n, n+rows, r.batchRows)
		}
	}
	if cap(r.strSpans) < r.planStrs*rows {
		r.strSpans = make([]span, r.planStrs*rows)
	}
	strSpans := r.strSpans[:r.planStrs*rows]
	var failed [8]bool
	var wg sync.WaitGroup
	for s := 1; s < segs; s++ {
		if g := bounds[s]; g.hi > g.lo {
			wg.Go(func() { failed[s] = !r.fusedSegment(g.lo, g.hi, g.row, n, rows, strSpans) })
		}
	}
	if g := bounds[0]; g.hi > g.lo {
		failed[0] = !r.fusedSegment(g.lo, g.hi, g.row, n, rows, strSpans)
	}
	wg.Wait()
	for s := range segs {
		if failed[s] {
			return -1, false
		}
	}
	// The string columns, each on its own goroutine when there are several.
	r.internFused(n, rows, strSpans)
	for i := range rows {
		r.batch.Lines = append(r.batch.Lines, r.line+int64(i))
	}
	r.pos += len(data)
	r.line += int64(rows)
	r.fusedRows += int64(rows)
	return rows, true
}

// internFused fills the projected string columns' rows [n, n+rows) from
// their spans (strSpans: rows spans per string column, in plan order).
func (r *CSVReader) internFused(n, rows int, strSpans []span) {
	if r.planStrs == 0 {
		return
	}
	var wg sync.WaitGroup
	for j := range r.proj {
		p := &r.proj[j]
		if p.kind == Numeric {
			continue
		}
		si := int(r.plan[p.field].str)
		c := &r.batch.Cols[j]
		c.Str = extendStrings(c.Str, n, n+rows, r.batchRows)
		p.null = extendBools(p.null, n, n+rows, r.batchRows)
		work := func() {
			spans := strSpans[si*rows : (si+1)*rows]
			dst, null := c.Str[n:n+rows], p.null[n:n+rows]
			for i, s := range spans {
				dst[i], null[i] = p.internCell(r.buf[s.lo:s.hi])
			}
		}
		if r.workers > 1 && r.planStrs > 1 && rows >= minParallelRows {
			wg.Go(work)
		} else {
			work()
		}
	}
	wg.Wait()
}

// fusedSegment reads the lines of buf[lo:hi] (hi just past a '\n', no
// quote inside) as rows row, row+1, ... of the batch, the chunk's rows
// starting at n (rows of them; strSpans holds rows spans per string
// column). It reports false on anything the fused path does not take.
func (r *CSVReader) fusedSegment(lo, hi, row, n, rows int, strSpans []span) bool {
	buf := r.buf
	plan := r.plan
	cols := r.batch.Cols
	delim := r.delim
	nf := len(plan)
	// Numbers are read eight bytes at a time up to here; past it (the
	// buffer's last bytes), cell by cell.
	wide := len(buf) - wideMargin
	for p := lo; p < hi; row++ {
		for f := range nf {
			last := f == nf-1
			pf := plan[f]
			if pf.kind == fusedNum && p <= wide {
				v, e, ok := parseWide(buf, p)
				if ok {
					c := buf[e]
					switch {
					case !last && c == delim:
						cols[pf.col].Num[row] = v
						p = e + 1
						continue
					case last && c == '\n':
						cols[pf.col].Num[row] = v
						p = e + 1
						continue
					case last && c == '\r' && buf[e+1] == '\n':
						cols[pf.col].Num[row] = v
						p = e + 2
						continue
					}
				}
			}
			// The cell's end: the delimiter, or the line's end for the last
			// field; a line that ends early or goes on is not taken.
			e := p
			for buf[e] != delim && buf[e] != '\n' {
				e++
			}
			if (buf[e] == '\n') != last {
				return false
			}
			next := e + 1
			if last && e > p && buf[e-1] == '\r' {
				e--
			}
			switch pf.kind {
			case fusedNum:
				v, ok := parseNumber(buf[p:e])
				if !ok {
					return false
				}
				cols[pf.col].Num[row] = v
			case fusedStr:
				strSpans[int(pf.str)*rows+row-n] = span{int32(p), int32(e)}
			}
			p = next
		}
	}
	return true
}

// parseWide is parseSimple for the number starting at b[p], which ends at
// the first byte that cannot continue it: it returns the value, the index
// e of that byte, and whether the text b[p:e] is one parseSimple accepts
// (the value is then parseSimple's, bit for bit). The integer and fraction
// digits are found and combined eight at a time, longer runs a digit at a
// time; b must hold at least wideMargin bytes from p. A run of digits
// longer than any number parseSimple takes stops early, at a digit, which
// the caller does not take as the cell's end.
func parseWide(b []byte, p int) (v float64, e int, ok bool) {
	i, neg := p, false
	if c := b[i]; c == '-' || c == '+' {
		neg = c == '-'
		i++
	}
	start := i
	x := binary.LittleEndian.Uint64(b[i:])
	k := digitRun(x)
	m := digitsValue(x, k)
	i += k
	if k == 8 {
		i, m = digitsFrom(b, i, p+40, m)
	}
	digits, frac := i-start, 0
	if b[i] == '.' {
		i++
		at := i
		x = binary.LittleEndian.Uint64(b[i:])
		k = digitRun(x)
		m = m*pow10u64[k] + digitsValue(x, k)
		i += k
		if k == 8 {
			i, m = digitsFrom(b, i, p+56, m)
		}
		frac = i - at
	}
	digits += frac
	if digits == 0 || digits > 19 || m > 1<<53 || frac >= len(pow10) {
		return 0, i, false
	}
	v = float64(m) / pow10[frac]
	if neg {
		v = -v
	}
	return v, i, true
}

// digitsFrom goes on with the number m from the digits of b[i:end],
// stopping at the first byte that is not one: it returns where it stopped
// and the number (which wraps past 19 digits; callers count them).
// parseSimple has the same loops inline: written this way there, its
// register use costs it 4% (BenchmarkParseNumber).
func digitsFrom(b []byte, i, end int, m uint64) (int, uint64) {
	for ; i < end; i++ {
		d := b[i] - '0'
		if d > 9 {
			break
		}
		m = m*10 + uint64(d)
	}
	return i, m
}

// wideMargin is how many bytes parseWide may read from where it starts:
// at most 56 bytes of sign and digits, a load of 8 bytes, the byte past.
const wideMargin = 64

// digitRun returns how many of x's bytes (little endian: the first byte
// lowest) are ASCII digits before the first that is not, 0 to 8. A byte
// is a digit when its high nibble is 3 and stays 3 when 6 is added; the
// addition carries into the next byte only from a byte of 0xfa or more,
// which is not a digit, so the first non-digit is always the first byte
// the test marks.
func digitRun(x uint64) int {
	a := x&0xf0f0f0f0f0f0f0f0 ^ 0x3030303030303030
	b := (x+0x0606060606060606)&0xf0f0f0f0f0f0f0f0 ^ 0x3030303030303030
	return bits.TrailingZeros64(a|b) >> 3
}

// digitsValue returns the number the first k (0 to 8) bytes of x spell,
// all ASCII digits: shifted to the top of the word, below them zeros, they
// are eight digits with leading zeros (eightDigitsValue). Subtracting '0'
// from the bytes past the k-th may borrow, but only upwards, into bytes
// the shift drops.
func digitsValue(x uint64, k int) uint64 {
	// Shifted by 64 (k = 0), y is 0.
	y := (x - 0x3030303030303030) << (64 - 8*uint(k))
	// Pairs in bytes 0, 2, 4, 6, then quadruples, then the eight.
	y = y*10 + y>>8
	y = (y&0x000000ff000000ff)*(100+1000000<<32) + (y>>16&0x000000ff000000ff)*(1+10000<<32)
	return y >> 32
}
