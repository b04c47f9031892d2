package artifact

import (
	"fmt"
	"math"
	"strconv"

	"github.com/normguard/normguard/profile"
	"github.com/normguard/normguard/spec"
	"github.com/normguard/normguard/step"
)

// Fitted statistics the training profile pins (attack run 35 F1: a mean
// imputer's statistic of 50 where the profile's mean is 43.92, a standard
// scaler's mean_ moved by 10, a robust scaler's center_ set to the
// column's max, were accepted and transform wrote other features). For
// a numeric group, the simple imputers at its start (missing_values NaN)
// and the first other step read the input columns as the profile
// describes them, plus an imputer's fill value for the missing cells:
//
//   - a mean imputer's statistic is the profile's mean, a standard
//     scaler's mean_ the mean of the values it read, (n·mean + m·fill)/N,
//     and its var_ their variance, (n·(std² + (mean − mean_)²) +
//     m·(fill − mean_)²)/N, for n present values, m missing cells filled
//     and N values read (n without a fill), within the rounding of
//     summing N values of that range (pinTol);
//   - a median imputer's statistic and a robust scaler's center_ (with
//     centering) lie where the profile's exact CDF puts numpy's median
//     (cdfBounds);
//   - a max_abs_scaler's max_abs_ is the largest |value| read: of the
//     profile's min and max and the fill value, bit for bit;
//   - a categorical group's most_frequent imputer (its first step) fills
//     in a category the profile counts as often as its most frequent
//     one.
//
// A fit computes each from the same data, so a contradiction means the
// statistic was edited. A column whose imputer reads a placeholder
// (the profile counts those cells as values) ends the rule for it.

// pinProfile is what the profile says of an input column whose fitted
// statistics are pinned.
type pinProfile struct {
	count, missing  int64
	mean, std       float64
	min, max        float64
	at, cdf         step.Floats
	hasMoments, set bool
}

// notePinned records the input columns of numeric group g whose profile
// the pinning rule needs.
func (c *sectionCheck) notePinned(gi int, g *Group) {
	if c.spec == nil || gi >= len(c.spec.Columns) {
		return
	}
	if c.spec.Columns[gi].Type == spec.TypeCategorical {
		c.notePinnedCategorical(gi, g)
		return
	}
	if c.spec.Columns[gi].Type != spec.TypeNumeric {
		return
	}
	for si := range g.Steps {
		switch g.Steps[si].Fitted.(type) {
		case *step.SimpleImputer, *step.StandardScaler, *step.RobustScaler, *step.MaxAbsScaler:
			if c.pinCols == nil {
				c.pinCols = map[string]*pinProfile{}
			}
			for _, name := range g.Columns {
				c.pinCols[name] = nil
			}
			c.pinGroups = append(c.pinGroups, gi)
			return
		}
	}
}

// notePinnedProfile keeps the profile of input f if the rule needs it.
func (c *sectionCheck) notePinnedProfile(f *profile.Feature) {
	if _, ok := c.pinCats[f.Name]; ok && f.Type == spec.TypeCategorical && f.Categories != nil && len(f.Categories.Values) == len(f.Categories.Counts) {
		c.pinCats[f.Name] = f.Categories
	}
	if _, ok := c.pinCols[f.Name]; !ok || f.Type != spec.TypeNumeric || f.Count == 0 || f.Min == nil || f.Max == nil {
		return
	}
	p := &pinProfile{count: f.Count, missing: f.Missing, min: float64(*f.Min), max: float64(*f.Max), set: true}
	if f.Mean != nil && f.Std != nil {
		p.mean, p.std, p.hasMoments = float64(*f.Mean), float64(*f.Std), true
	}
	if len(f.Quantiles) > 0 && len(f.CDF) == len(f.Quantiles) {
		p.at, p.cdf = f.Quantiles, f.CDF
	}
	c.pinCols[f.Name] = p
}

// pinnedError applies the rule to each group recorded, read again from
// source.
func (c *sectionCheck) pinnedError() error {
	if c.source == nil {
		return nil
	}
	for _, gi := range c.pinCatGroups {
		g, err := c.source.groupAgain(gi)
		if err != nil {
			return readAgainError(gi, err)
		}
		if err := c.pinnedCategorical(gi, g); err != nil {
			return err
		}
	}
	for _, gi := range c.pinGroups {
		g, err := c.source.groupAgain(gi)
		if err != nil {
			return readAgainError(gi, err)
		}
		if err := c.pinnedGroup(gi, g); err != nil {
			return err
		}
	}
	return nil
}

// pinCol is an input column as the imputers at a group's start leave it.
type pinCol struct {
	name   string
	p      *pinProfile
	filled bool
	fill   float64
}

