package profile

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/normguard/normguard/table"
)

func BenchmarkNumericColumn1e6(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	xs := make([]float64, 1_000_000)
	for i := range xs {
		xs[i] = 50 + 10*rng.NormFloat64()
		if i%100 == 0 {
			xs[i] = math.NaN()
		}
	}
	c := &table.Column{Name: "x", Kind: table.Numeric, Num: xs}
	b.ReportAllocs()
	for b.Loop() {
		Column(c)
	}
}

func BenchmarkCategoricalColumn1e6(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	labels := make([]string, 5000)
	for i := range labels {
		labels[i] = string(rune('a'+i%26)) + string(rune('a'+i/26%26)) + string(rune('a'+i/676))
	}
	s := make([]string, 1_000_000)
	for i := range s {
		s[i] = labels[int(float64(len(labels))*rng.Float64()*rng.Float64())]
	}
	c := &table.Column{Name: "c", Kind: table.String, Str: s}
	b.ReportAllocs()
	for b.Loop() {
		Column(c)
	}
}
