package stats

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestPairwiseAccMatchesPairwiseSum splits sequences of many lengths
// (around the leaf size 128, the unroll 8 and the block 8192) into random
// ranges, down to single values, accumulates each range separately, merges
// the accumulators in a random order (through a binary encoding) and
// checks the bits of the result against PairwiseSum of the whole sequence.
// The values span many magnitudes, so a different summation tree gives
// different bits (checked by the naive-order control).
func TestPairwiseAccMatchesPairwiseSum(t *testing.T) {
	lengths := []int{0, 1, 7, 8, 9, 127, 128, 129, 136, 1000, 8191, 8192, 8193, 16500, 40000}
	rng := rand.New(rand.NewPCG(3, 4))
	treeMatters := false
	for _, n := range lengths {
		for _, maxPiece := range []int{1, 5, 100, 3000, 50000} {
			if maxPiece == 1 && n > 9000 {
				continue // slow and covered by the smaller lengths
			}
			xs := make([]float64, n)
			for i := range xs {
				xs[i] = rng.NormFloat64() * math.Pow(10, float64(rng.IntN(30)-15))
			}
			want := PairwiseSum(xs)
			naive := 0.0
			for _, x := range xs {
				naive += x
			}
			treeMatters = treeMatters || naive != want
			var accs []PairwiseAcc
			for at := 0; at < n; {
				k := min(1+rng.IntN(maxPiece), n-at)
				acc := NewPairwiseAcc(int64(n))
				if err := acc.Add(int64(at), xs[at:at+k]); err != nil {
					t.Fatal(err)
				}
				accs = append(accs, acc)
				at += k
			}
			rng.Shuffle(len(accs), func(i, j int) { accs[i], accs[j] = accs[j], accs[i] })
			for len(accs) > 1 {
				i := rng.IntN(len(accs) - 1)
				b, err := accs[i+1].MarshalBinary()
				if err != nil {
					t.Fatal(err)
				}
				var o PairwiseAcc
				if err := o.UnmarshalBinary(b); err != nil {
					t.Fatal(err)
				}
				if err := accs[i].Merge(&o); err != nil {
					t.Fatal(err)
				}
				accs = append(accs[:i+1], accs[i+2:]...)
			}
			acc := NewPairwiseAcc(int64(n))
			if len(accs) == 1 {
				acc = accs[0]
			}
			got, ok := acc.Sum()
			if !ok || math.Float64bits(got) != math.Float64bits(want) {
				t.Errorf("n=%d pieces<=%d: got %v (complete %v), want %v", n, maxPiece, got, ok, want)
			}
		}
	}
	if !treeMatters {
		t.Error("no case tells numpy's tree from a left-to-right sum; the test proves nothing")
	}
}

// TestPairwiseAccSpecial pins the special values: NaN and ±Inf propagate
// as in PairwiseSum, and an incomplete or overlapping accumulation is
// refused.
func TestPairwiseAccSpecial(t *testing.T) {
	cases := []struct {
		name string
		xs   []float64
		want float64
	}{
		{"nan", []float64{1, math.NaN(), 2}, math.NaN()},
		{"inf", []float64{1, math.Inf(1), 2}, math.Inf(1)},
		{"inf minus inf", []float64{math.Inf(-1), 0, math.Inf(1)}, math.NaN()},
		{"negative zero", []float64{math.Copysign(0, -1)}, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			acc := NewPairwiseAcc(int64(len(tc.xs)))
			for i, x := range tc.xs {
				if err := acc.Add(int64(i), []float64{x}); err != nil {
					t.Fatal(err)
				}
			}
			got, ok := acc.Sum()
			if !ok || math.Float64bits(got) != math.Float64bits(tc.want) && !(math.IsNaN(got) && math.IsNaN(tc.want)) {
				t.Errorf("got %v (complete %v), want %v", got, ok, tc.want)
			}
			if p := PairwiseSum(tc.xs); math.Float64bits(p) != math.Float64bits(got) && !(math.IsNaN(p) && math.IsNaN(got)) {
				t.Errorf("PairwiseSum %v, accumulator %v", p, got)
			}
		})
	}
	acc := NewPairwiseAcc(10)
	if err := acc.Add(0, make([]float64, 5)); err != nil {
		t.Fatal(err)
	}
	if _, ok := acc.Sum(); ok {
		t.Error("sum of 5 of 10 values: got complete, want incomplete")
	}
	if err := acc.Add(4, make([]float64, 2)); err == nil {
		t.Error("adding position 4 twice: got no error, want ErrPairwiseRange")
	}
	if err := acc.Add(8, make([]float64, 3)); err == nil {
		t.Error("adding past N: got no error, want ErrPairwiseRange")
	}
}

func BenchmarkPairwiseAcc(b *testing.B) {
	xs := make([]float64, 1<<20)
	for i := range xs {
		xs[i] = float64(i%1000) * 0.1
	}
	b.ReportAllocs()
	for b.Loop() {
		acc := NewPairwiseAcc(int64(len(xs)))
		for at := 0; at < len(xs); at += 65536 - 3 {
			if err := acc.Add(int64(at), xs[at:min(at+65536-3, len(xs))]); err != nil {
				b.Fatal(err)
			}
		}
		if _, ok := acc.Sum(); !ok {
			b.Fatal("incomplete")
		}
	}
}

// TestNanShiftedAccMatchesNanShiftedSums checks the mergeable form of
// NanShiftedSums bit for bit on a column with NaNs split in ranges merged
// in reverse order.
func TestNanShiftedAccMatchesNanShiftedSums(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	xs := make([]float64, 20000)
	wantCount := int64(0)
	for i := range xs {
		xs[i] = rng.NormFloat64()*1e3 + 1e6
		if rng.IntN(10) == 0 {
			xs[i] = math.NaN()
		} else {
			wantCount++
		}
	}
	for _, shift := range []float64{0, 1e6 + 0.5} {
		wantSum, wantSq := NanShiftedSums(xs, shift)
		var acc NanShiftedAcc // the zero value, as a Combine starts
		for at := len(xs); at > 0; {
			k := min(1+rng.IntN(3000), at)
			at -= k
			part := NewNanShiftedAcc(int64(len(xs)), shift)
			if err := part.Add(int64(at), xs[at:at+k]); err != nil {
				t.Fatal(err)
			}
			if err := acc.Merge(&part); err != nil {
				t.Fatal(err)
			}
		}
		sum, sq, ok := acc.Sums()
		if !ok || sum != wantSum || sq != wantSq || acc.Count != wantCount {
			t.Errorf("shift %v: got (%v, %v, n=%d, complete %v), want (%v, %v, n=%d)", shift, sum, sq, acc.Count, ok, wantSum, wantSq, wantCount)
		}
	}
}