// read returns the count, mean, variance, min and max of the values the
// column holds after its imputers.
func (col *pinCol) read() (n int64, mean, v, lo, hi float64) {
	p := col.p
	n, mean, v, lo, hi = p.count, p.mean, p.std*p.std, p.min, p.max
	if !col.filled {
		return
	}
	m := float64(p.missing)
	nn := float64(p.count) + m
	mu := (float64(p.count)*p.mean + m*col.fill) / nn
	v = (float64(p.count)*(v+(p.mean-mu)*(p.mean-mu)) + m*(col.fill-mu)*(col.fill-mu)) / nn
	return p.count + p.missing, mu, v, math.Min(lo, col.fill), math.Max(hi, col.fill)
}

// pinTol is the rounding a fit's and the profile's sums of n values
// within a range of width w may each carry, for a mean (power 1) or a
// variance (power 2): a recursive sum of n terms is off by at most
// (n−1)·ε times the sum of their magnitudes, read doubly wide, plus a
// few ulps of the value.
func pinTol(n int64, w float64, power int, x float64) float64 {
	const eps = 0x1p-52
	t := 4 * float64(n+1) * eps * math.Pow(w, float64(power))
	return t + 8*ulp(x)
}

func ulp(x float64) float64 {
	x = math.Abs(x)
	return math.Nextafter(x, math.Inf(1)) - x
}

// pinnedGroup applies the rule to groups[gi].
func (c *sectionCheck) pinnedGroup(gi int, g *Group) error {
	cols := map[string]*pinCol{}
	for _, name := range g.Columns {
		if p := c.pinCols[name]; p != nil && p.set {
			cols[name] = &pinCol{name: name, p: p}
		}
	}
	for si := range g.Steps {
		s := &g.Steps[si]
		path := fmt.Sprintf("groups[%d].steps[%d].fitted", gi, si)
		switch f := s.Fitted.(type) {
		case *step.SimpleImputer:
			params, ok := s.Params.(*step.SimpleImputerParams)
			if !ok {
				return nil
			}
			nan := params.MissingValues == nil || params.MissingValues == "NaN"
			for k, name := range s.Inputs {
				col := cols[name]
				if col == nil {
					continue
				}
				if !nan || k >= len(f.Statistics) {
					delete(cols, name)
					continue
				}
				x := float64(f.Statistics[k])
				at := fmt.Sprintf("%s.statistics_[%d]", path, k)
				switch params.Strategy {
				case "mean":
					if err := col.meanPinned(at, "the mean of", x); err != nil {
						return err
					}
				case "median":
					if err := col.medianPinned(at, x); err != nil {
						return err
					}
				}
				if col.p.missing > 0 && !col.filled {
					col.filled, col.fill = true, x
					if params.Strategy == "constant" {
						if v, ok := params.FillValue.(float64); ok {
							col.fill = v
						}
					}
				}
			}
			in := map[string]bool{}
			for _, name := range s.Inputs {
				in[name] = true
			}
			for _, o := range f.Outputs() {
				if !in[o.Name] {
					delete(cols, o.Name)
				}
			}
			continue
		case *step.StandardScaler:
			for k, name := range s.Inputs {
				col := cols[name]
				if col == nil {
					continue
				}
				if k < len(f.Mean) && f.WithMean {
					if err := col.meanPinned(fmt.Sprintf("%s.mean_[%d]", path, k), "the mean of", float64(f.Mean[k])); err != nil {
						return err
					}
				}
				if k < len(f.Var) {
					if err := col.varPinned(fmt.Sprintf("%s.var_[%d]", path, k), float64(f.Var[k])); err != nil {
						return err
					}
				}
			}
		case *step.RobustScaler:
			params, ok := s.Params.(*step.RobustScalerParams)
			if !ok || !params.WithCentering {
				return nil
			}
			for k, name := range s.Inputs {
				if col := cols[name]; col != nil && k < len(f.Center) {
					if err := col.medianPinned(fmt.Sprintf("%s.center_[%d]", path, k), float64(f.Center[k])); err != nil {
						return err
					}
				}
			}
		case *step.MaxAbsScaler:
			for k, name := range s.Inputs {
				if col := cols[name]; col != nil && k < len(f.MaxAbs) {
					_, _, _, lo, hi := col.read()
					want := math.Max(math.Abs(lo), math.Abs(hi))
					if x := float64(f.MaxAbs[k]); x != want {
						return bad(fmt.Sprintf("%s.max_abs_[%d]", path, k), "is %v; a fit on the training data writes %v there, the largest |value| of column %s by its training profile (min %v, max %v%s): the statistic was edited (a transform with it gives wrong values)",
							x, want, strconv.Quote(name), col.p.min, col.p.max, col.fillNote())
					}
				}
			}
		}
		return nil
	}
	return nil
}

