package diagnose

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"github.com/normguard/normguard/profile"
	"github.com/normguard/normguard/table"
)

// judge gives column j its verdict. cols holds every output column (nil
// for those not judged), stale the candidates' outputs.
func judge(cols []*column, j int, stale []staleOutput) Verdict {
	c := cols[j]
	v := Verdict{Name: c.name, Evidence: map[string]any{}}
	diff := maxAbsDiff(c.obs, c.exp)
	v.Evidence["max_abs_diff"] = diff
	switch {
	case same(c.obs, c.exp, exactTol):
		v.Verdict = OK
		v.explain("the observed values are the artifact's transform of the raw rows", "")
		return v
	case float32Rounded(c.obs, c.exp):
		v.Verdict = PrecisionLoss
		v.explain(fmt.Sprintf("the observed values are the artifact's output rounded to float32 (largest difference %s)", fmtNum(diff)),
			"benign for most models, but keep features in float64 end to end if the model was trained on float64")
		return v
	case c.pre != nil && same(c.obs, c.pre, exactTol), c.in != nil && same(c.obs, c.in, exactTol):
		v.Verdict = NotNormalized
		what := "the observed values are the raw inputs, never scaled"
		if c.in != nil && slices.ContainsFunc(c.in, math.IsNaN) && !same(c.obs, c.in, exactTol) {
			what = "the observed values are the raw inputs (missing ones imputed as the artifact does), never scaled"
		}
		v.explain(what, "apply the artifact's transform before calling the model")
		return v
	case c.twice != nil && same(c.obs, c.twice, exactTol):
		v.Verdict = DoubleNormalized
		v.explain("the observed values are the artifact's output scaled a second time", "the features were normalized twice; apply the transform once")
		return v
	}
	for _, s := range stale {
		if o, ok := s.out[c.name]; ok && same(c.obs, o, exactTol) {
			v.Verdict = StaleParameters
			s.cite(v.Evidence)
			v.explain(fmt.Sprintf("the observed values are the transform of %s, not of this one", s.label),
				"production uses stale parameters; deploy the current artifact")
			return v
		}
	}
	if n := missingWhereValue(c.obs, c.exp, c.in); c.cat == nil && n > 0 && n < len(c.obs) {
		// Values lost, the rest exact: no fit of the rest says more.
		var obs, exp []float64
		for i, x := range c.obs {
			if !math.IsNaN(x) {
				obs, exp = append(obs, x), append(exp, c.exp[i])
			}
		}
		if same(obs, exp, exactTol) {
			v.Verdict = UnknownMismatch
			v.Evidence["observed_missing"] = n
			v.Evidence["rows_differing"] = n
			v.explain(fmt.Sprintf("%d of %d observed values are missing (NaN) where the artifact's transform gives a value; the other rows are the artifact's transform", n, len(c.obs)),
				"find where production loses the feature (a failed join, a dropped value?); the scaling itself is right")
			return v
		}
	}
	if c.cat != nil && categoricalVerdict(cols, j, &v) {
		return v
	}
	if ok := imputeOrder(c, &v); ok {
		return v
	}
	for k, o := range cols {
		if k != j && o != nil && same(c.obs, o.exp, exactTol) {
			v.Verdict = ColumnsSwapped
			v.Evidence["partner"] = o.name
			v.explain(fmt.Sprintf("the observed values are the artifact's output for column %q", o.name),
				"the columns were fed in the wrong order; select features by name")
			return v
		}
	}
	if b, ddof, ok := blockSize(c.obs, c.exp); ok {
		v.Verdict = PerBatchStatistics
		v.Evidence["block_size"] = b
		v.Evidence["ddof"] = ddof
		what := fmt.Sprintf("each block of %d rows has mean 0 and std 1", b)
		if b >= len(c.obs) {
			what = fmt.Sprintf("all %d rows, one batch, have mean 0 and std 1 exactly: they were standardized with their own statistics", len(c.obs))
		}
		v.explain(what,
			"production standardized every batch with its own statistics; use the artifact's fitted mean and scale instead")
		return v
	}
	if b, how, ok := perBatchFitted(c); ok {
		v.Verdict = PerBatchStatistics
		v.Evidence["block_size"] = b
		v.Evidence["per_block"] = how
		v.explain(fmt.Sprintf("blocks of %d rows were scaled with their own statistics: %s", b, describeBatches(how, c.last.Name)),
			"production fitted the scaler on every batch; use the artifact's fitted parameters instead")
		return v
	}
	if scaledBeforeImputing(c, &v) {
		return v
	}
	if affineVerdict(c, &v) {
		return v
	}
	if monotoneVerdict(c, &v) {
		return v
	}
	v.Verdict = UnknownMismatch
	v.Evidence["rows_differing"] = rowsDiffering(c.obs, c.exp)
	if n := missingWhereValue(c.obs, c.exp, c.in); n > 0 {
		// NaN differences are not in diff: say what they are.
		v.Evidence["observed_missing"] = n
		what := fmt.Sprintf("%d of %d observed values are missing (NaN) where the artifact's transform gives a value", n, len(c.obs))
		if n < len(c.obs) {
			what += fmt.Sprintf("; the other rows differ by at most %s", fmtNum(diff))
		}
		v.explain(what, "find where production loses the feature (a failed join, a dropped column?) and compare the pipeline with the artifact step by step")
		return v
	}
	v.explain(fmt.Sprintf("the observed values differ from the artifact's transform (largest difference %s) in a way none of the known causes explains", fmtNum(diff)),
		"compare the production pipeline with the artifact step by step")
	return v
}

