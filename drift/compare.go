package drift

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"runtime"
	"runtime/debug"
	"sort"
	"sync"

	"github.com/normguard/normguard/profile"
	"github.com/normguard/normguard/table"
)

// Auto-method rule: a feature drifts when the test rejects sameness AND
// the effect is large enough to matter. With a million rows every test
// rejects tiny, harmless differences; the effect-size floor is what keeps
// "auto" from crying wolf.
const (
	// AutoAlpha is the p-value threshold of the auto tests.
	AutoAlpha = 0.05
	// AutoNumericEffect is the floor on wasserstein_normed (the Wasserstein
	// distance in units of the reference's standard deviation).
	AutoNumericEffect = 0.1
	// AutoCategoricalEffect is the floor on the Jensen-Shannon distance of
	// the category proportions.
	AutoCategoricalEffect = 0.1
	// DefaultDriftShare is the share of drifting features from which the
	// data set as a whole drifts.
	DefaultDriftShare = 0.5
)

// Options configure Compare. The zero value means method auto, default
// thresholds, DefaultBins bins and DefaultDriftShare.
type Options struct {
	// Method is "auto" (or "") or a registered method name.
	Method string
	// Threshold overrides the method's default when not NaN (and not 0
	// with HasThreshold false).
	Threshold    float64
	HasThreshold bool
	// Bins is the number of reference-quantile bins of binned methods on
	// numeric features (0: DefaultBins).
	Bins int
	// DriftShare is the share of drifting features that makes the data
	// set drift (0: DefaultDriftShare).
	DriftShare float64
	// Kinds overrides, by name, the kind Compare detects on a reference
	// text column (profile.TextKind): "" compares it as ordinary
	// categories, profile.KindIdentifier skips it. (KindTime is kept only
	// where the values have a time layout.)
	Kinds map[string]string
}

// MaxBins bounds Options.Bins, as the spec bounds kbins_discretizer's
// n_bins: a binned comparison holds a few arrays of Bins values per
// feature, and 1e9 bins took a minute and 1.5 GB on a data set of a few
// thousand rows (attack run 15 finding 8).
const MaxBins = 1 << 20

// Check reports what is wrong with o, in the words of the flags that set
// it (--method, --threshold, --bins, --drift-share): an unknown method; a
// threshold that is not a number, or one no result can cross or every
// result crosses (a p-value threshold outside (0, 1], a distance
// threshold below 0 or infinite: drift --threshold -1 passed a drifting
// data set, attack run 15 finding 8); bins outside [2, MaxBins] (0 means
// DefaultBins); a drift share outside (0, 1] (0 means DefaultDriftShare).
// The comparisons call it; commands call it first, to refuse before they
// read any data.
func (o Options) Check() error {
	kind := Test // auto decides on p-values
	if o.Method != "" && o.Method != "auto" {
		m, ok := Lookup(o.Method)
		if !ok {
			return fmt.Errorf("drift: %w %q; use auto or one of %v", ErrUnknownMethod, o.Method, Names())
		}
		kind = m.Kind
	}
	if o.HasThreshold {
		t := o.Threshold
		switch {
		case math.IsNaN(t) || math.IsInf(t, 0):
			return fmt.Errorf("drift: --threshold %v: give a finite number (or leave it out for the method's default)", t)
		case kind == Test && !(t > 0 && t <= 1):
			return fmt.Errorf("drift: --threshold %v: method %s tests p-values, so the threshold is a significance level in (0, 1], e.g. 0.05; outside it no feature (or every feature) would drift", t, methodName(o.Method))
		case kind == Distance && t < 0:
			return fmt.Errorf("drift: --threshold %v: method %s measures a distance, which is never negative, so every feature would drift; give a threshold of 0 or more", t, o.Method)
		}
	}
	if o.Bins != 0 && (o.Bins < 2 || o.Bins > MaxBins) {
		return fmt.Errorf("drift: --bins %d: give between 2 and %d bins", o.Bins, MaxBins)
	}
	if o.DriftShare != 0 && !(o.DriftShare > 0 && o.DriftShare <= 1) {
		return fmt.Errorf("drift: --drift-share %v: give a share of the features in (0, 1], e.g. %v", o.DriftShare, DefaultDriftShare)
	}
	return nil
}