func (col *pinCol) fillNote() string {
	if !col.filled {
		return ""
	}
	return fmt.Sprintf(", with the %d missing cells filled with %v by the imputer before it", col.p.missing, col.fill)
}

// meanPinned refuses x at path if it is not the mean of the values the
// column holds.
func (col *pinCol) meanPinned(path, what string, x float64) error {
	if !col.p.hasMoments {
		return nil
	}
	n, mean, _, lo, hi := col.read()
	if tol := pinTol(n, hi-lo, 1, mean); math.Abs(x-mean) <= tol {
		return nil
	}
	return bad(path, "is %v; a fit on the training data writes %s column %s's values there, %v by its training profile (count %d, mean %v%s): the statistic was edited (a transform with it gives wrong values)",
		x, what, strconv.Quote(col.name), mean, col.p.count, col.p.mean, col.fillNote())
}

// varPinned refuses x at path if it is not the variance of the values
// the column holds.
func (col *pinCol) varPinned(path string, x float64) error {
	if !col.p.hasMoments {
		return nil
	}
	n, _, v, lo, hi := col.read()
	if tol := pinTol(n, hi-lo, 2, v); math.Abs(x-v) <= tol {
		return nil
	}
	return bad(path, "is %v; a fit on the training data writes the variance of column %s's values there, %v by its training profile (count %d, std %v%s): the statistic was edited (a transform with it gives wrong values)",
		x, strconv.Quote(col.name), v, col.p.count, col.p.std, col.fillNote())
}

// medianPinned refuses x at path if it lies outside where the profile's
// exact CDF puts the median of the values the column holds.
func (col *pinCol) medianPinned(path string, x float64) error {
	q := &qtColumn{name: col.name, p: &qtProfile{count: col.p.count, missing: col.p.missing, at: col.p.at, cdf: col.p.cdf},
		filled: col.filled, fill: col.fill}
	lo, hi, ok := q.cdfBounds(0.5)
	if !ok || withinUlps(x, lo, hi) {
		return nil
	}
	return bad(path, "is %v; a fit on the training data writes the median of column %s's values there, which the training profile's exact CDF puts within [%v, %v]%s: the statistic was edited (a transform with it gives wrong values)",
		x, strconv.Quote(col.name), lo, hi, col.fillNote())
}

// notePinnedCategorical records the input columns of categorical group g
// whose first step is a most_frequent simple imputer.
func (c *sectionCheck) notePinnedCategorical(gi int, g *Group) {
	if len(g.Steps) == 0 {
		return
	}
	if p, ok := g.Steps[0].Params.(*step.SimpleImputerParams); !ok || p.Strategy != "most_frequent" || p.MissingValues != nil {
		return
	}
	if c.pinCats == nil {
		c.pinCats = map[string]*profile.Counts{}
	}
	for _, name := range g.Columns {
		c.pinCats[name] = nil
	}
	c.pinCatGroups = append(c.pinCatGroups, gi)
}

// pinnedCategorical holds a most_frequent imputer's statistics_str_ at
// the start of categorical group gi to the profile's counts: the
// statistic is a category with the largest count (the profile lists
// categories most frequent first; one it does not list counts at most
// as many as its last).
func (c *sectionCheck) pinnedCategorical(gi int, g *Group) error {
	s := &g.Steps[0]
	f, ok := s.Fitted.(*step.SimpleImputer)
	if !ok {
		return nil
	}
	for k, name := range s.Inputs {
		cats := c.pinCats[name]
		if cats == nil || len(cats.Counts) == 0 || k >= len(f.StatisticsStr) || f.StatisticsStr[k] == nil {
			continue
		}
		x, top := *f.StatisticsStr[k], cats.Counts[0]
		n, listed := int64(-1), false
		for j, v := range cats.Values {
			if v == x {
				n, listed = cats.Counts[j], true
				break
			}
		}
		if !listed && cats.Other > 0 {
			n = cats.Counts[len(cats.Counts)-1] // at most
		}
		if n >= top {
			continue
		}
		count := fmt.Sprintf("%d rows", n)
		if !listed {
			count = "not a training category"
			if n >= 0 {
				count = fmt.Sprintf("at most %d rows", n)
			}
		}
		return bad(fmt.Sprintf("groups[%d].steps[0].fitted.statistics_str_[%d]", gi, k), "is %s (%s); a fit on the training data writes column %s's most frequent category there, %s with %d rows by its training profile: the imputer's statistic was edited (a transform with it gives wrong values)",
			strconv.Quote(x), count, strconv.Quote(name), strconv.Quote(cats.Values[0]), top)
	}
	return nil
}
