package diagnose

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/drift"
	"github.com/normguard/normguard/profile"
	"github.com/normguard/normguard/step"
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
	// mapTol is how close (relative slope, and value at the observed
	// median in training-output standard deviations) a fitted map must be
	// to the artifact's step to count as that step.
	mapTol = 0.1
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
	// Candidates are other artifacts production may have used; each is
	// judged with its own output schema and training profile (see
	// unpairedStale).
	Candidates []Candidate
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
//	                      |std - 1| <= 1e-9, std with ddof 0 or 1; or
//	                      every batch has the same minimum and maximum,
//	                      each held by one value (a scaler with a fixed
//	                      output range fitted per batch; searched with at
//	                      least 3 blocks); or, batches known, every batch
//	                      has median 0 and interquartile range 1
//	ok                    drift.CompareProfile (auto) finds no drift
//	not_normalized        |mean - mean_out| > 3 std_out or std / std_out
//	                      outside [1/2, 2] ("far"), or L affine and more
//	                      than 5% from the identity; and L(obs) shows no
//	                      drift, L the last step as fitted (also compared
//	                      without the values equal to the artifact's
//	                      output for a missing input, whose share is the
//	                      missing rate's); or far, and the affine map that
//	                      best carries obs onto the training output
//	                      (quantileFit, imputed rows left out) is L to
//	                      within 10% (slope, and value at the median in
//	                      std_out), the sample having moved a little too
//	double_normalized     the same with L^-1 (affine L only)
//	drift                 (only when the training input had missing
//	                      values) the artifact's output for a missing
//	                      input recurs at least 3 times
//	drift                 a point mass of the profile recurs exactly at
//	                      least 3 times: the column went through the
//	                      fitted map, so the input moved
//	wrong_transform       as wrong_parameters below, and the implied map
//	                      of the step's input is within 10% (see nearKind)
//	                      of another scaler kind fitted on the training
//	                      data (min-max, max-abs, robust, standard; read
//	                      off the output profile through the fitted step,
//	                      so after log1p or an imputer too)
//	wrong_parameters      y = alpha + beta obs, fitted by least squares of
//	                      the profile's quantiles on the observed ones over
//	                      the grid probabilities in [0.05, 0.95], shows no
//	                      drift and is not near the identity (|beta - 1|
//	                      or |alpha| / std_out above 0.05)
//	drift                 anything else
//	columns_swapped       afterwards, a column called drift or
//	                      wrong_parameters whose values match another
//	                      column's training output while that column's
//	                      match its own in turn (or a rotation of three or
//	                      more); see unpairedSwaps
//
// What cannot be told apart without raw rows: an input that only moved
// and stretched (every value x became c + s x) looks exactly like a
// scaler fitted with other parameters. Unless an anchor proves the fitted
// map was applied (the imputation value above), such a column is reported
// as wrong_parameters, and its explanation says it may be drift.
//
// Distributions are compared with observed values within rounding
// (1e-12 relative) of a point mass of the profile counted as on it.
//
// Missing values (NaN) are ignored. Columns whose profile has no quantile
// grid (at most two distinct values) get only the batch and drift checks,
// except one-hot outputs found drifting, which unpairedOneHot checks for
// permuted columns.
// Candidates (opt.Candidates) are judged with their own output schema and
// profile: outputs of a absent from observed are stale_parameters when a
// candidate's outputs are all there (as in Paired, its own columns listed
// after a's), and a mismatched column distributed like a candidate's
// training output of the same name becomes stale_parameters (see
// unpairedStale).
//
// Non-numeric outputs are not judged. The artifact must carry a profile.
func Unpaired(a *artifact.Artifact, observed []table.Column, opt UnpairedOptions) (*Report, error) {
	if a.Profile == nil || len(a.Profile.Outputs) != len(a.Outputs) {
		return nil, fmt.Errorf("diagnose: the artifact has no profile of its outputs; refit it to diagnose without raw rows")
	}
	if opt.BatchSize < 0 {
		return nil, fmt.Errorf("diagnose: batch size %d is negative", opt.BatchSize)
	}
	maps, steps := lastAffine(a)
	fills := missingOutputs(a)
	hadMissing := trainingMissing(a)
	var names []string
	ours := map[string]bool{}
	for _, f := range a.Outputs {
		ours[f.Name] = true
		if f.TableField().Kind == table.Numeric {
			names = append(names, f.Name)
		}
	}
	stale, absent, schema, err := unpairedCandidates(names, ours, observed, opt.Candidates)
	if err != nil {
		return nil, err
	}
	rep := &Report{}
	for j, f := range a.Outputs {
		if f.TableField().Kind != table.Numeric {
			continue
		}
		if slices.Contains(absent, f.Name) {
			rep.Features = append(rep.Features, absentVerdict(f.Name, schema))
			continue
		}
		o, err := observedColumn(observed, f.Name)
		if err != nil {
			return nil, err
		}
		if opt.BatchColumn != nil && len(opt.BatchColumn) != o.Len() {
			return nil, fmt.Errorf("diagnose: batch column has %d rows, observed column %q has %d", len(opt.BatchColumn), f.Name, o.Len())
		}
		v, err := judgeUnpaired(&a.Profile.Outputs[j], f.Name, o.Num, maps[j], steps[j], fills[j], hadMissing[j], opt)
		if err != nil {
			return nil, err
		}
		rep.Features = append(rep.Features, v)
	}
	unpairedOneHot(a, observed, rep)
	if err := unpairedSwaps(a, observed, rep); err != nil {
		return nil, err
	}
	if err := unpairedStale(observed, rep, stale, schema, ours); err != nil {
		return nil, err
	}
	return rep, nil
}

