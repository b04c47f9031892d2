package stats

import (
	"math"
	"testing"
)

// TestPairwiseSum checks numpy's rounding on sums whose naive value differs:
// the reference values are np.sum(np.arange(n) * 0.1 + 1e9) (numpy 1.24.2).
func TestPairwiseSum(t *testing.T) {
	tests := []struct {
		n    int
		want float64
	}{
		{5, 5000000001.0},
		{100, 100000000495.0},
		{1000, 1000000049950.0},
		{8193, 8193003355852.801},
		{20000, 20000019999000.0},
	}
	for _, tt := range tests {
		xs := make([]float64, tt.n)
		for i := range xs {
			xs[i] = float64(i)*0.1 + 1e9
		}
		if got := PairwiseSum(xs); got != tt.want {
			t.Errorf("n=%d: got %v, want %v", tt.n, got, tt.want)
		}
	}
}

func TestNanShiftedSums(t *testing.T) {
	xs := []float64{1, math.NaN(), 2, 4}
	// np.nansum(x - 2), np.nansum((x - 2)**2)
	s, q := NanShiftedSums(xs, 2)
	if s != 1 || q != 5 {
		t.Errorf("got %v, %v, want 1, 5", s, q)
	}
	if s, _ := NanShiftedSums(nil, 0); s != 0 {
		t.Errorf("empty: got %v, want 0", s)
	}
}