// missingWhereValue counts the rows where obs is NaN and exp is not,
// though the raw input (in, when known) is present: rows production lost,
// not missing values it failed to impute (impute_order).
func missingWhereValue(obs, exp, in []float64) int {
	n := 0
	for i, x := range obs {
		if math.IsNaN(x) && !math.IsNaN(exp[i]) && (in == nil || !math.IsNaN(in[i])) {
			n++
		}
	}
	return n
}

// scale returns the largest finite magnitude in xs, at least the
// smallest normal float so that a tolerance relative to it is never zero.
func scale(xs ...[]float64) float64 {
	m := 0x1p-1022
	for _, s := range xs {
		for _, x := range s {
			if a := math.Abs(x); a > m && !math.IsInf(a, 0) {
				m = a
			}
		}
	}
	return m
}

// same reports whether a and b hold the same values to within tol
// relative to the columns' magnitude:
//
//	|a_i - b_i| <= tol * max_i(|a_i|, |b_i|)
//
// NaN matches only NaN.
func same(a, b []float64, tol float64) bool {
	if len(a) != len(b) {
		return false
	}
	lim := tol * scale(a, b)
	for i, x := range a {
		y := b[i]
		if math.IsNaN(x) || math.IsNaN(y) {
			if math.IsNaN(x) != math.IsNaN(y) {
				return false
			}
			continue
		}
		if x != y && !(math.Abs(x-y) <= lim) {
			return false
		}
	}
	return true
}

// float32Rounded reports whether obs is exp rounded to float32: every
// observed value is a float32 and lies within float32Tol of the expected
// one, relative to the expected value.
func float32Rounded(obs, exp []float64) bool {
	lim := exactTol * scale(exp)
	for i, o := range obs {
		e := exp[i]
		if math.IsNaN(o) || math.IsNaN(e) {
			if math.IsNaN(o) != math.IsNaN(e) {
				return false
			}
			continue
		}
		if float64(float32(o)) != o || math.Abs(o-e) > float32Tol*math.Abs(e)+lim {
			return false
		}
	}
	return true
}

func maxAbsDiff(a, b []float64) float64 {
	m := 0.0
	for i, x := range a {
		if d := math.Abs(x - b[i]); d > m {
			m = d
		}
	}
	return m
}

func rowsDiffering(a, b []float64) int {
	lim := exactTol * scale(a, b)
	n := 0
	for i, x := range a {
		y := b[i]
		if math.IsNaN(x) && math.IsNaN(y) {
			continue
		}
		if !(math.Abs(x-y) <= lim) {
			n++
		}
	}
	return n
}

