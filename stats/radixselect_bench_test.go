package stats

import (
	"math"
	"math/rand/v2"
	"testing"
)

func BenchmarkRadixSelect1e6(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	xs := make([]float64, 1_000_000)
	for i := range xs {
		xs[i] = 50 + 10*rng.NormFloat64()
	}
	ranks := []int{249999, 250000, 499999, 500000, 749999, 750000}
	b.ReportAllocs()
	for b.Loop() {
		radixSelect(xs, ranks)
	}
}

func BenchmarkQuantilesOf201(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	xs := make([]float64, 1_000_000)
	for i := range xs {
		xs[i] = 50 + 10*rng.NormFloat64()
	}
	ps := make([]float64, 201)
	for i := range ps {
		ps[i] = float64(i) / 200
	}
	b.ReportAllocs()
	for b.Loop() {
		QuantilesOf(xs, ps)
	}
}

// BenchmarkRadixSelectMedian selects the median of a million values
// shaped like the benchmark table's columns (1% NaN): normal and
// log-normal values rounded to a few decimals, and Poisson-like counts
// (long runs of one value, which narrow digit by digit).
func BenchmarkRadixSelectMedian(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 4))
	gens := []struct {
		name string
		f    func() float64
	}{
		{"norm", func() float64 { return math.Round((-37+21*rng.NormFloat64())*1e6) / 1e6 }},
		{"lognorm", func() float64 { return math.Round(math.Exp(1.5+0.9*rng.NormFloat64())*1e4) / 1e4 }},
		{"count", func() float64 { return max(0, math.Round(120+11*rng.NormFloat64())) }},
	}
	for _, g := range gens {
		xs := make([]float64, 1_000_000)
		n := 0
		for i := range xs {
			xs[i] = g.f()
			if rng.IntN(100) == 0 {
				xs[i] = math.NaN()
			} else {
				n++
			}
		}
		ranks := []int{(n - 1) / 2, n / 2}
		if ranks[0] == ranks[1] {
			ranks = ranks[:1]
		}
		b.Run(g.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				radixSelect(xs, ranks)
			}
		})
	}
}
