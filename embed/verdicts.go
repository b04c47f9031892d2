package embed

import (
	"fmt"
	"math"
	"slices"
)

// Findings returns the verdicts on the vectors accumulated so far, in a
// fixed order: dimension_mismatch, nan_vectors, zero_vectors,
// truncated_not_renormalized, then one of not_normalized,
// mixed_normalization and normalized_unexpectedly, metric_mismatch,
// precision_loss, model_swapped. An unknown canary id is an error.
func (k *Checker) Findings() ([]Finding, error) {
	c := k.c
	var out []Finding
	add := func(code, msg, fix string, ev map[string]any) {
		out = append(out, Finding{Code: code, Message: msg, Fix: fix, Evidence: ev})
	}
	n := k.normCount // finite non-zero vectors
	meanSq := 0.0
	if n > 0 {
		meanSq = k.sqSum / float64(n)
	}
	off := n - k.unitCount

	truncated := false
	if k.dim != c.Dimension {
		ev := map[string]any{"expected": c.Dimension, "got": k.dim}
		msg := fmt.Sprintf("vectors have %d dimensions; the contract's have %d", k.dim, c.Dimension)
		if c.Model != "" {
			msg += " (model " + modelName(c) + ")"
		}
		if k.dim < c.Dimension && n > 0 {
			energy := leadingEnergy(c, k.dim)
			ev["mean_squared_norm"] = meanSq
			ev["expected_squared_norm_if_truncated"] = energy
			ev["renormalized"] = k.unitCount == n
			if k.unitCount == n && c.UnitLength {
				msg += "; they are unit length, consistent with a truncated (Matryoshka-style) vector renormalized"
			}
			if c.UnitLength && float64(off) >= 0.5*float64(n) && energy < 1-c.UnitTolerance &&
				math.Abs(meanSq-energy) <= truncationRelTol*energy {
				truncated = true
			}
		}
		add(CodeDimensionMismatch, msg,
			fmt.Sprintf("produce the vectors with the contract's model and dimension (%d), or fit a new contract and rebuild the store for %d dimensions", c.Dimension, k.dim), ev)
	}
	switch {
	case k.nanRows > 0:
		msg := fmt.Sprintf("%d of %d vectors hold NaN or infinite values (rows %v)", k.nanRows, k.rows, k.nanAt)
		ev := map[string]any{"count": k.nanRows, "share": share(k.nanRows, k.rows), "rows": slices.Clone(k.nanAt)}
		if k.hugeRows > 0 {
			msg += fmt.Sprintf(", and %d are too large to compare (squared norm past %.4g, rows %v)", k.hugeRows, MaxSquaredNorm, k.hugeAt)
			ev["too_large_count"], ev["too_large_rows"] = k.hugeRows, slices.Clone(k.hugeAt)
		}
		add(CodeNaNVectors, msg, "drop these vectors or re-embed their inputs; a NaN poisons every distance computed with it", ev)
	case k.hugeRows > 0:
		// Finite values, but a distance or cosine computed with them
		// overflows to +Inf or NaN, as a NaN value's does.
		add(CodeNaNVectors,
			fmt.Sprintf("%d of %d vectors are too large to compare: their squared norm is past %.4g (largest norm %s), so distances and cosine similarities computed with them overflow float64 to infinity or NaN (rows %v)",
				k.hugeRows, k.rows, MaxSquaredNorm, normText(k.normMax), k.hugeAt),
			"drop or rescale these vectors, or re-embed their inputs; an embedding model's values are of order 1",
			map[string]any{"count": k.hugeRows, "share": share(k.hugeRows, k.rows), "rows": slices.Clone(k.hugeAt),
				"too_large_count": k.hugeRows, "too_large_rows": slices.Clone(k.hugeAt), "max_squared_norm": MaxSquaredNorm})
	}
	if k.zeroRows > 0 && exceeds(k.zeroRows, k.rows-k.nanRows, rate(c.Profile.ZeroCount, c.Profile.Count, false)) {
		add(CodeZeroVectors,
			fmt.Sprintf("%d of %d vectors are all zeros (rows %v); the contract's vectors had %d of %d", k.zeroRows, k.rows, k.zeroAt, c.Profile.ZeroCount, c.Profile.Count),
			"find why the producer returned zeros (empty input, failed call, padding) and re-embed; a zero vector has no direction, so cosine similarity is undefined",
			map[string]any{"count": k.zeroRows, "share": share(k.zeroRows, k.rows), "rows": slices.Clone(k.zeroAt),
				"expected_share": share(c.Profile.ZeroCount, c.Profile.Count)})
	}
	if truncated {
		add(CodeTruncatedNotRenormalized,
			fmt.Sprintf("vectors cut to their first %d of %d dimensions and not renormalized: mean squared norm %.4g, as the contract's leading %d dimensions hold (%.4g), not 1",
				k.dim, c.Dimension, meanSq, k.dim, leadingEnergy(c, k.dim)),
			"after truncating to fewer dimensions, L2-normalize each vector again (x / ‖x‖) before storing or querying",
			map[string]any{"mean_squared_norm": meanSq, "expected_squared_norm": leadingEnergy(c, k.dim),
				"unit_share": share(k.unitCount, n), "dimension": k.dim, "contract_dimension": c.Dimension})
	}
	normEv := func() map[string]any {
		ev := map[string]any{"vectors": n, "unit_count": k.unitCount, "unit_share": share(k.unitCount, n),
			"unit_tolerance": c.UnitTolerance, "norm_min": k.normMin, "norm_max": k.normMax,
			"norm_median":         histQuantile(k.hist, n, 0.5, k.normMin, k.normMax),
			"contract_unit_share": c.Profile.Norms.UnitShare}
		if off > 0 {
			ev["off_unit_mean_norm"] = k.offSum / float64(off)
		}
		return ev
	}
	unitOff := false // unit contract, vectors off unit length
	switch {
	case n == 0 || truncated:
	case c.UnitLength:
		if off > 0 && exceeds(off, n, 1-c.Profile.Norms.UnitShare) {
			unitOff = true
			// Mixed: a share of unit vectors that stands out of the norms
			// around 1 (raw norms spread across 1 put a few within the
			// tolerance by chance; those are not normalized ones).
			if share(k.unitCount, n) >= mixedMinShare && k.unitSpike() {
				add(CodeMixedNormalization,
					fmt.Sprintf("the store mixes unit-length vectors (%d) with others (%d, mean norm %.4g); the contract says every vector is unit length", k.unitCount, off, k.offSum/float64(off)),
					"L2-normalize every vector on the path that skips it (x / ‖x‖) and re-write the affected vectors; scores between the two populations are not comparable",
					normEv())
			} else {
				add(CodeNotNormalized,
					fmt.Sprintf("%d of %d vectors are not unit length (mean norm %.4g, tolerance %g); the contract says unit length", off, n, k.normSum/float64(n), c.UnitTolerance),
					"L2-normalize the vectors (x / ‖x‖) before writing or querying, as the producer the contract was fitted on did",
					normEv())
			}
		}
	default:
		p := rate(int(math.Round(c.Profile.Norms.UnitShare*float64(c.Profile.Norms.Count))), c.Profile.Norms.Count, true)
		if k.unitCount > 0 && exceeds(k.unitCount, n, p) && k.unitSpike() {
			if share(k.unitCount, n) >= allUnitShare {
				add(CodeNormalizedUnexpectedly,
					fmt.Sprintf("%d of %d vectors are unit length; the contract's vectors are not (mean norm %.4g)", k.unitCount, n, c.Profile.Norms.Mean),
					"remove the extra L2 normalization on this path, or fit a new contract on normalized vectors if the store now keeps them",
					normEv())
			} else {
				add(CodeMixedNormalization,
					fmt.Sprintf("the store mixes unit-length vectors (%d) with raw ones (%d); the contract's vectors are raw", k.unitCount, off),
					"normalize all vectors the same way (all raw or all unit length) and re-write the affected ones; scores between the two populations are not comparable",
					normEv())
			}
			break
		}
		// Raw vectors outside the fitted norm range: normalized or scaled
		// another way. A new vector falls beyond the range of N fitted ones
		// with probability 2/(N+1) even without the margin. The range is
		// that of vectors of the contract's dimension: the norms of vectors
		// of another dimension (truncated, or another model) are no
		// evidence of a scaling, and dimension_mismatch names the change.
		nm := c.Profile.Norms
		if k.dim == c.Dimension && k.outside > 0 && exceeds(k.outside, n, 2/float64(nm.Count+1)) {
			ev := normEv()
			ev["outside_count"] = k.outside
			ev["outside_share"] = share(k.outside, n)
			ev["contract_norm_min"], ev["contract_norm_max"] = nm.Min, nm.Max
			inside := share(n-k.outside, n)
			like := k.contractLikeShare()
			ev["contract_like_share"] = like
			switch {
			case share(k.outside, n) >= allUnitShare:
				add(CodeNotNormalized,
					fmt.Sprintf("%d of %d vectors have norms outside the contract's range %.4g..%.4g (mean norm %.4g against %.4g): they are scaled or normalized another way than the contract's raw vectors", k.outside, n, nm.Min, nm.Max, k.normSum/float64(n), nm.Mean),
					"produce the vectors as the contract's producer did (same model output, no extra scaling or normalization), or fit a new contract if the change is intended",
					ev)
			case like < mixedLikeRatio*inside:
				// The vectors inside the range do not follow the fitted
				// distribution either: one population, moved as a whole
				// (a wide fitted range keeps many of them inside).
				add(CodeNotNormalized,
					fmt.Sprintf("the norms moved as a whole: %d of %d vectors lie outside the contract's range %.4g..%.4g and at most %.3g%% of them follow the contract's norm distribution (median norm %.4g against %.4g): they are scaled or normalized another way than the contract's raw vectors",
						k.outside, n, nm.Min, nm.Max, 100*like, histQuantile(k.hist, n, 0.5, k.normMin, k.normMax), nm.Quantiles[medianQuantile]),
					"produce the vectors as the contract's producer did (same model output, no extra scaling or normalization), or fit a new contract if the change is intended",
					ev)
			default:
				add(CodeMixedNormalization,
					fmt.Sprintf("the store mixes two populations of norms: %d of %d vectors lie outside the contract's range %.4g..%.4g, the others inside", k.outside, n, nm.Min, nm.Max),
					"find the path that scales or normalizes vectors differently and re-write its vectors the way the contract's producer made them",
					ev)
			}
		}
	}
	if unitOff && c.Metric == MetricDot {
		add(CodeMetricMismatch,
			fmt.Sprintf("the store ranks by inner product, which equals cosine similarity only for unit vectors; these have mean squared norm %.4g, so scores scale with norms instead of 1", meanSq),
			"L2-normalize vectors before the inner-product index (or use a cosine index that normalizes), then rebuild the index",
			map[string]any{"metric": c.Metric, "mean_squared_norm": meanSq, "unit_share": share(k.unitCount, n)})
	}
	if f := k.precision(); f != nil {
		out = append(out, *f)
	}
	f, err := k.swapped()
	if err != nil {
		return nil, err
	}
	if f != nil {
		out = append(out, *f)
	}
	return out, nil
}