func methodName(m string) string {
	if m == "" {
		return "auto"
	}
	return m
}

// resolve returns the threshold (NaN: each method's default), the bin count
// and the drift share the options stand for, defaults filled in.
func (o Options) resolve() (threshold float64, bins int, share float64) {
	threshold, bins, share = math.NaN(), o.Bins, o.DriftShare
	if o.HasThreshold {
		threshold = o.Threshold
	}
	if bins <= 0 {
		bins = DefaultBins
	}
	if share <= 0 {
		share = DefaultDriftShare
	}
	return threshold, bins, share
}

// Feature is the verdict on one feature, shaped as the drift JSON.
type Feature struct {
	Name string `json:"name"`
	// Segment is the value of the segment column the rows were selected
	// by (CompareSegments), "" otherwise.
	Segment   string    `json:"segment,omitempty"`
	Type      string    `json:"type"`
	Method    string    `json:"method"`
	Statistic JSONFloat `json:"statistic"`
	// PValue is null for distances.
	PValue    JSONFloat `json:"p_value"`
	Threshold JSONFloat `json:"threshold"`
	Drift     bool      `json:"drift"`
	// Effect is the effect size auto requires on top of the test.
	Effect *Effect `json:"effect,omitempty"`
	// StatisticErrorBound bounds how far a ks statistic computed from a
	// stored profile can be from the exact two-sample one (the profile's
	// largest CDF gap); absent for exact statistics.
	StatisticErrorBound *JSONFloat `json:"statistic_error_bound,omitempty"`
	ReferenceCount      int        `json:"reference_count"`
	CurrentCount        int        `json:"current_count"`
	// Kind is what a text column holds (profile.KindTime,
	// profile.KindIdentifier; empty for ordinary columns).
	Kind string `json:"kind,omitempty"`
	// Time describes the comparison of a time column.
	Time *TimeDrift `json:"time,omitempty"`
	// NewCategories lists up to MaxNewCategories categories the reference
	// never had, most frequent first; NewCategoriesTotal counts them all.
	NewCategories      []string `json:"new_categories,omitempty"`
	NewCategoriesTotal int      `json:"new_categories_total,omitempty"`
	// NewCategoriesAtLeast says NewCategoriesTotal is a floor: the
	// current data, summarized (--artifact, the service), held more
	// distinct new values than a summary names (MaxSummaryNew), so
	// neither their number nor their names are known.
	NewCategoriesAtLeast bool `json:"new_categories_at_least,omitempty"`
	// Skipped says why a feature was not tested (an identifier column);
	// skipped features do not count in the drift share.
	Skipped string `json:"skipped,omitempty"`
	// Error says why the feature's statistic could not be computed.
	Error string `json:"error,omitempty"`
	// InfiniteValues says which samples of a numeric feature hold
	// infinite values (inf, -inf, or numbers past the float64 range):
	// "current", "reference" or "both"; empty when neither does. The
	// transform refuses them, and a rank test (ks, psi's bins, ...) may
	// not move for a few: an infinity only in the current data is
	// reported (and found: exit 1) whatever the verdict.
	InfiniteValues string `json:"infinite_values,omitempty"`
	// overflow, when set, says that the finite values' spread passes
	// float64's range (spreadOverflow): why a statistic is not a number.
	overflow string
	// StatisticInfinite is "+Inf" or "-Inf" when the statistic is
	// infinite, which the JSON writes as null (as every number that is
	// not finite); empty otherwise.
	StatisticInfinite string `json:"statistic_infinite,omitempty"`
	// Plot holds the two distributions for reports that draw them.
	Plot *Plot `json:"-"`
}

