package diagnose

import (
	"math"
	"slices"
)

// Detecting per-batch fitting: observed columns standardized, min-max or
// robust-scaled batch by batch (known batches or searched block sizes).

// batchStandardized reports whether every batch of obs is standardized
// by its own statistics (see standardizedBlocks), with at least two
// batches. Batches are opt.BatchColumn's groups, or opt.BatchSize rows,
// or else the smallest block size b found by searchBlocks.
func batchStandardized(obs []float64, opt UnpairedOptions) (b, batches, ddof int, ok bool) {
	n := len(obs)
	switch {
	case opt.BatchColumn != nil:
		return keyedStandardized(obs, opt.BatchColumn)
	case opt.BatchSize > 0:
		b = opt.BatchSize
		if b < 2 || n < 2*b {
			return 0, 0, 0, false
		}
		for ddof := 0; ddof <= 1; ddof++ {
			if standardizedBlocks(obs, b, ddof) {
				return b, (n + b - 1) / b, ddof, true
			}
		}
		return 0, 0, 0, false
	}
	b, ddof, ok = searchBlocks(obs)
	return b, (n + b - 1) / max(b, 1), ddof, ok
}

// keyedStandardized checks each group of rows sharing a key (groups of
// one row ignored); it reports the most common group size.
func keyedStandardized(obs []float64, keys []string) (b, batches, ddof int, ok bool) {
	idx := map[string]int{}
	var groups [][]float64
	for i, k := range keys {
		g, seen := idx[k]
		if !seen {
			g = len(groups)
			idx[k] = g
			groups = append(groups, nil)
		}
		groups[g] = append(groups[g], obs[i])
	}
	if len(groups) < 2 {
		return 0, 0, 0, false
	}
	for ddof := 0; ddof <= 1; ddof++ {
		all := true
		for _, g := range groups {
			if len(g) >= 2 && !standardizedBlocks(g, len(g), ddof) {
				all = false
				break
			}
		}
		if all {
			sizes := map[int]int{}
			for _, g := range groups {
				sizes[len(g)]++
				if sizes[len(g)] > sizes[b] || (sizes[len(g)] == sizes[b] && len(g) > b) {
					b = len(g)
				}
			}
			return b, len(groups), ddof, true
		}
	}
	return 0, 0, 0, false
}

// searchBlocks finds the smallest block size b (2 <= b <= n/2) for which
// every consecutive block of b rows is standardized (the last, possibly
// shorter, block too unless it holds one row). Prefix sums screen the
// first block of each b in O(1); survivors are confirmed with two-pass
// moments.
func searchBlocks(obs []float64) (b, ddof int, ok bool) {
	n := len(obs)
	s1, s2, finite := prefixSums(obs)
	if !finite {
		return 0, 0, false
	}
	const screenTol = 1e-6
	for b := 2; b <= n/2; b++ {
		m := s1[b] / float64(b)
		if math.Abs(m) > screenTol {
			continue
		}
		ss := s2[b] - s1[b]*m
		for ddof := 0; ddof <= 1; ddof++ {
			if math.Abs(ss/float64(b-ddof)-1) <= screenTol && standardizedBlocks(obs, b, ddof) {
				return b, ddof, true
			}
		}
	}
	return 0, 0, false
}

// batchRanged reports whether every batch of obs (as batchStandardized
// forms them; no missing values) spans the same [lo, hi], each bound held
// by one value per batch: the mark of a min-max scaler or a uniform quantile
// transform fitted per batch.
func batchRanged(obs []float64, opt UnpairedOptions) (b, batches int, lo, hi float64, ok bool) {
	if groups := knownBatches(obs, opt); groups != nil {
		lo, hi, ok = sameRange(groups)
		for _, g := range groups {
			b = max(b, len(g))
		}
		return b, len(groups), lo, hi, ok
	}
	for _, x := range obs {
		if math.IsNaN(x) {
			return 0, 0, 0, 0, false
		}
	}
	b, lo, hi, ok = sameRangeBlocks(obs)
	return b, (len(obs) + b - 1) / max(b, 1), lo, hi, ok
}

// knownBatches splits obs into the batches opt names (BatchColumn groups
// or BatchSize rows); nil when opt names none.
func knownBatches(obs []float64, opt UnpairedOptions) [][]float64 {
	switch {
	case opt.BatchColumn != nil:
		idx := map[string]int{}
		var groups [][]float64
		for i, k := range opt.BatchColumn {
			g, seen := idx[k]
			if !seen {
				g = len(groups)
				idx[k] = g
				groups = append(groups, nil)
			}
			groups[g] = append(groups[g], obs[i])
		}
		return groups
	case opt.BatchSize > 0:
		var out [][]float64
		for s := 0; s < len(obs); s += opt.BatchSize {
			out = append(out, obs[s:min(s+opt.BatchSize, len(obs))])
		}
		return out
	}
	return nil
}

// batchRobust reports whether every known batch of at least 4 rows (at
// least two of them) has median 0 and interquartile range 1 to within
// blockTol, percentiles interpolated linearly (numpy's default, as
// RobustScaler uses): a robust scaler fitted per batch. Batches must be
// known (opt.BatchSize or opt.BatchColumn); missing values fail.
func batchRobust(obs []float64, opt UnpairedOptions) (b, batches int, ok bool) {
	groups := knownBatches(obs, opt)
	if len(groups) < 2 {
		return 0, 0, false
	}
	for _, g := range groups {
		if len(g) < 4 {
			continue
		}
		s := slices.Clone(g)
		for _, x := range s {
			if math.IsNaN(x) {
				return 0, 0, false
			}
		}
		slices.Sort(s)
		at := func(p float64) float64 {
			h := p * float64(len(s)-1)
			lo := int(math.Floor(h))
			hi := min(lo+1, len(s)-1)
			return s[lo] + (h-float64(lo))*(s[hi]-s[lo])
		}
		if math.Abs(at(0.5)) > blockTol || math.Abs(at(0.75)-at(0.25)-1) > blockTol {
			return 0, 0, false
		}
		batches++
		b = max(b, len(g))
	}
	return b, len(groups), batches >= 2
}
