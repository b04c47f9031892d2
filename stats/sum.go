package stats

import (
	"encoding/binary"
	"errors"
	"math"
	"math/big"
)

// The superaccumulator holds the exact sum as a fixed-point integer in
// units of 2^-1074 (the smallest subnormal), split into signed 64-bit limbs
// that each carry 32 bits of weight: limb i weighs 2^(32*i - 1074). A
// float64 is m * 2^p (in those units) with a 53-bit m and 0 <= p <= 2045, so
// it lands in at most three neighbouring limbs. Carries are not propagated
// on every add: a limb grows by less than 2^32 per add, so 2^30 adds fit in
// an int64 before normalize must run.
const (
	limbBits      = 32
	limbMask      = 1<<limbBits - 1
	numLimbs      = 68 // 2045/32 + 3 limbs for the mantissa, 2 for carries
	maxPending    = 1 << 30
	interleaveMin = 64 // shortest slice AddSlice sums in two limb arrays
	sumVersion    = 1
	sumMaxTop     = 1 << 40 // bound on a decoded top limb
	flagNaN       = 1 << 0
	flagPosInf    = 1 << 1
	flagNegInf    = 1 << 2
	allFlags      = flagNaN | flagPosInf | flagNegInf
	fracBits      = 52
	expMask       = 0x7ff
	fracMask      = 1<<fracBits - 1
	scaleExp      = -1074
	sumMinBytes   = 2
)

// Sum is an exact accumulator of float64 values (a superaccumulator). It
// keeps the sum of every value added as an exact fixed-point integer that
// covers the whole float64 range, so the result does not depend on the
// order of additions and merges and Float64 returns the exact sum correctly
// rounded to nearest, ties to even.
//
// Special values follow IEEE arithmetic on the exact sum: adding NaN makes
// the sum NaN (callers that skip missing values must do so before Add);
// +Inf and -Inf give ±Inf, and both together give NaN; a finite exact sum
// beyond the float64 range rounds to ±Inf.
//
// The zero value is an empty sum (0). Sum is not safe for concurrent use;
// accumulate per goroutine and Merge.
type Sum struct {
	limbs   [numLimbs]int64
	pending int // adds since the limbs were last normalized
	flags   uint8
}

// Add adds x to the sum exactly.
func (s *Sum) Add(x float64) {
	if s.pending >= maxPending {
		s.normalize()
	}
	s.pending++
	s.add(math.Float64bits(x))
}

// add adds the float64 with bit pattern b, without bookkeeping.
func (s *Sum) add(b uint64) {
	if !addBits(&s.limbs, b) {
		s.addSpecial(b)
	}
}

// addBits adds the finite float64 with bit pattern b to the limbs l and
// reports true, or reports false for NaN and ±Inf, leaving l alone. The
// sign is applied without a branch, (v ^ neg) - neg, so random signs cost
// no mispredictions.
func addBits(l *[numLimbs]int64, b uint64) bool {
	e := (b >> fracBits) & expMask
	if e == expMask {
		return false
	}
	m := b & fracMask
	if e != 0 {
		m |= 1 << fracBits
	} else {
		e = 1 // subnormal (or zero): no implicit bit, same scale as e = 1
	}
	p := uint(e - 1)
	i := p / limbBits
	sh := p % limbBits
	lo := m << sh
	hi := m >> (64 - sh) // zero when sh == 0 (Go shifts by >= 64 give 0)
	neg := int64(b) >> 63
	w := l[i : i+3 : i+3]
	w[0] += (int64(lo&limbMask) ^ neg) - neg
	w[1] += (int64(lo>>limbBits) ^ neg) - neg
	w[2] += (int64(hi) ^ neg) - neg
	return true
}

func (s *Sum) addSpecial(b uint64) {
	switch {
	case b&fracMask != 0:
		s.flags |= flagNaN
	case int64(b) < 0:
		s.flags |= flagNegInf
	default:
		s.flags |= flagPosInf
	}
}

// AddSlice adds every value of xs exactly; it equals calling Add on each.
//
// Long slices are summed into two limb arrays, alternating values, so that
// consecutive values of similar magnitude do not wait on each other's limb
// updates; the second array is folded in at the end.
func (s *Sum) AddSlice(xs []float64) {
	for len(xs) > 0 {
		if s.pending >= maxPending-2 {
			s.normalize()
		}
		k := min(len(xs), maxPending-2-s.pending)
		if k < interleaveMin {
			s.pending += k
			for _, x := range xs[:k] {
				s.add(math.Float64bits(x))
			}
			xs = xs[k:]
			continue
		}
		var aux [numLimbs]int64
		k &^= 1
		pairs := xs[:k]
		for j := 0; j+1 < len(pairs); j += 2 {
			b0, b1 := math.Float64bits(pairs[j]), math.Float64bits(pairs[j+1])
			if !addBits(&s.limbs, b0) {
				s.addSpecial(b0)
			}
			if !addBits(&aux, b1) {
				s.addSpecial(b1)
			}
		}
		normalizeLimbs(&aux)
		for i, v := range aux {
			s.limbs[i] += v
		}
		s.pending += k/2 + 1
		xs = xs[k:]
	}
}