// Plot is a feature's reference and current distributions on shared bins,
// as reports draw them over each other.
type Plot struct {
	// Edges are the bin edges of a numeric feature (len(Ref)+1 values,
	// finite); nil for a categorical feature.
	Edges []float64
	// Labels name the categories of a categorical feature (the most
	// frequent first, then "other"); nil for a numeric feature.
	Labels []string
	// Ref and Cur are the proportions of each sample per bin or category
	// (each sums to 1 over the bins, or to less when values fall outside).
	Ref, Cur []float64
}

// Effect is an effect size and the floor it must exceed.
type Effect struct {
	Name      string    `json:"name"`
	Value     JSONFloat `json:"value"`
	Threshold JSONFloat `json:"threshold"`
	// Infinite is "+Inf" or "-Inf" when Value is infinite (written as
	// null, as every number that is not finite); empty otherwise.
	Infinite string `json:"infinite,omitempty"`
}

// Report is the drift JSON of interface.md.
type Report struct {
	Features []Feature `json:"features"`
	// MissingFeatures are the reference's features the current data does
	// not have (none is left out silently).
	MissingFeatures []string `json:"missing_features"`
	// NewSegments are the segments of the current data the reference has
	// no rows of (CompareSegments).
	NewSegments         []string  `json:"new_segments,omitempty"`
	DriftShare          JSONFloat `json:"drift_share"`
	DatasetDrift        bool      `json:"dataset_drift"`
	DriftShareThreshold JSONFloat `json:"drift_share_threshold"`
}

// JSONFloat is a float64 written as null when it is NaN or infinite.
type JSONFloat float64

// MarshalJSON implements json.Marshaler.
func (f JSONFloat) MarshalJSON() ([]byte, error) {
	v := float64(f)
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return []byte("null"), nil
	}
	return json.Marshal(v)
}

// ErrUnknownMethod is wrapped when a method name is not registered.
var ErrUnknownMethod = errors.New("unknown drift method")

// Compare compares each reference column with the current column of the
// same name (pairs in ref's order; both of one kind) and decides drift per
// feature and for the data set. Reference columns the current data lacks
// are listed in MissingFeatures; none at all in common is an error.
func Compare(ref, cur []table.Column, opt Options) (*Report, error) {
	if err := opt.Check(); err != nil {
		return nil, err
	}
	method := opt.Method
	if method == "" {
		method = "auto"
	}
	var m *Method
	if method != "auto" {
		var ok bool
		if m, ok = Lookup(method); !ok {
			return nil, fmt.Errorf("drift: %w %q; use auto or one of %v", ErrUnknownMethod, method, Names())
		}
	}
	threshold, bins, share := opt.resolve()
	byName := map[string]*table.Column{}
	for i := range cur {
		byName[cur[i].Name] = &cur[i]
	}
	var present []*table.Column
	missing := []string{}
	for i := range ref {
		r := &ref[i]
		c, ok := byName[r.Name]
		if !ok {
			missing = append(missing, r.Name)
			continue
		}
		if c.Kind != r.Kind {
			return nil, fmt.Errorf("drift: column %q is %s in the reference but %s in the current data", r.Name, r.Kind, c.Kind)
		}
		present = append(present, r)
	}
	if len(present) == 0 {
		return nil, fmt.Errorf("drift: the current data has none of the reference's columns (%d)", len(ref))
	}
	results := make([]Feature, len(present))
	if err := parallel(len(present), func(i int) {
		results[i] = compareOne(present[i], byName[present[i].Name], m, threshold, bins, opt.Kinds)
	}); err != nil {
		return nil, fmt.Errorf("drift: feature %q: %w", present[err.Item].Name, err)
	}
	rep := newReport(results, share)
	rep.MissingFeatures = missing
	return rep, nil
}

