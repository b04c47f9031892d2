package embed

import (
	"fmt"
	"math"
)

// FieldError is a meaningless field of a loaded contract: Field is its
// path relative to the contract ("profile.mean[3]"), Problem what is
// wrong with it. It wraps ErrInvalid.
type FieldError struct {
	Field   string
	Problem string
}

// Error returns "field: problem".
func (e *FieldError) Error() string { return e.Field + ": " + e.Problem }

// Unwrap returns ErrInvalid.
func (e *FieldError) Unwrap() error { return ErrInvalid }

// Check reports the first meaningless field of a loaded contract as a
// *FieldError whose text starts with the field's path relative to the
// contract (for example "profile.mean[3]: must be finite"); nil when the
// contract can be used by Check, Drift and the Checker.
func (c *Contract) Check() error {
	bad := func(field, format string, args ...any) error {
		return &FieldError{Field: field, Problem: fmt.Sprintf(format, args...)}
	}
	d := c.Dimension
	switch {
	case d <= 0:
		return bad("dimension", "%d: must be a positive number of values per vector", d)
	case !knownDtype(c.Dtype):
		return bad("dtype", "%q: must be float64, float32, float16 or bfloat16", c.Dtype)
	case !knownMetric(c.Metric):
		return bad("metric", "%q: must be cosine, dot or l2", c.Metric)
	case !(c.UnitTolerance > 0 && c.UnitTolerance < 1):
		return bad("unit_tolerance", "%v: must be in (0, 1)", c.UnitTolerance)
	}
	p := &c.Profile
	switch {
	case p.Count < 1:
		return bad("profile.count", "%d: a contract is fitted on at least one vector", p.Count)
	case p.ZeroCount < 0 || p.ZeroCount > p.Count:
		return bad("profile.zero_count", "%d: must be between 0 and profile.count (%d)", p.ZeroCount, p.Count)
	case !isShare(p.Float16Share):
		return bad("profile.float16_share", "%v: must be a share in [0, 1]", p.Float16Share)
	case !isShare(p.BFloat16Share):
		return bad("profile.bfloat16_share", "%v: must be a share in [0, 1]", p.BFloat16Share)
	case !isShare(p.ComponentShare):
		return bad("profile.component_share", "%v: must be a share in [0, 1]", p.ComponentShare)
	case !(p.TotalVariance >= 0) || math.IsInf(p.TotalVariance, 0):
		return bad("profile.total_variance", "%v: must be finite and not negative", p.TotalVariance)
	}
	if err := checkVector("profile.mean", p.Mean, d); err != nil {
		return err
	}
	if err := checkVector("profile.std", p.Std, d); err != nil {
		return err
	}
	for a, s := range p.Std {
		if s < 0 {
			return bad(fmt.Sprintf("profile.std[%d]", a), "%v: must not be negative", s)
		}
	}
	if err := checkNorms("profile.norms", &p.Norms, p.Count-p.ZeroCount, c.UnitTolerance); err != nil {
		return err
	}
	for i, cp := range p.Components {
		f := fmt.Sprintf("profile.components[%d]", i)
		if err := checkVector(f+".direction", cp.Direction, d); err != nil {
			return err
		}
		if n := math.Sqrt(dot(cp.Direction, cp.Direction)); math.Abs(n-1) > 1e-6 {
			return bad(f+".direction", "norm %v: must be a unit vector", n)
		}
		if !(cp.Variance >= 0) || math.IsInf(cp.Variance, 0) {
			return bad(f+".variance", "%v: must be finite and not negative", cp.Variance)
		}
	}
	for i, row := range p.Sample {
		if err := checkVector(fmt.Sprintf("profile.sample[%d]", i), row, d); err != nil {
			return err
		}
	}
	if err := c.checkMeaning(); err != nil {
		return err
	}
	seen := map[string]bool{}
	for i, cn := range c.Canaries {
		if err := checkCanary(cn, d); err != nil {
			return bad(fmt.Sprintf("canaries[%d]", i), "%v", err)
		}
		if seen[cn.ID] {
			return bad(fmt.Sprintf("canaries[%d].id", i), "%q appears twice; canary ids must be unique", cn.ID)
		}
		seen[cn.ID] = true
	}
	return nil
}

