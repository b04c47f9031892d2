package stats

import (
	"math"
	"math/big"
	"sync"
	"sync/atomic"
)

// Moments accumulates the count, exact sum, exact sum of squares, minimum
// and maximum of a column, skipping NaN (counted as Missing). Every field is
// exact or order-free, so the moments of a column are the same bits however
// its rows are split into chunks, accumulated and merged.
//
// Each square x*x is split exactly into hi + lo with math.FMA and both parts
// are added to the exact SumSq. The split is exact unless x*x overflows
// (|x| > ~1.3e154: SumSq becomes +Inf) or its low part underflows
// (|x| < ~1e-146, where the lost part is below 2^-1074).
//
// Min and Max are the extreme non-NaN values (-0 counts as below +0); both
// are 0 while N == 0.
//
// ±Inf values count in N and make Sum (and the statistics built on it)
// infinite or NaN as IEEE arithmetic would.
//
// The zero value is empty. Moments is not safe for concurrent use.
type Moments struct {
	N       int64 // number of non-NaN values
	Missing int64 // number of NaN values
	Sum     Sum   // exact sum of the non-NaN values
	SumSq   Sum   // exact sum of their squares
	Min     float64
	Max     float64
}

// Add accumulates xs; NaN values count as Missing and are otherwise ignored.
func (m *Moments) Add(xs []float64) {
	// Bound each batch so the limbs of both sums stay normalizable.
	for len(xs) > 0 {
		k := min(len(xs), maxPending/2)
		m.addBatch(xs[:k])
		xs = xs[k:]
	}
}

func (m *Moments) addBatch(xs []float64) {
	s, q := &m.Sum, &m.SumSq
	if s.pending+len(xs) > maxPending {
		s.normalize()
	}
	if q.pending+2*len(xs) > maxPending {
		q.normalize()
	}
	lo, hi := m.Min, m.Max
	if m.N == 0 {
		lo, hi = math.Inf(1), math.Inf(-1)
	}
	var n int64
	for _, x := range xs {
		if x != x {
			m.Missing++
			continue
		}
		n++
		s.add(math.Float64bits(x))
		sq := x * x
		q.add(math.Float64bits(sq))
		if !math.IsInf(sq, 0) {
			q.add(math.Float64bits(math.FMA(x, x, -sq)))
		}
		lo = minSigned(lo, x)
		hi = maxSigned(hi, x)
	}
	s.pending += int(n)
	q.pending += 2 * int(n)
	m.N += n
	if n > 0 {
		m.Min, m.Max = lo, hi
	}
}

// minSigned returns the smaller of a and b, taking -0 < +0 so that the
// result does not depend on argument order.
func minSigned(a, b float64) float64 {
	if b < a || b == a && math.Signbit(b) {
		return b
	}
	return a
}

// maxSigned returns the larger of a and b, taking +0 > -0.
func maxSigned(a, b float64) float64 {
	if b > a || b == a && !math.Signbit(b) {
		return b
	}
	return a
}

// Merge adds the values accumulated in o to m; o is not modified.
func (m *Moments) Merge(o *Moments) {
	m.Missing += o.Missing
	if o.N == 0 {
		return
	}
	if m.N == 0 {
		m.Min, m.Max = o.Min, o.Max
	} else {
		m.Min = minSigned(m.Min, o.Min)
		m.Max = maxSigned(m.Max, o.Max)
	}
	m.N += o.N
	m.Sum.Merge(&o.Sum)
	m.SumSq.Merge(&o.SumSq)
}

// Mean returns the mean of the non-NaN values:
//
//	mean = round(Σx) / N
//
// the exact sum correctly rounded to float64, then divided by N in float64
// (so the result is within one rounding of the exact mean). It is NaN when
// N == 0 and follows IEEE arithmetic for ±Inf values.
func (m *Moments) Mean() float64 {
	if m.N == 0 {
		return math.NaN()
	}
	return m.Sum.Float64() / float64(m.N)
}

// Var returns the population variance (ddof = 0) of the non-NaN values,
// computed exactly from the exact sums and rounded once:
//
//	var = (N*Σx² - (Σx)²) / N²
//
// It is 0 for a constant column, NaN when N == 0, NaN when a value is ±Inf,
// and +Inf when a square overflowed float64. Order-independent: the same
// bits for every chunking and merge order.
func (m *Moments) Var() float64 {
	if m.N == 0 {
		return math.NaN()
	}
	if _, ok := m.Sum.special(); ok {
		return math.NaN()
	}
	if v, ok := m.SumSq.special(); ok {
		return v
	}
	// Σx = s*2^-1074 and Σx² = q*2^-1074 with integers s and q, so
	// var = (N*q*2^1074 - s²) / (N² * 2^2148).
	s, q := m.Sum.Int(), m.SumSq.Int()
	n := big.NewInt(m.N)
	num := new(big.Int).Mul(q, n)
	num.Lsh(num, -scaleExp)
	num.Sub(num, s.Mul(s, s))
	if num.Sign() <= 0 {
		return 0 // exactly zero; never negative in exact arithmetic
	}
	den := new(big.Int).Mul(n, n)
	den.Lsh(den, -2*scaleExp)
	v, _ := new(big.Rat).SetFrac(num, den).Float64()
	return v
}

// Std returns the population standard deviation sqrt(Var()); NaN when
// N == 0.
func (m *Moments) Std() float64 { return math.Sqrt(m.Var()) }

// MomentsOf accumulates the moments of xs in chunks of chunk rows on up to
// workers goroutines and merges them. The result is the same bits for every
// chunk size and worker count (chunk <= 0 means one chunk, workers <= 0
// means 1).
func MomentsOf(xs []float64, chunk, workers int) Moments {
	if chunk <= 0 || chunk > len(xs) {
		chunk = max(len(xs), 1)
	}
	nChunks := (len(xs) + chunk - 1) / chunk
	workers = max(min(workers, nChunks), 1)
	parts := make([]Moments, workers)
	var next atomic.Int64
	work := func(p *Moments) {
		for {
			c := int(next.Add(1) - 1)
			if c >= nChunks {
				return
			}
			p.Add(xs[c*chunk : min((c+1)*chunk, len(xs))])
		}
	}
	if workers == 1 {
		work(&parts[0])
	} else {
		var wg sync.WaitGroup
		for i := range parts {
			wg.Go(func() { work(&parts[i]) })
		}
		wg.Wait()
	}
	var m Moments
	for i := range parts {
		m.Merge(&parts[i])
	}
	return m
}
