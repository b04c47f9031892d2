package finite

import (
	"math"
	"testing"
)

func TestAnyInf(t *testing.T) {
	for n := 0; n <= 19; n++ {
		for pos := -1; pos < n; pos++ {
			for _, v := range []float64{math.Inf(1), math.Inf(-1)} {
				xs := make([]float64, n)
				for i := range xs {
					xs[i] = []float64{1, math.NaN(), math.MaxFloat64, -0.0}[i%4]
				}
				want := false
				if pos >= 0 {
					xs[pos], want = v, true
				}
				if got := AnyInf(xs); got != want || anyInfGeneric(xs) != want {
					t.Fatalf("n=%d inf at %d: got %v, want %v", n, pos, got, want)
				}
				if got := FirstInf(xs); got != pos {
					t.Fatalf("n=%d inf at %d: FirstInf %d", n, pos, got)
				}
			}
		}
	}
}