func checkVector(field string, v []float64, d int) error {
	if len(v) != d {
		return &FieldError{Field: field, Problem: fmt.Sprintf("%d values: must have the contract's dimension, %d", len(v), d)}
	}
	for a, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return &FieldError{Field: fmt.Sprintf("%s[%d]", field, a), Problem: fmt.Sprintf("%v: must be finite", x)}
		}
	}
	return nil
}

// checkNorms checks the norm statistics s of a contract fitted on want
// non-zero vectors with unit tolerance tol: each value in range, and the
// values consistent with each other as the norms of one set of vectors
// make them (see the comments below).
func checkNorms(field string, s *NormStats, want int, tol float64) error {
	bad := func(f, format string, args ...any) error {
		return &FieldError{Field: field + f, Problem: fmt.Sprintf(format, args...)}
	}
	if s.Count != want {
		return bad(".count", "%d: must be the number of non-zero vectors, %d", s.Count, want)
	}
	for _, x := range []struct {
		name string
		v    float64
	}{{".min", s.Min}, {".max", s.Max}, {".mean", s.Mean}, {".std", s.Std}} {
		if !(x.v >= 0) || math.IsInf(x.v, 0) {
			return bad(x.name, "%v: must be finite and not negative", x.v)
		}
	}
	if !isShare(s.UnitShare) {
		return bad(".unit_share", "%v: must be a share in [0, 1]", s.UnitShare)
	}
	if s.Count > 0 && len(s.Quantiles) != len(NormQuantileProbs) {
		return bad(".quantiles", "%d values: must hold one per probability of NormQuantileProbs (%d)", len(s.Quantiles), len(NormQuantileProbs))
	}
	prev := 0.0
	for i, q := range s.Quantiles {
		if !(q >= prev) || math.IsInf(q, 0) {
			return bad(fmt.Sprintf(".quantiles[%d]", i), "%v: must be finite and not below the previous quantile", q)
		}
		prev = q
	}
	total := 0
	for i, b := range s.Histogram {
		if b.Count < 0 || !(b.Lo < b.Hi) {
			return bad(fmt.Sprintf(".histogram[%d]", i), "[%v, %v) with %d: must be a bin with lo < hi and a count ≥ 0", b.Lo, b.Hi, b.Count)
		}
		total += b.Count
	}
	if len(s.Histogram) > 0 && total != s.Count {
		return bad(".histogram", "counts sum to %d: must sum to the norm count, %d", total, s.Count)
	}
	return checkNormOrder(field, s, tol)
}

// normSlack is the relative rounding allowed where a statistic Fit
// computes by summing (a mean, a spread, a norm recomputed in another
// order) is compared with a bound it cannot pass in exact arithmetic:
// float64 sums of up to billions of terms stay far within it, and a
// damaged value is off by far more.
const normSlack = 1e-9

// underflowNorm is the absolute slack of a bound by the largest norm: a
// vector whose values are below about 1.5e-154 (the square root of the
// smallest normal float64) has squares that round to subnormals or 0, so
// its computed norm may fall short of its largest |value|, or be 0.
const underflowNorm = 1e-153

// energySlack is the relative rounding allowed between two computations
// of the mean squared norm (by dimension, and from the norms): 1,500 fits
// of GloVe subsets at scales 1e-100 to 1e100, unit, zero-heavy and
// offset, differed by at most 1.4e-14.
const energySlack = 1e-6

// underflowEnergy is the absolute slack of that comparison: squares of
// values below about 1e-154 round to subnormals or 0.
const underflowEnergy = 1e-300

