package drift

import (
	"fmt"
	"math"
	"sort"

	"github.com/normguard/normguard/profile"
	"github.com/normguard/normguard/table"
)

// SummaryPlans returns the plans of every profiled feature for opt's bins.
func SummaryPlans(ref []profile.Feature, opt Options) []*SummaryPlan {
	_, bins, _ := opt.resolve()
	out := make([]*SummaryPlan, len(ref))
	for i := range ref {
		out[i] = NewSummaryPlan(&ref[i], bins)
	}
	return out
}

// CompareSummaries judges each summary against its plan's profile
// feature (sums[i] against plans[i]; a nil summary is a feature the
// current data lacks: MissingFeatures) as CompareProfile does. The plans
// must have been made for opt's bins.
func CompareSummaries(plans []*SummaryPlan, sums []*Summary, opt Options) (*Report, error) {
	if len(plans) != len(sums) {
		return nil, fmt.Errorf("drift: %d plans but %d summaries", len(plans), len(sums))
	}
	if err := opt.Check(); err != nil {
		return nil, err
	}
	m, err := profileMethod(opt.Method)
	if err != nil {
		return nil, err
	}
	threshold, bins, share := opt.resolve()
	var idx []int
	for i, s := range sums {
		if s != nil {
			if s.plan != plans[i] && s.plan.Fingerprint != plans[i].Fingerprint {
				return nil, fmt.Errorf("drift: the summary of %q was made against another profile; make it with this artifact", plans[i].Name)
			}
			if plans[i].Bins != bins {
				return nil, fmt.Errorf("drift: the plan of %q has %d bins but the options ask for %d", plans[i].Name, plans[i].Bins, bins)
			}
			idx = append(idx, i)
		}
	}
	if len(idx) == 0 {
		return nil, fmt.Errorf("drift: the current data has none of the profiled columns")
	}
	results := make([]Feature, len(idx))
	if perr := parallel(len(idx), func(k int) {
		results[k] = plans[idx[k]].evaluate(sums[idx[k]], m, threshold)
	}); perr != nil {
		return nil, fmt.Errorf("drift: feature %q: %w", plans[idx[perr.Item]].Name, perr)
	}
	rep := newReport(results, share)
	for i, s := range sums {
		if s == nil {
			rep.MissingFeatures = append(rep.MissingFeatures, plans[i].Name)
		}
	}
	return rep, nil
}

// profileMethod looks up a method that works against a profile (nil for
// auto).
func profileMethod(method string) (*Method, error) {
	if method == "" || method == "auto" {
		return nil, nil
	}
	m, ok := Lookup(method)
	if !ok {
		return nil, fmt.Errorf("drift: %w %q; use auto or one of %v", ErrUnknownMethod, method, Names())
	}
	if !profileMethods[method] {
		return nil, fmt.Errorf("drift: %s needs the reference values, which an artifact's profile does not keep; compare with the training data: --reference TRAIN", method)
	}
	return m, nil
}

// Evaluate judges one summary against the plan's profile feature with the
// method of opt (auto when empty) and its threshold.
func (pl *SummaryPlan) Evaluate(s *Summary, opt Options) (Feature, error) {
	if err := opt.Check(); err != nil {
		return Feature{}, err
	}
	m, err := profileMethod(opt.Method)
	if err != nil {
		return Feature{}, err
	}
	threshold, _, _ := opt.resolve()
	return pl.evaluate(s, m, threshold), nil
}

func (pl *SummaryPlan) evaluate(s *Summary, m *Method, threshold float64) Feature {
	p := pl.ref
	f := Feature{Name: p.Name, Type: p.Type, Statistic: JSONFloat(math.NaN()), PValue: JSONFloat(math.NaN()),
		Threshold: JSONFloat(math.NaN()), ReferenceCount: int(p.Count), CurrentCount: int(s.Present())}
	var err error
	switch {
	case s.KindMismatch:
		data, prof := table.Numeric, table.String
		if p.Type == "numeric" {
			data, prof = table.String, table.Numeric
		}
		err = fmt.Errorf("column %q is %s in the data but %s in the profile", p.Name, data, prof)
	case p.Type == "categorical":
		f.Plot, err = pl.textVsSummary(&f, s, m, threshold)
	default:
		err = pl.numericVsSummary(&f, s, m, threshold)
		if err == nil || f.CurrentCount > 0 {
			f.Plot = pl.summaryPlot(s)
		}
	}
	if err != nil {
		f.Error, f.Drift = err.Error(), false
	}
	return f
}