// affineMap is a last step known to be y = intercept + slope*x.
type affineMap struct {
	intercept, slope float64
}

// lastStep is the last step of a 1-to-1 numeric chain and the column it
// reads, to apply it to observed values.
type lastStep struct {
	fitted step.Fitted
	name   string // the step's spec name (standard_scaler, ...)
	input  string
	width  int // the group's width; the step is applied to one column
	k      int // the column's position in the group
}

// apply runs the step on xs as the k-th column of its group (the others
// filled with copies of xs, as the step treats columns independently);
// nil when it fails.
func (s *lastStep) apply(xs []float64) []float64 {
	in := make([]table.Column, s.width)
	for i := range in {
		in[i] = table.Column{Name: s.input, Kind: table.Numeric, Num: xs}
	}
	out, err := transform.ApplyStep(s.fitted, in, len(xs), 1)
	if err != nil || len(out) != s.width || out[s.k].Kind != table.Numeric {
		return nil
	}
	return out[s.k].Num[:len(xs)]
}

// forEachGroupOutput calls fn for every group of a, in order, with the
// index of its first output column, its number of outputs, and whether it
// is a numeric chain whose first outputs follow its input columns one to
// one: every step keeps the width, or the first step is an imputer that
// appends missing indicators after the imputed columns
// (add_indicator) and the later steps keep its width. The outputs past
// len(g.Columns) are then indicators.
func forEachGroupOutput(a *artifact.Artifact, fn func(g artifact.Group, off, width int, chain bool)) {
	off := 0
	for _, g := range a.Groups {
		width := len(g.Columns)
		oneToOne := true
		for i, s := range g.Steps {
			outs := s.Fitted.Outputs()
			w := len(outs)
			if i == 0 && w > width && s.Name == "simple_imputer" {
				for k, name := range g.Columns {
					oneToOne = oneToOne && outs[k].Name == name
				}
			} else {
				oneToOne = oneToOne && w == width
			}
			width = w
		}
		fn(g, off, width, oneToOne && len(g.Steps) > 0 && g.Type != "categorical")
		off += width
	}
}

// lastInputs returns the names of the columns the last step of g reads:
// the previous step's outputs, or the group's columns.
func lastInputs(g artifact.Group) []string {
	if len(g.Steps) < 2 {
		return g.Columns
	}
	var names []string
	for _, f := range g.Steps[len(g.Steps)-2].Fitted.Outputs() {
		names = append(names, f.Name)
	}
	return names
}

