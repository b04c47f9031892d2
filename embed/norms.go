package embed

import (
	"math"

	"github.com/normguard/normguard/stats"
)

// NormQuantileProbs are the probabilities of NormStats.Quantiles.
var NormQuantileProbs = []float64{0, 0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 1}

// Norm histogram bins: bin 0 is [0, 1e-4), bin normBins-1 is [1e4, +Inf),
// and between them normBinsPerDecade log-spaced bins per decade (each
// about 7.5% wide), the same fixed edges for every column and window so
// that histograms merge by adding counts.
const (
	normBinsPerDecade = 32
	normMinExp        = -4
	normMaxExp        = 4
	normBins          = (normMaxExp-normMinExp)*normBinsPerDecade + 2
)

// NormBinEdges returns the lower edge of norm histogram bin i: 0 for bin
// 0 ([0, 1e-4)), then 10^(−4 + (i−1)/32) up to bin 257 ([1e4, +Inf));
// +Inf from i = 258 on (the upper edge of the last bin).
func NormBinEdges(i int) float64 {
	switch {
	case i <= 0:
		return 0
	case i >= normBins:
		return math.Inf(1)
	}
	return math.Pow(10, float64(normMinExp)+float64(i-1)/normBinsPerDecade)
}

// normBin returns the histogram bin of the norm r ≥ 0.
func normBin(r float64) int {
	if r < 1e-4 {
		return 0
	}
	f := math.Floor((math.Log10(r) - normMinExp) * normBinsPerDecade)
	if !(f < normBins) { // +Inf (a sum of squares past the float64 range) or NaN: the last bin
		return normBins - 1
	}
	i := 1 + int(f)
	// Log10 may round across an edge; settle on the bin whose edges hold r.
	for i > 1 && r < NormBinEdges(i) {
		i--
	}
	for i < normBins-1 && r >= NormBinEdges(i+1) {
		i++
	}
	return min(max(i, 1), normBins-1)
}

// bins lists the non-empty bins of counts.
func bins(counts []int) []Bin {
	var out []Bin
	for i, c := range counts {
		if c > 0 {
			out = append(out, Bin{Lo: NormBinEdges(i), Hi: NormBinEdges(i + 1), Count: c})
		}
	}
	return out
}

// exactNormStats summarizes the norms of all fitted vectors: numpy's
// linear quantiles, population moments (two passes), the share within
// tol of 1 and the fixed-bin histogram.
func exactNormStats(norms []float64, tol float64) NormStats {
	s := NormStats{Count: len(norms)}
	if len(norms) == 0 {
		return s
	}
	s.Quantiles = stats.QuantilesOf(norms, NormQuantileProbs)
	for i := 1; i < len(s.Quantiles); i++ {
		// interpolation may round one ulp below the previous quantile
		s.Quantiles[i] = max(s.Quantiles[i], s.Quantiles[i-1])
	}
	s.Min, s.Max = s.Quantiles[0], s.Quantiles[len(s.Quantiles)-1]
	s.Mean = stats.PairwiseSum(norms) / float64(len(norms))
	var ss float64
	counts := make([]int, normBins)
	unit := 0
	for _, r := range norms {
		d := r - s.Mean
		ss += d * d
		counts[normBin(r)]++
		if math.Abs(r-1) <= tol {
			unit++
		}
	}
	s.Std = math.Sqrt(ss / float64(len(norms)))
	s.UnitShare = float64(unit) / float64(len(norms))
	s.Histogram = bins(counts)
	return s
}

// histQuantile reads the quantile p of the values counted in counts,
// interpolating linearly inside the bin that holds it and clamping to
// [lo, hi], the smallest and largest value seen.
func histQuantile(counts []int, total int, p, lo, hi float64) float64 {
	if total == 0 {
		return math.NaN()
	}
	target := p * float64(total)
	cum := 0.0
	for i, c := range counts {
		if c == 0 {
			continue
		}
		if cum+float64(c) >= target {
			a, b := max(NormBinEdges(i), lo), min(NormBinEdges(i+1), hi)
			v := a + (b-a)*(target-cum)/float64(c)
			return min(max(v, lo), hi)
		}
		cum += float64(c)
	}
	return hi
}

// histBelow estimates how many of the values counted in counts lie below
// x: the bins below x's bin, and the share of x's bin below x read
// linearly between its edges clamped to [lo, hi], the smallest and
// largest value seen (as histQuantile reads it).
func histBelow(counts []int, x, lo, hi float64) float64 {
	if !(x > lo) {
		return 0
	}
	b := normBin(x)
	var cum float64
	for _, c := range counts[:b] {
		cum += float64(c)
	}
	if c := float64(counts[b]); c > 0 {
		a, e := max(NormBinEdges(b), lo), min(NormBinEdges(b+1), hi)
		switch {
		case x >= e:
			cum += c
		case e > a && x > a:
			cum += c * (x - a) / (e - a)
		}
	}
	return cum
}