// textVsSummary decides a categorical feature from its counts.
func (pl *SummaryPlan) textVsSummary(f *Feature, s *Summary, m *Method, threshold float64) (*Plot, error) {
	p := pl.ref
	cur := map[string]int64{}
	for i, n := range s.Cats {
		if n > 0 {
			cur[pl.Categories[i]] = n
		}
	}
	const dropped = "\x00new"
	switch {
	case s.NewDropped && pl.TrackNew:
		cur[dropped] = s.Unknown
	case pl.TrackNew:
		for k, n := range s.New {
			cur[k] = n
		}
	case s.Unknown > 0:
		cur[otherCategory] = s.Unknown
	}
	if p.Kind == profile.KindTime && p.Time != nil {
		cur = nil
	}
	plot, err := textVsProfileTime(f, p, cur, s.Time, m, threshold, nil)
	if s.NewDropped && pl.TrackNew {
		// More than a summary names: a floor, said so (attack run 30
		// F8: 1001 read as a count).
		f.NewCategories, f.NewCategoriesTotal, f.NewCategoriesAtLeast = nil, MaxSummaryNew+1, true
	}
	if plot != nil {
		for i, l := range plot.Labels {
			switch l {
			case otherCategory:
				plot.Labels[i] = "(not in the profile)"
			case dropped:
				plot.Labels[i] = "(new values)"
			}
		}
	}
	return plot, err
}

// curCDF gives the current CDF at the plan's points: less[i] values below
// Points[i], at[i] at or below it.
func (pl *SummaryPlan) curCDF(s *Summary) (less, at []int64) {
	less, at = make([]int64, len(pl.Points)), make([]int64, len(pl.Points))
	var cum int64
	for i := range pl.Points {
		cum += s.Below[i]
		less[i] = cum
		cum += s.Equal[i]
		at[i] = cum
	}
	return less, at
}

