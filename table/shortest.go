package table

import (
	"math"
	"math/bits"
	"strconv"
)

// appendShortest appends v (finite) in AppendFloat's layout, with the
// shortest digits that parse back to exactly v, as strconv.AppendFloat
// with precision -1 gives them. Normal values with regular spacing (every
// finite value but subnormals and exact powers of two) take the fast path
// below; the rest go through strconv.
//
// The fast path is Raffaello Giulietti's Schubfach algorithm ("The
// Schubfach way to render doubles", 2020; the JDK's DoubleToDecimal since
// Java 19): with v = c·2^q and the rounding interval [c-½, c+½]·2^q, it
// picks k = floor(log10(2^q)) so that the interval scaled by 10^-k holds
// at least one integer of at most 17 digits, computes the scaled bounds
// from a 126-bit approximation g of 10^-k (rounded up, so the result is
// exact: section 9 of the paper), and returns the shorter of s' = 10·⌊s/10⌋
// and t' = s'+10 when exactly one lies inside, else the one of s and s+1
// inside, else the nearer (ties to even). strconv's Ryū/Dragonbox-based
// code returns the same digits (TestAppendShortestMatchesStrconv); this
// one is about twice as fast, and formatting is most of a CSV write.
func appendShortest(dst []byte, v float64, fixed bool) []byte {
	b := math.Float64bits(v)
	bq := int(b>>52) & 0x7ff
	t := b & (1<<52 - 1)
	if bq == 0 || t == 0 {
		// Zero, subnormals and powers of two (irregular spacing).
		return appendStrconv(dst, v, fixed)
	}
	if b>>63 != 0 {
		dst = append(dst, '-')
	}
	c := 1<<52 | t
	mq := 1075 - bq // v = c·2^-mq
	if 0 < mq && mq < 53 {
		if f := c >> mq; f<<mq == c {
			return appendDecimal(dst, f, 0, fixed)
		}
	}
	f, e := schubfach(bq-1075, c)
	return appendDecimal(dst, f, e, fixed)
}

// appendStrconv is appendShortest by strconv.
func appendStrconv(dst []byte, v float64, fixed bool) []byte {
	if fixed {
		return strconv.AppendFloat(dst, v, 'f', -1, 64)
	}
	return strconv.AppendFloat(dst, v, 'e', -1, 64)
}

// schubfach returns the shortest f·10^e inside v = c·2^q's rounding
// interval (regular spacing: c is not 2^52), the nearest on a choice.
func schubfach(q int, c uint64) (uint64, int) {
	out := c & 1
	cb := c << 2
	cbr := cb + 2
	cbl := cb - 2
	k := flog10pow2(q)
	h := q + flog2pow10(-k) + 2
	g := &pow10Table[k-minPow10]
	vb := rop(g[0], g[1], cb<<h)
	vbl := rop(g[0], g[1], cbl<<h)
	vbr := rop(g[0], g[1], cbr<<h)
	s := vb >> 2
	// The choices below are made with masks, not branches: which one
	// applies depends on the value's low digits, which a branch predictor
	// cannot guess (they cost a misprediction every few values).
	tt := s + 1
	cmp := int64(vb - (s+tt)<<1)
	// The nearer of s and s+1, ties to even.
	r := tt - (b2u(cmp < 0) | b2u(cmp == 0)&^s&1)
	// Exactly one of s and s+1 inside: that one.
	uin := b2u(vbl+out <= s<<2)
	win := b2u(tt<<2+out <= vbr)
	r = choose(uin^win, tt-uin, r)
	// Exactly one of s' = 10·⌊s/10⌋ and t' = s'+10 inside: that one,
	// shorter by a digit.
	hi, _ := bits.Mul64(s, 115292150460684698<<4)
	sp10 := 10 * hi
	tp10 := sp10 + 10
	upin := b2u(vbl+out <= sp10<<2)
	wpin := b2u(tp10<<2+out <= vbr)
	r = choose((upin^wpin)&b2u(s >= 100), tp10-10*upin, r)
	return r, k
}