// compareOne compares one pair of columns; m nil means auto. kinds
// overrides the kind detected on a text column (Options.Kinds).
func compareOne(r, c *table.Column, m *Method, threshold float64, bins int, kinds map[string]string) Feature {
	f := Feature{Name: r.Name, Type: r.Kind.String(), Statistic: JSONFloat(math.NaN()), PValue: JSONFloat(math.NaN()), Threshold: JSONFloat(math.NaN())}
	var err error
	if r.Kind == table.Numeric && m == nil {
		// auto: sort each sample once for ks, wasserstein_normed and the plot.
		s, serr := newSortedSamples("auto", r.Num, c.Num)
		if serr == nil {
			f.ReferenceCount, f.CurrentCount = len(s.ref), len(s.cur)
			f.InfiniteValues = infiniteIn(!finite(s.ref), !finite(s.cur))
			f.overflow = spreadOverflow(s.ref, s.cur)
			ks, w := s.auto(r.Num)
			f.Method = "auto:ks"
			decideAuto(&f, ks, "wasserstein_normed", w.Statistic, AutoNumericEffect, threshold)
			f.Plot = s.plot()
			return f
		}
		err = serr
	} else if r.Kind == table.Numeric {
		rs, cs := DropNaN(r.Num), DropNaN(c.Num)
		f.ReferenceCount, f.CurrentCount = len(rs), len(cs)
		f.InfiniteValues = infiniteIn(hasInf(rs), hasInf(cs))
		f.overflow = spreadOverflow(rs, cs)
		err = compareNumeric(&f, rs, cs, m, threshold, bins)
	} else {
		rp := textProfile(r)
		if k, ok := kinds[r.Name]; ok && k != rp.Kind && (k != profile.KindTime || rp.Time != nil) {
			rp.Kind = k
			if k != profile.KindTime {
				rp.Time = nil
			}
		}
		rc, cc := counts(r), counts(c)
		f.ReferenceCount = int(rp.Count)
		for _, n := range cc {
			f.CurrentCount += int(n)
		}
		f.Plot, err = textVsProfile(&f, &rp, cc, m, threshold, rc)
		if err != nil {
			f.Error, f.Drift = err.Error(), false
		}
		return f
	}
	if err != nil {
		f.Error = err.Error()
		f.Drift = false
	}
	f.Plot = numericPlot(DropNaN(r.Num), DropNaN(c.Num))
	return f
}

// plotBins is the number of equal-width bins of a numeric plot, and
// plotCategories the number of categories drawn (the rest is "other").
const (
	plotBins       = 40
	plotCategories = 20
)

// numericPlot bins both samples on plotBins equal-width bins spanning the
// lower of their 0.5th percentiles to the higher of their 99.5th
// (plotWindow: both ranges drawn, outliers left out so they do not flatten
// the picture); values outside fall in no bin (see sortedSamples.plot).
func numericPlot(ref, cur []float64) *Plot {
	s, err := newSortedSamples("plot", ref, cur)
	if err != nil {
		return nil
	}
	return s.plot()
}

func binShares(xs []float64, lo, hi float64) []float64 {
	out := make([]float64, plotBins)
	w := (hi - lo) / plotBins
	for _, x := range xs {
		if x < lo || x > hi {
			continue
		}
		i := min(int((x-lo)/w), plotBins-1)
		out[i]++
	}
	for i := range out {
		out[i] /= float64(len(xs))
	}
	return out
}

