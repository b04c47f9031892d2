package diagnose

import (
	"fmt"
	"math"
	"math/bits"

	"github.com/normguard/normguard/step"
	"github.com/normguard/normguard/table"
	"github.com/normguard/normguard/transform"
)

// Per-batch statistics beyond standardization: production fitted its
// scaler (min-max, robust, quantile, ...) on every batch of rows. Two
// signs locate the batch size b:
//
//   - an affine scaler fitted per batch maps each block of b rows by its
//     own affine map of the input, so the first row off the map of the
//     first rows starts the second block;
//   - a scaler whose output range is fixed (min-max, a uniform quantile
//     transform) gives every block the same minimum and maximum.
//
// In paired mode the candidate b is confirmed by refitting the artifact's
// last step on each block of inputs (or, for another scaler kind, by each
// block being an exact affine map of its inputs, the maps differing).

// rangeTol is how far, relative to the range's magnitude, block extremes
// may differ and still count as the same bound: a min-max scaler's
// largest output is 1 give or take an ulp.
const rangeTol = 1e-12

// searchMinBlocks is how many blocks a block size found without being
// given must make (fewer let chance pass the range test).
const searchMinBlocks = 3

// maxRangeCandidates bounds the block sizes perBatchFitted confirms by
// refitting.
const maxRangeCandidates = 16

// minAffineBlock is the smallest block size whose rows being an exact
// affine map of their inputs says anything (two rows always are).
const minAffineBlock = 4

// breakSlack is how many rows before the first row off the first block's
// affine map perBatchFitted tries as the start of the second block.
const breakSlack = 4

// rangeTable answers min and max over any range of xs in O(1) after an
// O(n log n) build (a sparse table).
type rangeTable struct {
	lo, hi [][]float64
}

func newRangeTable(xs []float64) *rangeTable {
	t := &rangeTable{lo: [][]float64{xs}, hi: [][]float64{xs}}
	for w := 1; 2*w <= len(xs); w *= 2 {
		plo, phi := t.lo[len(t.lo)-1], t.hi[len(t.hi)-1]
		lo, hi := make([]float64, len(xs)-2*w+1), make([]float64, len(xs)-2*w+1)
		for i := range lo {
			lo[i], hi[i] = math.Min(plo[i], plo[i+w]), math.Max(phi[i], phi[i+w])
		}
		t.lo, t.hi = append(t.lo, lo), append(t.hi, hi)
	}
	return t
}

// minMax returns the minimum and maximum of xs[i:j] (j > i).
func (t *rangeTable) minMax(i, j int) (float64, float64) {
	k := bits.Len(uint(j-i)) - 1
	w := 1 << k
	return math.Min(t.lo[k][i], t.lo[k][j-w]), math.Max(t.hi[k][i], t.hi[k][j-w])
}

// sameRangeSizes returns up to limit block sizes b, smallest first, for
// which every block of b consecutive values (the last one too when it
// holds at least two; at least minBlocks blocks) has the same minimum lo
// and maximum hi, lo < hi, each held by exactly one value of the block,
// and the common range: a scaler with a fixed output range fitted per
// batch maps the block's extremes there once, while a correctly scaled
// column clipped at fixed bounds (a quantile transform's 0 and 1) piles
// values up on them or misses them in some block. A few rows can land the
// extremes in every block of a wrong size by chance, so callers that can
// confirm a size try several. Any NaN in xs: none. Checking b costs
// O(n/b), so the search is O(n log n).
func sameRangeSizes(xs []float64, limit, minBlocks int) (sizes []int, lo, hi float64) {
	n := len(xs)
	if n < 4 {
		return nil, 0, 0
	}
	for _, x := range xs {
		if math.IsNaN(x) {
			return nil, 0, 0
		}
	}
	t := newRangeTable(xs)
	glo, ghi := t.minMax(0, n)
	if !(glo < ghi) {
		return nil, 0, 0
	}
	tol := rangeTol * math.Max(math.Max(math.Abs(glo), math.Abs(ghi)), ghi-glo)
	on := func(l, h float64) bool { return math.Abs(l-glo) <= tol && math.Abs(h-ghi) <= tol }
	atBounds := 0
	for _, x := range xs {
		if math.Abs(x-glo) <= tol || math.Abs(x-ghi) <= tol {
			atBounds++
		}
	}
	for b := 2; b <= n/2 && len(sizes) < limit; b++ {
		if !on(t.minMax(0, b)) {
			continue
		}
		blocks := 0
		all := true
		for s := 0; s < n && all; s += b {
			e := min(s+b, n)
			if e-s < 2 {
				break
			}
			all = on(t.minMax(s, e))
			blocks++
		}
		if all && atBounds == 2*blocks && blocks >= minBlocks {
			sizes = append(sizes, b)
		}
	}
	return sizes, glo, ghi
}

