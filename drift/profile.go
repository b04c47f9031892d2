package drift

import (
	"fmt"
	"math"
	"sort"

	"github.com/normguard/normguard/profile"
	"github.com/normguard/normguard/stats"
	"github.com/normguard/normguard/table"
)

// profileMethods are the methods that work against a stored profile: the
// ones that need only the reference's CDF, moments or category counts.
var profileMethods = map[string]bool{
	"ks": true, "wasserstein": true, "wasserstein_normed": true, "psi": true, "jensenshannon": true,
	"hellinger": true, "kl_div": true, "chisquare": true, "l_infinity": true,
}

// CompareProfile compares current columns with a training profile
// (reference features by name; current columns without a profile are
// left out, profiled features the current data lacks are listed in
// MissingFeatures). The reference CDF is the profile's, exact at its grid
// points and kept within the profile's largest CDF gap between them
// (refCDF), so ks is within that gap of the exact two-sample statistic
// (Feature.StatisticErrorBound). Methods that need the reference values themselves
// (anderson, cramer_von_mises, energy, mann_whitney, t_test) are refused:
// compare with the training data instead (Compare).
func CompareProfile(ref []profile.Feature, cur []table.Column, opt Options) (*Report, error) {
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
		if !profileMethods[method] {
			return nil, fmt.Errorf("drift: %s needs the reference values, which an artifact's profile does not keep; compare with the training data: --reference TRAIN", method)
		}
	}
	threshold, bins, share := opt.resolve()
	byName := map[string]int{}
	for i := range ref {
		byName[ref[i].Name] = i
	}
	var pairs [][2]int // (profile index, current index)
	have := map[string]bool{}
	for i := range cur {
		if p, ok := byName[cur[i].Name]; ok {
			pairs = append(pairs, [2]int{p, i})
			have[cur[i].Name] = true
		}
	}
	results := make([]Feature, len(pairs))
	if err := parallel(len(pairs), func(k int) {
		results[k] = compareToProfile(&ref[pairs[k][0]], &cur[pairs[k][1]], m, threshold, bins)
	}); err != nil {
		return nil, fmt.Errorf("drift: feature %q: %w", ref[pairs[err.Item][0]].Name, err)
	}
	if len(results) == 0 {
		return nil, fmt.Errorf("drift: the current data has none of the profiled columns")
	}
	rep := newReport(results, share)
	for i := range ref {
		if !have[ref[i].Name] {
			rep.MissingFeatures = append(rep.MissingFeatures, ref[i].Name)
		}
	}
	return rep, nil
}

func compareToProfile(p *profile.Feature, c *table.Column, m *Method, threshold float64, bins int) Feature {
	f := Feature{Name: p.Name, Type: p.Type, Statistic: JSONFloat(math.NaN()), PValue: JSONFloat(math.NaN()),
		Threshold: JSONFloat(math.NaN()), ReferenceCount: int(p.Count)}
	var err error
	switch {
	case p.Type == "categorical" && c.Kind == table.String:
		cc := counts(c)
		for _, n := range cc {
			f.CurrentCount += int(n)
		}
		f.Plot, err = textVsProfile(&f, p, cc, m, threshold, nil)
	case p.Type == "numeric" && c.Kind == table.Numeric:
		cs := DropNaN(c.Num)
		f.CurrentCount = len(cs)
		err = numericVsProfile(&f, p, cs, m, threshold, bins)
		f.Plot = profilePlot(p, c)
	default:
		err = fmt.Errorf("column %q is %s in the data but %s in the profile", c.Name, c.Kind, p.Type)
	}
	if err != nil {
		f.Error, f.Drift = err.Error(), false
	}
	return f
}

