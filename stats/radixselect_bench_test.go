package stats

import (
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