// precision returns a precision_loss finding when the non-zero values
// are (nearly all) exact in bfloat16 or float16 while the fitted ones
// were not.
func (k *Checker) precision() *Finding {
	c := k.c
	if k.nonzero < minExactValues || c.Dtype == DtypeFloat16 || c.Dtype == DtypeBFloat16 {
		return nil
	}
	for _, f := range []struct {
		name     string
		got, ref float64
		bits     int
	}{
		{DtypeBFloat16, share(k.bf16, k.nonzero), c.Profile.BFloat16Share, 8},
		{DtypeFloat16, share(k.f16, k.nonzero), c.Profile.Float16Share, 11},
	} {
		if f.got >= exactShareMin && f.ref <= exactShareRefMax {
			return &Finding{Code: CodePrecisionLoss,
				Message: fmt.Sprintf("%.4g%% of the values are exactly %s values (%d significant bits, relative rounding up to %.2g); %.4g%% of the contract's %s values were",
					100*f.got, f.name, f.bits, math.Ldexp(1, -f.bits), 100*f.ref, c.Dtype),
				Fix: fmt.Sprintf("store and send the vectors as %s, or fit a new contract on %s vectors if the store keeps them so on purpose", c.Dtype, f.name),
				Evidence: map[string]any{"format": f.name, "exact_share": f.got, "contract_exact_share": f.ref,
					"values": k.nonzero, "contract_dtype": c.Dtype}}
		}
	}
	return nil
}

