package diagnose

import (
	"fmt"
	"math"
	"slices"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/profile"
)

// Detecting per-batch fitting: observed columns standardized, min-max or
// robust-scaled batch by batch (known batches or searched block sizes).

// batchFitSteps are the steps whose outputs the batch checks judge: the
// scalers production could fit on every batch. Other outputs (an
// encoder's codes, a discretizer's bins) can span the same values in
// every block, a panel listing the same countries every year, say,
// without anything fitted per batch.
var batchFitSteps = map[string]bool{
	"standard_scaler":      true,
	"min_max_scaler":       true,
	"quantile_transformer": true,
	"robust_scaler":        true,
	"power_transformer":    true,
}

// fittedPerBatch reports, per output of a, whether the last step of its
// group is one of batchFitSteps (false for passed-through columns).
func fittedPerBatch(a *artifact.Artifact) []bool {
	out := make([]bool, len(a.Outputs))
	forEachGroupOutput(a, func(g artifact.Group, off, width int, _ bool) {
		if len(g.Steps) == 0 || !batchFitSteps[g.Steps[len(g.Steps)-1].Name] {
			return
		}
		for k := off; k < off+width && k < len(out); k++ {
			out[k] = true
		}
	})
	return out
}

// unpairedBatches gives v the verdict per_batch_statistics when obs was
// standardized, robust-scaled or scaled to a fixed range batch by batch
// (see Unpaired), and reports whether it did.
//
// Batches that all hold the same values (sameValues) are no evidence
// when the values are the training output's own (onTrainingValues): the
// data repeats, a panel listing the same countries every year or an
// indicator with one missing value per batch, and the artifact's fixed
// scaling gives every batch the same statistics. Values the training
// output does not take, evenly spaced ranks repeating in every batch,
// are a quantile transform fitted per batch.
// Nor is every batch spanning the training output's range when the
// training output repeats both its bounds (boundsRecur).
//
// A column whose values are all values of the training output
// (amongTrainingValues: an indicator's two values, one-hot columns,
// scaled codes) is no evidence at all, in any row order or sample: a
// batch of the training output's own values, drawn at random, has
// median 0 and interquartile range 1 as often as not when most of its
// values sit on the lower of its two (attack run 32 finding 7). Nor are
// batches whose median and quartiles are the training output's own,
// each a value it repeats (quartilesRecur): a robust scaler's output of
// counts, batched at random, has median 0 and interquartile range 1
// exactly too.
func unpairedBatches(v *Verdict, p *profile.Feature, present, obs []float64, opt UnpairedOptions) bool {
	if amongTrainingValues(p, present) {
		return false
	}
	fixed := func([][]float64) bool { return false }
	if onTrainingValues(p, present) {
		fixed = sameValues
	}
	if b, batches, ddof, ok := batchStandardized(obs, opt, fixed); ok {
		v.Verdict = PerBatchStatistics
		v.Evidence["batch_size"] = b
		v.Evidence["batches"] = batches
		v.Evidence["ddof"] = ddof
		v.explain(fmt.Sprintf("each of the %d batches (of %d rows) has mean 0 and std 1 exactly, which no fixed scaling of real data produces", batches, b),
			"production standardized every batch with its own statistics; use the artifact's fitted parameters instead")
		v.Plot = distributionPlot(p, present)
		return true
	}
	robustFixed := func(groups [][]float64) bool { return fixed(groups) || quartilesRecur(p, groups) }
	if b, batches, ok := batchRobust(obs, opt, robustFixed); ok {
		v.Verdict = PerBatchStatistics
		v.Evidence["batch_size"] = b
		v.Evidence["batches"] = batches
		v.explain(fmt.Sprintf("each of the %d batches (of %d rows) has median 0 and interquartile range 1 exactly, which no fixed scaling of real data produces", batches, b),
			"production fitted a robust scaler on every batch; use the artifact's fitted parameters instead")
		v.Plot = distributionPlot(p, present)
		return true
	}
	if b, batches, lo, hi, ok := batchRanged(obs, opt, fixed); ok && !boundsRecur(p, lo, hi) {
		v.Verdict = PerBatchStatistics
		v.Evidence["batch_size"] = b
		v.Evidence["batches"] = batches
		v.Evidence["block_min"] = lo
		v.Evidence["block_max"] = hi
		v.explain(fmt.Sprintf("each of the %d batches (of %d rows) spans exactly [%s, %s], its smallest and largest values landing on the same two numbers, which a fixed scaling of real data does not produce", batches, b, fmtNum(lo), fmtNum(hi)),
			"production fitted its scaler (min-max or quantile, say) on every batch; use the artifact's fitted parameters instead")
		v.Plot = distributionPlot(p, present)
		return true
	}
	return false
}