// categoricalPlot returns the proportions of the most frequent categories
// (by pooled count) and of all others together.
func categoricalPlot(ref, cur map[string]int64) *Plot {
	pooled := map[string]int64{}
	var tr, tc int64
	for k, n := range ref {
		pooled[k] += n
		tr += n
	}
	for k, n := range cur {
		pooled[k] += n
		tc += n
	}
	if tr == 0 || tc == 0 {
		return nil
	}
	keys := make([]string, 0, len(pooled))
	for k := range pooled {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if pooled[keys[i]] != pooled[keys[j]] {
			return pooled[keys[i]] > pooled[keys[j]]
		}
		return keys[i] < keys[j]
	})
	p := &Plot{}
	var restR, restC int64
	for i, k := range keys {
		if i < plotCategories {
			p.Labels = append(p.Labels, k)
			p.Ref = append(p.Ref, float64(ref[k])/float64(tr))
			p.Cur = append(p.Cur, float64(cur[k])/float64(tc))
			continue
		}
		restR += ref[k]
		restC += cur[k]
	}
	if len(keys) > plotCategories {
		p.Labels = append(p.Labels, "other")
		p.Ref = append(p.Ref, float64(restR)/float64(tr))
		p.Cur = append(p.Cur, float64(restC)/float64(tc))
	}
	return p
}

func compareNumeric(f *Feature, ref, cur []float64, m *Method, threshold float64, bins int) error {
	if m == nil { // auto: ks, with a wasserstein_normed floor
		ks, err := KS(ref, cur)
		if err != nil {
			return err
		}
		w, err := WassersteinNormed(ref, cur)
		if err != nil {
			return err
		}
		f.Method = "auto:ks"
		decideAuto(f, ks, "wasserstein_normed", w.Statistic, AutoNumericEffect, threshold)
		return nil
	}
	f.Method = m.Name
	if done, err := infiniteVerdict(f, m, ref, cur, threshold); done || err != nil {
		return err
	}
	var v Verdict
	var err error
	if m.Counts != nil && binned(m.Name) {
		b, berr := BinNumeric(m.Name, ref, cur, bins)
		if berr != nil {
			return berr
		}
		v, err = m.CompareCounts(b.RefCounts, b.CurCounts, threshold)
	} else {
		v, err = m.CompareNumeric(ref, cur, threshold)
	}
	if err != nil {
		return err
	}
	if sameConstant(ref, cur) && (math.IsNaN(v.Statistic) || m.Kind == Test && math.IsNaN(v.PValue)) {
		// Both samples one and the same value (a flag column): no
		// difference, where 0/0 (wasserstein_normed's divisor, Welch's t)
		// made the feature an error (attack run 26).
		v.Statistic, v.Drift = 0, false
		if m.Kind == Test {
			v.PValue = 1
		}
	}
	setVerdict(f, m, v)
	return nil
}

// sameConstant tells whether every present value of ref and cur is one
// and the same finite number.
func sameConstant(ref, cur []float64) bool {
	x, seen := 0.0, false
	for _, s := range [][]float64{ref, cur} {
		for _, v := range s {
			switch {
			case math.IsNaN(v):
			case math.IsInf(v, 0):
				return false
			case !seen:
				x, seen = v, true
			case v != x:
				return false
			}
		}
	}
	return seen
}

// decideCategorical sets f's verdict from category counts: with auto (m
// nil) chi-square with a Jensen-Shannon floor, else the method's.
func decideCategorical(f *Feature, cat Categorical, m *Method, threshold float64) error {
	if m == nil {
		f.Method = "auto:chisquare"
		decideAuto(f, cat.Chi2, "jensenshannon", cat.JensenShannon, AutoCategoricalEffect, threshold)
		return nil
	}
	f.Method = m.Name
	v, err := m.CompareCounts(cat.RefCounts, cat.CurCounts, threshold)
	if err != nil {
		return err
	}
	setVerdict(f, m, v)
	return nil
}

