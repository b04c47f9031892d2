package stats

import (
	"math"
	"math/rand/v2"
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

// TestNanShiftedSumsNumpy checks numpy's rounding with missing values:
// the reference values are np.nansum(x - s) and np.nansum((x - s)**2) for
// x = np.arange(n) * 0.1 + 1e9 with x[::7] = nan and s = 1e9 + 3.7
// (numpy 1.24.2), and the count of values that are not NaN.
func TestNanShiftedSumsNumpy(t *testing.T) {
	tests := []struct {
		n, present int
		sum, sumSq float64
	}{
		{5, 4, -13.800000190734863, 47.66000129222871},
		{100, 85, 106.99999594688416, 830.6999898195269},
		{1000, 857, 39671.999959111214, 2550407.7162119914},
		{8193, 7022, 2850346.8996652365, 1549733973.0382862},
		{20000, 17142, 17077717.499182582, 22727104472.041245},
	}
	for _, tt := range tests {
		xs := make([]float64, tt.n)
		for i := range xs {
			xs[i] = float64(i)*0.1 + 1e9
			if i%7 == 0 {
				xs[i] = math.NaN()
			}
		}
		shift := 1e9 + 3.7
		if s, q := NanShiftedSums(xs, shift); s != tt.sum || q != tt.sumSq {
			t.Errorf("n=%d: got %v, %v, want %v, %v", tt.n, s, q, tt.sum, tt.sumSq)
		}
		acc := NewNanShiftedAcc(int64(tt.n), shift)
		if err := acc.Add(0, xs); err != nil {
			t.Fatal(err)
		}
		if s, q, ok := acc.Sums(); !ok || s != tt.sum || q != tt.sumSq || acc.Count != int64(tt.present) {
			t.Errorf("n=%d: NanShiftedAcc got %v, %v, %d present, want %v, %v, %d", tt.n, s, q, acc.Count, tt.sum, tt.sumSq, tt.present)
		}
	}
}

// TestPairwiseShiftedMatchesTerms checks that summing the terms straight
// from the values (and, on amd64, the AVX2 leaf) adds exactly as pairwise
// does over the terms written out, on every leaf shape, with NaN, ±Inf,
// signed zeros and values of very different scales.
func TestPairwiseShiftedMatchesTerms(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	special := []float64{math.NaN(), math.Inf(1), math.Inf(-1), 0, math.Copysign(0, -1), 1e300, -1e-300, 5e-324}
	for _, n := range []int{0, 1, 7, 8, 9, 15, 16, 17, 127, 128, 129, 136, 255, 256, 1000, 4097, 8191, 8192} {
		for _, shift := range []float64{0, 2.5, -1e10, math.NaN(), math.Inf(1)} {
			for trial := 0; trial < 3; trial++ {
				xs := make([]float64, n)
				for i := range xs {
					switch r := rng.IntN(20); {
					case r == 0 && trial > 0:
						xs[i] = special[rng.IntN(len(special))]
					case r < 4:
						xs[i] = math.NaN()
					default:
						xs[i] = rng.NormFloat64() * math.Pow(10, float64(rng.IntN(12)-4))
					}
				}
				d, d2 := make([]float64, n), make([]float64, n)
				present := 0
				for i, x := range xs {
					d[i] = nanShifted(x, shift)
					d2[i] = d[i] * d[i]
					if x == x {
						present++
					}
				}
				ws, wq := pairwise(d), pairwise(d2)
				s, q, p := pairwiseShifted(xs, shift)
				if !sameBits(s, ws) || !sameBits(q, wq) || p != present {
					t.Fatalf("n=%d shift=%v: got %v, %v, %d, want %v, %v, %d", n, shift, s, q, p, ws, wq, present)
				}
				if m := n - n%npUnroll; m > 0 {
					var got, want [2 * npUnroll]float64
					gp, wp := leafShifted(xs[:m], shift, &got), leafShiftedGeneric(xs[:m], shift, &want)
					for j := range got {
						if !sameBits(got[j], want[j]) || gp != wp {
							t.Fatalf("n=%d shift=%v: leaf lane %d: got %v (%d present), want %v (%d)", n, shift, j, got[j], gp, want[j], wp)
						}
					}
				}
			}
		}
	}
}
