package diagnose

import (
	"fmt"
	"math"
	"sort"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/drift"
	"github.com/normguard/normguard/profile"
	"github.com/normguard/normguard/table"
	"github.com/normguard/normguard/transform"
)

// Thresholds of the unpaired patterns.
const (
	// farMeans is how many profile standard deviations the observed mean
	// must be off, or farStd the factor the observed std must be off by,
	// for a column to look like values on another scale.
	farMeans = 3.0
	farStd   = 2.0
	// identityTol bounds how far from (x - 0) / 1 a fitted output-space
	// map may be and still count as no map at all: an input that shifted
	// or spread by less than this is drift, not wrong parameters.
	identityTol = 0.05
	// minMass is how often a profile's point mass (the output of a fitted
	// imputation value) must recur exactly in the observed column to prove
	// the column went through the fitted map.
	minMass = 3
	// interiorLo and interiorHi bound the grid probabilities the quantile
	// fit uses: the tails are left out, where one outlier moves a quantile.
	interiorLo, interiorHi = 0.05, 0.95
)

// UnpairedOptions say how the observed rows were batched.
type UnpairedOptions struct {
	// BatchSize is the number of consecutive rows production transformed
	// together (0: unknown).
	BatchSize int
	// BatchColumn holds each row's batch key (optional; nil: unknown).
	// Rows with the same key form one batch.
	BatchColumn []string
}

// Unpaired diagnoses production features when the raw rows are unknown:
// observed holds the features production fed its model, one column per
// artifact output (by name), and each numeric output is judged from its
// values and the artifact's training profile of that output alone.
//
// Each column gets the first verdict its values satisfy:
//
//	per_batch_statistics  every batch (opt.BatchSize rows, opt.BatchColumn
//	                      groups, or else the smallest block size b found
//	                      with at least two blocks) has |mean| <= 1e-9 and
//	                      |std - 1| <= 1e-9, std with ddof 0 or 1
//	ok                    drift.CompareProfile (auto) finds no drift
//	not_normalized        |mean - mean_out| > 3 std_out or std / std_out
//	                      outside [1/2, 2], and L(obs) shows no drift, L
//	                      the last step's affine map y = a + b x
//	double_normalized     the same distance, and L^-1(obs) shows no drift
//	drift                 a point mass of the profile (a fitted imputation
//	                      value) recurs exactly in the column, so the
//	                      column went through the fitted map
//	wrong_parameters      y = alpha + beta obs, fitted by least squares of
//	                      the profile's quantiles on the observed ones over
//	                      the grid probabilities in [0.05, 0.95], shows no
//	                      drift and is not near the identity (|beta - 1|
//	                      or |alpha| / std_out above 0.05)
//	drift                 anything else
//
// Missing values (NaN) are ignored. Columns whose profile has no quantile
// grid (at most two distinct values) get only the batch and drift checks.
// Non-numeric outputs are not judged. The artifact must carry a profile.
func Unpaired(a *artifact.Artifact, observed []table.Column, opt UnpairedOptions) (*Report, error) {
	if a.Profile == nil || len(a.Profile.Outputs) != len(a.Outputs) {
		return nil, fmt.Errorf("diagnose: the artifact has no profile of its outputs; refit it to diagnose without raw rows")
	}
	if opt.BatchSize < 0 {
		return nil, fmt.Errorf("diagnose: batch size %d is negative", opt.BatchSize)
	}
	maps := lastAffine(a)
	rep := &Report{}
	for j, f := range a.Outputs {
		if f.TableField().Kind != table.Numeric {
			continue
		}
		o, err := observedColumn(observed, f.Name)
		if err != nil {
			return nil, err
		}
		if opt.BatchColumn != nil && len(opt.BatchColumn) != o.Len() {
			return nil, fmt.Errorf("diagnose: batch column has %d rows, observed column %q has %d", len(opt.BatchColumn), f.Name, o.Len())
		}
		v, err := judgeUnpaired(&a.Profile.Outputs[j], f.Name, o.Num, maps[j], opt)
		if err != nil {
			return nil, err
		}
		rep.Features = append(rep.Features, v)
	}
	return rep, nil
}

// affineMap is a last step known to be y = intercept + slope*x.
type affineMap struct {
	intercept, slope float64
}