// decideAuto sets f from a test and an effect size: drift when the test's
// p-value is below the threshold (AutoAlpha when NaN) and the effect is
// above its floor, or when the effect is infinite because only the
// current data holds infinite values (f.InfiniteValues "current", set
// before): a rank test barely moves for one inf among many values, but
// the current sample is infinitely far from the reference (attack run 22
// F7: "wasserstein_normed +Inf (> 0.1) ok").
func decideAuto(f *Feature, test Result, effect string, value, floor, threshold float64) {
	alpha := AutoAlpha
	if !math.IsNaN(threshold) {
		alpha = threshold
	}
	f.Statistic, f.PValue, f.Threshold = JSONFloat(test.Statistic), JSONFloat(test.PValue), JSONFloat(alpha)
	f.Effect = &Effect{Name: effect, Value: JSONFloat(value), Threshold: JSONFloat(floor)}
	f.Drift = value > floor && (test.PValue < alpha || (math.IsInf(value, 1) && f.InfiniteValues == InfiniteCurrent))
	if test.PValue < alpha && math.IsNaN(value) && f.overflow != "" && f.InfiniteValues == "" {
		f.Error = fmt.Sprintf("the test finds a difference (p = %.3g) but the effect size %s is not a number: %s, so auto cannot decide; rescale the values (divide them by a power of ten) or pick a --method",
			test.PValue, effect, f.overflow)
	} else if test.PValue < alpha && math.IsNaN(value) {
		// The test alone does not decide, and the effect size is
		// undefined: a verdict of no drift would pass silently.
		f.Error = fmt.Sprintf("the test finds a difference (p = %.3g) but the effect size %s is not a number (infinite values in the data, or a reference without spread), so auto cannot decide; remove the infinite values or pick a --method",
			test.PValue, effect)
	}
}

// setVerdict sets f from a method's verdict. A statistic, p-value or
// threshold that is not a number decides nothing: the feature is an error
// (exit 2), never "ok" (attack run 24 F1).
func setVerdict(f *Feature, m *Method, v Verdict) {
	f.Statistic, f.Threshold, f.Drift = JSONFloat(v.Statistic), JSONFloat(v.Threshold), v.Drift
	if m.Kind == Test {
		f.PValue = JSONFloat(v.PValue)
	}
	var what string
	switch {
	case math.IsNaN(v.Statistic):
		what = "statistic"
	case m.Kind == Test && math.IsNaN(v.PValue):
		what = "p-value"
	case math.IsNaN(v.Threshold):
		what = "threshold"
	default:
		return
	}
	f.Drift = false
	f.Error = fmt.Sprintf("the %s of %s is not a number for these samples (%s), so drift cannot be judged; check the data, or compare with another --method (ks, mann_whitney, cramer_von_mises, anderson or psi rank or bin the values)",
		what, m.Name, nanCause(f))
}

// nanCause names what likely made a statistic not a number.
func nanCause(f *Feature) string {
	if s := infiniteSamples(f.InfiniteValues); s != "" {
		return s + " infinite values"
	}
	if f.overflow != "" {
		return f.overflow + "; rescale the values, dividing them by a power of ten"
	}
	return "a sample of one value, or a reference without spread"
}

// maxSpread is the largest spread (maximum less minimum) of finite values
// whose standard deviation stays within float64's range for any sample
// size met: squared deviations of 1e150 summed over 1e8 values reach
// 1e308, near math.MaxFloat64 (1.8e308).
const maxSpread = 1e150

// spreadOverflow returns, for samples of finite values whose spread passes
// maxSpread (values near ±1.7e308), the sentence that says so, naming the
// smallest and largest value; "" otherwise (and when a sample holds an
// infinite value, which nanCause names instead). Their differences or
// squared deviations pass float64's range, so a standard deviation, and a
// statistic divided by it, is not a number although no value is infinite.
func spreadOverflow(ref, cur []float64) string {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, xs := range [][]float64{ref, cur} {
		for _, x := range xs {
			if math.IsInf(x, 0) {
				return ""
			}
			if x < lo {
				lo = x
			}
			if x > hi {
				hi = x
			}
		}
	}
	if !(hi-lo > maxSpread) {
		return ""
	}
	return fmt.Sprintf("no value is infinite, but the values' spread (from %.3g to %.3g) overflows float64's range (1.8e308) in their standard deviation", lo, hi)
}

