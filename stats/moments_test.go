package stats

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// Reference values: exact rational arithmetic in Python,
//
//	from fractions import Fraction as F
//	s = sum(map(F, xs)); q = sum(F(x)**2 for x in xs); n = len(xs)
//	float(s) / n, float((n*q - s*s) / (n*n))
//
// and numpy.var(xs) for comparison in the comments.
func TestMoments(t *testing.T) {
	nan := math.NaN()
	tests := []struct {
		name               string
		xs                 []float64
		n, missing         int64
		mean, vr, min, max float64
	}{
		{"small", []float64{1, 2, 3, 4}, 4, 0, 2.5, 1.25, 1, 4},
		// numpy.var gives 0.06439999351503616; the exact value is:
		{"big offset", []float64{1e9 + 0.1, 1e9 + 0.2, 1e9 + 0.3, 1e9 - 0.4, 1e9 + 0.25}, 5, 0,
			1000000000.0899999, 0.0643999935150157, 1e9 - 0.4, 1e9 + 0.3},
		// numpy.var gives 3.9999999999999995e+199.
		{"cancellation", []float64{1e100, 1.0, -1e100, 3.5, 0.1}, 5, 0, 0.9199999999999999, 4e+199, -1e100, 1e100},
		{"constant", []float64{0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1}, 10, 0, 0.1, 0, 0.1, 0.1},
		{"nan ignored", []float64{nan, 1, nan, 2, 3, 4}, 4, 2, 2.5, 1.25, 1, 4},
		{"all nan", []float64{nan, nan}, 0, 2, nan, nan, 0, 0},
		{"empty", nil, 0, 0, nan, nan, 0, 0},
		{"single", []float64{-7}, 1, 0, -7, 0, -7, -7},
		{"signed zeros", []float64{0, math.Copysign(0, -1)}, 2, 0, 0, 0, math.Copysign(0, -1), 0},
		{"inf", []float64{1, math.Inf(1)}, 2, 0, math.Inf(1), nan, 1, math.Inf(1)},
		{"square overflows", []float64{1e200, -1e200}, 2, 0, 0, math.Inf(1), -1e200, 1e200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m Moments
			m.Add(tt.xs)
			checkMoments(t, &m, tt.n, tt.missing, tt.mean, tt.vr, tt.min, tt.max)
			for _, chunk := range []int{1, 3} {
				mo := MomentsOf(tt.xs, chunk, 2)
				checkMoments(t, &mo, tt.n, tt.missing, tt.mean, tt.vr, tt.min, tt.max)
			}
		})
	}
}

func checkMoments(t *testing.T, m *Moments, n, missing int64, mean, vr, lo, hi float64) {
	t.Helper()
	if m.N != n || m.Missing != missing {
		t.Errorf("N, Missing: got %d, %d, want %d, %d", m.N, m.Missing, n, missing)
	}
	for _, c := range []struct {
		what      string
		got, want float64
	}{{"Mean", m.Mean(), mean}, {"Var", m.Var(), vr}, {"Std", m.Std(), math.Sqrt(vr)}, {"Min", m.Min, lo}, {"Max", m.Max, hi}} {
		if !sameBits(c.got, c.want) {
			t.Errorf("%s: got %v, want %v", c.what, c.got, c.want)
		}
	}
}

// TestMomentsOfChunkingInvariant checks that every chunk size, worker
// count and shuffle gives the same bits.
func TestMomentsOfChunkingInvariant(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	xs := make([]float64, 100000)
	for i := range xs {
		xs[i] = 1e6 + r.NormFloat64()*1e-3
		if i%17 == 0 {
			xs[i] = math.NaN()
		}
	}
	ref := MomentsOf(xs, 0, 1)
	for _, chunk := range []int{1, 7, 65536} {
		for _, workers := range []int{1, 2, 4} {
			m := MomentsOf(xs, chunk, workers)
			if !sameMoments(&m, &ref) {
				t.Errorf("chunk %d workers %d: got %+v, want %+v", chunk, workers, summary(&m), summary(&ref))
			}
		}
	}
	r.Shuffle(len(xs), func(i, j int) { xs[i], xs[j] = xs[j], xs[i] })
	m := MomentsOf(xs, 1000, 3)
	if !sameMoments(&m, &ref) {
		t.Errorf("shuffled: got %+v, want %+v", summary(&m), summary(&ref))
	}
}

func summary(m *Moments) [6]float64 {
	return [6]float64{float64(m.N), float64(m.Missing), m.Mean(), m.Var(), m.Min, m.Max}
}

func sameMoments(a, b *Moments) bool {
	sa, sb := summary(a), summary(b)
	for i := range sa {
		if !sameBits(sa[i], sb[i]) {
			return false
		}
	}
	return true
}

func BenchmarkMomentsOf(b *testing.B) {
	r := rand.New(rand.NewPCG(13, 14))
	for _, n := range []int{1e3, 1e4, 1e5, 1e6, 1e7} {
		xs := make([]float64, n)
		for i := range xs {
			xs[i] = 50 + 10*r.NormFloat64()
		}
		for _, workers := range []int{1, 4} {
			b.Run(fmt.Sprintf("n=%d/workers=%d", n, workers), func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(8 * n))
				for b.Loop() {
					m := MomentsOf(xs, 65536, workers)
					sinkFloat = m.Var()
				}
			})
		}
	}
}