// swapped returns a model_swapped finding when a canary no longer
// matches, or when the current vectors' variance along the contract's
// principal directions fell to what a random subspace would hold.
func (k *Checker) swapped() (*Finding, error) {
	c := k.c
	if len(k.opt.Canaries) > 0 {
		stored := map[string][]float64{}
		for _, cn := range c.Canaries {
			stored[cn.ID] = cn.Vector
		}
		var bad []map[string]any
		var worst float64 = 1
		for _, cn := range k.opt.Canaries {
			ref, ok := stored[cn.ID]
			if !ok {
				return nil, fmt.Errorf("embed check: canary %q is not in the contract (it holds %d canaries); send the ids the contract was fitted with: %w", cn.ID, len(c.Canaries), ErrInvalid)
			}
			cos := cosine(ref, cn.Vector)
			if !(cos >= CanaryMinCosine) {
				e := map[string]any{"id": cn.ID, "dimension": len(cn.Vector)}
				if !math.IsNaN(cos) {
					e["cosine"] = cos
					worst = min(worst, cos)
				}
				bad = append(bad, e)
			}
		}
		if len(bad) > 0 {
			return &Finding{Code: CodeModelSwapped,
				Message:  fmt.Sprintf("%d of %d canaries no longer match the contract's vectors (lowest cosine %.4g, want ≥ %g): the producing model is not %s", len(bad), len(k.opt.Canaries), worst, CanaryMinCosine, modelName(c)),
				Fix:      fmt.Sprintf("embed with %s again, or fit a new contract and re-embed the whole store with the new model; vectors of two models are not comparable", modelName(c)),
				Evidence: map[string]any{"canaries": bad, "min_cosine": CanaryMinCosine}}, nil
		}
	}
	comps := c.Profile.Components
	if !k.same || len(comps) == 0 || k.normCount < minSwapRows || !(c.Profile.TotalVariance > 0) || c.Profile.ComponentShare == 0 {
		return nil, nil
	}
	n := float64(k.normCount)
	var total, along float64
	for a := range k.sum {
		m := k.sum[a] / n
		total += max(k.sumSq[a]/n-m*m, 0)
	}
	for j := range comps {
		m := k.proj[j] / n
		along += max(k.prSq[j]/n-m*m, 0)
	}
	if !(total > 0) || !finiteAll(total, along) {
		return nil, nil // no variance, or sums past the float64 range: no verdict on them
	}
	base := float64(len(comps)) / float64(k.dim)
	qRef, qCur := c.Profile.ComponentShare, along/total
	if qRef-base < minStructure {
		return nil, nil // the fitted vectors have no leading directions to lose
	}
	excess := (qCur - base) / (qRef - base)
	if excess >= swapExcessMax {
		return nil, nil
	}
	var shift2 float64
	for a := range k.sum {
		m := k.sum[a] / n
		shift2 += m * m
	}
	shift := math.Sqrt(shift2)
	noise := math.Sqrt(c.Profile.TotalVariance * (1/n + 1/float64(c.Profile.Count)))
	ev := map[string]any{"variance_share_along_contract_directions": qCur, "contract_variance_share": qRef,
		"random_subspace_share": base, "excess_share": excess, "components": len(comps),
		"mean_shift": shift, "mean_shift_in_noise_units": shift / noise,
		"mean_shift_in_spread_units": shift / math.Sqrt(c.Profile.TotalVariance),
		"norm_mean":                  k.normSum / n, "contract_norm_mean": c.Profile.Norms.Mean, "vectors": k.normCount}
	return &Finding{Code: CodeModelSwapped,
		Message: fmt.Sprintf("the vectors' variance along the contract's %d principal directions is %.3g of their total, %.3g for the contract and %.3g for a random subspace; the mean vector moved %.3g (%.3g× sampling noise), with mean norm %.4g against %.4g: these look like another model's vectors (or a rotated space)",
			len(comps), qCur, qRef, base, shift, shift/noise, k.normSum/n, c.Profile.Norms.Mean),
		Fix:      fmt.Sprintf("check which model produced these vectors; embed with %s again, or fit a new contract and re-embed the whole store", modelName(c)),
		Evidence: ev}, nil
}

