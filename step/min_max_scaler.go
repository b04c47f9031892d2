package step

import (
	"fmt"
	"math"

	"github.com/normguard/normguard/internal/finite"
	"github.com/normguard/normguard/table"
)

func init() {
	register(&Def{
		Name:      "min_max_scaler",
		Role:      RoleTransform,
		Accepts:   []table.Kind{table.Numeric},
		NewParams: func() Params { return &MinMaxScalerParams{FeatureRange: Floats{0, 1}, Copy: true} },
		NewFitted: func() Fitted { return &MinMaxScaler{} },
	})
}

// MinMaxScalerParams configures scikit-learn's MinMaxScaler. Copy is
// accepted for compatibility and has no effect (normguard never modifies
// its input).
type MinMaxScalerParams struct {
	FeatureRange Floats `json:"feature_range"`
	Copy         bool   `json:"copy"`
	Clip         bool   `json:"clip"`
}

// Validate implements Params. feature_range must hold two finite numbers,
// the first smaller than the second (scikit-learn raises the same error
// for min >= max; it does not check finiteness).
func (p *MinMaxScalerParams) Validate() error {
	r := p.FeatureRange
	if len(r) != 2 {
		return &ParamError{Step: "min_max_scaler", Param: "feature_range", Value: []float64(r),
			Msg: "must be a pair [min, max], e.g. [0, 1]"}
	}
	if !isFinite(r[0]) || !isFinite(r[1]) {
		return &ParamError{Step: "min_max_scaler", Param: "feature_range", Value: []float64(r),
			Msg: "must hold two finite numbers"}
	}
	if r[0] >= r[1] {
		return &ParamError{Step: "min_max_scaler", Param: "feature_range", Value: []float64(r),
			Msg: "minimum of desired feature range must be smaller than maximum"}
	}
	return nil
}

// Fit implements Params: it records each column's minimum and maximum,
// ignoring NaN, and derives scale_ and min_ (see MinMaxScaler).
func (p *MinMaxScalerParams) Fit(_ *FitContext, cols []table.Column) (Fitted, error) {
	if err := requireRows("min_max_scaler", cols); err != nil {
		return nil, err
	}
	lo, hi := make([]float64, len(cols)), make([]float64, len(cols))
	for j := range cols {
		if err := rejectInfAllowNaN("min_max_scaler", &cols[j]); err != nil {
			return nil, err
		}
		lo[j], hi[j] = nanMinMax(cols[j].Num)
	}
	return p.FitRange(names(cols), cols[0].Len(), lo, hi), nil
}

// FitRange builds the fitted MinMaxScaler of columns with rows rows whose
// smallest and largest non-NaN values are dataMin and dataMax (NaN for a
// column without values): the fit of those columns.
func (p *MinMaxScalerParams) FitRange(names []string, rows int, dataMin, dataMax []float64) *MinMaxScaler {
	m := len(names)
	s := &MinMaxScaler{
		FeatureRange: Floats{p.FeatureRange[0], p.FeatureRange[1]},
		Clip:         p.Clip,
		NSamplesSeen: rows,
		DataMin:      make(Floats, m),
		DataMax:      make(Floats, m),
		DataRange:    make(Floats, m),
		Scale:        make(Floats, m),
		Min:          make(Floats, m),
		Names:        names,
	}
	lo, hi := p.FeatureRange[0], p.FeatureRange[1]
	for j := range names {
		mn, mx := dataMin[j], dataMax[j]
		rng := mx - mn
		s.DataMin[j], s.DataMax[j], s.DataRange[j] = mn, mx, rng
		s.Scale[j] = (hi - lo) / zeroScaleToOne(rng)
		s.Min[j] = lo - float64(mn*s.Scale[j])
	}
	return s
}

// MinMaxScaler maps each column linearly onto feature_range [lo, hi]:
//
//	data_range_ = data_max_ - data_min_
//	scale_      = (hi - lo) / data_range_     (data_range_ < 10*eps -> 1)
//	min_        = lo - data_min_ * scale_
//	y           = x * scale_ + min_           (then clipped to [lo, hi] when clip)
//
// Matches scikit-learn 1.2 MinMaxScaler: NaN is ignored in fit and stays
// NaN in transform; ±Inf is refused in fit and transform (scikit-learn's
// input validation rejects it). A constant column has data_range_ 0 and
// scale_ hi - lo, so it maps to lo. A column with no value at all has NaN
// statistics and transforms to NaN. Values outside the training range
// map outside [lo, hi] unless clip is set.
type MinMaxScaler struct {
	FeatureRange Floats   `json:"feature_range"`
	Clip         bool     `json:"clip"`
	NSamplesSeen int      `json:"n_samples_seen_"`
	DataMin      Floats   `json:"data_min_"`
	DataMax      Floats   `json:"data_max_"`
	DataRange    Floats   `json:"data_range_"`
	Scale        Floats   `json:"scale_"`
	Min          Floats   `json:"min_"`
	Names        []string `json:"feature_names_in_"`
}

// Outputs implements Fitted.
func (s *MinMaxScaler) Outputs() []table.Field { return numericFields(s.Names) }