// lastAffine returns, per output, the last step of its group as an affine
// map (nil when the group is not 1-to-1 numeric or the step not affine),
// found by feeding it 0, 1 and 2, and the step itself (nil when the group
// is not 1-to-1 numeric).
func lastAffine(a *artifact.Artifact) ([]*affineMap, []*lastStep) {
	maps := make([]*affineMap, len(a.Outputs))
	steps := make([]*lastStep, len(a.Outputs))
	forEachGroupOutput(a, func(g artifact.Group, off, width int, chain bool) {
		if chain && off+width <= len(maps) {
			names := lastInputs(g)
			if len(names) != width {
				return
			}
			probe := make([]table.Column, width)
			for k := range probe {
				probe[k] = table.Column{Name: names[k], Kind: table.Numeric, Num: []float64{0, 1, 2}}
			}
			last := g.Steps[len(g.Steps)-1].Fitted
			for k := 0; k < width; k++ {
				steps[off+k] = &lastStep{fitted: last, name: g.Steps[len(g.Steps)-1].Name, input: names[k], width: width, k: k}
			}
			out, err := transform.ApplyStep(last, probe, 3, 1)
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
	})
	return maps, steps
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
// fill is the artifact's output for a missing input; hadMissing says
// whether the training input had missing values: only then may the fill
// value's recurrence be explained by missing values (without them it is
// a value like any other, and the profile's point masses speak for it).
func judgeUnpaired(p *profile.Feature, name string, obs []float64, m *affineMap, ls *lastStep, fill float64, hadMissing bool, opt UnpairedOptions) (Verdict, error) {
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
		v.explain(fmt.Sprintf("each of the %d batches (of %d rows) has mean 0 and std 1 exactly, which no fixed scaling of real data produces", batches, b),
			"production standardized every batch with its own statistics; use the artifact's fitted parameters instead")
		v.Plot = distributionPlot(p, present)
		return v, nil
	}
	if b, batches, ok := batchRobust(obs, opt); ok {
		v.Verdict = PerBatchStatistics
		v.Evidence["batch_size"] = b
		v.Evidence["batches"] = batches
		v.explain(fmt.Sprintf("each of the %d batches (of %d rows) has median 0 and interquartile range 1 exactly, which no fixed scaling of real data produces", batches, b),
			"production fitted a robust scaler on every batch; use the artifact's fitted parameters instead")
		v.Plot = distributionPlot(p, present)
		return v, nil
	}
	if b, batches, lo, hi, ok := batchRanged(obs, opt); ok {
		v.Verdict = PerBatchStatistics
		v.Evidence["batch_size"] = b
		v.Evidence["batches"] = batches
		v.Evidence["block_min"] = lo
		v.Evidence["block_max"] = hi
		v.explain(fmt.Sprintf("each of the %d batches (of %d rows) spans exactly [%s, %s], its smallest and largest values landing on the same two numbers, which a fixed scaling of real data does not produce", batches, b, fmtNum(lo), fmtNum(hi)),
			"production fitted its scaler (min-max or quantile, say) on every batch; use the artifact's fitted parameters instead")
		v.Plot = distributionPlot(p, present)
		return v, nil
	}
	if len(present) == 0 {
		// Nothing was scaled at all: not a moved input (drift) but a
		// feature production does not fill.
		v.Verdict = UnknownMismatch
		v.explain("the observed column has no values while the artifact's output had some", "check that production fills the feature")
		return v, nil
	}
	base, err := compareWith(p, present)
	if err != nil {
		return v, err
	}
	if base.Plot != nil {
		v.Plot = &Plot{Distribution: base.Plot}
	}
	putDrift(v.Evidence, "", base)
	if !base.Drift {
		v.Verdict = OK
		v.explain("the observed values are distributed like the artifact's output on the training data", "")
		return v, nil
	}
	if p.Quantiles != nil && !math.IsNaN(pStd) && pStd > 0 {
		far := math.Abs(mean-pMean) > farMeans*pStd || !(std >= pStd/farStd && std <= pStd*farStd)
		// An affine step that moves values (raw inputs of mean 2 and std
		// 0.8, say, are not far from the output's 0 and 1) is tried even
		// when the values are not far: its image, or its inverse's,
		// matching the training output is the evidence.
		moves := m != nil && !m.nearIdentity(pStd)
		var scaled []float64
		switch {
		case !far && !moves:
		case m != nil:
			scaled = m.apply(present)
		case ls != nil:
			scaled = ls.apply(present)
		}
		if scaled != nil {
			if d, err := compareBesideFill(p, scaled, fill); err != nil {
				return v, err
			} else if !d.Drift {
				v.Verdict = NotNormalized
				putDrift(v.Evidence, "scaled_", d)
				v.explain(fmt.Sprintf("the observed values (mean %s, std %s) are on the raw scale, and scaling them with the artifact's fitted step gives the training output's distribution", fmtNum(mean), fmtNum(std)),
					"apply the artifact's transform before calling the model")
				return v, nil
			}
		}
		if m != nil && (far || moves) {
			if d, err := compareBesideFill(p, m.invert(present), fill); err != nil {
				return v, err
			} else if !d.Drift {
				v.Verdict = DoubleNormalized
				putDrift(v.Evidence, "unscaled_", d)
				v.explain("undoing the artifact's last step once on the observed values gives the training output's distribution",
					"the features were normalized twice; apply the transform once")
				return v, nil
			}
		}
		// The values are far off, yet their distribution matches neither
		// once mapped (the sample itself moved a little, say): the affine
		// map that best carries them onto the training output names the
		// mistake when it is the fitted step or its inverse.
		if far && m == nil && scaled != nil && fitsMap(p, without(scaled, fill), affineMap{slope: 1}, pStd) {
			v.Verdict = NotNormalized
			v.explain(fmt.Sprintf("the observed values (mean %s, std %s) are on the raw scale: applying the artifact's fitted step to them gives the training output's distribution up to a small move (no affine correction beyond %.0f%% helps)", fmtNum(mean), fmtNum(std), 100*mapTol),
				"apply the artifact's transform before calling the model")
			return v, nil
		}
		// Imputed rows are left out of the fit: under each hypothesis they
		// sit on one value (the fill value unscaled, or scaled twice) whose
		// share depends on how many values were missing, not on scaling.
		if far && m != nil {
			inv := affineMap{intercept: -m.intercept / m.slope, slope: 1 / m.slope}
			switch {
			case fitsMap(p, without(present, inv.at(fill)), *m, pStd):
				v.Verdict = NotNormalized
				v.explain(fmt.Sprintf("the observed values (mean %s, std %s) are on the raw scale: the affine map that best carries them onto the training output is the artifact's fitted step (to within %.0f%%), though the distribution also moved a little", fmtNum(mean), fmtNum(std), 100*mapTol),
					"apply the artifact's transform before calling the model")
				return v, nil
			case fitsMap(p, without(present, m.at(fill)), inv, pStd):
				v.Verdict = DoubleNormalized
				v.explain(fmt.Sprintf("the affine map that best carries the observed values onto the training output undoes the artifact's fitted step (to within %.0f%%), though the distribution also moved a little", 100*mapTol),
					"the features were normalized twice; apply the transform once")
				return v, nil
			}
		}
		if n := countValue(present, fill); hadMissing && n >= minMass {
			v.Verdict = Drift
			v.Evidence["missing_fill_output"] = fill
			v.Evidence["imputed_rows"] = n
			share := float64(n) / float64(len(obs))
			v.explain(fmt.Sprintf("the observed distribution differs from the training output, but %d values (%.1f%%) are exactly %s, the artifact's output for a missing input (its fitted fill value, scaled by its fitted step), so the scaling is the artifact's and what moved is the input data (its values, or how many are missing)",
				n, 100*share, fmtNum(fill)),
				"investigate the source (why values are missing, or what moved) or refit on recent data")
			return v, nil
		}
		if x, n := sharedMass(p, present); n >= minMass {
			v.Verdict = Drift
			v.Evidence["anchor_value"] = x
			v.Evidence["anchor_count"] = n
			v.explain(fmt.Sprintf("the observed distribution differs from the training output, but the value %s, which the training output repeats, recurs %d times (to within float32 rounding), so the scaling is the artifact's and the input data drifted", fmtNum(x), n),
				"investigate the source or refit on recent data")
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
				what := affineText("y", alpha, beta) + " of the correct output y"
				if m != nil {
					ic, is := (alpha-m.intercept)/m.slope, beta/m.slope
					v.Evidence["center"] = ic
					v.Evidence["scale"] = is
					what = affineText("x", ic, is) + " of the last step's input x"
					if kind, c0, s0, d, also, ok := nearKind(p, m, ls, ic, is); ok {
						v.Verdict = WrongTransform
						v.Evidence["transform"] = kind
						v.Evidence["kind_center"] = c0
						v.Evidence["kind_scale"] = s0
						v.Evidence["kind_distance"] = d
						alt := ""
						if len(also) > 0 {
							v.Evidence["also_fits"] = strings.Join(also, ",")
							alt = fmt.Sprintf("; %s scaling fits nearly as well, its parameters being close on this data", strings.Join(also, " or "))
						}
						v.explain(fmt.Sprintf("the observed values are distributed as %s, and a %s scaler fitted on the training data is %s (within %.0f%% of its scale)%s: production scales with another kind of scaler than the fitted one",
							what, kind, affineText("x", c0, s0), math.Ceil(100*d), alt),
							"use the artifact's scaler (rerun with --raw to confirm row by row)")
						return v, nil
					}
				}
				v.explain(fmt.Sprintf("the observed values are distributed as %s, an affine map other than the fitted one; without the raw rows this cannot be told apart from inputs that all moved and stretched the same way (drift) while scaled correctly", what),
					"most likely production scales with other parameters: load them from the artifact; if its pipeline is known to be right, check its raw inputs with normguard drift")
				return v, nil
			}
		}
	}
	v.Verdict = Drift
	v.explain("the observed values are not distributed like the artifact's output on the training data, and no scaling mistake explains it, so the input data drifted",
		"investigate the source or refit on recent data")
	return v, nil
}