// unitSpike reports whether the norms within the unit tolerance of 1
// stand out of the norms around them, as normalized vectors among raw
// ones do; raw norms that merely spread across 1 put a few within the
// tolerance by chance. Around 1 is the histogram bins that hold
// [1 − tol, 1 + tol] ([0.93, 1.07) for tol = 0.01, width w); the m norms
// there outside the tolerance give the count a smooth density would put
// inside it, r·m with r = 2·tol/(w − 2·tol). The unit count u stands out
// when
//
//	u > spikeRatio·r·m + 4·√(r·m·(1 + r))
//
// (the variance of u − r·m for Poisson counts); with no other norm
// around 1, any unit vector does. spikeRatio allows a density that peaks
// at 1 (raw norms e^{0.1 g} put 1.09 times the window's mean density
// within the tolerance); norms spread far tighter around 1 than that read
// as a spike.
func (k *Checker) unitSpike() bool {
	tol := k.c.UnitTolerance
	a, b := normBin(1-tol), normBin(1+tol)
	near := 0
	for _, c := range k.hist[a : b+1] {
		near += c
	}
	w := NormBinEdges(b+1) - NormBinEdges(a)
	if !(w > 2*tol) || math.IsInf(w, 1) {
		return true
	}
	r := 2 * tol / (w - 2*tol)
	m := float64(near - k.unitCount)
	return float64(k.unitCount) > spikeRatio*r*m+exceedSigmas*math.Sqrt(r*m*(1+r))
}

