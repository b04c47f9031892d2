package step

import (
	"fmt"
	"math"
	"sort"

	"github.com/normguard/normguard/stats"
)

// kmeansMaxIter and kmeansTol are scikit-learn 1.2 KMeans's defaults,
// which KBinsDiscretizer(strategy="kmeans") keeps.
const (
	kmeansMaxIter = 300
	kmeansTol     = 1e-4
)

// kmeansEdges returns the bin edges scikit-learn 1.2's
// KBinsDiscretizer(strategy="kmeans") gives the column xs (finite, not
// constant, at least nBins values): a one-dimensional KMeans(n_init=1)
// started from the midpoints of numpy.linspace(min, max, nBins+1), its
// sorted centers' midpoints between min and max, then bins of width
// <= 1e-8 removed as for "quantile".
//
// The KMeans is scikit-learn's Lloyd algorithm on the data centered on
// its numpy mean: squared distances c² - 2xc, a value to the first
// nearest center, centers as the sum of their values times the reciprocal
// of their count, an empty cluster given the value farthest from its
// center, stopping when no label changes or the centers move by at most
// tol = 1e-4 * var(x) (summed squares), then the labels recomputed.
// scikit-learn sums each center's values in chunks across its threads;
// here they are summed in row order, so a center can differ from it in
// the last bits.
func kmeansEdges(xs []float64, nBins int) ([]float64, error) {
	n := len(xs)
	if n < nBins {
		return nil, fmt.Errorf("has %d values, fewer than n_bins=%d: strategy kmeans needs at least one value per bin", n, nBins)
	}
	lo, hi := nanMinMax(xs)
	uniform := linspace(lo, hi, nBins+1)
	mean := stats.PairwiseSum(xs) / float64(n)
	x := make([]float64, n)
	for i, v := range xs {
		x[i] = v - mean
	}
	// tol: np.mean(np.var(X, axis=0)) * 1e-4 on the centered data.
	xm := stats.PairwiseSum(x) / float64(n)
	sq := make([]float64, n)
	for i, v := range x {
		d := math.Abs(v - xm)
		sq[i] = d * d
	}
	tol := stats.PairwiseSum(sq) / float64(n) * kmeansTol
	if !isFinite(mean) || !isFinite(tol) {
		return nil, fmt.Errorf("its values (from %v to %v) are too large for strategy kmeans: their mean or variance overflows float64 (magnitudes up to about 1.8e308); rescale the column, or bin it with strategy quantile", lo, hi)
	}

	centers := make([]float64, nBins)
	for k := range centers {
		centers[k] = (uniform[k+1]+uniform[k])*0.5 - mean
	}
	labels := make([]int, n)
	old := make([]int, n)
	for i := range old {
		old[i] = -1
	}
	next := make([]float64, nBins)
	weight := make([]float64, nBins)
	for iter := 0; iter < kmeansMaxIter; iter++ {
		assignLabels(x, centers, labels)
		for k := range next {
			next[k], weight[k] = 0, 0
		}
		for i, v := range x {
			next[labels[i]] += v
			weight[labels[i]]++
		}
		relocateEmpty(x, centers, next, weight, labels)
		shift := 0.0
		for k := range next {
			if weight[k] > 0 {
				next[k] *= 1 / weight[k]
			}
			d := math.Abs(next[k] - centers[k])
			shift += d * d
		}
		centers, next = next, centers
		if equalInts(labels, old) {
			break
		}
		if shift <= tol {
			break
		}
		copy(old, labels)
	}
	c := make([]float64, nBins)
	for k, v := range centers {
		c[k] = v + mean
	}
	sort.Float64s(c)
	edges := make([]float64, 0, nBins+1)
	edges = append(edges, lo)
	for k := 1; k < nBins; k++ {
		edges = append(edges, (c[k]+c[k-1])*0.5)
	}
	edges = append(edges, hi)
	return quantileEdges(edges), nil
}

// assignLabels gives each value the first center at the smallest
// c² - 2xc (scikit-learn's squared distance without the x² term).
func assignLabels(x, centers []float64, labels []int) {
	sqn := make([]float64, len(centers))
	for k, c := range centers {
		sqn[k] = c * c
	}
	for i, v := range x {
		best, bestD := 0, math.Inf(1)
		for k, c := range centers {
			if d := sqn[k] + -2*(v*c); d < bestD {
				best, bestD = k, d
			}
		}
		labels[i] = best
	}
}

// relocateEmpty moves into each empty cluster the value farthest from its
// center (scikit-learn's _relocate_empty_clusters_dense; on equal
// distances the first value), taking it out of its own cluster's sums.
func relocateEmpty(x, centers, sums, weight []float64, labels []int) {
	var empty []int
	for k, w := range weight {
		if w == 0 {
			empty = append(empty, k)
		}
	}
	if len(empty) == 0 {
		return
	}
	order := make([]int, len(x))
	dist := make([]float64, len(x))
	for i, v := range x {
		d := v - centers[labels[i]]
		order[i], dist[i] = i, d*d
	}
	sort.SliceStable(order, func(a, b int) bool { return dist[order[a]] > dist[order[b]] })
	for t, k := range empty {
		far := order[t]
		from := labels[far]
		sums[from] -= x[far]
		sums[k] = x[far]
		weight[k] = 1
		weight[from]--
	}
}

// equalInts reports whether a and b hold the same values.
func equalInts(a, b []int) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return len(a) == len(b)
}
