package drift

import (
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
)

// TestSortedSamples checks that the shared-sort helpers give exactly what
// KS, WassersteinNormed and numericPlot give on the same samples.
func TestSortedSamples(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	gen := map[string]func(n int) []float64{
		"normal": func(n int) []float64 {
			out := make([]float64, n)
			for i := range out {
				out[i] = r.NormFloat64()
			}
			return out
		},
		"ties with NaN": func(n int) []float64 {
			out := make([]float64, n)
			for i := range out {
				out[i] = float64(r.IntN(7))
				if i > 0 && r.IntN(10) == 0 {
					out[i] = math.NaN()
				}
			}
			return out
		},
		"constant": func(n int) []float64 {
			out := make([]float64, n)
			for i := range out {
				out[i] = 2.5
			}
			return out
		},
		"infinities": func(n int) []float64 {
			out := make([]float64, n)
			for i := range out {
				out[i] = r.NormFloat64()
				if r.IntN(50) == 0 {
					out[i] = math.Inf(1)
				}
			}
			return out
		},
	}
	for name, g := range gen {
		for _, size := range [][2]int{{2, 1}, {7, 3}, {300, 1000}, {70000, 90000}} {
			ref, cur := g(size[0]), g(size[1])
			s, err := newSortedSamples("auto", ref, cur)
			if err != nil {
				t.Fatalf("%s %v: %v", name, size, err)
			}
			ks, wn := s.auto(ref)
			wantKS, _ := KS(ref, cur)
			wantWN, _ := WassersteinNormed(ref, cur)
			if !sameResult(ks, wantKS) || !sameResult(wn, wantWN) {
				t.Errorf("%s %v auto: got %+v %+v, want %+v %+v", name, size, ks, wn, wantKS, wantWN)
			}
			got := s.plot()
			if name == "infinities" {
				// The window ends at the largest finite value: finite
				// edges, the +Inf values in no bin.
				for _, e := range got.Edges {
					if math.IsInf(e, 0) || math.IsNaN(e) {
						t.Fatalf("%s %v plot: got edges %v, want finite ones", name, size, got.Edges)
					}
				}
			}
			if want := numericPlot(DropNaN(ref), DropNaN(cur)); !reflect.DeepEqual(got, want) {
				t.Errorf("%s %v plot: got %+v, want %+v", name, size, got, want)
			}
		}
	}
}

func sameResult(a, b Result) bool {
	same := func(x, y float64) bool { return x == y || (math.IsNaN(x) && math.IsNaN(y)) }
	return same(a.Statistic, b.Statistic) && same(a.PValue, b.PValue) && a.Exact == b.Exact && a.DF == b.DF
}

func TestKthOfTwo(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for trial := 0; trial < 200; trial++ {
		a := make([]float64, r.IntN(20))
		b := make([]float64, 1+r.IntN(20))
		for i := range a {
			a[i] = float64(r.IntN(10))
		}
		for i := range b {
			b[i] = float64(r.IntN(10))
		}
		pooled := append(append([]float64(nil), a...), b...)
		sortBoth(a, b)
		sortBoth(pooled, nil)
		for k := range pooled {
			if got := kthOfTwo(a, b, k); got != pooled[k] {
				t.Fatalf("kthOfTwo(%v, %v, %d): got %v, want %v", a, b, k, got, pooled[k])
			}
		}
	}
}