// kindTol is how close, in units of the candidate's scale, the center and
// scale implied by the observed distribution (a quantile fit, so only
// approximate) must be to those of another scaler kind fitted on the
// training data for unpaired mode to name that kind (the fit of a few
// hundred rows of a skewed column is off by 10% and more), and at most half
// as far as the artifact's own kind, whose parameters a drifted input
// imitates.
const kindTol = 0.15

// nearKind returns the scaler kind (min_max, max_abs, robust, standard;
// not the artifact's own) whose parameters, fitted on the training data of
// the last step's input (read off the output profile p through the affine
// step m), are closest to the implied center ic and scale is, with those
// parameters and the other kinds about as close (within twice the
// distance: kinds whose parameters nearly coincide on this data, as
// robust and standard do on symmetric data, cannot be told apart). ok
// only when the distance
//
//	max(|ic - c0| / s0, |is / s0 - 1|)
//
// is at most kindTol and at most half the artifact's own kind's (an input
// that moved or stretched, scaled with the fitted scaler, stays nearer
// that kind and wrong_parameters).
func nearKind(p *profile.Feature, m *affineMap, ls *lastStep, ic, is float64) (kind string, c0, s0, d float64, also []string, ok bool) {
	st, found := backStats(p, m.intercept, m.slope)
	if !found {
		return "", 0, 0, 0, nil, false
	}
	own := ""
	if ls != nil {
		own = ownKind(ls.name)
	}
	kinds, centers, scales := kindParams(st)
	dist := make([]float64, len(kinds))
	best, ownDist := -1, math.Inf(1)
	for i, k := range kinds {
		dist[i] = math.Max(math.Abs(ic-centers[i])/math.Abs(scales[i]), math.Abs(is/scales[i]-1))
		if k == own {
			ownDist = dist[i]
			continue
		}
		if best < 0 || dist[i] < dist[best] {
			best = i
		}
	}
	if best < 0 || dist[best] > kindTol || !(dist[best] <= ownDist/2) {
		return "", 0, 0, 0, nil, false
	}
	for i, k := range kinds {
		if i != best && k != own && dist[i] <= 2*dist[best] {
			also = append(also, k)
		}
	}
	return kinds[best], centers[best], scales[best], dist[best], also, true
}