// lastAffine returns, per output, the last step of its group as an affine
// map (nil when the group is not 1-to-1 numeric or the step not affine),
// found by feeding it 0, 1 and 2.
func lastAffine(a *artifact.Artifact) []*affineMap {
	maps := make([]*affineMap, len(a.Outputs))
	off := 0
	for _, g := range a.Groups {
		width := len(g.Columns)
		oneToOne := true
		for _, s := range g.Steps {
			w := len(s.Fitted.Outputs())
			oneToOne = oneToOne && w == width
			width = w
		}
		if oneToOne && len(g.Steps) > 0 && g.Type != "categorical" && off+width <= len(maps) {
			probe := make([]table.Column, width)
			for k := range probe {
				probe[k] = table.Column{Name: g.Columns[k], Kind: table.Numeric, Num: []float64{0, 1, 2}}
			}
			out, err := transform.ApplyStep(g.Steps[len(g.Steps)-1].Fitted, probe, 3, 1)
			for k := 0; err == nil && k < width; k++ {
				if out[k].Kind != table.Numeric {
					continue
				}
				y := out[k].Num
				m := affineMap{intercept: y[0], slope: y[1] - y[0]}
				if m.slope != 0 && !math.IsNaN(m.slope) && !math.IsInf(m.slope, 0) &&
					math.Abs(y[2]-(y[0]+2*m.slope)) <= fitTol*math.Max(1, math.Abs(y[2])) {
					maps[off+k] = &m
				}
			}
		}
		off += width
	}
	return maps
}

func (m *affineMap) apply(xs []float64) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = m.intercept + m.slope*x
	}
	return out
}

func (m *affineMap) invert(xs []float64) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = (x - m.intercept) / m.slope
	}
	return out
}

// judgeUnpaired gives one observed column its verdict against p, the
// profile of the artifact's output, and m, the output's last affine step.
func judgeUnpaired(p *profile.Feature, name string, obs []float64, m *affineMap, opt UnpairedOptions) (Verdict, error) {
	v := Verdict{Name: name, Evidence: map[string]any{}}
	present := dropNaN(obs)
	mean, std := meanStd(present)
	v.Evidence["observed_mean"] = mean
	v.Evidence["observed_std"] = std
	pMean, pStd := math.NaN(), math.NaN()
	if p.Mean != nil && p.Std != nil {
		pMean, pStd = float64(*p.Mean), float64(*p.Std)
		v.Evidence["profile_mean"] = pMean
		v.Evidence["profile_std"] = pStd
	}
	if b, batches, ddof, ok := batchStandardized(obs, opt); ok {
		v.Verdict = PerBatchStatistics
		v.Evidence["batch_size"] = b
		v.Evidence["batches"] = batches
		v.Evidence["ddof"] = ddof
		v.Explanation = fmt.Sprintf("each of the %d batches (of %d rows) has mean 0 and std 1 exactly, which no fixed scaling of real data produces: production standardized every batch with its own statistics; use the artifact's fitted parameters instead", batches, b)
		return v, nil
	}
	if len(present) == 0 {
		v.Verdict = Drift
		v.Explanation = "the observed column has no values while the artifact's output had some: check that production fills the feature"
		return v, nil
	}
	base, err := compareWith(p, present)
	if err != nil {
		return v, err
	}
	putDrift(v.Evidence, "", base)
	if !base.Drift {
		v.Verdict = OK
		v.Explanation = "the observed values are distributed like the artifact's output on the training data"
		return v, nil
	}
	if p.Quantiles != nil && !math.IsNaN(pStd) && pStd > 0 {
		far := math.Abs(mean-pMean) > farMeans*pStd || !(std >= pStd/farStd && std <= pStd*farStd)
		if far && m != nil {
			if d, err := compareWith(p, m.apply(present)); err != nil {
				return v, err
			} else if !d.Drift {
				v.Verdict = NotNormalized
				putDrift(v.Evidence, "scaled_", d)
				v.Explanation = fmt.Sprintf("the observed values (mean %.6g, std %.6g) are on the raw scale, and scaling them with the artifact's fitted step gives the training output's distribution: apply the artifact's transform before calling the model", mean, std)
				return v, nil
			}
			if d, err := compareWith(p, m.invert(present)); err != nil {
				return v, err
			} else if !d.Drift {
				v.Verdict = DoubleNormalized
				putDrift(v.Evidence, "unscaled_", d)
				v.Explanation = "undoing the artifact's last step once on the observed values gives the training output's distribution: the features were normalized twice; apply the transform once"
				return v, nil
			}
		}
		if x, n := sharedMass(p, present); n >= minMass {
			v.Verdict = Drift
			v.Evidence["anchor_value"] = x
			v.Evidence["anchor_count"] = n
			v.Explanation = fmt.Sprintf("the observed distribution differs from the training output, but the value %.6g, which the training output repeats (a fitted imputation value, say), recurs %d times exactly, so the scaling is the artifact's: the input data drifted; investigate the source or refit on recent data", x, n)
			return v, nil
		}
		if alpha, beta, ok := quantileFit(p, present); ok &&
			(math.Abs(beta-1) > identityTol || math.Abs(alpha) > identityTol*pStd) {
			fitted := (&affineMap{intercept: alpha, slope: beta}).apply(present)
			d, err := compareWith(p, fitted)
			if err != nil {
				return v, err
			}
			if !d.Drift {
				v.Verdict = WrongParameters
				putDrift(v.Evidence, "fitted_", d)
				// observed = (y - alpha) / beta, y the correct output; with
				// the last step y = a + b x that is (x - (alpha - a) / b) / (beta / b).
				v.Evidence["output_center"] = alpha
				v.Evidence["output_scale"] = beta
				what := fmt.Sprintf("(y - %.6g) / %.6g of the correct output y", alpha, beta)
				if m != nil {
					ic, is := (alpha-m.intercept)/m.slope, beta/m.slope
					v.Evidence["center"] = ic
					v.Evidence["scale"] = is
					what = fmt.Sprintf("(x - %.6g) / %.6g of the last step's input x", ic, is)
				}
				v.Explanation = fmt.Sprintf("the observed values are distributed as %s, an affine map other than the fitted one: production scales with other parameters; load them from the artifact", what)
				return v, nil
			}
		}
	}
	v.Verdict = Drift
	v.Explanation = "the observed values are not distributed like the artifact's output on the training data, and no scaling mistake explains it: the input data drifted; investigate the source or refit on recent data"
	return v, nil
}