// Check implements Fitted.
func (s *MinMaxScaler) Check(nIn int) error {
	if len(s.FeatureRange) != 2 {
		return fmt.Errorf("feature_range has %d entries, want 2", len(s.FeatureRange))
	}
	for _, a := range []struct {
		name string
		n    int
	}{
		{"data_min_", len(s.DataMin)}, {"data_max_", len(s.DataMax)}, {"data_range_", len(s.DataRange)},
		{"scale_", len(s.Scale)}, {"min_", len(s.Min)}, {"feature_names_in_", len(s.Names)},
	} {
		if err := checkLen(a.name, a.n, nIn); err != nil {
			return err
		}
	}
	if !(s.FeatureRange[0] < s.FeatureRange[1]) || !isFinite(s.FeatureRange[0]) || !isFinite(s.FeatureRange[1]) {
		return &PathError{Path: "feature_range", Msg: fmt.Sprintf("must be two finite numbers, the first below the second, got %v", s.FeatureRange)}
	}
	if err := checkScalesOrNaN("scale_", s.Scale); err != nil {
		return err
	}
	for _, a := range []struct {
		name string
		xs   []float64
	}{{"data_min_", s.DataMin}, {"data_max_", s.DataMax}, {"min_", s.Min}} {
		if err := checkNotInf(a.name, a.xs); err != nil {
			return err
		}
	}
	if err := nanTogether("data_min_", s.DataMin, "data_max_", s.DataMax); err != nil {
		return err
	}
	for i, r := range s.DataRange {
		if r < 0 || math.IsInf(r, 0) {
			return badAt("data_range_", i, "must be a finite number >= 0, got %v", r)
		}
		if s.DataMin[i] > s.DataMax[i] {
			return badAt("data_min_", i, "%v is above data_max_[%d] %v", s.DataMin[i], i, s.DataMax[i])
		}
	}
	return checkNames("feature_names_in_", s.Names)
}

// Transform implements Fitted.
func (s *MinMaxScaler) Transform(in, out []table.Column, n int) error {
	lo, hi := s.FeatureRange[0], s.FeatureRange[1]
	for j := range in {
		if err := rejectInfAllowNaN("min_max_scaler", &in[j]); err != nil {
			return err
		}
		src := in[j].Num[:n]
		out[j].Resize(n)
		dst := out[j].Num[:n]
		scale, shift := s.Scale[j], s.Min[j]
		for i, x := range src {
			// The conversion keeps the product rounded on its own, as
			// numpy's X *= scale_; X += min_ does (no fused multiply-add).
			dst[i] = float64(x*scale) + shift
		}
		if s.Clip {
			for i, y := range dst {
				if y < lo {
					dst[i] = lo
				} else if y > hi {
					dst[i] = hi
				}
			}
		}
	}
	return nil
}

// nanMinMax returns the smallest and largest non-NaN values of xs, or NaN
// twice when there is none (numpy.nanmin / numpy.nanmax).
func nanMinMax(xs []float64) (lo, hi float64) {
	lo, hi = math.NaN(), math.NaN()
	for _, x := range xs {
		if math.IsNaN(x) {
			continue
		}
		if !(x >= lo) { // also true while lo is NaN
			lo = x
		}
		if !(x <= hi) {
			hi = x
		}
	}
	return lo, hi
}

// scaleEpsilon is scikit-learn's threshold for a zero scale:
// 10 * numpy.finfo(float64).eps.
const scaleEpsilon = 10 * 2.220446049250313e-16

// zeroScaleToOne returns 1 for a scale smaller than scaleEpsilon and the
// scale otherwise (scikit-learn 1.2's _handle_zeros_in_scale; NaN is kept).
func zeroScaleToOne(s float64) float64 {
	if s < scaleEpsilon {
		return 1
	}
	return s
}

func isFinite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// requireRows refuses to fit on zero rows, as scikit-learn's input
// validation does.
func requireRows(stepName string, cols []table.Column) error {
	if len(cols) == 0 || cols[0].Len() == 0 {
		col := ""
		if len(cols) > 0 {
			col = cols[0].Name
		}
		return &ValueError{Step: stepName, Column: col, Row: -1, Err: ErrBadValue,
			Hint: "fit needs at least one row of training data"}
	}
	return nil
}

// rejectInfAllowNaN returns a *ValueError for the first ±Inf in a numeric
// column; NaN passes. Steps that scikit-learn validates with
// force_all_finite="allow-nan" use it.
func rejectInfAllowNaN(stepName string, c *table.Column) error {
	if i := finite.FirstInf(c.Num); i >= 0 {
		return &ValueError{Step: stepName, Column: c.Name, Row: i, Value: formatValue(c.Num[i]), Err: ErrBadValue,
			Hint: "this step needs finite values: replace or clip infinite values before it"}
	}
	return nil
}

// rejectNaNOrInf returns a *ValueError for the first NaN or ±Inf in a
// numeric column. Steps that scikit-learn validates with
// force_all_finite=True use it.
func rejectNaNOrInf(stepName string, c *table.Column) error {
	if err := rejectNaN(stepName, c); err != nil {
		return err
	}
	return rejectInfAllowNaN(stepName, c)
}

func formatValue(x float64) string {
	switch {
	case math.IsInf(x, 1):
		return "Infinity"
	case math.IsInf(x, -1):
		return "-Infinity"
	}
	return fmt.Sprint(x)
}
