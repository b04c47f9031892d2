package drift

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// benchSamples returns a reference of n values and a current sample of
// 1e6 values, shifted by 0.01.
func benchSamples(n int) (ref, cur []float64) {
	r := rand.New(rand.NewPCG(1, 2))
	ref = make([]float64, n)
	for i := range ref {
		ref[i] = r.NormFloat64()
	}
	cur = make([]float64, 1_000_000)
	for i := range cur {
		cur[i] = r.NormFloat64() + 0.01
	}
	return ref, cur
}

func benchmarkTwoSample(b *testing.B, f func(ref, cur []float64) (Result, error)) {
	for _, n := range []int{1_000, 10_000, 100_000, 1_000_000} {
		ref, cur := benchSamples(n)
		b.Run(fmt.Sprintf("%dvs1e6", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := f(ref, cur); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkKS(b *testing.B)          { benchmarkTwoSample(b, KS) }
func BenchmarkWasserstein(b *testing.B) { benchmarkTwoSample(b, Wasserstein) }
