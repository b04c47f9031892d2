package embed

import (
	"math"
	"testing"
)

// TestNormBinEdgesOfRange: norms past the float64 range (a vector of
// finite values whose sum of squares overflows has norm +Inf, as numpy's
// sqrt(dot(x, x)) gives), the largest finite one and NaN land in the last
// bin, [1e4, +Inf), at once (an infinite norm once made normBin count up
// from the smallest int), and the bins' edges hold every other norm.
func TestNormBinEdgesOfRange(t *testing.T) {
	last := normBins - 1
	for _, r := range []float64{math.Inf(1), math.MaxFloat64, 1e300, math.NaN(), 1e4} {
		if got := normBin(r); got != last {
			t.Errorf("normBin(%v) = %d, want the last bin %d", r, got, last)
		}
	}
	for _, r := range []float64{0, 5e-5, 1e-4, 0.5, 1, 1.0000001, 9999.99} {
		i := normBin(r)
		if lo, hi := NormBinEdges(i), NormBinEdges(i+1); !(lo <= r && r < hi) {
			t.Errorf("normBin(%v) = %d, whose edges [%v, %v) do not hold it", r, i, lo, hi)
		}
	}
}