// imputeOrder detects missing values filled wrongly: the rows whose raw
// value is present match the artifact, and some rows whose raw value is
// missing do not. It reports the value production put in, mapped back
// through the last step when that step is affine.
func imputeOrder(c *column, v *Verdict) bool {
	if c.in == nil {
		return false
	}
	lim := exactTol * scale(c.obs, c.exp)
	missing, wrong := 0, 0
	var filled []float64
	for i, x := range c.in {
		o, e := c.obs[i], c.exp[i]
		ok := o == e || math.Abs(o-e) <= lim || (math.IsNaN(o) && math.IsNaN(e))
		if !math.IsNaN(x) {
			if !ok {
				return false
			}
			continue
		}
		missing++
		if !ok {
			wrong++
		}
		filled = append(filled, o)
	}
	if wrong == 0 {
		return false
	}
	v.Verdict = ImputeOrder
	v.Evidence["missing_rows"] = missing
	v.Evidence["wrong_rows"] = wrong
	what := "other values"
	lo, hi := minMax(filled)
	nans := 0
	for _, x := range filled {
		if math.IsNaN(x) {
			nans++
		}
	}
	if nans == len(filled) {
		what = "nothing (left missing)"
	} else if nans == 0 && (lo == hi || math.Abs(hi-lo) <= lim) {
		v.Evidence["observed_value"] = lo
		what = "the constant " + fmtNum(lo)
		if c.affine {
			x := (lo - c.intercept) / c.slope
			v.Evidence["imputed_value"] = x
			what = fmtNum(x) + " before scaling"
		}
	}
	if c.pre != nil {
		for i, x := range c.in {
			if math.IsNaN(x) {
				v.Evidence["fitted_fill_value"] = c.pre[i]
				break
			}
		}
	}
	v.explain(fmt.Sprintf("present values match the artifact but missing values were filled with %s instead of the fitted imputation value", what),
		"impute with the artifact's fitted statistic before scaling")
	return true
}

func minMax(xs []float64) (lo, hi float64) {
	lo, hi = math.NaN(), math.NaN()
	for _, x := range xs {
		if math.IsNaN(x) {
			continue
		}
		if math.IsNaN(lo) {
			lo, hi = x, x
		}
		lo, hi = math.Min(lo, x), math.Max(hi, x)
	}
	return lo, hi
}

// blockSize finds the smallest block size b (2 <= b <= n) for which
// every consecutive block of b observed rows (the last one possibly
// shorter, ignored below 2 rows) has mean 0 and standard deviation 1,
// population (ddof 0) or sample (ddof 1), while the expected values do
// not. Multiples of b pass too, so the smallest is the batch size; b = n
// is one batch of every row standardized by its own mean and std (the
// expected values, scaled with the training statistics, are not exactly
// standardized unless the rows are the training rows). Prefix
// sums screen the first block of each b in O(1), so a column that is not
// block-standardized costs O(n); survivors are confirmed with two-pass
// moments.
func blockSize(obs, exp []float64) (b, ddof int, ok bool) {
	n := len(obs)
	s1, s2, finite := prefixSums(obs)
	if !finite {
		return 0, 0, false
	}
	const screenTol = 1e-6
	for b := 2; b <= n; b++ {
		m := s1[b] / float64(b)
		ss := s2[b] - s1[b]*m
		if math.Abs(m) > screenTol {
			continue
		}
		for ddof := 0; ddof <= 1; ddof++ {
			if math.Abs(ss/float64(b-ddof)-1) > screenTol {
				continue
			}
			if standardizedBlocks(obs, b, ddof) && !standardizedBlocks(exp, b, ddof) {
				return b, ddof, true
			}
		}
	}
	return 0, 0, false
}

// standardizedBlocks reports whether every block of b rows of xs has
// |mean| <= blockTol and |std - 1| <= blockTol (std with ddof). A block
// holding NaN fails.
func standardizedBlocks(xs []float64, b, ddof int) bool {
	for lo := 0; lo < len(xs); lo += b {
		blk := xs[lo:min(lo+b, len(xs))]
		if len(blk) < 2 {
			continue
		}
		sum := 0.0
		for _, x := range blk {
			sum += x
		}
		m := sum / float64(len(blk))
		ss := 0.0
		for _, x := range blk {
			ss += (x - m) * (x - m)
		}
		sd := math.Sqrt(ss / float64(len(blk)-ddof))
		if !(math.Abs(m) <= blockTol && math.Abs(sd-1) <= blockTol) {
			return false
		}
	}
	return true
}

