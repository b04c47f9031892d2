package drift

import (
	"fmt"
	"math"
	"sort"

	"github.com/normguard/normguard/profile"
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
// MissingFeatures). Each current column is summarized against its
// profile (Summary) and judged from the summary, the one code path of
// every comparison with a profile, so a merged summary of the same rows
// (a monitor window, a Beam job) gives the same numbers. The reference
// CDF is the profile's, exact at its grid points and kept within the
// profile's largest CDF gap between them (refCDF); see Summary for how
// each statistic is read and Feature.StatisticErrorBound for how far ks
// may be from the exact two-sample statistic. Methods that need the
// reference values themselves (anderson, cramer_von_mises, energy,
// mann_whitney, t_test) are refused: compare with the training data
// instead (Compare).
func CompareProfile(ref []profile.Feature, cur []table.Column, opt Options) (*Report, error) {
	if err := opt.Check(); err != nil {
		return nil, err
	}
	if _, err := profileMethod(opt.Method); err != nil {
		return nil, err
	}
	_, bins, _ := opt.resolve()
	byName := map[string]int{}
	for i := range ref {
		byName[ref[i].Name] = i
	}
	// The features in the current data's column order, then the missing
	// ones in the profile's.
	var plans []*SummaryPlan
	var cols []table.Column
	have := map[string]bool{}
	for i := range cur {
		if p, ok := byName[cur[i].Name]; ok {
			plans = append(plans, NewSummaryPlan(&ref[p], bins))
			cols = append(cols, cur[i])
			have[cur[i].Name] = true
		}
	}
	if len(plans) == 0 {
		return nil, fmt.Errorf("drift: the current data has none of the profiled columns")
	}
	sums := make([]*Summary, len(plans))
	if err := parallel(len(plans), func(k int) {
		s := plans[k].NewSummary()
		s.Add(&cols[k])
		sums[k] = s
	}); err != nil {
		return nil, fmt.Errorf("drift: feature %q: %w", plans[err.Item].Name, err)
	}
	for i := range ref {
		if !have[ref[i].Name] {
			plans, sums = append(plans, NewSummaryPlan(&ref[i], bins)), append(sums, nil)
		}
	}
	return CompareSummaries(plans, sums, opt)
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
