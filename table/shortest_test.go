package table

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
)

// TestAppendShortestMatchesStrconv checks the fast formatter against
// strconv.AppendFloat (precision -1, the exact shortest digits) byte for
// byte: random bit patterns over every exponent, values made from short
// decimals (where the shortest digits are few and a wrong choice shows),
// integers, powers of two and ten and their neighbours, and the layout
// switch points.
func TestAppendShortestMatchesStrconv(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	n := 0
	check := func(v float64) {
		t.Helper()
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return
		}
		n++
		for _, fixed := range []bool{true, false} {
			got := string(appendShortest(nil, v, fixed))
			want := string(appendStrconv(nil, v, fixed))
			if got != want {
				t.Fatalf("appendShortest(%b = %v, fixed %v): got %q, want %q (strconv)", v, v, fixed, got, want)
			}
		}
	}
	near := func(v float64) {
		check(v)
		check(-v)
		up, down := v, v
		for range 3 {
			up, down = math.Nextafter(up, math.Inf(1)), math.Nextafter(down, 0)
			check(up)
			check(down)
		}
	}
	for e := -1074; e <= 1023; e++ {
		near(math.Ldexp(1, e))
	}
	for e := -323; e <= 308; e++ {
		v, err := strconv.ParseFloat("1e"+strconv.Itoa(e), 64)
		if err == nil {
			near(v)
		}
	}
	for _, v := range []float64{1e-4, 1e16, 1 << 53, 1<<53 + 2, math.MaxFloat64, 0x1p-1022, 123456789.123, 0.1, 0.2, 0.3} {
		near(v)
	}
	for range 300000 {
		check(math.Float64frombits(rng.Uint64()))
		// A decimal of 1 to 17 significant digits at a random exponent.
		digits := rng.IntN(17) + 1
		m := rng.Uint64N(uint64(math.Pow10(digits)))
		v, err := strconv.ParseFloat(strconv.FormatUint(m, 10)+"e"+strconv.Itoa(rng.IntN(640)-330), 64)
		if err == nil {
			check(v)
		}
		check(rng.NormFloat64())
		check(float64(rng.Int64N(1 << 53)))
		check(math.Ldexp(rng.Float64(), rng.IntN(120)-60))
	}
	t.Logf("%d values, both layouts", n)
}

// BenchmarkAppendFloat formats standard normal values (what a scaler
// writes), against strconv on the same values.
func BenchmarkAppendFloat(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	xs := make([]float64, 1<<14)
	for i := range xs {
		xs[i] = rng.NormFloat64()
	}
	for _, bc := range []struct {
		name string
		fn   func([]byte, float64) []byte
	}{
		{"normguard", AppendFloat},
		{"strconv", func(dst []byte, v float64) []byte { return appendStrconv(dst, v, true) }},
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