// infiniteSamples names the samples of Feature.InfiniteValues: "the
// reference holds", "the current data holds", "both the reference and the
// current data hold"; "" when neither does.
func infiniteSamples(which string) string {
	switch which {
	case InfiniteReference:
		return "the reference holds"
	case InfiniteCurrent:
		return "the current data holds"
	case InfiniteBoth:
		return "both the reference and the current data hold"
	}
	return ""
}

// infiniteVerdict decides the methods that measure a distance on the
// value scale or compare means (wasserstein, wasserstein_normed, energy,
// t_test) when a sample holds infinite values, where their arithmetic
// gives NaN (inf - inf) and used to pass as "ok" (attack run 24 F1). By
// definition:
//   - infinities only in the current data: the Wasserstein and energy
//     distances are +Inf (∫|F - G|^p dx diverges: the current's share at
//     ±Inf differs from the reference's, which is 0, on a half-line), past
//     any finite threshold: drift, as --artifact and auto say;
//   - infinities in the reference: the threshold of wasserstein and energy
//     (a multiple of the reference's standard deviation) and the divisor
//     of wasserstein_normed are not numbers: an error;
//   - Welch's t compares means and variances, which infinite values in
//     either sample make not numbers (inf/inf, inf - inf): an error.
//
// done reports whether f was decided (or err says why it cannot be).
func infiniteVerdict(f *Feature, m *Method, ref, cur []float64, threshold float64) (done bool, err error) {
	refInf, curInf := hasInf(ref), hasInf(cur)
	if !refInf && !curInf {
		return false, nil
	}
	holds := infiniteSamples(infiniteIn(refInf, curInf))
	fix := "remove them (find where the values overflow upstream: a division by zero, a unit conversion), or compare with a method that ranks or bins the values (ks, mann_whitney, cramer_von_mises, anderson, psi)"
	switch m.Name {
	case "t_test":
		return false, fmt.Errorf("%s infinite values, so Welch's t of t_test, which compares the samples' means and variances, is not a number; %s", holds, fix)
	case "wasserstein", "energy", "wasserstein_normed":
		if refInf {
			why := "its threshold is a multiple of the reference's standard deviation"
			if m.Name == "wasserstein_normed" {
				why = "it divides the distance by the reference's standard deviation"
			}
			return false, fmt.Errorf("%s infinite values, so %s cannot be judged: %s, which infinite values make not a number; %s", holds, m.Name, why, fix)
		}
		std := math.NaN()
		if m.RelativeToStd || m.Name == "wasserstein_normed" {
			_, v := meanVar(ref)
			std = math.Sqrt(v)
		}
		if len(ref) == 0 {
			return false, &SampleError{Method: m.Name, Sample: "reference", Err: ErrEmpty}
		}
		setVerdict(f, m, m.Decide(distance(math.Inf(1)), threshold, std))
		return true, nil
	}
	return false, nil
}

// binned reports whether a method compares binned counts.
func binned(name string) bool {
	switch name {
	case "psi", "jensenshannon", "hellinger", "kl_div", "l_infinity", "chisquare":
		return true
	}
	return false
}

// counts returns the category counts of a String column (missing values
// left out).
func counts(c *table.Column) map[string]int64 {
	out := map[string]int64{}
	for i, s := range c.Str {
		if c.Null == nil || !c.Null[i] {
			out[s]++
		}
	}
	return out
}

// Sorted returns the features ordered worst first: drifting before not,
// then by p-value ascending (tests) or statistic descending (distances).
func (r *Report) Sorted() []Feature {
	out := append([]Feature(nil), r.Features...)
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if (a.Skipped != "") != (b.Skipped != "") {
			return b.Skipped != ""
		}
		if a.Drift != b.Drift {
			return a.Drift
		}
		pa, pb := float64(a.PValue), float64(b.PValue)
		if !math.IsNaN(pa) && !math.IsNaN(pb) && pa != pb {
			return pa < pb
		}
		return float64(a.Statistic) > float64(b.Statistic)
	})
	return out
}

