package profile

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

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

// BenchmarkTimeColumn1e6 profiles a million minute timestamps over half a
// year (about 260,000 distinct values, as the flights' date column), the
// time layout detection and summary included.
func BenchmarkTimeColumn1e6(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	start := time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)
	s := make([]string, 1_000_000)
	for i := range s {
		s[i] = start.Add(time.Duration(rng.IntN(181*24*60)) * time.Minute).Format("2006-01-02 15:04")
	}
	c := &table.Column{Name: "date", Kind: table.String, Str: s}
	b.ReportAllocs()
	for b.Loop() {
		Column(c)
	}
}

// BenchmarkIdentifierColumn1e6 profiles a million distinct ids (no time
// layout fits: each is given up after 1% of the values).
func BenchmarkIdentifierColumn1e6(b *testing.B) {
	s := make([]string, 1_000_000)
	for i := range s {
		s[i] = fmt.Sprintf("order-%08d", i*7919%1_000_003)
	}
	c := &table.Column{Name: "id", Kind: table.String, Str: s}
	b.ReportAllocs()
	for b.Loop() {
		Column(c)
	}
}
