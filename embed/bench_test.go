package embed

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// synthetic returns n anisotropic unit vectors of dimension d: a common
// mean direction plus 32 latent factors of decaying scale plus noise,
// L2-normalized, as sentence-embedding models produce. Deterministic.
func synthetic(n, d int, seed uint64) Matrix { return syntheticModel(n, d, seed, 1, true) }

// syntheticModel is synthetic with the "model" (mean and factors) drawn
// from model, and the L2 normalization optional.
func syntheticModel(n, d int, seed, model uint64, unit bool) Matrix {
	const r = 32
	rng := rand.New(rand.NewPCG(seed, 77))
	basis := rand.New(rand.NewPCG(model, 78))
	mu := make([]float64, d)
	for a := range mu {
		mu[a] = basis.NormFloat64() * 0.5
	}
	f := make([]float64, r*d)
	for i := range f {
		f[i] = basis.NormFloat64() / (1 + float64(i/d))
	}
	m := Matrix{Rows: n, Dim: d, Data: make([]float64, n*d)}
	z := make([]float64, r)
	for i := 0; i < n; i++ {
		row := m.Row(i)
		copy(row, mu)
		for j := range z {
			z[j] = rng.NormFloat64()
		}
		for j := 0; j < r; j++ {
			axpy(row, z[j], f[j*d:(j+1)*d])
		}
		for a := range row {
			row[a] += 0.3 * rng.NormFloat64()
		}
		if unit {
			normalize(row)
		}
	}
	return m
}

// BenchmarkCheck checks 100,000 vectors of 768 dimensions against a
// contract, streamed through a Checker in batches of 10,000 (the memory
// a streaming reader of a large .npy would hold).
func BenchmarkCheck(b *testing.B) {
	const d, batch, total = 768, 10000, 100000
	con, err := Fit(synthetic(5000, d, 1), FitOptions{Dtype: DtypeFloat32})
	if err != nil {
		b.Fatal(err)
	}
	m := synthetic(batch, d, 2)
	b.SetBytes(total * d * 4) // as float32 on disk
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		k, _ := NewChecker(con, d, CheckOptions{})
		for r := 0; r < total; r += batch {
			if err := k.Add(m); err != nil {
				b.Fatal(err)
			}
		}
		fs, err := k.Findings()
		if err != nil || len(fs) != 0 {
			b.Fatalf("findings %v, err %v on clean vectors", codes(fs), err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/total, "ns/vector")
}

// BenchmarkMMD: MMD² with the median heuristic and 200 permutations on
// 2 × 2,000 vectors, and its two parts.
func BenchmarkMMD(b *testing.B) {
	for _, d := range []int{100, 768} {
		x, y := synthetic(2000, d, 3), synthetic(2000, d, 4)
		b.Run(fmt.Sprintf("d=%d/full", d), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				t, h := buildMMD(x, y, 0)
				obs := t.stat(seq(2000, 4000))
				if p := t.pValue(obs, DefaultPermutations, 1); math.IsNaN(p) || h <= 0 {
					b.Fatal(p, h)
				}
			}
		})
		b.Run(fmt.Sprintf("d=%d/distances", d), func(b *testing.B) {
			z := append(append([]float64(nil), x.Data...), y.Data...)
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				sqDistances(z, 4000, d)
			}
		})
		b.Run(fmt.Sprintf("d=%d/permutations", d), func(b *testing.B) {
			t, _ := buildMMD(x, y, 0)
			obs := t.stat(seq(2000, 4000))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				t.pValue(obs, DefaultPermutations, 1)
			}
		})
	}
}

// BenchmarkDrift: every drift method on 2 × 1,000 (the default sample)
// vectors of 768 dimensions.
func BenchmarkDrift(b *testing.B) {
	x, y := synthetic(1000, 768, 5), synthetic(1000, 768, 6)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := Drift(x, y, DriftOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFit fits a contract on 20,000 vectors of 768 dimensions.
func BenchmarkFit(b *testing.B) {
	m := synthetic(20000, 768, 7)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := Fit(m, FitOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