// parallel calls fn(i) for i in [0, n) on GOMAXPROCS goroutines. A panic
// in fn is recovered and returned (the lowest item's, when several), so a
// bug in one feature's comparison cannot end the process.
func parallel(n int, fn func(i int)) *PanicError {
	next := make(chan int, n)
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first *PanicError
	for w := 0; w < min(runtime.GOMAXPROCS(0), n); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if perr := call(fn, i); perr != nil {
					mu.Lock()
					if first == nil || perr.Item < first.Item {
						first = perr
					}
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	return first
}

// call runs fn(i), turning a panic into a PanicError.
func call(fn func(i int), i int) (perr *PanicError) {
	defer func() {
		if r := recover(); r != nil {
			perr = &PanicError{Item: i, Value: r, Stack: debug.Stack()}
		}
	}()
	fn(i)
	return nil
}

// PanicError is a bug met while comparing one feature, recovered in the
// worker goroutine so that it reaches the caller as an error (and a
// server keeps serving) instead of ending the process.
type PanicError struct {
	// Item is the index of the feature being compared.
	Item int
	// Value is what the code panicked with; Stack the goroutine's stack
	// at that point, for the log.
	Value any
	Stack []byte
}

func (e *PanicError) Error() string {
	return fmt.Sprintf("internal error (a bug in normguard: please report it with the data's shape): %v", e.Value)
}

// NotNumbersReason is the Skipped text of a numeric input whose current
// values hold text (drift --artifact, monitor replay's windows): it is not
// compared, and validate's type_change anomaly names the values.
const NotNumbersReason = "the column holds values that are not numbers (see the type_change anomaly); fix the data, then compare again"

// Which samples hold infinite values (Feature.InfiniteValues).
const (
	InfiniteCurrent   = "current"
	InfiniteReference = "reference"
	InfiniteBoth      = "both"
)

// infiniteIn returns Feature.InfiniteValues for a reference and a current
// sample that do (true) or do not hold infinite values.
func infiniteIn(ref, cur bool) string {
	switch {
	case ref && cur:
		return InfiniteBoth
	case ref:
		return InfiniteReference
	case cur:
		return InfiniteCurrent
	}
	return ""
}

// hasInf reports whether xs holds +Inf or -Inf.
func hasInf(xs []float64) bool {
	for _, x := range xs {
		if math.IsInf(x, 0) {
			return true
		}
	}
	return false
}

// infSign returns "+Inf" or "-Inf" for an infinite x, "" otherwise.
func infSign(x float64) string {
	switch {
	case math.IsInf(x, 1):
		return "+Inf"
	case math.IsInf(x, -1):
		return "-Inf"
	}
	return ""
}

// markInfinite flags f's infinite numbers, which the JSON writes as null
// (StatisticInfinite, Effect.Infinite).
func markInfinite(f *Feature) {
	f.StatisticInfinite = infSign(float64(f.Statistic))
	if f.Effect != nil {
		f.Effect.Infinite = infSign(float64(f.Effect.Value))
	}
	if f.Time != nil {
		for i := range f.Time.Parts {
			if e := f.Time.Parts[i].Effect; e != nil {
				e.Infinite = infSign(float64(e.Value))
			}
		}
	}
}

// newReport returns the report of features: the share of drifting features
// among those that could be compared (not skipped, no error), and whether
// it reaches share.
func newReport(features []Feature, share float64) *Report {
	rep := &Report{Features: append([]Feature{}, features...), MissingFeatures: []string{}, DriftShareThreshold: JSONFloat(share)}
	for i := range rep.Features {
		markInfinite(&rep.Features[i])
	}
	drifting, judged := 0, 0
	for _, f := range features {
		if f.Error == "" && f.Skipped == "" {
			judged++
			if f.Drift {
				drifting++
			}
		}
	}
	if judged > 0 {
		rep.DriftShare = JSONFloat(float64(drifting) / float64(judged))
		rep.DatasetDrift = float64(rep.DriftShare) >= share
	}
	return rep
}