// checkNormOrder checks that the norm statistics agree with each other as
// Fit computes them (attack run 15 finding 6: a contract with min above
// max raised false alarms, one with a mean of 1e308 loaded):
//   - no non-zero vector: every statistic is 0 and there are no
//     quantiles or histogram;
//   - otherwise 0 < min ≤ max (the norms of non-zero vectors), the mean
//     within [min, max] and the population std at most (max − min)/2
//     (Popoviciu's inequality), each up to normSlack·max for rounding;
//   - the quantiles (sorted, checked above) within [min, max], the first
//     equal to min and the last to max (Fit takes min and max from them);
//   - the histogram's bins ascending and disjoint, min in the first and
//     max in the last;
//   - unit_share consistent with the range: a share above 0 needs a norm
//     within unit_tolerance of 1 to lie in [min, max], a share of 1 both
//     min and max within it, and a count of unit norms that is a whole
//     number of the norm count.
func checkNormOrder(field string, s *NormStats, tol float64) error {
	bad := func(f, format string, args ...any) error {
		return &FieldError{Field: field + f, Problem: fmt.Sprintf(format, args...)}
	}
	if s.Count == 0 {
		for _, x := range []struct {
			name string
			v    float64
		}{{".min", s.Min}, {".max", s.Max}, {".mean", s.Mean}, {".std", s.Std}, {".unit_share", s.UnitShare}} {
			if x.v != 0 {
				return bad(x.name, "%v: must be 0 when no vector has a non-zero norm (count 0)", x.v)
			}
		}
		if len(s.Quantiles) > 0 || len(s.Histogram) > 0 {
			return bad(".quantiles", "%d quantiles and %d histogram bins: must be empty when no vector has a non-zero norm (count 0)", len(s.Quantiles), len(s.Histogram))
		}
		return nil
	}
	slack := normSlack * s.Max
	switch {
	case !(s.Min > 0):
		return bad(".min", "%v: the smallest norm of non-zero vectors must be positive", s.Min)
	case s.Min > s.Max:
		return bad(".min", "%v: must not be above max (%v)", s.Min, s.Max)
	case s.Mean < s.Min-slack || s.Mean > s.Max+slack:
		return bad(".mean", "%v: the mean norm must lie within [min, max] = [%v, %v]", s.Mean, s.Min, s.Max)
	case s.Std > (s.Max-s.Min)/2+slack:
		return bad(".std", "%v: the spread of norms within [min, max] = [%v, %v] is at most (max − min)/2 = %v", s.Std, s.Min, s.Max, (s.Max-s.Min)/2)
	}
	q := s.Quantiles
	if q[0] != s.Min {
		return bad(".quantiles[0]", "%v: the 0 quantile must equal min (%v)", q[0], s.Min)
	}
	if last := len(q) - 1; q[last] != s.Max {
		return bad(fmt.Sprintf(".quantiles[%d]", last), "%v: the 1 quantile must equal max (%v)", q[last], s.Max)
	}
	if h := s.Histogram; len(h) > 0 {
		for i := 1; i < len(h); i++ {
			if h[i].Lo < h[i-1].Hi {
				return bad(fmt.Sprintf(".histogram[%d]", i), "[%v, %v): must start at or after the previous bin's end, %v", h[i].Lo, h[i].Hi, h[i-1].Hi)
			}
		}
		if first := h[0]; !(first.Lo <= s.Min && s.Min < first.Hi) {
			return bad(".histogram[0]", "[%v, %v): the first bin must hold min (%v)", first.Lo, first.Hi, s.Min)
		}
		if last := h[len(h)-1]; !(last.Lo <= s.Max && s.Max < last.Hi) {
			return bad(fmt.Sprintf(".histogram[%d]", len(h)-1), "[%v, %v): the last bin must hold max (%v)", last.Lo, last.Hi, s.Max)
		}
	}
	unit := s.UnitShare * float64(s.Count)
	switch {
	case math.Abs(unit-math.Round(unit)) > 1e-9*float64(s.Count):
		return bad(".unit_share", "%v: must be a count of unit norms over the norm count %d (%v norms is not a whole number)", s.UnitShare, s.Count, unit)
	case s.UnitShare > 0 && (s.Min > 1+tol || s.Max < 1-tol):
		return bad(".unit_share", "%v: no norm in [min, max] = [%v, %v] is within unit_tolerance %v of 1, so the share of unit norms is 0", s.UnitShare, s.Min, s.Max, tol)
	case s.UnitShare == 1 && (math.Abs(s.Min-1) > tol || math.Abs(s.Max-1) > tol):
		return bad(".unit_share", "1: every norm within unit_tolerance %v of 1, but [min, max] = [%v, %v]", tol, s.Min, s.Max)
	}
	return nil
}

