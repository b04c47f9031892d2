package diagnose

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/profile"
	"github.com/normguard/normguard/table"
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
//	per_batch_statistics  (outputs of a standard, min-max, quantile,
//	                      robust or power step only) every batch
//	                      (opt.BatchSize rows, opt.BatchColumn groups, or
//	                      else the smallest block size b found with at
//	                      least two blocks) has |mean| <= 1e-9 and
//	                      |std - 1| <= 1e-9, std with ddof 0 or 1; or
//	                      every batch has the same minimum and maximum,
//	                      each held by one value (a scaler with a fixed
//	                      output range fitted per batch; searched with at
//	                      least 3 blocks); or, batches known, every batch
//	                      has median 0 and interquartile range 1. Batches
//	                      that all hold the same values (each a
//	                      sub-multiset of the largest), values of the
//	                      training output (its two values, or half its
//	                      quantile grid), are no evidence: the artifact's
//	                      scaling of a panel listing the same countries
//	                      every year, or of an indicator with one missing
//	                      value per batch, gives them too; nor are batches
//	                      spanning the training output's range when it
//	                      holds its minimum and its maximum in two rows
//	                      or more each
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
	batchFit := fittedPerBatch(a)
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
		v, err := judgeUnpaired(&a.Profile.Outputs[j], f.Name, o.Num, maps[j], steps[j], fills[j], hadMissing[j], batchFit[j], opt)
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

// judgeUnpaired gives one observed column its verdict against p, the
// profile of the artifact's output, and m, the output's last affine step.
// fill is the artifact's output for a missing input; hadMissing says
// whether the training input had missing values: only then may the fill
// value's recurrence be explained by missing values (without them it is
// a value like any other, and the profile's point masses speak for it).
// batchFit says whether the output comes from a scaler production could
// have fitted per batch (see fittedPerBatch); only then are the batch
// checks made.
func judgeUnpaired(p *profile.Feature, name string, obs []float64, m *affineMap, ls *lastStep, fill float64, hadMissing, batchFit bool, opt UnpairedOptions) (Verdict, error) {
	v := Verdict{Name: name, Evidence: map[string]any{}}
	obs = snapToMasses(p, obs)
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
	if batchFit && unpairedBatches(&v, p, present, obs, opt) {
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