// affineVerdict fits obs = (x - center) / scale by least squares over the
// rows where both the observed value and the last step's input x are
// present. An exact fit (residual within fitTol) is wrong_transform when
// center and scale are those of another scaler computed from the training
// profile, else wrong_parameters.
func affineVerdict(c *column, v *Verdict) bool {
	if c.pre == nil {
		return false
	}
	alpha, beta, resid, ok := affineFit(c.pre, c.obs, nil)
	// The map may hold on the rows whose raw value is present only, the
	// missing ones filled otherwise as well (a scaler applied before
	// imputing, say).
	wrongFill := 0
	if !ok && c.in != nil && slices.ContainsFunc(c.in, math.IsNaN) {
		rawMissing := func(i int) bool { return math.IsNaN(c.in[i]) }
		if alpha, beta, resid, ok = affineFit(c.pre, c.obs, rawMissing); ok {
			lim := fitTol * math.Max(1, scale(c.obs))
			for i, x := range c.pre {
				if rawMissing(i) && !(math.Abs(c.obs[i]-(alpha+beta*x)) <= lim) {
					wrongFill++
				}
			}
		}
	}
	if !ok {
		return false
	}
	center, sc := -alpha/beta, 1/beta
	v.Evidence["center"] = center
	v.Evidence["scale"] = sc
	v.Evidence["max_residual"] = resid
	fill := ""
	if wrongFill > 0 {
		v.Evidence["missing_rows_off_map"] = wrongFill
		fill = fmt.Sprintf("; the %d rows whose raw value is missing carry other values (imputed otherwise, or after scaling)", wrongFill)
	}
	if kind, ok := otherScaler(c, center, sc); ok {
		v.Verdict = WrongTransform
		v.Evidence["transform"] = kind
		v.explain(fmt.Sprintf("the observed values are %s scaling of the input (center %s, scale %s from the training data), not the fitted scaler%s", kind, fmtNum(center), fmtNum(sc), fill),
			"use the artifact's scaler")
		return true
	}
	v.Verdict = WrongParameters
	v.explain(fmt.Sprintf("the observed values are %s, an affine map from no known artifact%s", affineText("x", center, sc), fill),
		"production scales with parameters other than the fitted ones; load them from the artifact")
	return true
}

// affineFit fits y = alpha + beta x by least squares over the rows where
// both are present (and skip, when given, is false) and returns the
// largest residual; ok only for at least 3 rows, a non-constant x and y,
// and a residual within fitTol of y's magnitude (an exact affine map).
func affineFit(x, y []float64, skip func(i int) bool) (alpha, beta, resid float64, ok bool) {
	use := func(i int) bool {
		return !math.IsNaN(x[i]) && !math.IsNaN(y[i]) && (skip == nil || !skip(i))
	}
	var sx, sy float64
	m := 0
	for i := range x {
		if use(i) {
			sx, sy, m = sx+x[i], sy+y[i], m+1
		}
	}
	if m < 3 {
		return 0, 0, 0, false
	}
	mx, my := sx/float64(m), sy/float64(m)
	var sxx, sxy float64
	for i := range x {
		if use(i) {
			sxx += (x[i] - mx) * (x[i] - mx)
			sxy += (x[i] - mx) * (y[i] - my)
		}
	}
	if sxx == 0 || sxy == 0 {
		return 0, 0, 0, false
	}
	beta = sxy / sxx
	alpha = my - beta*mx
	for i := range x {
		if use(i) {
			resid = math.Max(resid, math.Abs(y[i]-(alpha+beta*x[i])))
		}
	}
	return alpha, beta, resid, resid <= fitTol*math.Max(1, scale(y))
}

// scaledBeforeImputing detects a scaler fitted before imputation: the
// training input had missing values, and the rows whose raw value is
// present are an exact affine map (x - center) / scale of it whose
// center and scale are the artifact's own scaler kind fitted on the
// present training values alone (the raw input's profile), not on the
// imputed ones the artifact's scaler saw. That is imputation placed after
// scaling (scikit-learn's StandardScaler ignores NaN when fitting); the
// rows whose raw value is missing carry whatever the later imputer put.
func scaledBeforeImputing(c *column, v *Verdict) bool {
	if c.in == nil || c.pre == nil || c.prof == nil || c.prof.Missing == 0 || c.last == nil {
		return false
	}
	alpha, beta, resid, ok := affineFit(c.in, c.obs, nil)
	if !ok {
		return false
	}
	center, sc := -alpha/beta, 1/beta
	own := ownKind(c.last.Name)
	raw := c.inputStats()
	if own == "" || len(raw) == 0 {
		return false
	}
	kinds, centers, scales := kindParams(raw[len(raw)-1]) // the raw input's profile: present values only
	for i, kind := range kinds {
		if kind != own || !nearParams(center, sc, centers[i], scales[i]) {
			continue
		}
		missing := 0
		for _, x := range c.in {
			if math.IsNaN(x) {
				missing++
			}
		}
		v.Verdict = ImputeOrder
		v.Evidence["center"] = center
		v.Evidence["scale"] = sc
		v.Evidence["max_residual"] = resid
		v.Evidence["missing_rows"] = missing
		v.Evidence["training_missing"] = c.prof.Missing
		v.explain(fmt.Sprintf("the observed values are %s, the %s scaler fitted on the present training values alone (%d training values were missing), not on the imputed ones: production scaled before imputing",
			affineText("x", center, sc), c.last.Name, c.prof.Missing),
			"impute with the artifact's fitted statistic before scaling, then apply the artifact's scaler")
		return true
	}
	return false
}