// profilePlot draws the profile's histogram (or top categories) against
// the current column on the same bins.
func profilePlot(p *profile.Feature, c *table.Column) *Plot {
	if p.Count == 0 {
		return nil
	}
	if c.Kind == table.Numeric && p.Type == "numeric" {
		// The same window as two-sample plots (plotWindow): from the
		// lower of the two 0.5th percentiles to the higher of the two
		// 99.5th, the reference's read from the profile's CDF, as are its
		// shares. An infinite current end gives way to the reference's.
		r, err := newRefCDF(p)
		cur := DropNaN(c.Num)
		if err != nil || len(cur) == 0 {
			return nil
		}
		stats.SortFloats(cur) // DropNaN's copy
		trim := int(0.005 * float64(len(cur)-1))
		curLo, curHi := cur[trim], cur[len(cur)-1-trim]
		lo, hi := r.inverse(0.005), r.inverse(0.995)
		if !math.IsInf(curLo, 0) {
			lo = math.Min(lo, curLo)
		}
		if !math.IsInf(curHi, 0) {
			hi = math.Max(hi, curHi)
		}
		if !(hi > lo) {
			lo, hi = lo-0.5, lo+0.5
		}
		pl := &Plot{Edges: make([]float64, plotBins+1), Ref: make([]float64, plotBins), Cur: binShares(cur, lo, hi)}
		for i := range pl.Edges {
			pl.Edges[i] = lo + (hi-lo)*float64(i)/plotBins
		}
		for i := range pl.Ref {
			below := r.atBelow(pl.Edges[i])
			if i == 0 {
				below = r.atBelow(lo)
			}
			upper := r.atBelow(pl.Edges[i+1])
			if i == plotBins-1 {
				upper = r.at(hi)
			}
			pl.Ref[i] = math.Max(upper-below, 0)
		}
		return pl
	}
	return nil
}

// refCDF is a profile's reference CDF F̂, known exactly at its points (x,
// p: the share at or below x). Between two points x0 < x1 the true CDF F
// lies in the band [p0, min(p1, p0 + gap)]: it starts at p0 and, before
// x1's own mass, has gained at most the share strictly between two grid
// values, which the profile bounds (gap). F̂ stays inside that band: it
// rises linearly from p0 to u = min(p1, p0 + gap) over (x0, x1) and
// jumps to p1 at x1; when either point is a mass point (a value the grid
// repeats, or a column of at most two values) it is flat at p0 until x1.
// So |F̂(x) - F(x)| <= gap everywhere, and any statistic that is a
// supremum of |F - G| (ks) moves by at most gap:
//
//	|sup|F̂ - G| - sup|F - G|| <= sup|F̂ - F| <= gap
//
// gap is the profile's MaxCDFGap, or the share above the grid's last
// point when that is larger (a sampled grid may stop short of the
// column's maximum). A column of at most two values is exact: gap 0.
type refCDF struct {
	x, p []float64
	mass []bool
	gap  float64
}

// upper returns the value F̂ rises to just below x[j], from x[j-1]
// (j >= 1, neither a mass point).
func (r *refCDF) upper(j int) float64 { return math.Min(r.p[j], r.p[j-1]+r.gap) }

// checkGrid refuses a quantile grid the CDF walk cannot use: lengths that
// differ, NaN or unsorted points, shares outside [0, 1] or decreasing.
// Artifacts are checked when loaded (artifact.Check); this guards profiles
// that reach drift by another way.
func checkGrid(p *profile.Feature) error {
	bad := func(what string) error {
		return fmt.Errorf("drift: the profile of %q is damaged (%s); refit the artifact or restore it", p.Name, what)
	}
	if len(p.CDF) != len(p.Quantiles) || len(p.Quantiles) == 0 {
		return bad(fmt.Sprintf("%d quantiles but %d CDF values", len(p.Quantiles), len(p.CDF)))
	}
	for i, q := range p.Quantiles {
		c := p.CDF[i]
		switch {
		case math.IsNaN(q) || math.IsNaN(c):
			return bad(fmt.Sprintf("NaN at grid point %d", i))
		case c < 0 || c > 1:
			return bad(fmt.Sprintf("CDF value %v outside [0, 1]", c))
		case i > 0 && (q < p.Quantiles[i-1] || c < p.CDF[i-1]):
			return bad(fmt.Sprintf("grid point %d out of order", i))
		}
	}
	return nil
}