// Merge adds the values accumulated in o to s; o is not modified.
func (s *Sum) Merge(o *Sum) {
	other := o.limbs
	normalizeLimbs(&other)
	s.normalize()
	for i := range s.limbs {
		s.limbs[i] += other[i]
	}
	s.pending = 2
	s.flags |= o.flags
}

// normalize propagates carries so that every limb but the last lies in
// [0, 2^32); the last limb carries the sign.
func (s *Sum) normalize() {
	normalizeLimbs(&s.limbs)
	s.pending = 0
}

func normalizeLimbs(l *[numLimbs]int64) {
	var carry int64
	for i := 0; i < numLimbs-1; i++ {
		v := l[i] + carry
		carry = v >> limbBits // arithmetic shift: floor division
		l[i] = v & limbMask
	}
	l[numLimbs-1] += carry
}

// special returns the sum's value when a NaN or an infinity was added.
func (s *Sum) special() (float64, bool) {
	switch {
	case s.flags&flagNaN != 0, s.flags&(flagPosInf|flagNegInf) == flagPosInf|flagNegInf:
		return math.NaN(), true
	case s.flags&flagPosInf != 0:
		return math.Inf(1), true
	case s.flags&flagNegInf != 0:
		return math.Inf(-1), true
	}
	return 0, false
}

// Int returns the exact finite part of the sum as an integer multiple of
// 2^-1074: sum = Int() * 2^-1074. It ignores NaN and infinities.
func (s *Sum) Int() *big.Int {
	l := s.limbs
	normalizeLimbs(&l)
	z := big.NewInt(l[numLimbs-1])
	var w big.Int
	for i := numLimbs - 2; i >= 0; i-- {
		z.Lsh(z, limbBits)
		z.Add(z, w.SetInt64(l[i]))
	}
	return z
}

// Float64 returns the exact sum rounded to the nearest float64, ties to
// even. An empty sum is +0; an exact sum of zero is +0 as well (not -0).
func (s *Sum) Float64() float64 {
	if v, ok := s.special(); ok {
		return v
	}
	return scaledFloat64(s.Int(), scaleExp)
}

// scaledFloat64 rounds z * 2^exp to the nearest float64, ties to even.
func scaledFloat64(z *big.Int, exp int) float64 {
	if z.Sign() == 0 {
		return 0
	}
	var f big.Float
	f.SetInt(z) // exact: precision grows to the integer's bit length
	f.SetMantExp(&f, exp)
	v, _ := f.Float64() // nearest even, subnormals and overflow to ±Inf handled
	return v
}

// MarshalBinary encodes the sum exactly: a version byte, the special-value
// flags, then the normalized limbs from the lowest nonzero one as signed
// varints.
func (s *Sum) MarshalBinary() ([]byte, error) {
	l := s.limbs
	normalizeLimbs(&l)
	lo, hi := 0, numLimbs
	for lo < hi && l[lo] == 0 {
		lo++
	}
	for hi > lo && l[hi-1] == 0 {
		hi--
	}
	out := make([]byte, 0, sumMinBytes+2*binary.MaxVarintLen64+(hi-lo)*5)
	out = append(out, sumVersion, s.flags)
	out = binary.AppendUvarint(out, uint64(lo))
	out = binary.AppendUvarint(out, uint64(hi-lo))
	for _, v := range l[lo:hi] {
		out = binary.AppendVarint(out, v)
	}
	return out, nil
}

// errSumEncoding is returned for bytes that MarshalBinary cannot have written.
var errSumEncoding = errors.New("stats: invalid Sum encoding")

// UnmarshalBinary decodes a sum written by MarshalBinary, replacing s. It
// rejects malformed or out-of-range input with an error.
func (s *Sum) UnmarshalBinary(data []byte) error {
	if len(data) < sumMinBytes || data[0] != sumVersion || data[1]&^allFlags != 0 {
		return errSumEncoding
	}
	var d Sum
	d.flags = data[1]
	rest := data[sumMinBytes:]
	lo, k := binary.Uvarint(rest)
	if k <= 0 {
		return errSumEncoding
	}
	rest = rest[k:]
	n, k := binary.Uvarint(rest)
	if k <= 0 || lo > numLimbs || n > numLimbs-lo {
		return errSumEncoding
	}
	rest = rest[k:]
	for i := int(lo); i < int(lo+n); i++ {
		v, k := binary.Varint(rest)
		if k <= 0 {
			return errSumEncoding
		}
		rest = rest[k:]
		if i < numLimbs-1 && (v < 0 || v > limbMask) || i == numLimbs-1 && (v > sumMaxTop || v < -sumMaxTop) {
			return errSumEncoding
		}
		d.limbs[i] = v
	}
	if len(rest) != 0 {
		return errSumEncoding
	}
	d.pending = 1
	*s = d
	return nil
}
