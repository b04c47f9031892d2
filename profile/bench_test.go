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

// benchColumns are columns of a million values shaped like the benchmark
// table's (bench/gendata): normal, log-normal and uniform values rounded
// to a few decimals, Poisson counts (many ties, long runs of equal
// bins), 1% missing; and a standardized output column (its missing
// values imputed with one value).
func benchColumns() []struct {
	name string
	xs   []float64
} {
	rng := rand.New(rand.NewPCG(20240601, 7))
	round := func(x float64, d int) float64 { p := math.Pow10(d); return math.Round(x*p) / p }
	gen := func(f func() float64) []float64 {
		xs := make([]float64, 1_000_000)
		for i := range xs {
			xs[i] = f()
			if rng.Float64() < 0.01 {
				xs[i] = math.NaN()
			}
		}
		return xs
	}
	norm := gen(func() float64 { return round(-37+21*rng.NormFloat64(), 6) })
	scaled := make([]float64, len(norm))
	for i, x := range norm {
		if x != x {
			x = -37
		}
		scaled[i] = (x + 37) / 21
	}
	return []struct {
		name string
		xs   []float64
	}{
		{"norm", norm},
		{"lognorm", gen(func() float64 { return round(math.Exp(1.5+0.9*rng.NormFloat64()), 4) })},
		{"unif", gen(func() float64 { return round(-4+530*rng.Float64(), 6) })},
		{"count", gen(func() float64 { return max(0, math.Round(120+math.Sqrt(120)*rng.NormFloat64())) })},
		{"count_small", gen(func() float64 { return max(0, math.Round(3+math.Sqrt(3)*rng.NormFloat64())) })},
		{"scaled", scaled},
	}
}

// BenchmarkNumericCounts times the second pass's grid counts and
// histogram (NumericCounts.count) on a million values.
func BenchmarkNumericCounts(b *testing.B) {
	for _, c := range benchColumns() {
		b.Run(c.name, func(b *testing.B) {
			a := NewNumericAcc(int64(len(c.xs)))
			a.Add(0, c.xs)
			p := a.Plan()
			b.ReportAllocs()
			for b.Loop() {
				counts := p.Counts()
				counts.count(c.xs)
			}
		})
	}
}

// BenchmarkNumericPasses times a numeric column's profile pass by pass
// on a million values shaped like the benchmark table's.
func BenchmarkNumericPasses(b *testing.B) {
	for _, c := range benchColumns() {
		b.Run(c.name+"/first", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				a := NewNumericAcc(int64(len(c.xs)))
				a.Add(0, c.xs)
			}
		})
		a := NewNumericAcc(int64(len(c.xs)))
		a.Add(0, c.xs)
		b.Run(c.name+"/plan", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				a.Plan()
			}
		})
		p := a.Plan()
		b.Run(c.name+"/second", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				counts := p.Counts()
				if err := counts.Add(0, c.xs); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
