package step

import (
	"math"

	"github.com/normguard/normguard/table"
)

func init() {
	register(&Def{
		Name:      "max_abs_scaler",
		Role:      RoleTransform,
		Accepts:   []table.Kind{table.Numeric},
		NewParams: func() Params { return &MaxAbsScalerParams{Copy: true} },
		NewFitted: func() Fitted { return &MaxAbsScaler{} },
	})
}

// MaxAbsScalerParams configures scikit-learn's MaxAbsScaler. Copy is
// accepted for compatibility and has no effect.
type MaxAbsScalerParams struct {
	Copy bool `json:"copy"`
}

// Validate implements Params.
func (p *MaxAbsScalerParams) Validate() error { return nil }

// Fit implements Params: it records each column's largest absolute value,
// ignoring NaN.
func (p *MaxAbsScalerParams) Fit(_ *FitContext, cols []table.Column) (Fitted, error) {
	if err := requireRows("max_abs_scaler", cols); err != nil {
		return nil, err
	}
	maxAbs := make([]float64, len(cols))
	for j := range cols {
		if err := rejectInfAllowNaN("max_abs_scaler", &cols[j]); err != nil {
			return nil, err
		}
		ma := math.NaN()
		for _, x := range cols[j].Num {
			if a := math.Abs(x); a > ma || (math.IsNaN(ma) && !math.IsNaN(a)) {
				ma = a
			}
		}
		maxAbs[j] = ma
	}
	return p.FitMaxAbs(names(cols), cols[0].Len(), maxAbs), nil
}

// FitMaxAbs builds the fitted MaxAbsScaler of columns with rows rows whose
// largest absolute non-NaN values are maxAbs (NaN for a column without
// values): the fit of those columns.
func (p *MaxAbsScalerParams) FitMaxAbs(names []string, rows int, maxAbs []float64) *MaxAbsScaler {
	s := &MaxAbsScaler{
		NSamplesSeen: rows,
		MaxAbs:       make(Floats, len(names)),
		Scale:        make(Floats, len(names)),
		Names:        names,
	}
	for j, ma := range maxAbs {
		s.MaxAbs[j] = ma
		s.Scale[j] = zeroScaleToOne(ma)
	}
	return s
}

// MaxAbsScaler divides each column by its largest absolute training value:
//
//	max_abs_ = max |x|   (NaN ignored)
//	scale_   = max_abs_  (max_abs_ < 10*eps -> 1)
//	y        = x / scale_
//
// Matches scikit-learn 1.2 MaxAbsScaler: NaN is ignored in fit and stays
// NaN in transform; ±Inf is refused. An all-zero column has scale_ 1 and
// stays 0; a column with no value at all has NaN max_abs_ and scale_ and
// transforms to NaN. Values beyond the training range give |y| > 1.
type MaxAbsScaler struct {
	NSamplesSeen int      `json:"n_samples_seen_"`
	MaxAbs       Floats   `json:"max_abs_"`
	Scale        Floats   `json:"scale_"`
	Names        []string `json:"feature_names_in_"`
}

// Outputs implements Fitted.
func (s *MaxAbsScaler) Outputs() []table.Field { return numericFields(s.Names) }

// Check implements Fitted.
func (s *MaxAbsScaler) Check(nIn int) error {
	if err := checkLen("max_abs_", len(s.MaxAbs), nIn); err != nil {
		return err
	}
	if err := checkLen("scale_", len(s.Scale), nIn); err != nil {
		return err
	}
	if err := checkLen("feature_names_in_", len(s.Names), nIn); err != nil {
		return err
	}
	for i, m := range s.MaxAbs {
		if m < 0 || math.IsInf(m, 0) {
			return badAt("max_abs_", i, "must be a finite number >= 0, got %v", m)
		}
	}
	if err := checkScalesOrNaN("scale_", s.Scale); err != nil {
		return err
	}
	for j, m := range s.MaxAbs {
		// scale_ is max_abs_ (1 where it is below 10*eps).
		if want := zeroScaleToOne(m); math.Float64bits(want) != math.Float64bits(s.Scale[j]) && !(math.IsNaN(want) && math.IsNaN(s.Scale[j])) {
			return badAt("scale_", j, "%v is not max_abs_[%d] = %v (1 below 10*eps), as fit computes it", s.Scale[j], j, want)
		}
	}
	return checkNames("feature_names_in_", s.Names)
}

// Transform implements Fitted.
func (s *MaxAbsScaler) Transform(in, out []table.Column, n int) error {
	for j := range in {
		if err := rejectInfAllowNaN("max_abs_scaler", &in[j]); err != nil {
			return err
		}
		src := in[j].Num[:n]
		out[j].Resize(n)
		dst := out[j].Num[:n]
		scale := s.Scale[j]
		for i, x := range src {
			dst[i] = x / scale
		}
	}
	return nil
}