func (pl *SummaryPlan) numericVsSummary(f *Feature, s *Summary, m *Method, threshold float64) error {
	p := pl.ref
	if s.Present() == 0 {
		return &SampleError{Method: "profile", Sample: "current", Err: ErrEmpty}
	}
	if pl.r == nil {
		if pl.rErr != nil {
			return pl.rErr
		}
		_, err := newRefCDF(p)
		return err
	}
	n := float64(s.Present())
	refInf := p.Min != nil && p.Max != nil && (math.IsInf(float64(*p.Min), 0) || math.IsInf(float64(*p.Max), 0))
	f.InfiniteValues = infiniteIn(refInf, math.IsInf(s.Moments.Min, 0) || math.IsInf(s.Moments.Max, 0))
	less, at := pl.curCDF(s)
	std := math.NaN()
	if p.Std != nil {
		std = float64(*p.Std)
	}
	ks := func() Result {
		d, c := 0.0, 0.0
		for i := range pl.Points {
			d = math.Max(d, math.Abs(pl.fBelow[i]-float64(less[i])/n))
			d = math.Max(d, math.Abs(pl.fAt[i]-float64(at[i])/n))
			if pl.rising[i] && s.Below[i] > 0 {
				// the most |F̂ - G| can reach inside the cell
				c = math.Max(c, math.Max(pl.fBelow[i]-float64(at[i-1])/n, float64(less[i])/n-pl.fAt[i-1]))
			}
		}
		bound := JSONFloat(pl.r.gap + math.Max(c-d, 0))
		f.StatisticErrorBound = &bound
		return ksPValue(d, int(p.Count), int(s.Present()))
	}
	wasserstein := func() float64 {
		pts := pl.Points
		first, last := pts[0], pts[len(pts)-1]
		// Below the first point F̂ = 0: ∫ G = Σ (first - v) / n; above the
		// last F̂ = 1: ∫ (1 - G) = Σ (v - last) / n.
		w := (float64(s.Low.N)*first - s.Low.Sum.Float64()) / n
		w += (s.High.Sum.Float64() - float64(s.High.N)*last) / n
		for i := 1; i < len(pts); i++ {
			ga := pl.fAt[i-1] - float64(at[i-1])/n
			gb := pl.fBelow[i] - float64(less[i])/n
			w += absLinearIntegral(ga, gb, pts[i]-pts[i-1])
		}
		return w
	}
	if m == nil {
		f.Method = "auto:ks"
		decideAuto(f, ks(), "wasserstein_normed", wasserstein()/std, AutoNumericEffect, threshold)
		return nil
	}
	f.Method = m.Name
	if refInf && (m.Name == "wasserstein" || m.Name == "wasserstein_normed") {
		// as Compare (infiniteVerdict): the reference's std is not a number
		return fmt.Errorf("%s infinite values, so %s cannot be judged: it scales by the reference's standard deviation, which infinite values make not a number; refit on finite values, or compare with ks or psi", infiniteSamples(f.InfiniteValues), m.Name)
	}
	var res Result
	switch m.Name {
	case "ks":
		res = ks()
	case "wasserstein":
		res = distance(wasserstein())
	case "wasserstein_normed":
		if w := wasserstein(); w == 0 {
			res = distance(0) // the same constant as the reference: 0, not 0/0 (attack run 26)
		} else {
			res = distance(w / std)
		}
	default: // binned on the reference's quantiles
		edges := []float64{math.Inf(-1)}
		for i := 1; i < pl.Bins; i++ {
			if e := pl.r.inverse(float64(i) / float64(pl.Bins)); e != edges[len(edges)-1] {
				edges = append(edges, e)
			}
		}
		edges = append(edges, math.Inf(1))
		refCounts, curCounts := make([]int64, len(edges)-1), make([]int64, len(edges)-1)
		prev, prevCur := 0.0, int64(0)
		for i := range refCounts {
			// [e_i, e_i+1): the share below e_i+1
			next, nextCur := 1.0, s.Present()
			if i+1 < len(edges)-1 {
				next = pl.r.atBelow(edges[i+1])
				k := sort.SearchFloat64s(pl.Points, edges[i+1]) // an edge is a point
				nextCur = less[k]
			}
			refCounts[i] = int64(math.Round((next - prev) * float64(p.Count)))
			curCounts[i] = nextCur - prevCur
			prev, prevCur = next, nextCur
		}
		var err error
		if res, err = m.Counts(refCounts, curCounts); err != nil {
			return err
		}
	}
	v := m.Decide(res, threshold, std)
	setVerdict(f, m, v)
	return nil
}

// curAt returns Ĝ(x) (below: its left limit), the current CDF read from
// the summary: exact at the points, rising linearly through each cell,
// and through [min, max] of the values below the first point and above
// the last.
func (pl *SummaryPlan) curAt(s *Summary, less, at []int64, x float64, below bool) float64 {
	pts := pl.Points
	n := float64(s.Present())
	spread := func(lo, hi, from, mass float64) float64 {
		switch {
		case x < lo || (below && x == lo):
			return from
		case x > hi || (x == hi && !below) || !(hi > lo):
			return from + mass
		}
		t := spanRatio(x, lo, hi)
		if math.IsNaN(t) {
			t = 0
		}
		return from + mass*t
	}
	switch {
	case x < pts[0]:
		return spread(s.Low.Min, s.Low.Max, 0, float64(s.Low.N)/n)
	case x > pts[len(pts)-1]:
		return spread(s.High.Min, s.High.Max, float64(at[len(pts)-1])/n, float64(s.High.N)/n)
	}
	i := sort.SearchFloat64s(pts, x)
	if pts[i] == x {
		if below {
			return float64(less[i]) / n
		}
		return float64(at[i]) / n
	}
	t := (x - pts[i-1]) / (pts[i] - pts[i-1])
	return (float64(at[i-1]) + float64(s.Below[i])*t) / n
}