func newRefCDF(p *profile.Feature) (*refCDF, error) {
	switch {
	case p.Count == 0:
		return nil, &SampleError{Method: "profile", Sample: "reference", Err: ErrEmpty}
	case p.Quantiles != nil:
		if err := checkGrid(p); err != nil {
			return nil, err
		}
		// The grid comes from a sample when the column is large: close
		// it with the column's true minimum and maximum.
		r := &refCDF{}
		if p.Min != nil && float64(*p.Min) < p.Quantiles[0] {
			r.x, r.p = append(r.x, float64(*p.Min)), append(r.p, 0)
		}
		r.x, r.p = append(r.x, p.Quantiles...), append(r.p, p.CDF...)
		if p.Max != nil && float64(*p.Max) > r.x[len(r.x)-1] {
			r.x, r.p = append(r.x, float64(*p.Max)), append(r.p, 1)
		}
		// Keep one point per distinct value (its share at or below),
		// marking the repeated ones as mass points.
		var x, pp []float64
		var mass []bool
		for i := 0; i < len(r.x); i++ {
			j := i
			for j+1 < len(r.x) && r.x[j+1] == r.x[i] {
				j++
			}
			x, pp, mass = append(x, r.x[i]), append(pp, r.p[j]), append(mass, j > i)
			i = j
		}
		// Both are shares of the column's values: k/Count, up to rounding.
		n := float64(p.Count)
		gap := math.Round(math.Max(p.MaxCDFGap, 1-p.CDF[len(p.CDF)-1])*n) / n
		return &refCDF{x: x, p: pp, mass: mass, gap: gap}, nil
	case p.Values != nil: // at most two values: a step CDF
		r := &refCDF{}
		var cum int64
		for i, v := range p.Values.Numbers {
			cum += p.Values.Counts[i]
			r.x = append(r.x, v)
			r.p = append(r.p, float64(cum)/float64(p.Count))
			r.mass = append(r.mass, true)
		}
		return r, nil
	}
	return nil, fmt.Errorf("the profile has no distribution for this column")
}

// at returns F(x), the share at or below x.
func (r *refCDF) at(x float64) float64 { return r.atIdx(x, sort.SearchFloat64s(r.x, x)) }

// atBelow returns the share strictly below x (the CDF's left limit).
func (r *refCDF) atBelow(x float64) float64 { return r.belowIdx(x, sort.SearchFloat64s(r.x, x)) }

// atIdx is at with j the first index with r.x[j] >= x.
func (r *refCDF) atIdx(x float64, j int) float64 {
	switch {
	case j < len(r.x) && r.x[j] == x:
		return r.p[j]
	case j == 0:
		return 0
	case j == len(r.x):
		return 1
	case r.mass[j-1] || r.mass[j]:
		return r.p[j-1]
	}
	x0, x1, p0, u := r.x[j-1], r.x[j], r.p[j-1], r.upper(j)
	return p0 + (u-p0)*(x-x0)/(x1-x0)
}

// belowIdx is atBelow with j the first index with r.x[j] >= x.
func (r *refCDF) belowIdx(x float64, j int) float64 {
	if j < len(r.x) && r.x[j] == x {
		if j == 0 {
			return 0
		}
		if r.mass[j-1] || r.mass[j] {
			return r.p[j-1]
		}
		return r.upper(j)
	}
	return r.atIdx(x, j)
}

// inverse returns the smallest x with F(x) >= q.
func (r *refCDF) inverse(q float64) float64 {
	for i := range r.p {
		if r.p[i] >= q {
			if i == 0 || r.mass[i-1] || r.mass[i] {
				return r.x[i]
			}
			x0, x1, p0, u := r.x[i-1], r.x[i], r.p[i-1], r.upper(i)
			if q > u || !(u > p0) { // reached by the jump at x1
				return x1
			}
			return x0 + (x1-x0)*(q-p0)/(u-p0)
		}
	}
	return r.x[len(r.x)-1]
}

