package drift

import (
	"errors"
	"fmt"
	"math"
	"sync"

	"github.com/normguard/normguard/stats"
)

// Result is the outcome of one two-sample comparison.
type Result struct {
	// Statistic is the test statistic or the distance.
	Statistic float64
	// PValue is the test's p-value; NaN for distances.
	PValue float64
	// DF is the degrees of freedom of the reference distribution (Welch's
	// t test, chi-square); 0 when the method has none.
	DF float64
	// Exact reports that the p-value came from the exact null
	// distribution (ks, cramer_von_mises, mann_whitney) rather than an
	// asymptotic one.
	Exact bool
}

// distance returns a Result for a distance (no p-value).
func distance(d float64) Result { return Result{Statistic: d, PValue: math.NaN()} }

// ErrEmpty is wrapped by the error of every statistic given a sample with
// no values left after dropping NaN.
var ErrEmpty = errors.New("no values left after dropping missing values")

// ErrTooFew is wrapped when a sample has fewer values than the statistic
// needs (cramer_von_mises needs two per sample).
var ErrTooFew = errors.New("too few values")

// ErrConstant is wrapped when the pooled samples hold a single distinct
// value and the statistic is undefined (anderson).
var ErrConstant = errors.New("all values are equal")

// SampleError reports a sample a statistic cannot be computed on.
type SampleError struct {
	Method string // method name, e.g. "ks"
	Sample string // "reference", "current" or "both"
	N      int    // number of non-missing values in the sample
	Err    error  // ErrEmpty, ErrTooFew, ErrConstant
}

func (e *SampleError) Error() string {
	msg := fmt.Sprintf("drift %s: %s sample has %d non-missing values: %v", e.Method, e.Sample, e.N, e.Err)
	switch {
	case errors.Is(e.Err, ErrEmpty):
		msg += "; check that the column holds numbers in both data sets"
	case errors.Is(e.Err, ErrTooFew):
		msg += "; collect more rows or choose another method"
	case errors.Is(e.Err, ErrConstant):
		msg += "; the statistic is undefined, choose another method"
	}
	return msg
}

func (e *SampleError) Unwrap() error { return e.Err }

// DropNaN returns a copy of xs without its NaN values (±Inf are kept).
func DropNaN(xs []float64) []float64 {
	out := make([]float64, len(xs))
	k := 0
	for _, x := range xs {
		out[k] = x
		if x == x {
			k++
		}
	}
	return out[:k]
}

// sortedPair drops NaN from both samples, checks that each keeps at least
// minN values and returns sorted copies. Large samples are copied and
// sorted on two goroutines, one per sample.
func sortedPair(method string, ref, cur []float64, minN int) (r, c []float64, err error) {
	if len(ref) < parallelSortMin || len(cur) < parallelSortMin {
		r, c = DropNaN(ref), DropNaN(cur)
	} else {
		var wg sync.WaitGroup
		wg.Go(func() { r = DropNaN(ref) })
		c = DropNaN(cur)
		wg.Wait()
	}
	for _, s := range []struct {
		name string
		xs   []float64
	}{{"reference", r}, {"current", c}} {
		if len(s.xs) == 0 {
			return nil, nil, &SampleError{Method: method, Sample: s.name, Err: ErrEmpty}
		}
		if len(s.xs) < minN {
			return nil, nil, &SampleError{Method: method, Sample: s.name, N: len(s.xs), Err: fmt.Errorf("%w: need at least %d", ErrTooFew, minN)}
		}
	}
	sortBoth(r, c)
	return r, c, nil
}

// parallelSortMin is the sample size above which sortedPair and sortBoth
// work on the two samples on two goroutines.
const parallelSortMin = 1 << 16

// sortBoth sorts a and b ascending (stats.SortFloats), concurrently when
// both are large. The result does not depend on the scheduling.
func sortBoth(a, b []float64) {
	if len(a) < parallelSortMin || len(b) < parallelSortMin {
		stats.SortFloats(a)
		stats.SortFloats(b)
		return
	}
	var wg sync.WaitGroup
	wg.Go(func() { stats.SortFloats(a) })
	stats.SortFloats(b)
	wg.Wait()
}

// blockSum accumulates a stream of terms in numpy's np.sum order for a
// contiguous array: blocks of 8192 terms summed pairwise, the block sums
// added left to right. It lets a merge pass reproduce np.sum of an array
// it never materializes.
type blockSum struct {
	buf [8192]float64
	n   int
	sum float64
}

func (b *blockSum) add(x float64) {
	b.buf[b.n] = x
	b.n++
	if b.n == len(b.buf) {
		b.sum += stats.PairwiseSum(b.buf[:])
		b.n = 0
	}
}

func (b *blockSum) total() float64 {
	if b.n > 0 {
		b.sum += stats.PairwiseSum(b.buf[:b.n])
		b.n = 0
	}
	return b.sum
}