// rangeBlocksOf reports whether every block of b values of xs (the last
// one too when it holds at least two) spans the same [lo, hi], lo < hi,
// each bound held once per block (see sameRange).
func rangeBlocksOf(xs []float64, b int) (lo, hi float64, ok bool) {
	if b < 2 || len(xs) < 2*b {
		return 0, 0, false
	}
	return sameRange(blocksOf(xs, b))
}

// affineBreak returns the first row off the affine map through the first
// two rows with distinct inputs (rows with a missing input or output are
// skipped), or 0 when there is none.
func affineBreak(pre, obs []float64) int {
	i0, i1 := -1, -1
	for i, x := range pre {
		if math.IsNaN(x) || math.IsNaN(obs[i]) {
			continue
		}
		if i0 < 0 {
			i0 = i
		} else if x != pre[i0] {
			i1 = i
			break
		}
	}
	if i1 < 0 {
		return 0
	}
	slope := (obs[i1] - obs[i0]) / (pre[i1] - pre[i0])
	lim := fitTol * scale(obs)
	for i := i1 + 1; i < len(pre); i++ {
		x, y := pre[i], obs[i]
		if math.IsNaN(x) || math.IsNaN(y) {
			continue
		}
		if math.Abs(y-(obs[i0]+slope*(x-pre[i0]))) > lim {
			return i
		}
	}
	return 0
}

// perBatchFitted finds a block size b at which production fitted a scaler
// per batch: candidates from affineBreak and sameRangeSizes, confirmed by
// refitting the artifact's last step on every block of inputs ("refit")
// or, failing that, by every block being its own exact affine map of the
// inputs ("affine"). The expected values must not pass the same test.
func perBatchFitted(c *column) (b int, how string, ok bool) {
	if c.pre == nil || c.last == nil {
		return 0, "", false
	}
	n := len(c.obs)
	var cands []int
	if c.affine {
		// The first row off the first block's map starts the second block
		// or, when the rows after the boundary happen to sit on both maps
		// (the first of a block can be its center), comes a little later.
		r := affineBreak(c.pre, c.obs)
		for b := r; b >= max(2, r-breakSlack); b-- {
			if b < n-1 {
				cands = append(cands, b)
			}
		}
	}
	sizes, _, _ := sameRangeSizes(c.obs, maxRangeCandidates, 2)
	cands = append(cands, sizes...)
	for _, b := range cands {
		if _, _, expOK := rangeBlocksOf(c.exp, b); expOK {
			continue
		}
		if c.refitBlocks(b) {
			return b, "refit", true
		}
		// A line passes through any two points: a block must hold more
		// rows than a line has parameters for its map to be evidence.
		if b >= minAffineBlock && affineBlocks(c.pre, c.obs, b) {
			return b, "affine", true
		}
	}
	return 0, "", false
}