// boundsRecur reports whether lo and hi are the training output's
// minimum and maximum and it holds each in at least two rows, as a column
// of codes or counts does: a fixed scaling then puts a row on each bound
// in every batch holding those inputs (the first and last countries of a
// panel listed every year), so that every batch spanning [lo, hi] says
// nothing of a fit per batch. The rows at the minimum are counted exactly
// (the profile's CDF at its grid's first point); the maximum recurs when
// the grid's last but one point (the 0.9999 quantile, interpolated
// linearly) is already it.
func boundsRecur(p *profile.Feature, lo, hi float64) bool {
	q, cdf := p.Quantiles, p.CDF
	if len(q) < 2 || len(cdf) != len(q) || p.Min == nil || p.Max == nil {
		return false
	}
	tMin, tMax := float64(*p.Min), float64(*p.Max)
	tol := rangeTol * math.Max(math.Max(math.Abs(lo), math.Abs(hi)), hi-lo)
	if math.Abs(tMin-lo) > tol || math.Abs(tMax-hi) > tol {
		return false
	}
	return q[0] == tMin && math.Round(cdf[0]*float64(p.Count)) >= 2 && q[len(q)-2] == tMax
}

// amongTrainingValues reports whether every value of xs (no NaN; at
// least one) is a value of the training output: one of the profile's
// values (at most two distinct) or of its quantile grid, to within one
// float32 rounding (as onTrainingValues). The grid holds every value of
// a few-valued column whose values each hold more than the grid's
// spacing of the rows (an indicator, codes of a few categories); values
// it misses (rare codes, the continuous values of a scaler's output
// other than its grid's) fail.
func amongTrainingValues(p *profile.Feature, xs []float64) bool {
	var vals []float64
	switch {
	case p.Values != nil:
		vals = slices.Clone(p.Values.Numbers)
		slices.Sort(vals)
	default:
		vals = p.Quantiles // sorted: a quantile function's values
	}
	if len(xs) == 0 || len(vals) == 0 {
		return false
	}
	lim := float32Tol * scale(xs, vals)
	for _, x := range xs {
		if i, _ := slices.BinarySearch(vals, x-lim); i == len(vals) || !(vals[i] <= x+lim) {
			return false
		}
	}
	return true
}

// quartileProbs are the probabilities of the quartiles a robust scaler
// centers and scales by; each is a point of profile.GridProbs.
var quartileProbs = [3]float64{0.25, 0.5, 0.75}

// quartilesRecur reports whether every group of at least 4 values has
// the training output's own quartiles, percentiles interpolated linearly
// (as batchRobust), to within blockTol, and each of those is a value the
// training output repeats: its quantile grid holds it at a neighbouring
// probability too, half a percent of the rows or more on one value.
// Batches of a fixed scaling's output then land their quartiles on those
// values again, so that every batch having the training output's median
// and interquartile range says nothing of a fit per batch. Profiles
// without a grid (at most two values): false.
func quartilesRecur(p *profile.Feature, groups [][]float64) bool {
	q := p.Quantiles
	if len(q) != len(profile.GridProbs) {
		return false
	}
	var want [3]float64
	for k, pr := range quartileProbs {
		i := slices.Index(profile.GridProbs, pr)
		if i <= 0 || i+1 >= len(q) || (q[i-1] != q[i] && q[i+1] != q[i]) {
			return false
		}
		want[k] = q[i]
	}
	n := 0
	for _, g := range groups {
		if len(g) < 4 {
			continue
		}
		s := slices.Clone(g)
		slices.Sort(s)
		for k, pr := range quartileProbs {
			if math.Abs(linearQuantile(s, pr)-want[k]) > blockTol {
				return false
			}
		}
		n++
	}
	return n > 0
}

