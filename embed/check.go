package embed

import (
	"fmt"
	"math"
	"reflect"
	"runtime"
	"sync"
)

// Thresholds of the verdicts; doc.go explains each.
const (
	// CanaryMinCosine is the cosine similarity below which a re-embedded
	// canary no longer matches its stored vector.
	CanaryMinCosine = 0.99
	// exceedSigmas is how many standard deviations a count must exceed
	// its expected value by to count as a change in rate; exceedTail is
	// the matching one-sided normal tail, Φ(−4), the largest binomial tail
	// probability of a count that exceeds (see exceeds).
	exceedSigmas = 4
	exceedTail   = 3.167124183311986e-05 // scipy.stats.norm.sf(4)
	// mixedMinShare is the share of unit vectors among the non-zero ones
	// from which a store with other vectors is mixed rather than unnormalized.
	mixedMinShare = 0.05
	// mixedLikeRatio: a raw contract's vectors partly outside the fitted
	// norm range are a mixed store when the share that could follow the
	// contract's norm distribution (contractLikeShare) is at least this
	// ratio of the share inside the range; below it they moved as a whole
	// (not_normalized). A mixed store keeps a ratio near 1, a scaled one
	// near 0.
	mixedLikeRatio = 0.25
	// spikeRatio is how many times the count a smooth density of norms
	// would put within the unit tolerance the unit count must exceed to
	// stand out as normalized vectors (see unitSpike).
	spikeRatio = 1.5
	// allUnitShare is the share of unit vectors from which a raw contract's
	// vectors count as normalized rather than mixed.
	allUnitShare = 0.95
	// truncationRelTol is how close the mean squared norm must be to the
	// energy of the leading dimensions to read as a truncation.
	truncationRelTol = 0.1
	// exactShareMin and exactShareRefMax: a precision loss is when at least
	// exactShareMin of the non-zero values are exact in a narrower format
	// and at most exactShareRefMax were at fit; minExactValues values at least.
	exactShareMin    = 0.9
	exactShareRefMax = 0.5
	minExactValues   = 100
	// swapExcessMax: the principal directions moved when the current
	// vectors' variance along them, above a random subspace's, is below
	// this share of the fitted vectors'. minSwapRows vectors at least, and
	// the fitted directions must capture minStructure more than a random
	// subspace does.
	swapExcessMax = 0.25
	minSwapRows   = 50
	minStructure  = 0.05
	// normRangeMargin widens the fitted norm range [min, max] of a raw
	// contract by this factor each way; a norm beyond it is out of range.
	normRangeMargin = 1.25
	// keepRows is how many row numbers of NaN and zero vectors are kept.
	keepRows = 5
	// parallelRows is the batch size from which Add splits work over cores.
	parallelRows = 4096
)

// Checker accumulates vectors checked against a contract, batch by batch,
// in memory bounded by the dimension (not the row count): counts, sums
// per dimension and per principal direction, and a fixed-bin histogram
// of norms. Checkers of the same contract and dimension merge (service
// windows, shards); rows are numbered in the order batches are added and
// merged.
type Checker struct {
	c    *Contract
	dim  int
	opt  CheckOptions
	same bool // dim == c.Dimension: the profile applies

	rows              int
	nanRows, zeroRows int
	nanAt, zeroAt     []int
	// hugeRows counts the finite vectors too large to compare (squared
	// norm past MaxSquaredNorm): they are in the norm statistics too (as
	// +Inf norms past the float64 range), and nan_vectors names them.
	hugeRows int
	hugeAt   []int

	normCount        int
	normSum, sqSum   float64 // Σ‖x‖, Σ‖x‖²
	normMin, normMax float64
	unitCount        int
	offSum           float64 // Σ‖x‖ of the vectors off unit length
	outside          int     // raw contract: norms beyond the fitted range (see normRangeMargin)
	lo, hi           float64 // that range
	hist             []int

	nonzero, f16, bf16 int

	sum, sumSq []float64 // per dimension, of x − profile mean (when same)
	proj, prSq []float64 // per component, of v·(x − profile mean)
	buf        []float64 // x − profile mean of the current row
}

// NewChecker returns a Checker of vectors of dimension dim against c; a
// contract that fails Contract.Check is an error naming the field.
func NewChecker(c *Contract, dim int, opt CheckOptions) (*Checker, error) {
	if c == nil {
		return nil, fmt.Errorf("embed check: no contract: %w", ErrInvalid)
	}
	if err := c.Check(); err != nil {
		return nil, fmt.Errorf("embed check: contract: %w", err)
	}
	if dim <= 0 {
		return nil, fmt.Errorf("embed check: dimension %d: vectors need at least one value: %w", dim, ErrInvalid)
	}
	return newChecker(c, dim, opt), nil
}

