package drift

import (
	"math"
	"sort"
	"sync"
)

// sortedSamples holds NaN-free sorted copies of a numeric feature's two
// samples, so that method auto and the feature's plot share one sort
// instead of sorting each sample three times.
type sortedSamples struct {
	ref, cur []float64
}

// newSortedSamples drops NaN from ref and cur and sorts copies of them;
// an empty sample is a *SampleError for method.
func newSortedSamples(method string, ref, cur []float64) (*sortedSamples, error) {
	r, c, err := sortedPair(method, ref, cur, 1)
	if err != nil {
		return nil, err
	}
	return &sortedSamples{ref: r, cur: c}, nil
}

// auto returns what method auto decides on: KS(ref, cur) and
// WassersteinNormed(ref, cur), equal to those functions' results. refRaw
// is the reference in its original order (NaN values may remain): numpy's
// std sums in that order. On large samples the two merges run
// concurrently.
func (s *sortedSamples) auto(refRaw []float64) (ks, wn Result) {
	var w float64
	var wg sync.WaitGroup
	if len(s.ref)+len(s.cur) >= parallelSortMin {
		wg.Go(func() { w = cdfDistance(s.ref, s.cur, 1) })
	} else {
		w = cdfDistance(s.ref, s.cur, 1)
	}
	d := ksStatistic(s.ref, s.cur)
	ks = ksPValue(d, len(s.ref), len(s.cur))
	_, v := meanVar(DropNaN(refRaw))
	wg.Wait()
	if math.IsNaN(w) && finite(s.ref) && !finite(s.cur) {
		// scipy's NaN (Inf - Inf) where only the current sample reaches
		// an infinity: the distance is infinite, as against a profile.
		w = math.Inf(1)
	}
	return ks, distance(w / math.Sqrt(v))
}

// finite reports whether a sorted NaN-free sample has no infinite value.
func finite(sorted []float64) bool {
	return len(sorted) == 0 || (!math.IsInf(sorted[0], 0) && !math.IsInf(sorted[len(sorted)-1], 0))
}

// plot returns numericPlot(ref, cur) from the sorted samples: each
// sample's percentiles are read off directly (plotWindow), the bin counts
// by binary search, so nothing is pooled or rescanned. The bin edges are
// finite; without a finite value there is no plot (nil).
func (s *sortedSamples) plot() *Plot {
	lo, hi, ok := plotWindow(s.ref, s.cur)
	if !ok {
		return nil // nothing finite to draw
	}
	lo, hi = plotSpan(lo, hi)
	edges := plotEdges(lo, hi, plotBins)
	return &Plot{Edges: edges, Ref: sortedBinShares(s.ref, lo, hi), Cur: sortedBinShares(s.cur, lo, hi)}
}

// plotWindow returns the x range of a numeric plot of the sorted,
// non-empty samples ref and cur: from the lower of their 0.5th
// percentiles to the higher of their 99.5th, so that a current sample
// moved away from the reference is drawn, not piled beyond the axis,
// while each sample's most extreme 0.5% does not flatten the picture.
// Each end leaves out the same number of values, t(n) = ⌊0.005(n-1)⌋ of
// a sample of n (none of a sample of up to 201 values):
//
//	lo = min(ref[t(n_ref)], cur[t(n_cur)])
//	hi = max(ref[n_ref-1-t(n_ref)], cur[n_cur-1-t(n_cur)])
//
// An end that is infinite (±Inf values) is the pooled samples' percentile
// instead, and when that is infinite too, the most extreme finite value;
// ok is false when the samples have no finite value.
func plotWindow(ref, cur []float64) (lo, hi float64, ok bool) {
	trim := func(n int) int { return int(0.005 * float64(n-1)) }
	lo = math.Min(ref[trim(len(ref))], cur[trim(len(cur))])
	hi = math.Max(ref[len(ref)-1-trim(len(ref))], cur[len(cur)-1-trim(len(cur))])
	n := len(ref) + len(cur)
	if math.IsInf(lo, 0) {
		lo = kthOfTwo(ref, cur, trim(n))
	}
	if math.IsInf(hi, 0) {
		hi = kthOfTwo(ref, cur, n-1-trim(n))
	}
	// The finite values of a sorted sample are xs[first(xs):end(xs)].
	first := func(xs []float64) int { return sort.Search(len(xs), func(i int) bool { return xs[i] > math.Inf(-1) }) }
	end := func(xs []float64) int { return sort.Search(len(xs), func(i int) bool { return xs[i] == math.Inf(1) }) }
	if math.IsInf(lo, 0) {
		lo = math.Inf(1)
		for _, xs := range [][]float64{ref, cur} {
			if i := first(xs); i < end(xs) {
				lo = math.Min(lo, xs[i])
			}
		}
	}
	if math.IsInf(hi, 0) {
		hi = math.Inf(-1)
		for _, xs := range [][]float64{ref, cur} {
			if j := end(xs); first(xs) < j {
				hi = math.Max(hi, xs[j-1])
			}
		}
	}
	if math.IsInf(lo, 0) || math.IsInf(hi, 0) {
		return 0, 0, false
	}
	return lo, hi, true
}

// kthOfTwo returns the k-th smallest value (from 0) of the union of the
// sorted slices a and b, by bisection on the number taken from a.
func kthOfTwo(a, b []float64, k int) float64 {
	// i values from a and k+1-i from b form the k+1 smallest when
	// a[i-1] <= b[k+1-i] and b[k-i] <= a[i].
	lo, hi := max(0, k+1-len(b)), min(k+1, len(a))
	for lo < hi {
		i := lo + (hi-lo)/2
		if a[i] < b[k-i] {
			lo = i + 1
		} else {
			hi = i
		}
	}
	i := lo
	switch {
	case i == 0:
		return b[k]
	case k+1-i == 0:
		return a[k]
	}
	return max(a[i-1], b[k-i])
}

// sortedBinShares returns binShares(xs, lo, hi) for sorted xs: the bin
// index of a value, min(int((x-lo)/w), plotBins-1), never decreases as x
// grows, so each bin is a run of xs found by binary search.
func sortedBinShares(xs []float64, lo, hi float64) []float64 {
	out := make([]float64, plotBins)
	w := (hi - lo) / plotBins
	if math.IsInf(w, 0) || !(w > 0) {
		// hi - lo past the float64 range (lo and hi near its ends): the
		// bin of each value by plotBin, which does not overflow.
		for _, x := range xs {
			if x < lo || x > hi {
				continue
			}
			out[plotBin(x, lo, hi)]++
		}
	} else {
		first := sort.SearchFloat64s(xs, lo)
		end := sort.Search(len(xs), func(i int) bool { return xs[i] > hi })
		in := xs[first:end]
		prev := 0
		for b := 0; b < plotBins-1; b++ {
			next := sort.Search(len(in), func(i int) bool { return int((in[i]-lo)/w) > b })
			out[b] = float64(next - prev)
			prev = next
		}
		out[plotBins-1] = float64(len(in) - prev)
	}
	for i := range out {
		out[i] /= float64(len(xs))
	}
	return out
}