// compareBesideFill compares xs with p and, when that finds drift, again
// without the values equal to fill (the artifact's output for a missing
// input): how many values were missing says nothing of how the others
// were scaled. It returns the comparison that found no drift, if any.
func compareBesideFill(p *profile.Feature, xs []float64, fill float64) (drift.Feature, error) {
	d, err := compareWith(p, xs)
	if err != nil || !d.Drift || math.IsNaN(fill) {
		return d, err
	}
	lim := exactTol * scale(xs)
	rest := make([]float64, 0, len(xs))
	for _, x := range xs {
		if !(math.Abs(x-fill) <= lim) {
			rest = append(rest, x)
		}
	}
	if len(rest) == len(xs) || len(rest) == 0 {
		return d, nil
	}
	return compareWith(p, rest)
}

// distributionPlot returns the training output's and xs's distributions
// for reports (nil when they cannot be drawn), without the cost of a
// p-value.
func distributionPlot(p *profile.Feature, xs []float64) *Plot {
	if len(xs) == 0 {
		return nil
	}
	rep, err := drift.CompareProfile([]profile.Feature{*p}, []table.Column{{Name: p.Name, Kind: table.Numeric, Num: xs}}, drift.Options{Method: "wasserstein"})
	if err != nil || rep.Features[0].Plot == nil {
		return nil
	}
	return &Plot{Distribution: rep.Features[0].Plot}
}