// otherScaler names the scaler kind whose parameters, fitted on the
// training data of the last step's input, are center and scale:
//
//	min_max:  center = min, scale = max - min
//	max_abs:  center = 0, scale = max |x|
//	robust:   center = median, scale = q75 - q25
//	standard: center = mean, scale = std (population)
//
// The statistics of the step's input (after log1p, imputation, ...) are
// read off the training profile of the column's output mapped back
// through the last step when that step is affine (x = (y - intercept) /
// slope), else, and also, off the profile of the raw input. Each must
// match to within fitTol*1e3 of the scale. The artifact's own kind is
// skipped: the same scaler with other parameters is wrong_parameters.
func otherScaler(c *column, center, sc float64) (string, bool) {
	own := ""
	if c.last != nil {
		own = ownKind(c.last.Name)
	}
	for _, st := range c.inputStats() {
		kinds, centers, scales := kindParams(st)
		for i, kind := range kinds {
			if kind != own && nearParams(center, sc, centers[i], scales[i]) {
				return kind, true
			}
		}
	}
	return "", false
}

// nearParams reports whether center and sc are a scaler's parameters c0
// and s0, each to within fitTol*1e3 of s0.
func nearParams(center, sc, c0, s0 float64) bool {
	lim := fitTol * math.Abs(s0) * 1e3
	return math.Abs(sc-s0) <= lim && math.Abs(center-c0) <= lim
}

// stats are training statistics of a step's input (NaN when unknown).
type stats struct {
	min, max, mean, std, q25, q50, q75 float64
}

// inputStats returns the training statistics of the last step's input:
// the output profile mapped back through an affine last step, then the
// raw input's profile.
func (c *column) inputStats() []stats {
	var out []stats
	if c.affine {
		if st, ok := backStats(c.outProf, c.intercept, c.slope); ok {
			out = append(out, st)
		}
	}
	if p := c.prof; p != nil && p.Min != nil && p.Max != nil {
		st := stats{min: float64(*p.Min), max: float64(*p.Max), mean: math.NaN(), std: math.NaN(),
			q25: math.NaN(), q50: math.NaN(), q75: math.NaN()}
		if q25, q50, q75, ok := quartiles(p.Quantiles); ok {
			st.q25, st.q50, st.q75 = q25, q50, q75
		}
		if p.Mean != nil && p.Std != nil {
			st.mean, st.std = float64(*p.Mean), float64(*p.Std)
		}
		out = append(out, st)
	}
	return out
}

// backStats reads the training statistics of a step's input off p, the
// profile of its output y = intercept + slope*x, mapped back:
// x = (y - intercept) / slope (order statistics swap when slope < 0).
func backStats(p *profile.Feature, intercept, slope float64) (stats, bool) {
	if p == nil || p.Min == nil || p.Max == nil || slope == 0 {
		return stats{}, false
	}
	back := func(y float64) float64 { return (y - intercept) / slope }
	st := stats{min: back(float64(*p.Min)), max: back(float64(*p.Max)), mean: math.NaN(), std: math.NaN(),
		q25: math.NaN(), q50: math.NaN(), q75: math.NaN()}
	if q25, q50, q75, ok := quartiles(p.Quantiles); ok {
		st.q25, st.q50, st.q75 = back(q25), back(q50), back(q75)
	}
	if slope < 0 {
		st.min, st.max = st.max, st.min
		st.q25, st.q75 = st.q75, st.q25
	}
	if p.Mean != nil && p.Std != nil {
		st.mean, st.std = back(float64(*p.Mean)), float64(*p.Std)/math.Abs(slope)
	}
	return st, true
}