// checkMeaning checks what the contract's fields say against each other
// beyond the norms' own statistics (attack run 15 finding 6 and the
// mutations it left as debatable):
//   - unit_length true needs vectors that are unit length: a non-zero
//     norm, and a unit share of at least MinUnitShare (Fit refuses to
//     write anything else, see FitOptions.Unit);
//   - dtype float16 or bfloat16 needs every non-zero fitted value to be
//     a value of that format (share 1), or precision_loss, which trusts
//     the dtype, would judge vectors against a format they never had;
//   - no mean or standard deviation of a dimension above the largest norm
//     (|xₐ| ≤ ‖x‖ for every vector, so |meanₐ| ≤ max and stdₐ ≤ max), and
//     none but 0 when every vector is zero;
//   - total_variance, a trace of a covariance of fitted vectors, at most
//     max², and the components' variances (the leading eigenvalues of the
//     same covariance) summing to at most total_variance, both up to
//     rounding;
//   - the reference sample, fitted vectors, of norms 0 or within
//     [min, max].
//
// A dimension's std of 0 is accepted: a constant dimension (padding, or a
// contract of one vector) is a fact about the data, not damage.
func (c *Contract) checkMeaning() error {
	bad := func(field, format string, args ...any) error {
		return &FieldError{Field: field, Problem: fmt.Sprintf(format, args...)}
	}
	p := &c.Profile
	nm := &p.Norms
	if c.UnitLength {
		if nm.Count == 0 {
			return bad("unit_length", "true, but every fitted vector is zero (profile.norms.count 0): a zero vector has no unit length; set unit_length false")
		}
		if nm.UnitShare < MinUnitShare {
			return bad("unit_length", "true, but only %.4g%% of the fitted norms are within unit_tolerance %v of 1 (profile.norms.unit_share %v, norms %v..%v); a unit-length contract needs at least %g%%",
				100*nm.UnitShare, c.UnitTolerance, nm.UnitShare, nm.Min, nm.Max, 100*MinUnitShare)
		}
	}
	if p.ZeroCount < p.Count {
		switch {
		case c.Dtype == DtypeFloat16 && p.Float16Share != 1:
			return bad("profile.float16_share", "%v: dtype is float16, so every non-zero fitted value is a float16 value (share 1)", p.Float16Share)
		case c.Dtype == DtypeBFloat16 && p.BFloat16Share != 1:
			return bad("profile.bfloat16_share", "%v: dtype is bfloat16, so every non-zero fitted value is a bfloat16 value (share 1)", p.BFloat16Share)
		}
	}
	limit := nm.Max*(1+normSlack) + underflowNorm
	for a := range p.Mean {
		if math.Abs(p.Mean[a]) > limit {
			return bad(fmt.Sprintf("profile.mean[%d]", a), "%v: a dimension's mean cannot pass the largest norm, profile.norms.max (%v)", p.Mean[a], nm.Max)
		}
		if p.Std[a] > limit {
			return bad(fmt.Sprintf("profile.std[%d]", a), "%v: a dimension's standard deviation cannot pass the largest norm, profile.norms.max (%v)", p.Std[a], nm.Max)
		}
	}
	// The mean vector and the spreads, as the norms make them (attack run
	// 16: a mean vector longer than any fitted vector, and spreads of 0,
	// loaded): ‖mean‖ is at most the mean norm, so at most max; and
	// Σₐ (meanₐ² + stdₐ²) is the mean squared norm over every vector,
	// (count − zero_count)/count · (norms.mean² + norms.std²), exactly
	// (population moments both), up to rounding.
	var meanSq, energy float64
	for a := range p.Mean {
		meanSq += p.Mean[a] * p.Mean[a]
		energy += p.Mean[a]*p.Mean[a] + p.Std[a]*p.Std[a]
	}
	if r := math.Sqrt(meanSq); r > limit {
		return bad("profile.mean", "a mean vector of norm %v: the mean of the fitted vectors cannot be longer than the largest of them, profile.norms.max (%v)", r, nm.Max)
	}
	if p.Count > 0 {
		want := float64(nm.Count) / float64(p.Count) * (nm.Mean*nm.Mean + nm.Std*nm.Std)
		if math.Abs(energy-want) > energySlack*max(energy, want)+underflowEnergy {
			return bad("profile.std", "the dimensions' means and standard deviations give a mean squared norm of %v, but the norms give %v (their mean and std over the non-zero vectors, count %d of %d): the two were not fitted on the same vectors", energy, want, nm.Count, p.Count)
		}
	}
	if p.TotalVariance > limit*limit {
		return bad("profile.total_variance", "%v: a trace of the covariance of fitted vectors cannot pass the square of the largest norm, profile.norms.max² (%v)", p.TotalVariance, nm.Max*nm.Max)
	}
	var along float64
	for _, cp := range p.Components {
		along += cp.Variance
	}
	if along > p.TotalVariance*(1+1e-6)+underflowEnergy {
		return bad("profile.total_variance", "%v: the components' variances sum to %v, and the leading directions of a covariance cannot hold more than its trace", p.TotalVariance, along)
	}
	// Fit keeps at least one direction of a covariance that is not 0 (with
	// none, the model_swapped test along them is off: attack run 16).
	if p.TotalVariance > 0 && len(p.Components) == 0 {
		return bad("profile.components", "none, but total_variance is %v: a fitted covariance that is not 0 has a leading direction", p.TotalVariance)
	}
	if err := c.checkSamples(); err != nil {
		return err
	}
	for i, row := range p.Sample {
		r := math.Sqrt(dot(row, row))
		if r != 0 && (r < nm.Min*(1-normSlack)-underflowNorm || r > limit) {
			return bad(fmt.Sprintf("profile.sample[%d]", i), "norm %v: a fitted vector's norm is 0 or within profile.norms [min, max] = [%v, %v]", r, nm.Min, nm.Max)
		}
	}
	return nil
}