// linearQuantile returns the p-th quantile of sorted s (not empty),
// interpolated linearly between order statistics (numpy's default):
//
//	h = p (n - 1),  s[floor h] + (h - floor h) (s[floor h + 1] - s[floor h])
func linearQuantile(s []float64, p float64) float64 {
	h := p * float64(len(s)-1)
	lo := int(math.Floor(h))
	hi := min(lo+1, len(s)-1)
	return s[lo] + (h-float64(lo))*(s[hi]-s[lo])
}

// trainingShare is the share of the profile's quantile grid that must be
// observed values for the values to be the training output's own (see
// onTrainingValues).
const trainingShare = 0.5

// onTrainingValues reports whether xs (no NaN) takes the training
// output's values: for a profile of at most two values, every value of
// xs is one of them; otherwise at least trainingShare of the profile's
// grid values occur in xs, each to within one float32 rounding (as
// sharedMass). A column of repeated codes or counts meets it (its grid
// values are values of its rows, but for the few interpolated between
// two neighbours); a continuous column with other values, such as ranks
// of each batch, meets it at its ends only.
func onTrainingValues(p *profile.Feature, xs []float64) bool {
	if len(xs) == 0 {
		return false
	}
	if p.Values != nil {
		vals := p.Values.Numbers
		lim := float32Tol * scale(xs, vals)
		for _, x := range xs {
			if !slices.ContainsFunc(vals, func(w float64) bool { return math.Abs(w-x) <= lim }) {
				return false
			}
		}
		return len(vals) > 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	lim := float32Tol * scale(s, p.Quantiles)
	n := 0
	for _, q := range p.Quantiles {
		if i, _ := slices.BinarySearch(s, q-lim); i < len(s) && s[i] <= q+lim {
			n++
		}
	}
	return len(p.Quantiles) > 0 && float64(n) >= trainingShare*float64(len(p.Quantiles))
}

// sameValues reports whether every group of at least two values is a
// sub-multiset of the largest group, values equal to within exactTol of
// the groups' magnitude: batches of the same inputs, which a fixed
// scaling maps to the same outputs, so that their statistics (each
// standardized, say) say nothing of a fit per batch. Linear in the values
// after sorting each group.
func sameValues(groups [][]float64) bool {
	ref := -1
	for i, g := range groups {
		if ref < 0 || len(g) > len(groups[ref]) {
			ref = i
		}
	}
	if ref < 0 {
		return false
	}
	want := slices.Clone(groups[ref])
	slices.Sort(want)
	tol := exactTol * scale(groups...)
	for i, g := range groups {
		if i == ref || len(g) < 2 {
			continue
		}
		got := slices.Clone(g)
		slices.Sort(got)
		j := 0
		for _, x := range got {
			for j < len(want) && want[j] < x-tol {
				j++
			}
			if j == len(want) || !(math.Abs(want[j]-x) <= tol) {
				return false
			}
			j++
		}
	}
	return true
}

// batchStandardized reports whether every batch of obs is standardized
// by its own statistics (see standardizedBlocks), with at least two
// batches that a fixed scaling does not explain (fixed, see
// unpairedBatches). Batches are opt.BatchColumn's groups, or
// opt.BatchSize rows, or else the smallest block size b found by
// searchBlocks.
func batchStandardized(obs []float64, opt UnpairedOptions, fixed func([][]float64) bool) (b, batches, ddof int, ok bool) {
	n := len(obs)
	switch {
	case opt.BatchColumn != nil:
		return keyedStandardized(obs, opt.BatchColumn, fixed)
	case opt.BatchSize > 0:
		b = opt.BatchSize
		if b < 2 || n < 2*b || fixed(blocksOf(obs, b)) {
			return 0, 0, 0, false
		}
		for ddof := 0; ddof <= 1; ddof++ {
			if standardizedBlocks(obs, b, ddof) {
				return b, (n + b - 1) / b, ddof, true
			}
		}
		return 0, 0, 0, false
	}
	b, ddof, ok = searchBlocks(obs, fixed)
	return b, (n + b - 1) / max(b, 1), ddof, ok
}

// keyedStandardized checks each group of rows sharing a key (groups of
// one row ignored); it reports the most common group size.
func keyedStandardized(obs []float64, keys []string, fixed func([][]float64) bool) (b, batches, ddof int, ok bool) {
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
	if len(groups) < 2 || fixed(groups) {
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
// shorter, block too unless it holds one row) and a fixed scaling does
// not explain the blocks (fixed; blocks of a multiple of a size it
// explains are skipped, as sameValues holds for them too). Prefix sums
// screen the first block of each b in O(1); survivors are confirmed with
// two-pass moments.
func searchBlocks(obs []float64, fixed func([][]float64) bool) (b, ddof int, ok bool) {
	n := len(obs)
	s1, s2, finite := prefixSums(obs)
	if !finite {
		return 0, 0, false
	}
	const screenTol = 1e-6
	var same []int // block sizes fixed explains
	for b := 2; b <= n/2; b++ {
		m := s1[b] / float64(b)
		if math.Abs(m) > screenTol || slices.ContainsFunc(same, func(s int) bool { return b%s == 0 }) {
			continue
		}
		ss := s2[b] - s1[b]*m
		for ddof := 0; ddof <= 1; ddof++ {
			if math.Abs(ss/float64(b-ddof)-1) <= screenTol && standardizedBlocks(obs, b, ddof) {
				if fixed(blocksOf(obs, b)) {
					same = append(same, b)
					break
				}
				return b, ddof, true
			}
		}
	}
	return 0, 0, false
}

// batchRanged reports whether every batch of obs (as batchStandardized
// forms them; no missing values) spans the same [lo, hi], each bound held
// by one value per batch, the batches not explained by a fixed scaling
// (fixed): the mark of a min-max scaler or a uniform quantile transform
// fitted per batch. Searched, the smallest of the first
// maxRangeCandidates block sizes that pass is taken.
func batchRanged(obs []float64, opt UnpairedOptions, fixed func([][]float64) bool) (b, batches int, lo, hi float64, ok bool) {
	if groups := knownBatches(obs, opt); groups != nil {
		lo, hi, ok = sameRange(groups)
		for _, g := range groups {
			b = max(b, len(g))
		}
		return b, len(groups), lo, hi, ok && !fixed(groups)
	}
	sizes, lo, hi := sameRangeSizes(obs, maxRangeCandidates, searchMinBlocks)
	for _, b := range sizes {
		if !fixed(blocksOf(obs, b)) {
			return b, (len(obs) + b - 1) / b, lo, hi, true
		}
	}
	return 0, 0, 0, 0, false
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
// known (opt.BatchSize or opt.BatchColumn); missing values fail, and so
// do batches a fixed scaling explains (fixed).
func batchRobust(obs []float64, opt UnpairedOptions, fixed func([][]float64) bool) (b, batches int, ok bool) {
	groups := knownBatches(obs, opt)
	if len(groups) < 2 || fixed(groups) {
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
		if math.Abs(linearQuantile(s, 0.5)) > blockTol || math.Abs(linearQuantile(s, 0.75)-linearQuantile(s, 0.25)-1) > blockTol {
			return 0, 0, false
		}
		batches++
		b = max(b, len(g))
	}
	return b, len(groups), batches >= 2
}