// b2u is 1 for true, 0 for false.
func b2u(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

// choose returns a when c is 1 and b when c is 0.
func choose(c, a, b uint64) uint64 {
	m := -c
	return a&m | b&^m
}

// rop is the paper's round-to-odd product of g = g1·2^63 + g0 and cp,
// divided by 2^127.
func rop(g1, g0, cp uint64) uint64 {
	x1, _ := bits.Mul64(g0, cp)
	y1, y0 := bits.Mul64(g1, cp)
	z := y0>>1 + x1
	vbp := y1 + z>>63
	return vbp | ((z&(1<<63-1))+(1<<63-1))>>63
}

// flog10pow2 is floor(log10(2^e)) for |e| <= 5456721.
func flog10pow2(e int) int { return int(int64(e) * 661971961083 >> 41) }

// flog2pow10 is floor(log2(10^e)) for |e| <= 1838394.
func flog2pow10(e int) int { return int(int64(e) * 913124641741 >> 38) }

// The range of k = flog10pow2(q) over normal doubles.
const (
	minPow10 = -324
	maxPow10 = 292
)

// pow10Table (shortest_table.go) holds, for k in [minPow10, maxPow10],
// g = ⌊10^-k·2^-r⌋ + 1 with r = flog2pow10(-k) - 125 (so 2^125 <= g <
// 2^126), split as {g >> 63, g & (2^63-1)}. It is written out as a
// literal, so that formatting a value reads it without a call;
// TestPow10Table recomputes it exactly with math/big (and rewrites the
// file with -write-pow10).

// appendDecimal appends f·10^e (f > 0) in fixed notation or in strconv's
// 'e' notation (d.ddde±XX, at least two exponent digits).
func appendDecimal(dst []byte, f uint64, e int, fixed bool) []byte {
	for f%10 == 0 {
		f /= 10
		e++
	}
	var buf [24]byte
	i := len(buf)
	for f >= 1e8 {
		// Eight digits at a time in 32-bit arithmetic.
		q := f / 1e8
		i = put8(&buf, i, uint32(f-q*1e8))
		f = q
	}
	for x := uint32(f); ; {
		if x < 10 {
			i--
			buf[i] = byte('0' + x)
			break
		}
		q := x / 100
		d := x - q*100
		i -= 2
		buf[i], buf[i+1] = digitPairs[2*d], digitPairs[2*d+1]
		if x = q; x == 0 {
			if buf[i] == '0' {
				i++ // a single digit was written as a pair
			}
			break
		}
	}
	digits := buf[i:]
	n := len(digits)
	if !fixed {
		dst = append(dst, digits[0])
		if n > 1 {
			dst = append(dst, '.')
			dst = append(dst, digits[1:]...)
		}
		exp := e + n - 1
		dst = append(dst, 'e')
		if exp < 0 {
			dst = append(dst, '-')
			exp = -exp
		} else {
			dst = append(dst, '+')
		}
		if exp < 10 {
			return append(dst, '0', byte('0'+exp))
		}
		if exp < 100 {
			return append(dst, digitPairs[2*exp], digitPairs[2*exp+1])
		}
		return append(dst, byte('0'+exp/100), digitPairs[2*(exp%100)], digitPairs[2*(exp%100)+1])
	}
	point := n + e // digits before the decimal point
	switch {
	case point <= 0:
		dst = append(dst, '0', '.')
		for range -point {
			dst = append(dst, '0')
		}
		return append(dst, digits...)
	case point >= n:
		dst = append(dst, digits...)
		for range point - n {
			dst = append(dst, '0')
		}
		return dst
	default:
		dst = append(dst, digits[:point]...)
		dst = append(dst, '.')
		return append(dst, digits[point:]...)
	}
}

// put8 writes x's eight digits (with leading zeros) into buf ending at i
// and returns where they start.
func put8(buf *[24]byte, i int, x uint32) int {
	for range 4 {
		q := x / 100
		d := x - q*100
		i -= 2
		buf[i], buf[i+1] = digitPairs[2*d], digitPairs[2*d+1]
		x = q
	}
	return i
}

// digitPairs holds "00" to "99".
const digitPairs = "00010203040506070809101112131415161718192021222324252627282930313233343536373839" +
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879" +
	"8081828384858687888990919293949596979899"