// sampleSlack is the relative rounding allowed where total_variance, a
// trace Fit sums over centered rows, is compared with the per-dimension
// std's, which Fit computes in one pass from sums shifted by the first
// row: a first row far from the mean loses digits there (about
// count^1.5·eps relative to the squared distance, below 1e-7 of the bound
// for a million rows whose first is 1e6 times further out than the rest;
// such a fit also stays 1/2,000 inside the bound). GloVe fits at scales
// 1e-170 to 1e150, tiny, zero-heavy, offset, float16 and with strays
// come within 1e-3 of the bound and never pass it; a damaged value is
// off by far more.
const sampleSlack = 1e-4

// checkSamples checks the principal components, total_variance and
// component_share against what Fit can write for profile.count vectors
// (attack run 18 finding 3). Fit splits the vectors by row index: the
// components and total_variance come from a sample of m = min(⌈count/2⌉,
// 2,000) of the even-indexed rows, component_share from a sample of h =
// min(⌊count/2⌋, 2,000) odd-indexed (held-out) rows. So:
//   - with m < 2 (count ≤ 2) there is no covariance: total_variance 0 and
//     no components; otherwise at most min(dimension, m − 1) components
//     (the rank of m centered rows; min(count, 2,000) for share 0, see
//     below);
//   - a component is a direction of a covariance that is not 0:
//     components need total_variance > 0;
//   - the share is 0 with fewer than 50 held-out rows (count < 100) and
//     along no components (a share along nothing is 0);
//   - total_variance is at most count/m times the sum of the squared
//     std's, exactly: for the m sampled rows A of all rows X, with means
//     μ_A and μ, m·trace = Σ_A ‖x − μ_A‖² ≤ Σ_A ‖x − μ‖² ≤ Σ_X ‖x − μ‖²
//     = count·Σₐ stdₐ² (the std's are population std's over every row).
//
// What cannot be refused: total_variance below Σ std² (0 included: a
// sample of identical rows, as in zero-heavy data, has none), a
// component_share of 0 with components (held-out rows with no variance
// along them: every other vector a zero vector), and a share above the
// components' in-sample share (rows ordered so that even and odd rows
// differ, or a heavy-tailed row held out, give one).
func (c *Contract) checkSamples() error {
	bad := func(field, format string, args ...any) error {
		return &FieldError{Field: field, Problem: fmt.Sprintf(format, args...)}
	}
	p := &c.Profile
	m := min((p.Count+1)/2, pcaSampleSize)
	held := min(p.Count/2, pcaSampleSize)
	// Contracts fitted before the held-out share (no component_share
	// field, read as 0) found their components on a sample of up to
	// min(count, 2,000) of all rows: with share 0 the rank bounds allow
	// that sample (they still load); the trace bound below holds for
	// both, m being the smaller sample.
	rank := m
	if p.ComponentShare == 0 {
		rank = min(p.Count, pcaSampleSize)
	}
	k := len(p.Components)
	switch {
	case rank < 2 && (p.TotalVariance != 0 || k > 0):
		return bad("profile.total_variance", "%v with %d components: a fit of %d vectors samples %d for its covariance, which has no variance and no components (0 and none)", p.TotalVariance, k, p.Count, rank)
	case k > min(c.Dimension, rank-1):
		return bad("profile.components", "%d: a fit of %d vectors finds its components on %d of them, whose covariance has at most %d directions (dimension %d)", k, p.Count, rank, min(c.Dimension, rank-1), c.Dimension)
	case k > 0 && !(p.TotalVariance > 0):
		return bad("profile.total_variance", "%v, but there are %d components: a fitted covariance with no variance has no leading direction", p.TotalVariance, k)
	case k == 0 && p.ComponentShare != 0:
		return bad("profile.component_share", "%v, but there are no components: the share of variance along no direction is 0", p.ComponentShare)
	case held < minHeldOut && p.ComponentShare != 0:
		return bad("profile.component_share", "%v: a fit of %d vectors holds out %d of them, fewer than %d, and writes share 0", p.ComponentShare, p.Count, held, minHeldOut)
	}
	var sumVar float64
	for _, s := range p.Std {
		sumVar += s * s
	}
	if m >= 2 {
		limit := float64(p.Count)/float64(m)*sumVar*(1+sampleSlack) + underflowEnergy
		if p.TotalVariance > limit {
			return bad("profile.total_variance", "%v: the trace of the covariance of %d sampled vectors cannot pass count/sample (%d/%d) times the sum of the squared std's of all %d (%v), %v",
				p.TotalVariance, m, p.Count, m, p.Count, sumVar, float64(p.Count)/float64(m)*sumVar)
		}
	}
	return nil
}

func isShare(x float64) bool { return x >= 0 && x <= 1 }
