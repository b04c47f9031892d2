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
			gotInf := subDiv(got, src, ms[0], ms[1])
			wantInf := subDivGeneric(want, src, ms[0], ms[1])
			anyInf := false
			for _, y := range want {
				anyInf = anyInf || math.IsInf(y, 0)
			}
			if gotInf != anyInf || wantInf != anyInf {
				t.Fatalf("n=%d m=%v s=%v: reported an infinite result %v (generic %v), the results hold one: %v", n, ms[0], ms[1], gotInf, wantInf, anyInf)
			}
			for i := range want {
				if math.Float64bits(got[i]) != math.Float64bits(want[i]) && !(math.IsNaN(got[i]) && math.IsNaN(want[i])) {
					t.Fatalf("n=%d m=%v s=%v i=%d x=%v: got %v, want %v", n, ms[0], ms[1], i, src[i], got[i], want[i])
				}
			}
			inPlace := append([]float64(nil), src...)
			if subDiv(inPlace, inPlace, ms[0], ms[1]) != anyInf {
				t.Fatalf("in place n=%d: reported an infinite result %v, want %v", n, !anyInf, anyInf)
			}
			for i := range want {
				if math.Float64bits(inPlace[i]) != math.Float64bits(want[i]) && !(math.IsNaN(inPlace[i]) && math.IsNaN(want[i])) {
					t.Fatalf("in place n=%d i=%d: got %v, want %v", n, i, inPlace[i], want[i])
				}
			}
		}
	}
	t.Logf("AVX2: %v", hasAVX2)
}

// TestSubDivReportsLoneOverflow puts one overflowing value (1e300 with a
// scale of 1e-10: 1e310 is past float64's range) at every position of
// lengths that exercise the vector loop and the tail, among finite
// results and NaN, and checks that subDiv reports it, and reports nothing
// without it.
func TestSubDivReportsLoneOverflow(t *testing.T) {
	for _, n := range []int{1, 3, 8, 9, 15, 16, 17} {
		for pos := -1; pos < n; pos++ {
			src := make([]float64, n)
			for i := range src {
				src[i] = []float64{1, math.NaN(), -3, math.MaxFloat64 * 1e-10}[i%4]
			}
			if pos >= 0 {
				src[pos] = []float64{1e300, -1e300}[pos%2]
			}
			dst := make([]float64, n)
			if got := subDiv(dst, src, 0, 1e-10); got != (pos >= 0) {
				t.Fatalf("n=%d overflow at %d: subDiv reported %v", n, pos, got)
			}
			if pos >= 0 && !math.IsInf(dst[pos], 0) {
				t.Fatalf("n=%d: 1e300/1e-10 gave %v, want ±Inf", n, dst[pos])
			}
		}
	}
}