// newChecker returns an empty Checker of a checked contract.
func newChecker(c *Contract, dim int, opt CheckOptions) *Checker {
	k := &Checker{c: c, dim: dim, opt: opt, same: dim == c.Dimension && len(c.Profile.Mean) == dim,
		normMin: math.Inf(1), normMax: math.Inf(-1), hist: make([]int, normBins),
		sum: make([]float64, dim), sumSq: make([]float64, dim)}
	if nm := c.Profile.Norms; !c.UnitLength && nm.Count > 0 {
		k.lo, k.hi = nm.Min/normRangeMargin, nm.Max*normRangeMargin
	} else {
		k.lo, k.hi = 0, math.Inf(1)
	}
	if k.same {
		k.proj = make([]float64, len(c.Profile.Components))
		k.prSq = make([]float64, len(c.Profile.Components))
		k.buf = make([]float64, dim)
	}
	return k
}

// fresh returns an empty Checker like k.
func (k *Checker) fresh() *Checker { return newChecker(k.c, k.dim, k.opt) }

// Rows returns the number of vectors accumulated.
func (k *Checker) Rows() int { return k.rows }

// Add accumulates the rows of m, which must have the Checker's dimension.
// Large batches are split over the cores in fixed blocks merged in order.
func (k *Checker) Add(m Matrix) error {
	if err := m.valid(); err != nil {
		return err
	}
	if m.Rows == 0 {
		return nil
	}
	if m.Dim != k.dim {
		return fmt.Errorf("embed check: vectors of dimension %d added to a check of dimension %d: %w", m.Dim, k.dim, ErrInvalid)
	}
	workers := runtime.GOMAXPROCS(0)
	if m.Rows < parallelRows || workers < 2 {
		for i := 0; i < m.Rows; i++ {
			k.addRow(m.Row(i))
		}
		return nil
	}
	nb := (m.Rows + parallelRows - 1) / parallelRows
	parts := make([]*Checker, nb)
	var wg sync.WaitGroup
	next := make(chan int, nb)
	for b := 0; b < nb; b++ {
		next <- b
	}
	close(next)
	for w := 0; w < min(workers, nb); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range next {
				p := k.fresh()
				for i := b * parallelRows; i < min((b+1)*parallelRows, m.Rows); i++ {
					p.addRow(m.Row(i))
				}
				parts[b] = p
			}
		}()
	}
	wg.Wait()
	for _, p := range parts {
		k.merge(p)
	}
	return nil
}

func (k *Checker) addRow(row []float64) {
	at := k.rows
	k.rows++
	ss := dot(row, row)
	if !(ss <= MaxSquaredNorm) {
		// Past MaxSquaredNorm only for values beyond about 1e153; look at
		// the values.
		bad := false
		for _, v := range row {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				bad = true
				break
			}
		}
		if bad {
			k.nanRows++
			if len(k.nanAt) < keepRows {
				k.nanAt = append(k.nanAt, at)
			}
			return
		}
		k.hugeRows++
		if len(k.hugeAt) < keepRows {
			k.hugeAt = append(k.hugeAt, at)
		}
	}
	if ss == 0 {
		k.zeroRows++
		if len(k.zeroAt) < keepRows {
			k.zeroAt = append(k.zeroAt, at)
		}
		return
	}
	r := math.Sqrt(ss)
	k.normCount++
	k.normSum += r
	k.sqSum += ss
	k.normMin = min(k.normMin, r)
	k.normMax = max(k.normMax, r)
	k.hist[normBin(r)]++
	if math.Abs(r-1) <= k.c.UnitTolerance {
		k.unitCount++
	} else {
		k.offSum += r
	}
	if r < k.lo || r > k.hi {
		k.outside++
	}
	mean := k.c.Profile.Mean
	buf := k.buf
	for a, v := range row {
		if v != 0 {
			k.nonzero++
		}
		if b := math.Float64bits(v); b&(1<<42-1) == 0 && v != 0 {
			// only values with 10 or fewer fraction bits can be exact
			// in float16 or bfloat16
			if exactFloat16(v) {
				k.f16++
			}
			if exactBFloat16(v) {
				k.bf16++
			}
		}
		if k.same {
			v -= mean[a]
			buf[a] = v
		}
		k.sum[a] += v
		k.sumSq[a] += v * v
	}
	if k.same {
		comps := k.c.Profile.Components
		j := 0
		for ; j+4 <= len(comps); j += 4 {
			p0, p1, p2, p3 := dot4(buf, comps[j].Direction, comps[j+1].Direction, comps[j+2].Direction, comps[j+3].Direction)
			k.project(j, p0, p1, p2, p3)
		}
		for ; j < len(comps); j++ {
			p, _, _, _ := dot4(buf, comps[j].Direction, buf, buf, buf)
			k.project(j, p)
		}
	}
}

