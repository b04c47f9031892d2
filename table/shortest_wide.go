package table

import (
	"encoding/binary"
	"math"
	"math/bits"
)

// wideRoom is the spare capacity appendFloatWide needs past len(dst): it
// writes whole 8-byte words, up to this many bytes, and keeps only the
// text's length.
const wideRoom = 40

// appendFloatWide is AppendFloat for a dst that has at least wideRoom
// bytes of spare capacity, which it may overwrite past the text it
// appends (callers own the buffer: the CSV writer's chunks). Its text is
// AppendFloat's, byte for byte (TestAppendFloatWideMatchesStrconv).
//
// The shortest digits come from Schubfach (appendShortest's fast path;
// zero, subnormals and powers of two go through appendShortest). The
// digits are then written without a division loop: f is scaled to
// exactly 17 digits, f·10^(17-n), split into one digit and two 8-digit
// halves, and each half is turned into eight ASCII digits in one 64-bit
// word with multiply-shift steps (Paul Khuong's SWAR conversion: 10^4,
// then 10^2, then 10 in parallel lanes). Trailing zeros are counted from
// the words (bits.LeadingZeros64) and the decimal point is put in with
// shifts and masks, so the text is three word stores.
func appendFloatWide(dst []byte, v float64) []byte {
	b := math.Float64bits(v)
	bq := int(b>>52) & 0x7ff
	t := b & (1<<52 - 1)
	o := len(dst)
	p := (*[wideRoom]byte)(dst[o : o+wideRoom])
	neg := b >> 63
	p[0] = '-'
	switch {
	case bq == 0x7ff:
		if t != 0 {
			return dst // NaN: an empty cell
		}
		binary.LittleEndian.PutUint32(p[neg:], 'i'|'n'<<8|'f'<<16)
		return dst[:o+int(neg)+3]
	case bq == 0 && t == 0:
		p[neg] = '0'
		return dst[:o+int(neg)+1]
	case bq == 0 || t == 0:
		// Subnormals and powers of two (irregular spacing).
		a := math.Abs(v)
		return appendShortest(dst, v, a >= 1e-4 && a < 1e16)
	}
	c := 1<<52 | t
	var f uint64
	var e int
	if mq := 1075 - bq; 0 < mq && mq < 53 && (c>>mq)<<mq == c {
		f = c >> mq // an integer below 2^53
	} else {
		f, e = schubfach(bq-1075, c)
	}
	// n digits, scaled to 17: f17 = d0 d1 ... d16, d0 != 0.
	n := (bits.Len64(f) * 1233) >> 12
	if f >= pow10u64[n] {
		n++
	}
	if n > 17 {
		a := math.Abs(v)
		return appendShortest(dst, v, a >= 1e-4 && a < 1e16) // never for doubles; kept exact
	}
	f17 := f * pow10u64[17-n]
	hi := f17 / 1e8
	lo := uint32(f17 - hi*1e8)
	d0 := uint32(hi) / 1e8
	mid := uint32(hi) - d0*1e8
	w1, w0 := digits8(mid), digits8(lo)
	var tz int // trailing zero digits of f17
	switch {
	case w0 != 0:
		tz = bits.LeadingZeros64(w0) >> 3
	case w1 != 0:
		tz = 8 + bits.LeadingZeros64(w1)>>3
	default:
		tz = 16
	}
	nd := 17 - tz // significant digits
	const zeros = 0x3030303030303030
	w1 |= zeros
	w0 |= zeros
	// The 17 digits as bytes 0..16 of three little-endian words.
	x0 := uint64(d0) | '0' | w1<<8
	x1 := w1>>56 | w0<<8
	x2 := w0 >> 56
	q := p[neg:]
	point := n + e // value = 0.d0d1...d16 · 10^point
	if point < -3 || point > 16 {
		// Exponent notation: d0[.d1...]e±XX.
		y0 := uint64(d0) | '0' | '.'<<8 | w1<<16
		y1 := w1>>48 | w0<<16
		binary.LittleEndian.PutUint64(q[0:], y0)
		binary.LittleEndian.PutUint64(q[8:], y1)
		binary.LittleEndian.PutUint64(q[16:], w0>>48)
		k := nd + 1
		if nd == 1 {
			k = 1
		}
		exp := point - 1
		var sign uint64 = '+'
		if exp < 0 {
			sign, exp = '-', -exp
		}
		var ew uint64
		el := 4
		if exp < 100 {
			ew = 'e' | sign<<8 | uint64(digitPairs[2*exp])<<16 | uint64(digitPairs[2*exp+1])<<24
		} else {
			r := exp % 100
			ew = 'e' | sign<<8 | uint64('0'+exp/100)<<16 | uint64(digitPairs[2*r])<<24 | uint64(digitPairs[2*r+1])<<32
			el = 5
		}
		binary.LittleEndian.PutUint64(q[k:], ew)
		return dst[:o+int(neg)+k+el]
	}
	switch {
	case point <= 0:
		// 0.000ddd: at most three zeros after the point.
		binary.LittleEndian.PutUint64(q[0:], '0'|'.'<<8|zeros&(1<<48-1)<<16)
		s := q[2-point:]
		binary.LittleEndian.PutUint64(s[0:], x0)
		binary.LittleEndian.PutUint64(s[8:], x1)
		s[16] = byte(x2)
		return dst[:o+int(neg)+2-point+nd]
	case point >= nd:
		// An integer: the digits past nd are zeros already.
		binary.LittleEndian.PutUint64(q[0:], x0)
		binary.LittleEndian.PutUint64(q[8:], x1)
		return dst[:o+int(neg)+point]
	case point < 8:
		sh := uint(point) * 8
		m := uint64(1)<<sh - 1
		binary.LittleEndian.PutUint64(q[0:], x0&m|'.'<<sh|(x0&^m)<<8)
		binary.LittleEndian.PutUint64(q[8:], x0>>56|x1<<8)
		binary.LittleEndian.PutUint64(q[16:], x1>>56|x2<<8)
	case point < 16:
		sh := uint(point-8) * 8
		m := uint64(1)<<sh - 1
		binary.LittleEndian.PutUint64(q[0:], x0)
		binary.LittleEndian.PutUint64(q[8:], x1&m|'.'<<sh|(x1&^m)<<8)
		binary.LittleEndian.PutUint64(q[16:], x1>>56|x2<<8)
	default: // point == 16, nd == 17
		binary.LittleEndian.PutUint64(q[0:], x0)
		binary.LittleEndian.PutUint64(q[8:], x1)
		binary.LittleEndian.PutUint64(q[16:], '.'|x2<<8)
	}
	return dst[:o+int(neg)+nd+1]
}

// digits8 returns the eight decimal digits of x < 10^8, leading zeros
// included, as the bytes of a little-endian word, the first digit in the
// lowest byte, each byte 0-9 (add '0' to each for text). Paul Khuong's
// SWAR conversion: x = 10^4·h + l into two 32-bit lanes, each lane into two
// 16-bit lanes by 100 (x·10486 >> 20 = ⌊x/100⌋ for x < 10^4), each into
// two bytes by 10 (x·103 >> 10 = ⌊x/10⌋ for x < 100).
func digits8(x uint32) uint64 {
	h := x / 10000
	l := x - h*10000
	m := uint64(h) | uint64(l)<<32
	top := (m * 10486 >> 20) & (0x7f<<32 | 0x7f)
	bot := m - 100*top
	hund := bot<<16 | top
	tens := (hund * 103 >> 10) & (0xf<<48 | 0xf<<32 | 0xf<<16 | 0xf)
	return tens | (hund-10*tens)<<8
}

// pow10u64 holds 10^0 to 10^19.
var pow10u64 = [20]uint64{
	1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9,
	1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19,
}