func numericVsProfile(f *Feature, p *profile.Feature, cur []float64, m *Method, threshold float64, bins int) error {
	if len(cur) == 0 {
		return &SampleError{Method: "profile", Sample: "current", Err: ErrEmpty}
	}
	r, err := newRefCDF(p)
	if err != nil {
		return err
	}
	sorted := cur // a copy made by DropNaN: sort it in place
	stats.SortFloats(sorted)
	std := math.NaN()
	if p.Std != nil {
		std = float64(*p.Std)
	}
	ks := func() Result {
		d := ksVsCDF(r, sorted)
		bound := JSONFloat(r.gap)
		f.StatisticErrorBound = &bound
		return ksPValue(d, int(p.Count), len(sorted))
	}
	if m == nil {
		f.Method = "auto:ks"
		decideAuto(f, ks(), "wasserstein_normed", wassersteinVsCDF(r, sorted)/std, AutoNumericEffect, threshold)
		return nil
	}
	f.Method = m.Name
	var res Result
	switch m.Name {
	case "ks":
		res = ks()
	case "wasserstein":
		res = distance(wassersteinVsCDF(r, sorted))
	case "wasserstein_normed":
		res = distance(wassersteinVsCDF(r, sorted) / std)
	default: // binned on the reference's quantiles
		edges := []float64{math.Inf(-1)}
		for i := 1; i < bins; i++ {
			if e := r.inverse(float64(i) / float64(bins)); e != edges[len(edges)-1] {
				edges = append(edges, e)
			}
		}
		edges = append(edges, math.Inf(1))
		refCounts := make([]int64, len(edges)-1)
		prev := 0.0
		for i := range refCounts {
			// [e_i, e_i+1): the share below e_i+1
			next := 1.0
			if i+1 < len(edges)-1 {
				next = r.atBelow(edges[i+1])
			}
			refCounts[i] = int64(math.Round((next - prev) * float64(p.Count)))
			prev = next
		}
		curCounts := Histogram(sorted, edges)
		var err error
		if res, err = m.Counts(refCounts, curCounts); err != nil {
			return err
		}
	}
	v := m.Decide(res, threshold, std)
	setVerdict(f, m, v)
	return nil
}

// ksVsCDF returns sup |F_ref - F_cur| (see ksAndWasserstein).
func ksVsCDF(r *refCDF, cur []float64) float64 {
	d, _ := ksAndWasserstein(r, cur)
	return d
}

// wassersteinVsCDF returns ∫ |F_ref - F_cur| dx (see ksAndWasserstein).
func wassersteinVsCDF(r *refCDF, cur []float64) float64 {
	_, w := ksAndWasserstein(r, cur)
	return w
}

// ksAndWasserstein walks the breakpoints of both CDFs in order (the
// reference's points and the sorted current values) and returns
// sup |F_ref - F_cur|, checked on both sides of every breakpoint, and
// ∫ |F_ref - F_cur| dx, integrated exactly piece by piece (F_cur is
// constant and F_ref linear or flat between breakpoints).
func ksAndWasserstein(r *refCDF, cur []float64) (d, w float64) {
	n := float64(len(cur))
	i, j := 0, 0 // the next current value; the first reference point >= x
	prev, fcPrev, refPrev, havePrev := 0.0, 0.0, 0.0, false
	for i < len(cur) || j < len(r.x) {
		var x float64
		if j >= len(r.x) || (i < len(cur) && cur[i] < r.x[j]) {
			x = cur[i]
		} else {
			x = r.x[j]
		}
		for j < len(r.x) && r.x[j] < x {
			j++
		}
		below, at := r.belowIdx(x, j), r.atIdx(x, j)
		if havePrev {
			w += absLinearIntegral(refPrev-fcPrev, below-fcPrev, x-prev)
		}
		k := i
		for k < len(cur) && cur[k] == x {
			k++
		}
		fcBefore, fcAfter := float64(i)/n, float64(k)/n
		if v := math.Abs(below - fcBefore); v > d {
			d = v
		}
		if v := math.Abs(at - fcAfter); v > d {
			d = v
		}
		i0, j0 := i, j
		i = k
		for j < len(r.x) && r.x[j] == x {
			j++
		}
		if i == i0 && j == j0 {
			// x is NaN (a damaged grid that got past the artifact check):
			// skip the point rather than loop for ever.
			j++
			continue
		}
		prev, fcPrev, refPrev, havePrev = x, fcAfter, at, true
	}
	return d, w
}

// absLinearIntegral returns ∫_0^w |g(t)| dt for g linear from ga to gb.
func absLinearIntegral(ga, gb, w float64) float64 {
	if ga*gb >= 0 {
		return w * (math.Abs(ga) + math.Abs(gb)) / 2
	}
	t := ga / (ga - gb) // where g crosses 0
	return w * (t*math.Abs(ga) + (1-t)*math.Abs(gb)) / 2
}