// refitBlocks reports whether refitting the artifact's last step on every
// block of b inputs and applying it reproduces the observed block.
func (c *column) refitBlocks(b int) bool {
	n := len(c.obs)
	for s := 0; s < n; s += b {
		e := min(s+b, n)
		in := []table.Column{{Name: c.inName, Kind: table.Numeric, Num: c.pre[s:e]}}
		f, err := c.last.Params.Fit(&step.FitContext{}, in)
		if err != nil {
			return false
		}
		out, err := transform.ApplyStep(f, in, e-s, 1)
		if err != nil || len(out) != 1 || !same(c.obs[s:e], out[0].Num[:e-s], exactTol) {
			return false
		}
	}
	return true
}

// affineBlocks reports whether every block of b rows is an exact affine
// map of its inputs, and at least two blocks have different maps.
func affineBlocks(pre, obs []float64, b int) bool {
	var first [2]float64
	differ := false
	for s := 0; s < len(obs); s += b {
		e := min(s+b, len(obs))
		if affineBreak(pre[s:e], obs[s:e]) != 0 {
			return false
		}
		a, m, ok := lineOf(pre[s:e], obs[s:e])
		if !ok {
			continue
		}
		if s == 0 {
			first = [2]float64{a, m}
		} else if math.Abs(a-first[0]) > fitTol*math.Max(1, math.Abs(a)) || math.Abs(m-first[1]) > fitTol*math.Max(1, math.Abs(m)) {
			differ = true
		}
	}
	return differ
}

// lineOf returns the intercept and slope through the first two rows with
// distinct inputs.
func lineOf(pre, obs []float64) (a, m float64, ok bool) {
	i0 := -1
	for i, x := range pre {
		if math.IsNaN(x) || math.IsNaN(obs[i]) {
			continue
		}
		if i0 < 0 {
			i0 = i
		} else if x != pre[i0] {
			m = (obs[i] - obs[i0]) / (x - pre[i0])
			return obs[i0] - m*pre[i0], m, true
		}
	}
	return 0, 0, false
}

// describeBatches says how a per-batch verdict was established.
func describeBatches(how, kind string) string {
	switch how {
	case "refit":
		return fmt.Sprintf("refitting the artifact's %s on each block of inputs reproduces the observed values exactly", kind)
	case "affine":
		return "each block is an exact affine map of its inputs with its own center and scale"
	}
	return ""
}

// blocksOf splits xs into blocks of b values.
func blocksOf(xs []float64, b int) [][]float64 {
	var out [][]float64
	for s := 0; s < len(xs); s += b {
		out = append(out, xs[s:min(s+b, len(xs))])
	}
	return out
}

// sameRange reports whether every group of at least two values (at least
// two such groups) spans the same [lo, hi], lo < hi, to within rangeTol,
// each bound held by exactly one value of the group. NaN fails.
func sameRange(groups [][]float64) (lo, hi float64, ok bool) {
	lo, hi = math.NaN(), math.NaN()
	var spans [][2]float64
	for _, g := range groups {
		if len(g) < 2 {
			continue
		}
		for _, x := range g {
			if math.IsNaN(x) {
				return 0, 0, false
			}
		}
		l, h := minMax(g)
		if math.IsNaN(lo) {
			lo, hi = l, h
		}
		spans = append(spans, [2]float64{l, h})
	}
	if len(spans) < 2 || !(lo < hi) {
		return 0, 0, false
	}
	tol := rangeTol * math.Max(math.Max(math.Abs(lo), math.Abs(hi)), hi-lo)
	for _, s := range spans {
		if math.Abs(s[0]-lo) > tol || math.Abs(s[1]-hi) > tol {
			return 0, 0, false
		}
	}
	for _, g := range groups {
		if len(g) < 2 {
			continue
		}
		nlo, nhi := 0, 0
		for _, x := range g {
			if math.Abs(x-lo) <= tol {
				nlo++
			} else if math.Abs(x-hi) <= tol {
				nhi++
			}
		}
		if nlo != 1 || nhi != 1 {
			return 0, 0, false
		}
	}
	return lo, hi, true
}
