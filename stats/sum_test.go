package stats

import (
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

// exactSum is the test oracle: the sum of finite xs in rational arithmetic,
// rounded to nearest even by big.Rat.Float64.
func exactSum(xs []float64) float64 {
	var r, t big.Rat
	for _, x := range xs {
		r.Add(&r, t.SetFloat64(x))
	}
	v, _ := r.Float64()
	return v
}

func sameBits(a, b float64) bool {
	return math.Float64bits(a) == math.Float64bits(b) || math.IsNaN(a) && math.IsNaN(b)
}

func sumOf(xs []float64) float64 {
	var s Sum
	s.AddSlice(xs)
	return s.Float64()
}

func TestSumFloat64(t *testing.T) {
	tiny := math.SmallestNonzeroFloat64
	tests := []struct {
		name string
		xs   []float64
		want float64
	}{
		{"empty", nil, 0},
		{"cancellation", []float64{1e100, 1, -1e100}, 1},
		// math.fsum([0.1]*10) == 1.0
		{"tenths", []float64{0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1}, 1},
		// math.fsum([1e100, 1.0, -1e100, 3.5, 0.1]) == 4.6
		{"mixed", []float64{1e100, 1.0, -1e100, 3.5, 0.1}, 4.6},
		{"tie to even down", []float64{1, 0x1p-53}, 1},
		{"tie to even up", []float64{1 + 0x1p-52, 0x1p-53}, 1 + 0x1p-51},
		{"above tie", []float64{1, 0x1p-53, 0x1p-1074}, 1 + 0x1p-52},
		{"subnormals", []float64{tiny, tiny, tiny}, 3 * tiny},
		{"subnormal cancellation", []float64{1, tiny, -1}, tiny},
		{"overflow", []float64{math.MaxFloat64, math.MaxFloat64}, math.Inf(1)},
		{"negative overflow", []float64{-math.MaxFloat64, -math.MaxFloat64}, math.Inf(-1)},
		{"overflow then back", []float64{math.MaxFloat64, math.MaxFloat64, -math.MaxFloat64}, math.MaxFloat64},
		{"negative zero", []float64{math.Copysign(0, -1)}, 0},
		{"exact zero", []float64{3, -3}, 0},
		{"negative", []float64{-1e-300, -2.5, 1e-300}, -2.5},
		{"nan", []float64{1, math.NaN(), 2}, math.NaN()},
		{"+inf", []float64{1, math.Inf(1)}, math.Inf(1)},
		{"-inf", []float64{math.Inf(-1), 1e308}, math.Inf(-1)},
		{"both infs", []float64{math.Inf(1), math.Inf(-1)}, math.NaN()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sumOf(tt.xs); !sameBits(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
			var s Sum
			for _, x := range tt.xs {
				s.Add(x)
			}
			if got := s.Float64(); !sameBits(got, tt.want) {
				t.Errorf("Add: got %v, want %v", got, tt.want)
			}
		})
	}
}

// randomFloats draws values spread over many binades, both signs, with
// some subnormals and huge values, so that naive summation is wrong.
func randomFloats(r *rand.Rand, n int) []float64 {
	xs := make([]float64, n)
	for i := range xs {
		e := r.IntN(2*1000) - 1000
		if r.IntN(20) == 0 {
			e = r.IntN(60) - 1074
		}
		x := math.Ldexp(r.Float64()+0.5, e)
		if r.IntN(2) == 0 {
			x = -x
		}
		xs[i] = x
	}
	return xs
}

func TestSumMatchesExactOracle(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for trial := range 50 {
		xs := randomFloats(r, 1+r.IntN(300))
		if got, want := sumOf(xs), exactSum(xs); !sameBits(got, want) {
			t.Fatalf("trial %d: got %v, want %v", trial, got, want)
		}
	}
}

// TestSumOrderIndependent checks shuffles and several merge trees give the
// same bits.
func TestSumOrderIndependent(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	xs := randomFloats(r, 1000)
	want := exactSum(xs)
	for trial := range 20 {
		r.Shuffle(len(xs), func(i, j int) { xs[i], xs[j] = xs[j], xs[i] })
		// Split at random points, then merge left-to-right, right-to-left
		// and as a balanced tree.
		var parts []*Sum
		for rest := xs; len(rest) > 0; {
			k := 1 + r.IntN(min(len(rest), 97))
			p := new(Sum)
			p.AddSlice(rest[:k])
			parts = append(parts, p)
			rest = rest[k:]
		}
		var left, right Sum
		for i := range parts {
			left.Merge(parts[i])
			right.Merge(parts[len(parts)-1-i])
		}
		tree := mergeTree(parts)
		for name, got := range map[string]float64{"left": left.Float64(), "right": right.Float64(), "tree": tree.Float64()} {
			if !sameBits(got, want) {
				t.Fatalf("trial %d %s: got %v, want %v", trial, name, got, want)
			}
		}
	}
}

func mergeTree(parts []*Sum) *Sum {
	if len(parts) == 1 {
		c := *parts[0]
		return &c
	}
	a, b := mergeTree(parts[:len(parts)/2]), mergeTree(parts[len(parts)/2:])
	a.Merge(b)
	return a
}

func TestSumSelfMerge(t *testing.T) {
	var s Sum
	s.AddSlice([]float64{0.1, 0.2, 1e300})
	s.Merge(&s)
	want := exactSum([]float64{0.1, 0.2, 1e300, 0.1, 0.2, 1e300})
	if got := s.Float64(); !sameBits(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

// TestSumManyAdds crosses the deferred-carry limit: 2^30 + 5 adds of the
// largest finite value overflow to +Inf, and merging in the same amount
// built by doubling merges of its negation leaves exactly 0.
func TestSumManyAdds(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	xs := make([]float64, 1<<20)
	for i := range xs {
		xs[i] = math.MaxFloat64
	}
	var pos Sum
	for range 1 << 10 {
		pos.AddSlice(xs)
	}
	pos.AddSlice(xs[:5])
	if got := pos.Float64(); !math.IsInf(got, 1) {
		t.Fatalf("got %v, want +Inf", got)
	}
	var neg Sum
	neg.Add(-math.MaxFloat64)
	for range 30 {
		neg.Merge(&neg)
	}
	for range 5 {
		neg.Add(-math.MaxFloat64)
	}
	pos.Merge(&neg)
	if got := pos.Float64(); got != 0 {
		t.Errorf("got %v, want 0", got)
	}
}

func TestSumMarshalRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	cases := [][]float64{
		nil,
		{1e100, 1, -1e100},
		{-3, math.SmallestNonzeroFloat64},
		{math.Inf(1)},
		{math.NaN()},
		{math.MaxFloat64, math.MaxFloat64, math.MaxFloat64},
		randomFloats(r, 500),
	}
	for i, xs := range cases {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			var s Sum
			s.AddSlice(xs)
			b, err := s.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			var d Sum
			if err := d.UnmarshalBinary(b); err != nil {
				t.Fatal(err)
			}
			if got, want := d.Float64(), s.Float64(); !sameBits(got, want) {
				t.Errorf("got %v, want %v", got, want)
			}
			// Decoded sums keep accumulating and merging exactly.
			d.Merge(&s)
			d.Add(0.5)
			want := s.Float64() // NaN or an infinity stays so
			if s.flags == 0 {
				want = exactSum(append(append(append([]float64{}, xs...), xs...), 0.5))
			}
			if got := d.Float64(); !sameBits(got, want) {
				t.Errorf("after merge: got %v, want %v", got, want)
			}
		})
	}
}

