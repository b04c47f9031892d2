package table

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
)

// appendFloatStrconv is AppendFloat's contract computed by strconv: the
// reference for the fast formatters.
func appendFloatStrconv(dst []byte, v float64) []byte {
	switch {
	case math.IsNaN(v):
		return dst
	case math.IsInf(v, 1):
		return append(dst, "inf"...)
	case math.IsInf(v, -1):
		return append(dst, "-inf"...)
	}
	a := math.Abs(v)
	return appendStrconv(dst, v, a == 0 || (a >= 1e-4 && a < 1e16))
}

// TestAppendFloatWideMatchesStrconv checks appendFloatWide (and
// AppendFloat) against strconv byte for byte: random bit patterns, random
// decimals of 1 to 17 digits around both layout switch points and
// everywhere, integers up to 2^53, every power of two and ten and their
// neighbours, and the special values. The bytes before the text are never
// touched; the bytes after it may be.
func TestAppendFloatWideMatchesStrconv(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 15))
	n := 0
	prefix := []byte("ab,")
	buf := make([]byte, 0, 64)
	check := func(v float64) {
		t.Helper()
		n++
		want := string(appendFloatStrconv(nil, v))
		buf = append(buf[:0], prefix...)
		got := appendFloatWide(buf, v)
		if string(got[:len(prefix)]) != string(prefix) || string(got[len(prefix):]) != want {
			t.Fatalf("appendFloatWide(%b = %v): got %q, want %q (strconv)", v, v, got, string(prefix)+want)
		}
		if s := string(AppendFloat(nil, v)); s != want {
			t.Fatalf("AppendFloat(%b = %v): got %q, want %q (strconv)", v, v, s, want)
		}
	}
	near := func(v float64) {
		for _, s := range []float64{v, -v} {
			check(s)
			up, down := s, s
			for range 4 {
				up, down = math.Nextafter(up, math.Inf(1)), math.Nextafter(down, math.Inf(-1))
				check(up)
				check(down)
			}
		}
	}
	for _, v := range []float64{0, math.NaN(), math.Inf(1), 5e-324, math.MaxFloat64, 0x1p-1022, 1e-4, 1e16, 1 << 53, 1<<53 + 2, 0.1, 0.5, 123456789.123, 9.5e-05, 99999999999999.99} {
		near(v)
	}
	for e := -1074; e <= 1023; e++ {
		near(math.Ldexp(1, e))
	}
	for e := -323; e <= 308; e++ {
		v, _ := strconv.ParseFloat("1e"+strconv.Itoa(e), 64)
		near(v)
		for _, m := range []string{"1.5", "9.999999999999999", "1.0000000000000002", "12345678901234567", "3"} {
			v, _ := strconv.ParseFloat(m+"e"+strconv.Itoa(e), 64)
			near(v)
		}
	}
	for range 1000000 {
		check(math.Float64frombits(rng.Uint64()))
		digits := rng.IntN(17) + 1
		m := rng.Uint64N(uint64(math.Pow10(digits)))
		exp := rng.IntN(640) - 330
		if rng.IntN(2) == 0 {
			exp = rng.IntN(40) - 25 // around the fixed range
		}
		if v, err := strconv.ParseFloat(strconv.FormatUint(m, 10)+"e"+strconv.Itoa(exp), 64); err == nil {
			check(v)
		}
		check(rng.NormFloat64())
		check(float64(rng.Int64N(1<<53)) * float64(1-2*rng.IntN(2)))
		check(math.Ldexp(rng.Float64(), rng.IntN(120)-60))
	}
	t.Logf("%d values", n)
}

func TestDigits8(t *testing.T) {
	for _, x := range []uint32{0, 1, 9, 10, 99, 100, 1234, 9999, 10000, 12345678, 99999999, 10000000, 90000009} {
		w := digits8(x)
		var b [8]byte
		for i := range b {
			b[i] = byte(w>>(8*i)) + '0'
		}
		if want := strconv.FormatUint(uint64(x)+1e8, 10)[1:]; string(b[:]) != want {
			t.Errorf("digits8(%d): got %q, want %q", x, b[:], want)
		}
	}
	rng := rand.New(rand.NewPCG(8, 8))
	for range 1000000 {
		x := rng.Uint32N(1e8)
		w := digits8(x)
		var got uint32
		for i := range 8 {
			got = got*10 + uint32(w>>(8*i)&0xff)
		}
		if got != x {
			t.Fatalf("digits8(%d) reads back %d", x, got)
		}
	}
}

// BenchmarkAppendFloatWide formats standard normal values as the CSV
// writer does, against AppendFloat and strconv.
func BenchmarkAppendFloatWide(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	xs := make([]float64, 1<<14)
	for i := range xs {
		xs[i] = rng.NormFloat64()
	}
	for _, bc := range []struct {
		name string
		fn   func([]byte, float64) []byte
	}{
		{"wide", appendFloatWide},
		{"AppendFloat", AppendFloat},
		{"strconv", appendFloatStrconv},
	} {
		b.Run(bc.name, func(b *testing.B) {
			buf := make([]byte, 0, 64)
			for b.Loop() {
				for _, x := range xs {
					buf = bc.fn(buf[:0], x)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(xs)), "ns/value")
		})
	}
}