// compareWith runs drift.CompareProfile (auto) on xs against p.
func compareWith(p *profile.Feature, xs []float64) (drift.Feature, error) {
	rep, err := drift.CompareProfile([]profile.Feature{*p}, []table.Column{{Name: p.Name, Kind: table.Numeric, Num: xs}}, drift.Options{})
	if err != nil {
		return drift.Feature{}, fmt.Errorf("diagnose: column %q: %w", p.Name, err)
	}
	return rep.Features[0], nil
}

func putDrift(ev map[string]any, prefix string, f drift.Feature) {
	ev[prefix+"ks"] = float64(f.Statistic)
	ev[prefix+"p_value"] = float64(f.PValue)
	if f.Effect != nil {
		ev[prefix+"wasserstein_normed"] = float64(f.Effect.Value)
	}
	ev[prefix+"drift"] = f.Drift
}

func dropNaN(xs []float64) []float64 {
	out := make([]float64, 0, len(xs))
	for _, x := range xs {
		if !math.IsNaN(x) {
			out = append(out, x)
		}
	}
	return out
}

// meanStd returns the mean and population standard deviation (two-pass).
func meanStd(xs []float64) (mean, std float64) {
	if len(xs) == 0 {
		return math.NaN(), math.NaN()
	}
	for _, x := range xs {
		mean += x
	}
	mean /= float64(len(xs))
	for _, x := range xs {
		std += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(std / float64(len(xs)))
}

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

// sharedMass returns the profile's point mass (a value its quantile grid
// repeats) that recurs most often, exactly to within exactTol relative to
// the column's magnitude, in xs, and how often it does.
func sharedMass(p *profile.Feature, xs []float64) (float64, int) {
	lim := exactTol * scale(xs, p.Quantiles)
	best, bestN := math.NaN(), 0
	q := p.Quantiles
	for i := 1; i < len(q); i++ {
		if q[i] != q[i-1] || (i > 1 && q[i-2] == q[i]) {
			continue
		}
		n := 0
		for _, x := range xs {
			if math.Abs(x-q[i]) <= lim {
				n++
			}
		}
		if n > bestN {
			best, bestN = q[i], n
		}
	}
	return best, bestN
}

// quantileFit fits q_p ≈ alpha + beta * o_p by least squares over the
// grid probabilities p in [interiorLo, interiorHi], q the profile's
// quantiles and o the observed ones (linear interpolation between order
// statistics, numpy's default). It fails when the observed quantiles are
// all equal.
func quantileFit(p *profile.Feature, xs []float64) (alpha, beta float64, ok bool) {
	if len(p.Quantiles) != len(profile.GridProbs) || len(xs) < 2 {
		return 0, 0, false
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	var os, qs []float64
	for i, pr := range profile.GridProbs {
		if pr < interiorLo || pr > interiorHi {
			continue
		}
		h := pr * float64(len(s)-1)
		lo := int(math.Floor(h))
		hi := min(lo+1, len(s)-1)
		os = append(os, s[lo]+(h-float64(lo))*(s[hi]-s[lo]))
		qs = append(qs, p.Quantiles[i])
	}
	mo, _ := meanStd(os)
	mq, _ := meanStd(qs)
	var sxx, sxy float64
	for i, o := range os {
		sxx += (o - mo) * (o - mo)
		sxy += (o - mo) * (qs[i] - mq)
	}
	if sxx == 0 || sxy == 0 {
		return 0, 0, false
	}
	beta = sxy / sxx
	return mq - beta*mo, beta, true
}