// project accumulates the projections p of one row on components j, j+1, ...
func (k *Checker) project(j int, p ...float64) {
	for i, v := range p {
		k.proj[j+i] += v
		k.prSq[j+i] += v * v
	}
}

// Merge adds the vectors accumulated by o, a Checker of the same
// contract (the same value, e.g. decoded from the same artifact in
// another process) and dimension; o's rows are numbered after k's.
func (k *Checker) Merge(o *Checker) error {
	if o.dim != k.dim || (o.c != k.c && !reflect.DeepEqual(o.c, k.c)) {
		return fmt.Errorf("embed check: merging checks of different contracts or dimensions (%d and %d): %w", k.dim, o.dim, ErrInvalid)
	}
	k.merge(o)
	return nil
}

func (k *Checker) merge(o *Checker) {
	for _, r := range o.nanAt {
		if len(k.nanAt) < keepRows {
			k.nanAt = append(k.nanAt, k.rows+r)
		}
	}
	for _, r := range o.zeroAt {
		if len(k.zeroAt) < keepRows {
			k.zeroAt = append(k.zeroAt, k.rows+r)
		}
	}
	for _, r := range o.hugeAt {
		if len(k.hugeAt) < keepRows {
			k.hugeAt = append(k.hugeAt, k.rows+r)
		}
	}
	k.hugeRows += o.hugeRows
	k.rows += o.rows
	k.nanRows += o.nanRows
	k.zeroRows += o.zeroRows
	k.normCount += o.normCount
	k.normSum += o.normSum
	k.sqSum += o.sqSum
	k.normMin = min(k.normMin, o.normMin)
	k.normMax = max(k.normMax, o.normMax)
	k.unitCount += o.unitCount
	k.offSum += o.offSum
	k.outside += o.outside
	for i, c := range o.hist {
		k.hist[i] += c
	}
	k.nonzero += o.nonzero
	k.f16 += o.f16
	k.bf16 += o.bf16
	for a := range k.sum {
		k.sum[a] += o.sum[a]
		k.sumSq[a] += o.sumSq[a]
	}
	for j := range k.proj {
		k.proj[j] += o.proj[j]
		k.prSq[j] += o.prSq[j]
	}
}

// Norms returns the distribution of the norms of the finite non-zero
// vectors accumulated so far. Quantiles are read from the histogram
// (within a bin's 7.5% width of the exact ones), the rest is exact.
func (k *Checker) Norms() NormStats {
	s := NormStats{Count: k.normCount, Histogram: bins(k.hist)}
	if k.normCount == 0 {
		return s
	}
	n := float64(k.normCount)
	s.Min, s.Max = k.normMin, k.normMax
	s.Mean = k.normSum / n
	s.Std = math.Sqrt(max(k.sqSum/n-s.Mean*s.Mean, 0))
	s.UnitShare = float64(k.unitCount) / n
	for _, p := range NormQuantileProbs {
		s.Quantiles = append(s.Quantiles, histQuantile(k.hist, k.normCount, p, k.normMin, k.normMax))
	}
	return s
}

// Check compares the vectors in m with the contract c and returns the
// findings, none when m keeps the contract. m may have another dimension
// than c (that is a finding, not an error).
func Check(c *Contract, m Matrix, opt CheckOptions) ([]Finding, error) {
	if err := m.valid(); err != nil {
		return nil, err
	}
	if c == nil {
		return nil, fmt.Errorf("embed check: no contract: %w", ErrInvalid)
	}
	dim := m.Dim
	if m.Rows == 0 && dim == 0 {
		dim = c.Dimension
	}
	k, err := NewChecker(c, dim, opt)
	if err != nil {
		return nil, err
	}
	if err := k.Add(m); err != nil {
		return nil, err
	}
	return k.Findings()
}