func TestSumUnmarshalRejects(t *testing.T) {
	for _, b := range [][]byte{
		nil,
		{1},
		{2, 0, 0, 0},      // unknown version
		{1, 8, 0, 0},      // unknown flag
		{1, 0, 68, 1, 2},  // start beyond the limbs
		{1, 0, 0, 1},      // missing limb
		{1, 0, 0, 1, 1},   // limb value -1 (zigzag)
		{1, 0, 0, 0, 0},   // trailing byte
		{1, 0, 0, 200, 1}, // too many limbs
	} {
		var s Sum
		if err := s.UnmarshalBinary(b); err == nil {
			t.Errorf("UnmarshalBinary(%v): got nil error, want one", b)
		}
	}
}

func BenchmarkSumAddSlice(b *testing.B) {
	for _, n := range []int{1e3, 1e4, 1e5, 1e6, 1e7} {
		xs := randomFloats(rand.New(rand.NewPCG(7, 8)), n)
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(8 * n))
			for b.Loop() {
				var s Sum
				s.AddSlice(xs)
			}
		})
	}
}

// BenchmarkSumAddSliceNormal sums values of similar magnitude, which hit
// the same limbs add after add.
func BenchmarkSumAddSliceNormal(b *testing.B) {
	r := rand.New(rand.NewPCG(9, 10))
	for _, n := range []int{1e3, 1e5, 1e7} {
		xs := make([]float64, n)
		for i := range xs {
			xs[i] = 100 * r.NormFloat64()
		}
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(8 * n))
			for b.Loop() {
				var s Sum
				s.AddSlice(xs)
			}
		})
	}
}

var sinkFloat float64

// BenchmarkNaiveSum is the baseline: a plain float64 loop over the same
// data as BenchmarkSumAddSliceNormal/10000000.
func BenchmarkNaiveSum(b *testing.B) {
	r := rand.New(rand.NewPCG(9, 10))
	xs := make([]float64, 1e7)
	for i := range xs {
		xs[i] = 100 * r.NormFloat64()
	}
	b.SetBytes(int64(8 * len(xs)))
	for b.Loop() {
		s := 0.0
		for _, x := range xs {
			s += x
		}
		sinkFloat = s
	}
}