// compareWith runs drift.CompareProfile (auto) on xs against p, values
// within rounding of a point mass of p counted as on it (see onMasses).
func compareWith(p *profile.Feature, xs []float64) (drift.Feature, error) {
	xs = onMasses(p, xs)
	rep, err := drift.CompareProfile([]profile.Feature{*p}, []table.Column{{Name: p.Name, Kind: table.Numeric, Num: xs}}, drift.Options{})
	if err != nil {
		return drift.Feature{}, fmt.Errorf("diagnose: column %q: %w", p.Name, err)
	}
	// A statistic that could not be computed leaves Drift false: taken
	// for a match, it would pass the column (or pair it) unchecked.
	if f := rep.Features[0]; f.Error != "" {
		return drift.Feature{}, fmt.Errorf("diagnose: column %q: cannot compare with the training output: %s", p.Name, f.Error)
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

// onMasses returns xs with every value within exactTol (relative to the
// largest magnitude of xs and the grid) of a point mass of p's quantile
// grid (a value the grid repeats) replaced by that point; xs itself when
// none is. The profile's CDF jumps at a point mass, so production's
// output of the same input, a few ulps off the artifact's (another
// summation order of the fitted mean and scale, say), would otherwise
// fall just below the jump and read as drift.
func onMasses(p *profile.Feature, xs []float64) []float64 {
	var masses []float64
	q := p.Quantiles
	for i := 1; i < len(q); i++ {
		if q[i] == q[i-1] && (len(masses) == 0 || masses[len(masses)-1] != q[i]) {
			masses = append(masses, q[i])
		}
	}
	if len(masses) == 0 {
		return xs
	}
	lim := exactTol * scale(xs, q)
	var out []float64
	for i, x := range xs {
		k := sort.SearchFloat64s(masses, x)
		for _, m := range masses[max(k-1, 0):min(k+1, len(masses))] {
			if x != m && math.Abs(x-m) <= lim {
				if out == nil {
					out = slices.Clone(xs)
				}
				out[i] = m
			}
		}
	}
	if out == nil {
		return xs
	}
	return out
}

// sharedMass returns the profile's point mass (a value its quantile grid
// repeats) that recurs most often in xs, to within one float32 rounding
// (float32Tol relative to the column's magnitude), and how often it does.
func sharedMass(p *profile.Feature, xs []float64) (float64, int) {
	// Within one float32 rounding: a pipeline computing in float32 (or
	// printing float32 values) still hits the artifact's values.
	lim := float32Tol * scale(xs, p.Quantiles)
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

// missingOutputs returns, per output, what the artifact gives a row whose
// input is missing (a 1-to-1 numeric chain that starts with an imputer
// gives its fill value, transformed); NaN when unknown or missing.
func missingOutputs(a *artifact.Artifact) []float64 {
	out := make([]float64, len(a.Outputs))
	for i := range out {
		out[i] = math.NaN()
	}
	forEachGroupOutput(a, func(g artifact.Group, off, width int, chain bool) {
		if chain && off+width <= len(out) {
			cur := make([]table.Column, len(g.Columns))
			for k := range cur {
				cur[k] = table.Column{Name: g.Columns[k], Kind: table.Numeric, Num: []float64{math.NaN()}}
			}
			var err error
			for _, s := range g.Steps {
				if cur, err = transform.ApplyStep(s.Fitted, cur, 1, 1); err != nil {
					break
				}
			}
			for k := 0; err == nil && k < width && k < len(cur); k++ {
				if cur[k].Kind == table.Numeric && !math.IsInf(cur[k].Num[0], 0) {
					out[off+k] = cur[k].Num[0]
				}
			}
		}
	})
	return out
}

// trainingMissing reports, per output, whether the raw input it follows
// one to one (see forEachGroupOutput) had missing values in the training
// data; false when unknown.
func trainingMissing(a *artifact.Artifact) []bool {
	out := make([]bool, len(a.Outputs))
	forEachGroupOutput(a, func(g artifact.Group, off, width int, chain bool) {
		if !chain {
			return
		}
		for k, name := range g.Columns {
			if p := inputProfile(a, name); p != nil && off+k < len(out) && k < width {
				out[off+k] = p.Missing > 0
			}
		}
	})
	return out
}

// countValue counts the values of xs equal to x within float32Tol of the
// column's magnitude (none for NaN x).
func countValue(xs []float64, x float64) int {
	if math.IsNaN(x) {
		return 0
	}
	lim := float32Tol * scale(xs) // see sharedMass
	n := 0
	for _, y := range xs {
		if math.Abs(y-x) <= lim {
			n++
		}
	}
	return n
}

// fitsMap reports whether the affine map that best carries xs onto the
// profile's distribution (quantileFit) is want to within mapTol: the
// slopes relatively, and their values at the median of xs in units of sd.
func fitsMap(p *profile.Feature, xs []float64, want affineMap, sd float64) bool {
	alpha, beta, ok := quantileFit(p, xs)
	if !ok {
		return false
	}
	x := percentileOf(xs, 0.5)
	return math.Abs(beta/want.slope-1) <= mapTol &&
		math.Abs((alpha+beta*x)-(want.intercept+want.slope*x)) <= mapTol*sd
}

// nearIdentity reports whether the map is within identityTol of
// (x - 0) / 1: slope relatively, intercept in units of sd.
func (m *affineMap) nearIdentity(sd float64) bool {
	return math.Abs(m.slope-1) <= identityTol && math.Abs(m.intercept) <= identityTol*sd
}

// at applies the map to one value.
func (m *affineMap) at(x float64) float64 { return m.intercept + m.slope*x }

// without returns xs without the values equal to x (within exactTol of
// the column's magnitude); xs itself when x is NaN.
func without(xs []float64, x float64) []float64 {
	if math.IsNaN(x) {
		return xs
	}
	lim := exactTol * scale(xs)
	out := make([]float64, 0, len(xs))
	for _, y := range xs {
		if !(math.Abs(y-x) <= lim) {
			out = append(out, y)
		}
	}
	return out
}

// percentileOf is numpy.percentile (linear interpolation) of xs at p.
func percentileOf(xs []float64, p float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	h := p * float64(len(s)-1)
	lo := int(math.Floor(h))
	hi := min(lo+1, len(s)-1)
	return s[lo] + (h-float64(lo))*(s[hi]-s[lo])
}
