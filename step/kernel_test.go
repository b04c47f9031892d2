package step

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestSubDivSameBitsAsScalar checks the vector kernel against the scalar
// expression bit for bit, over lengths that exercise the tail and values
// that include NaN, ±Inf, ±0 and subnormals.
func TestSubDivSameBitsAsScalar(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	special := []float64{math.NaN(), math.Inf(1), math.Inf(-1), 0, math.Copysign(0, -1), 5e-324, -2.2e-308, math.MaxFloat64}
	for _, n := range []int{0, 1, 3, 7, 8, 9, 16, 17, 1000} {
		src := make([]float64, n)
		for i := range src {
			if rng.IntN(5) == 0 {
				src[i] = special[rng.IntN(len(special))]
			} else {
				src[i] = math.Float64frombits(rng.Uint64())
			}
		}
		for _, ms := range [][2]float64{{0, 1}, {1e6, 3e-3}, {-2.5, 7}, {math.Float64frombits(rng.Uint64()), 0.1}} {
			got, want := make([]float64, n), make([]float64, n)
			subDiv(got, src, ms[0], ms[1])
			subDivGeneric(want, src, ms[0], ms[1])
			for i := range want {
				if math.Float64bits(got[i]) != math.Float64bits(want[i]) && !(math.IsNaN(got[i]) && math.IsNaN(want[i])) {
					t.Fatalf("n=%d m=%v s=%v i=%d x=%v: got %v, want %v", n, ms[0], ms[1], i, src[i], got[i], want[i])
				}
			}
			inPlace := append([]float64(nil), src...)
			subDiv(inPlace, inPlace, ms[0], ms[1])
			for i := range want {
				if math.Float64bits(inPlace[i]) != math.Float64bits(want[i]) && !(math.IsNaN(inPlace[i]) && math.IsNaN(want[i])) {
					t.Fatalf("in place n=%d i=%d: got %v, want %v", n, i, inPlace[i], want[i])
				}
			}
		}
	}
	t.Logf("AVX2: %v", hasAVX2)
}