// kindParams returns each scaler kind's center and scale fitted on data
// with statistics st (kinds whose statistics are unknown left out), in
// the order min_max, max_abs, robust, standard.
func kindParams(st stats) (kinds []string, centers, scales []float64) {
	add := func(kind string, c, s float64) {
		if !math.IsNaN(c) && !math.IsNaN(s) && s != 0 {
			kinds, centers, scales = append(kinds, kind), append(centers, c), append(scales, s)
		}
	}
	add("min_max", st.min, st.max-st.min)
	add("max_abs", 0, math.Max(math.Abs(st.min), math.Abs(st.max)))
	add("robust", st.q50, st.q75-st.q25)
	add("standard", st.mean, st.std)
	return kinds, centers, scales
}

// ownKind is the kind name of a scaler step ("standard" for
// standard_scaler), "" for other steps.
func ownKind(stepName string) string {
	switch stepName {
	case "min_max_scaler":
		return "min_max"
	case "max_abs_scaler":
		return "max_abs"
	case "robust_scaler":
		return "robust"
	case "standard_scaler":
		return "standard"
	}
	return ""
}

// quartiles reads the 25th, 50th and 75th percentiles off a profile's
// quantile grid (GridProbs holds them exactly).
func quartiles(q []float64) (q25, q50, q75 float64, ok bool) {
	if len(q) != len(profile.GridProbs) {
		return 0, 0, 0, false
	}
	at := func(p float64) float64 {
		for i, gp := range profile.GridProbs {
			if gp == p {
				return q[i]
			}
		}
		return math.NaN()
	}
	q25, q50, q75 = at(0.25), at(0.5), at(0.75)
	return q25, q50, q75, !math.IsNaN(q25 + q50 + q75)
}

// prefixSums returns the running sums of obs and of its squares (s[i] over
// obs[:i]), and whether they are finite (no NaN or overflow), for
// screening block sizes in O(1) each.
func prefixSums(obs []float64) (s1, s2 []float64, finite bool) {
	n := len(obs)
	s1, s2 = make([]float64, n+1), make([]float64, n+1)
	for i, x := range obs {
		s1[i+1], s2[i+1] = s1[i]+x, s2[i]+x*x
	}
	return s1, s2, !math.IsNaN(s1[n]) && !math.IsInf(s2[n], 0)
}

// observedColumn returns the numeric observed column named name.
func observedColumn(observed []table.Column, name string) (*table.Column, error) {
	o := find(observed, name)
	if o == nil {
		return nil, fmt.Errorf("diagnose: observed features lack output column %q", name)
	}
	if o.Kind != table.Numeric {
		return nil, fmt.Errorf("diagnose: observed column %q is not numeric", name)
	}
	return o, nil
}

// monotoneVerdict handles a last step that is not affine (a quantile or
// power transform): when the observed values are a non-decreasing
// function of the step's input, as the fitted step's are, but another
// one, production ran the same kind of transform with other fitted
// parameters. Rows with a missing raw input, step input or output are
// ignored; ties in the input must share their observed value.
func monotoneVerdict(c *column, v *Verdict) bool {
	if c.pre == nil || c.affine || c.last == nil {
		return false
	}
	// Rows whose raw value is missing are left out: production fills
	// them with its own fitted value, which need not be the artifact's.
	idx := make([]int, 0, len(c.pre))
	for i, x := range c.pre {
		if !math.IsNaN(x) && !math.IsNaN(c.obs[i]) && (c.in == nil || !math.IsNaN(c.in[i])) {
			idx = append(idx, i)
		}
	}
	if len(idx) < 3 {
		return false
	}
	slices.SortFunc(idx, func(a, b int) int { return cmp.Compare(c.pre[a], c.pre[b]) })
	for k := 1; k < len(idx); k++ {
		x0, x1 := c.pre[idx[k-1]], c.pre[idx[k]]
		y0, y1 := c.obs[idx[k-1]], c.obs[idx[k]]
		if y1 < y0 || x1 == x0 && y1 != y0 {
			return false
		}
	}
	if c.obs[idx[0]] == c.obs[idx[len(idx)-1]] {
		return false
	}
	differing := rowsDiffering(c.obs, c.exp)
	v.Verdict = WrongParameters
	v.Evidence["monotone"] = true
	v.Evidence["rows_differing"] = differing
	v.explain(fmt.Sprintf("the observed values rise with the input of the %s as its output does, but along another curve (%d rows differ): a transform of the same shape with other fitted parameters, from no known artifact",
		c.last.Name, differing),
		"production's transform was fitted on other data or with other settings; load the artifact's fitted parameters (or pass the artifact production uses as --candidate)")
	return true
}