// contractLikeShare bounds the share of the accumulated vectors whose
// norms could come from the contract's norm distribution: if a share π of
// them do, each central interval [q_a, q_b) between the contract's norm
// quantiles holds at least π·(p_b − p_a) of the vectors, so
//
//	π ≤ min over the intervals of  count[q_a, q_b) / (n·(p_b − p_a))
//
// over the intervals between the 5%, 25%, 50%, 75% and 95% quantiles
// (each holds a fifth or a quarter of the fitted norms, so that tens of
// vectors already estimate it). A store mixing contract-like vectors with
// others keeps the bound near the contract-like share; vectors scaled as
// a whole empty the intervals on one side and bring it near 0. Counts are
// read from the norm histogram, linear inside a bin. Intervals of zero
// width (a contract whose norms are all equal) are skipped; when all are,
// the share inside the fitted range stands for the bound.
func (k *Checker) contractLikeShare() float64 {
	q := k.c.Profile.Norms.Quantiles
	n := float64(k.normCount)
	like := share(k.normCount-k.outside, k.normCount)
	if len(q) != len(NormQuantileProbs) || n == 0 {
		return like
	}
	bound := math.Inf(1)
	for _, iv := range likeIntervals {
		lo, hi := q[iv[0]], q[iv[1]]
		if !(hi > lo) {
			continue
		}
		got := histBelow(k.hist, hi, k.normMin, k.normMax) - histBelow(k.hist, lo, k.normMin, k.normMax)
		bound = min(bound, got/(n*(NormQuantileProbs[iv[1]]-NormQuantileProbs[iv[0]])))
	}
	if math.IsInf(bound, 1) {
		return like
	}
	return min(bound, 1)
}

// likeIntervals are the index pairs into NormQuantileProbs of the
// intervals contractLikeShare reads: 5–25%, 25–50%, 50–75%, 75–95%.
var likeIntervals = [][2]int{{2, 4}, {4, 5}, {5, 6}, {6, 8}}

