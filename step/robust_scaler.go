package step

import (
	"github.com/normguard/normguard/internal/finite"
	"github.com/normguard/normguard/stats"
	"github.com/normguard/normguard/table"
)

func init() {
	register(&Def{
		Name:    "robust_scaler",
		Role:    RoleTransform,
		Accepts: []table.Kind{table.Numeric},
		NewParams: func() Params {
			return &RobustScalerParams{WithCentering: true, WithScaling: true, QuantileRange: Floats{25, 75}, Copy: true}
		},
		NewFitted: func() Fitted { return &RobustScaler{} },
	})
}

// RobustScalerParams configures scikit-learn's RobustScaler. Copy is
// accepted for compatibility and has no effect.
type RobustScalerParams struct {
	WithCentering bool   `json:"with_centering"`
	WithScaling   bool   `json:"with_scaling"`
	QuantileRange Floats `json:"quantile_range"`
	UnitVariance  bool   `json:"unit_variance"`
	Copy          bool   `json:"copy"`
}

// Validate implements Params: quantile_range must be a pair [q_min, q_max]
// with 0 <= q_min <= q_max <= 100, as scikit-learn checks in fit.
func (p *RobustScalerParams) Validate() error {
	r := p.QuantileRange
	if len(r) != 2 {
		return &ParamError{Step: "robust_scaler", Param: "quantile_range", Value: []float64(r),
			Msg: "must be a pair [q_min, q_max] of percentiles, e.g. [25, 75]"}
	}
	if !(0 <= r[0] && r[0] <= r[1] && r[1] <= 100) {
		return &ParamError{Step: "robust_scaler", Param: "quantile_range", Value: []float64(r),
			Msg: "invalid quantile range: need 0 <= q_min <= q_max <= 100"}
	}
	return nil
}

// Fit implements Params: it computes each column's median and the spread
// between the two percentiles of quantile_range, ignoring NaN (see
// RobustScaler).
func (p *RobustScalerParams) Fit(ctx *FitContext, cols []table.Column) (Fitted, error) {
	if err := requireRows("robust_scaler", cols); err != nil {
		return nil, err
	}
	m := len(cols)
	center := make([]float64, m)
	lo, hi := make([]float64, m), make([]float64, m)
	ps := p.Percentiles()
	if err := forEachColumn(ctx, len(cols), func(j int) error {
		sorted, err := ctx.sorted(cols[j].Num)
		if err != nil {
			return err
		}
		defer sorted.Close()
		if p.WithScaling {
			sorted.Prepare(ps, p.WithCentering)
		}
		if p.WithCentering {
			if center[j], err = sorted.Median(); err != nil {
				return err
			}
		}
		if p.WithScaling {
			q, err := sorted.Percentiles(ps)
			if err != nil {
				return err
			}
			lo[j], hi[j] = q[0], q[1]
		}
		return nil
	}); err != nil {
		return nil, err
	}
	return p.FitQuantiles(names(cols), center, lo, hi), nil
}

// Percentiles returns the percentiles of each column the scaler reads
// (quantile_range), besides the median.
func (p *RobustScalerParams) Percentiles() []float64 {
	return []float64{p.QuantileRange[0], p.QuantileRange[1]}
}

// FitQuantiles builds the fitted RobustScaler from each column's median
// (read with_centering) and its percentiles at quantile_range (lo, hi;
// read with_scaling), numpy's nanmedian and nanpercentile: the fit of
// those columns.
func (p *RobustScalerParams) FitQuantiles(names []string, median, lo, hi []float64) *RobustScaler {
	m := len(names)
	s := &RobustScaler{Names: names}
	adjust := 1.0
	if p.UnitVariance {
		adjust = stats.NormPPF(p.QuantileRange[1]/100) - stats.NormPPF(p.QuantileRange[0]/100)
	}
	if p.WithCentering {
		s.Center = make(Floats, m)
		copy(s.Center, median)
	}
	if p.WithScaling {
		s.Scale = make(Floats, m)
		for j := range s.Scale {
			spread := hi[j] - lo[j]
			if spread < scaleEpsilon {
				spread = 1
			}
			if p.UnitVariance {
				spread /= adjust
			}
			s.Scale[j] = spread
		}
	}
	return s
}

// RobustScaler centers each column on its median and divides by its
// interquantile range:
//
//	center_ = nanmedian(x)
//	scale_  = nanpercentile(x, q_max) - nanpercentile(x, q_min)        (1 if below 10*eps)
//	scale_ /= NormPPF(q_max/100) - NormPPF(q_min/100)                  (unit_variance only)
//	y       = (x - center_) / scale_
//
// center_ is nil without centering and scale_ nil without scaling (the
// matching operation is then skipped). Percentiles use numpy's linear
// method; the median of an even count averages the middle pair. NaN is
// ignored in fit and stays NaN in transform; a column with no values has
// NaN center_ and scale_. A constant column has scale_ 1. Matches
// scikit-learn 1.2 RobustScaler.
type RobustScaler struct {
	Center Floats   `json:"center_"`
	Scale  Floats   `json:"scale_"`
	Names  []string `json:"feature_names_in_"`
}

// Outputs implements Fitted.
func (s *RobustScaler) Outputs() []table.Field { return numericFields(s.Names) }

// Check implements Fitted.
func (s *RobustScaler) Check(nIn int) error {
	if err := checkLen("feature_names_in_", len(s.Names), nIn); err != nil {
		return err
	}
	if s.Center != nil {
		if err := checkLen("center_", len(s.Center), nIn); err != nil {
			return err
		}
	}
	if s.Scale != nil {
		if err := checkLen("scale_", len(s.Scale), nIn); err != nil {
			return err
		}
		if err := checkScalesOrNaN("scale_", s.Scale); err != nil {
			return err
		}
	}
	if err := checkNotInf("center_", s.Center); err != nil {
		return err
	}
	if s.Center != nil && s.Scale != nil {
		if err := nanTogether("center_", s.Center, "scale_", s.Scale); err != nil {
			return err
		}
	}
	return checkNames("feature_names_in_", s.Names)
}

// Transform implements Fitted.
func (s *RobustScaler) Transform(in, out []table.Column, n int) error {
	for j := range in {
		src := in[j].Num[:n]
		out[j].Resize(n)
		dst := out[j].Num[:n]
		center, scale := 0.0, 1.0
		if s.Center != nil {
			center = s.Center[j]
		}
		if s.Scale != nil {
			scale = s.Scale[j]
		}
		overflow := false
		switch {
		case s.Center != nil && s.Scale != nil:
			overflow = subDiv(dst, src, center, scale) // the same bits as (x - center) / scale
		case s.Center != nil:
			for i, x := range src {
				dst[i] = x - center
			}
			overflow = finite.AnyInf(dst)
		case s.Scale != nil:
			for i, x := range src {
				dst[i] = x / scale
			}
			overflow = finite.AnyInf(dst)
		default:
			copy(dst, src)
		}
		if overflow {
			return firstOverflow("robust_scaler", &in[j], dst)
		}
	}
	return nil
}

// ChecksOutput implements OutputChecker: Transform refuses an overflow.
func (s *RobustScaler) ChecksOutput() bool { return true }