// curQuantile returns the k-th smallest current value (0-based) as Ĝ
// places it: exact at the points and at both ends.
func (pl *SummaryPlan) curQuantile(s *Summary, less, at []int64, k int64) float64 {
	n := s.Present()
	switch {
	case k <= 0:
		return s.Moments.Min
	case k >= n-1:
		return s.Moments.Max
	case k < s.Low.N:
		return lerpRatio(s.Low.Min, s.Low.Max, float64(k), float64(max(s.Low.N-1, 1)))
	case k >= n-s.High.N:
		j := k - (n - s.High.N)
		return lerpRatio(s.High.Min, s.High.Max, float64(j), float64(max(s.High.N-1, 1)))
	}
	pts := pl.Points
	i := sort.Search(len(pts), func(i int) bool { return at[i] > k })
	if less[i] <= k {
		return pts[i]
	}
	// inside the cell (pts[i-1], pts[i]), whose values are ranks at[i-1] ..
	t := (float64(k-at[i-1]) + 0.5) / float64(s.Below[i])
	return pts[i-1] + (pts[i]-pts[i-1])*t
}

// summaryPlot draws the profile's distribution against the current's on
// the same bins: from the lower of the two 0.5th percentiles to the
// higher of the two 99.5th, the reference's read from the profile's CDF,
// the current's from the summary (curQuantile, curAt). An infinite
// current end gives way to the reference's.
func (pl *SummaryPlan) summaryPlot(s *Summary) *Plot {
	r := pl.r
	if r == nil || s.Present() == 0 {
		return nil
	}
	less, at := pl.curCDF(s)
	n := s.Present()
	trim := int64(0.005 * float64(n-1))
	curLo, curHi := pl.curQuantile(s, less, at, trim), pl.curQuantile(s, less, at, n-1-trim)
	lo, hi := r.inverse(0.005), r.inverse(0.995)
	if !math.IsInf(curLo, 0) && !math.IsNaN(curLo) {
		lo = math.Min(lo, curLo)
	}
	if !math.IsInf(curHi, 0) && !math.IsNaN(curHi) {
		hi = math.Max(hi, curHi)
	}
	lo, hi = plotSpan(lo, hi)
	pl2 := &Plot{Edges: plotEdges(lo, hi, plotBins), Ref: make([]float64, plotBins), Cur: make([]float64, plotBins)}
	for i := range pl2.Ref {
		below, curBelow := r.atBelow(pl2.Edges[i]), pl.curAt(s, less, at, pl2.Edges[i], true)
		if i == 0 {
			below, curBelow = r.atBelow(lo), pl.curAt(s, less, at, lo, true)
		}
		upper, curUpper := r.atBelow(pl2.Edges[i+1]), pl.curAt(s, less, at, pl2.Edges[i+1], true)
		if i == plotBins-1 {
			upper, curUpper = r.at(hi), pl.curAt(s, less, at, hi, false)
		}
		pl2.Ref[i] = math.Max(upper-below, 0)
		pl2.Cur[i] = math.Max(curUpper-curBelow, 0)
	}
	return pl2
}

// Summarize returns the summaries of the current columns against the
// plans (by name, the first column of a name; nil for a plan whose column
// the data lacks).
func Summarize(plans []*SummaryPlan, cur []table.Column) ([]*Summary, error) {
	byName := make(map[string]int, len(cur))
	for i := range cur {
		if _, dup := byName[cur[i].Name]; !dup {
			byName[cur[i].Name] = i
		}
	}
	out := make([]*Summary, len(plans))
	if err := parallel(len(plans), func(k int) {
		if i, ok := byName[plans[k].Name]; ok {
			s := plans[k].NewSummary()
			s.Add(&cur[i])
			out[k] = s
		}
	}); err != nil {
		return nil, fmt.Errorf("drift: summarizing %q: %w", plans[err.Item].Name, err)
	}
	return out, nil
}

// absLinearIntegral returns ∫_0^w |g(t)| dt for g linear from ga to gb.
func absLinearIntegral(ga, gb, w float64) float64 {
	if ga*gb >= 0 {
		return w * (math.Abs(ga) + math.Abs(gb)) / 2
	}
	t := ga / (ga - gb) // where g crosses 0
	return w * (t*math.Abs(ga) + (1-t)*math.Abs(gb)) / 2
}