// medianQuantile is the index of 0.5 in NormQuantileProbs.
const medianQuantile = 5

// leadingEnergy is the contract's mean squared norm of its first d
// dimensions: Σ_{a<d} (mean_a² + std_a²).
func leadingEnergy(c *Contract, d int) float64 {
	var e float64
	for a := 0; a < min(d, len(c.Profile.Mean), len(c.Profile.Std)); a++ {
		e += c.Profile.Mean[a]*c.Profile.Mean[a] + c.Profile.Std[a]*c.Profile.Std[a]
	}
	return e
}

// exceeds reports whether k of n is a rate above p: k lies above n·p
// and P(X ≥ k) for X ~ Binomial(n, p) is below exceedTail, the normal
// tail beyond exceedSigmas standard deviations; with p = 0 any k > 0
// does. The tail is exact: the normal approximation k > n·p + 4·√(n·p(1−p))
// let a single vector beyond the fitted norm range of 2,000 vectors
// (p = 2/2001) raise a verdict on 50 vectors, which happens to clean data
// 5% of the time.
func exceeds(k, n int, p float64) bool {
	switch {
	case k <= 0 || k > n:
		return false
	case p <= 0:
		return true
	case float64(k) <= float64(n)*p:
		return false
	}
	return binomialTail(k, n, p) < exceedTail
}

// binomialTail returns P(X ≥ k) for X ~ Binomial(n, p), 0 < p < 1 and
// n·p < k ≤ n: the terms C(n, j) p^j (1−p)^(n−j) from j = k on, each from
// the previous by the ratio (n−j)/(j+1) · p/(1−p) (the first in log
// space by math.Lgamma), decrease beyond the mode, and are summed until
// they no longer change the sum.
func binomialTail(k, n int, p float64) float64 {
	lf := func(x int) float64 { v, _ := math.Lgamma(float64(x) + 1); return v }
	t := math.Exp(lf(n) - lf(k) - lf(n-k) + float64(k)*math.Log(p) + float64(n-k)*math.Log1p(-p))
	sum, odds := t, p/(1-p)
	for j := k; j < n && t > sum*1e-17; j++ {
		t *= float64(n-j) / float64(j+1) * odds
		sum += t
	}
	return sum
}

// rate is k/n; with upper set, a zero count is replaced by the rule of
// three, 3/n (the 95% upper bound of a rate never seen in n trials).
func rate(k, n int, upper bool) float64 {
	if n == 0 {
		return 0
	}
	if upper && k == 0 {
		return min(3/float64(n), 1)
	}
	return float64(k) / float64(n)
}

func share(k, n int) float64 {
	if n == 0 {
		return 0
	}
	return float64(k) / float64(n)
}

// cosine is the cosine similarity of a and b; NaN when their lengths
// differ or either is zero.
func cosine(a, b []float64) float64 {
	if len(a) != len(b) {
		return math.NaN()
	}
	// Each vector is divided by its largest |value| first: the cosine does
	// not change, and no sum of squares overflows (values of 1e300) or
	// underflows (values of 1e-170) on the way.
	sa, sb := largestAbs(a), largestAbs(b)
	if sa == 0 || sb == 0 || math.IsNaN(sa) || math.IsNaN(sb) || math.IsInf(sa, 0) || math.IsInf(sb, 0) {
		return math.NaN()
	}
	var ab, aa, bb float64
	for i := range a {
		x, y := a[i]/sa, b[i]/sb
		ab += x * y
		aa += x * x
		bb += y * y
	}
	return ab / math.Sqrt(aa*bb)
}

func modelName(c *Contract) string {
	switch {
	case c.Model == "":
		return "the contract's model"
	case c.Revision == "":
		return c.Model
	}
	return c.Model + "@" + c.Revision
}

// normText writes a norm, +Inf as "past the float64 range".
func normText(r float64) string {
	if math.IsInf(r, 0) {
		return "past the float64 range"
	}
	return fmt.Sprintf("%.4g", r)
}
