package stats

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestSortFloatsMatchesSlicesSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	gens := map[string]func() float64{
		"normal": func() float64 { return rng.NormFloat64() },
		"wide":   func() float64 { return math.Ldexp(rng.NormFloat64(), rng.IntN(2000)-1000) },
		"ties":   func() float64 { return float64(rng.IntN(7) - 3) },
		"bits": func() float64 {
			x := math.Float64frombits(rng.Uint64())
			if math.IsNaN(x) {
				return 1
			}
			return x
		},
		"subnormal": func() float64 { return math.Float64frombits(rng.Uint64() >> 12) },
		"inf":       func() float64 { return []float64{math.Inf(-1), math.Inf(1), 5, -5}[rng.IntN(4)] },
	}
	for name, gen := range gens {
		for _, n := range []int{0, 1, 100, radixMin, 5000} {
			xs := make([]float64, n)
			for i := range xs {
				xs[i] = gen()
			}
			want := slices.Clone(xs)
			slices.Sort(want)
			SortFloats(xs)
			for i := range xs {
				if xs[i] != want[i] {
					t.Fatalf("%s n=%d: index %d: got %v, want %v", name, n, i, xs[i], want[i])
				}
			}
			for i := 1; i < len(xs); i++ {
				if math.Signbit(xs[i-1]) == false && xs[i-1] == 0 && xs[i] == 0 && math.Signbit(xs[i]) {
					t.Fatalf("%s: +0 sorted before -0", name)
				}
			}
		}
	}
}

func BenchmarkSortFloats(b *testing.B) {
	for _, n := range []int{1e3, 1e4, 1e5, 1e6} {
		rng := rand.New(rand.NewPCG(1, 2))
		src := make([]float64, n)
		for i := range src {
			src[i] = math.Round(rng.NormFloat64()*1e6) / 1e6
		}
		xs := make([]float64, n)
		b.Run(itoa(n), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(8 * n))
			for b.Loop() {
				copy(xs, src)
				SortFloats(xs)
			}
		})
		b.Run(itoa(n)+"/slices.Sort", func(b *testing.B) {
			b.SetBytes(int64(8 * n))
			for b.Loop() {
				copy(xs, src)
				slices.Sort(xs)
			}
		})
	}
}

func itoa(n int) string {
	switch n {
	case 1e3:
		return "1e3"
	case 1e4:
		return "1e4"
	case 1e5:
		return "1e5"
	}
	return "1e6"
}
