package step

import (
	"math"

	"github.com/normguard/normguard/internal/finite"
	"github.com/normguard/normguard/stats"
	"github.com/normguard/normguard/table"
)

func init() {
	register(&Def{
		Name:      "standard_scaler",
		Role:      RoleTransform,
		Accepts:   []table.Kind{table.Numeric},
		NewParams: func() Params { return &StandardScalerParams{WithMean: true, WithStd: true, Copy: true} },
		NewFitted: func() Fitted { return &StandardScaler{} },
	})
}

// StandardScalerParams configures scikit-learn's StandardScaler. Copy is
// accepted for compatibility and has no effect (normguard never modifies
// its input).
type StandardScalerParams struct {
	WithMean bool `json:"with_mean"`
	WithStd  bool `json:"with_std"`
	Copy     bool `json:"copy"`
}

// Validate implements Params; every combination of the flags is valid.
func (p *StandardScalerParams) Validate() error { return nil }

// Fit implements Params: it computes each column's mean and population
// variance as scikit-learn does, ignoring NaN (see StandardScaler).
func (p *StandardScalerParams) Fit(ctx *FitContext, cols []table.Column) (Fitted, error) {
	if err := requireRows("standard_scaler", cols); err != nil {
		return nil, err
	}
	m := len(cols)
	n := make([]int64, m)
	mean, v := make([]float64, m), make([]float64, m)
	if err := forEachColumn(ctx, len(cols), func(j int) error {
		mean[j], v[j], n[j] = meanVar(cols[j].Num)
		return nil
	}); err != nil {
		return nil, err
	}
	return p.fitted(names(cols), n, mean, v), nil
}

// FitSums returns the scaler Fit returns for the columns named names from
// their statistics computed elsewhere (a distributed fit accumulates them
// with stats.NanShiftedAcc): each column's non-NaN count n, mean_ (see
// StandardScalerMean) and np.nansum(x - mean) and np.nansum((x - mean)**2)
// in numpy's order (corr and sq).
func (p *StandardScalerParams) FitSums(names []string, n []int64, mean, corr, sq []float64) *StandardScaler {
	v := make([]float64, len(names))
	for j := range v {
		v[j] = StandardScalerVar(corr[j], sq[j], n[j])
	}
	return p.fitted(names, n, mean, v)
}

// fitted builds the scaler from each column's count, mean and variance.
func (p *StandardScalerParams) fitted(names []string, n []int64, mean, v []float64) *StandardScaler {
	m := len(names)
	s := &StandardScaler{
		WithMean:     p.WithMean,
		WithStd:      p.WithStd,
		NSamplesSeen: n,
		Names:        names,
	}
	if p.WithMean || p.WithStd {
		s.Mean = make(Floats, m)
		copy(s.Mean, mean)
	}
	if p.WithStd {
		s.Var, s.Scale = make(Floats, m), make(Floats, m)
		for j := range m {
			s.Var[j] = v[j]
			s.Scale[j] = standardScale(v[j], mean[j], n[j])
		}
	}
	return s
}

// StandardScalerMean returns mean_ from a column's np.nansum (stats.NanSum
// or stats.NanShiftedSums about 0) and its count n of non-NaN values:
//
//	mean = sum / n
func StandardScalerMean(sum float64, n int64) float64 { return sum / float64(n) }

// StandardScalerVar returns var_ from np.nansum(x - mean) (corr) and
// np.nansum((x - mean)**2) (sq) over n non-NaN values:
//
//	var = (sq - corr²/n) / n
func StandardScalerVar(corr, sq float64, n int64) float64 {
	fn := float64(n)
	return (sq - corr*corr/fn) / fn
}

// meanVar returns the mean and population variance of the non-NaN values
// of xs and their count, with the formulas and the float64 rounding of
// scikit-learn 1.2's _incremental_mean_and_var on a first fit:
//
//	mean = nansum(x) / n
//	d    = x - mean
//	var  = (nansum(d²) - nansum(d)²/n) / n
//
// the sums in numpy's blocked pairwise order (stats.NanShiftedSums), so
// that mean_ agrees with scikit-learn's to the last bit (an ulp of a large
// mean divided by a small scale would otherwise show). The result depends
// only on the column, never on chunking. With no values both are NaN.
func meanVar(xs []float64) (mean, v float64, n int64) {
	for _, x := range xs {
		if x == x {
			n++
		}
	}
	sum, _ := stats.NanShiftedSums(xs, 0)
	mean = StandardScalerMean(sum, n)
	corr, sq := stats.NanShiftedSums(xs, mean)
	return mean, StandardScalerVar(corr, sq, n), n
}

// standardScale returns sqrt(var), or 1 when scikit-learn 1.2's
// _is_constant_feature deems the column constant:
//
//	var <= n*eps*var + (n*mean*eps)^2
//
// (the error bound of the two-pass variance, Chan, Golub and LeVeque
// 1983). NaN variance (no values) gives NaN.
func standardScale(v, mean float64, n int64) float64 {
	const eps = 0x1p-52 // numpy.finfo(float64).eps
	fn := float64(n)
	bound := fn*eps*v + (fn*mean*eps)*(fn*mean*eps)
	if v <= bound {
		return 1
	}
	return math.Sqrt(v)
}

// StandardScaler centers and scales each column:
//
//	y = (x - mean_) / scale_
//
// without the subtraction when with_mean is false and without the division
// when with_std is false. mean_ and var_ (population variance, ddof = 0)
// are computed over the non-NaN training values with scikit-learn's
// formulas and numpy's summation order (see meanVar); scale_ =
// sqrt(var_), or 1 for a column scikit-learn's _is_constant_feature deems
// constant. NaN is ignored in fit and stays NaN in transform; a column with
// no values has NaN mean_, var_ and scale_ and transforms to NaN. Matches
// scikit-learn 1.2 StandardScaler fitted on a column-major array (a pandas
// DataFrame): mean_ bit for bit, var_ to within an ulp or so; the result
// never depends on chunk size or workers.
type StandardScaler struct {
	WithMean     bool     `json:"with_mean"`
	WithStd      bool     `json:"with_std"`
	Mean         Floats   `json:"mean_"`  // nil when with_mean and with_std are both false
	Var          Floats   `json:"var_"`   // nil when with_std is false
	Scale        Floats   `json:"scale_"` // nil when with_std is false
	NSamplesSeen []int64  `json:"n_samples_seen_"`
	Names        []string `json:"feature_names_in_"`
}

// Outputs implements Fitted.
func (s *StandardScaler) Outputs() []table.Field { return numericFields(s.Names) }

// Check implements Fitted.
func (s *StandardScaler) Check(nIn int) error {
	if err := checkLen("feature_names_in_", len(s.Names), nIn); err != nil {
		return err
	}
	if err := checkLen("n_samples_seen_", len(s.NSamplesSeen), nIn); err != nil {
		return err
	}
	if s.WithMean || s.WithStd {
		if err := checkLen("mean_", len(s.Mean), nIn); err != nil {
			return err
		}
	}
	if s.WithStd {
		if err := checkLen("var_", len(s.Var), nIn); err != nil {
			return err
		}
		if err := checkLen("scale_", len(s.Scale), nIn); err != nil {
			return err
		}
		if err := checkScalesOrNaN("scale_", s.Scale); err != nil {
			return err
		}
		for i, v := range s.Var {
			if v < 0 || math.IsInf(v, 0) {
				return badAt("var_", i, "must be a finite number >= 0, got %v", v)
			}
		}
	}
	if s.Mean != nil {
		if err := checkNotInf("mean_", s.Mean); err != nil {
			return err
		}
	}
	for i, n := range s.NSamplesSeen {
		if n < 0 {
			return badAt("n_samples_seen_", i, "must be >= 0, got %d", n)
		}
	}
	if err := s.checkNaNs(); err != nil {
		return err
	}
	if s.WithStd && s.Mean != nil {
		// scale_ is a function of var_, mean_ and n_samples_seen_: an
		// edited scale (0.5 ulp of a number, twice the deviation) would be
		// applied while every other field looks right.
		for j, v := range s.Var {
			if want := standardScale(v, s.Mean[j], s.NSamplesSeen[j]); math.Float64bits(want) != math.Float64bits(s.Scale[j]) && !(math.IsNaN(want) && math.IsNaN(s.Scale[j])) {
				return badAt("scale_", j, "%v is not sqrt(var_[%d]) = %v (1 for a constant column), as fit computes it from var_, mean_ and n_samples_seen_", s.Scale[j], j, want)
			}
		}
	}
	return checkNames("feature_names_in_", s.Names)
}

// Transform implements Fitted.
func (s *StandardScaler) Transform(in, out []table.Column, n int) error {
	for j := range in {
		src := in[j].Num[:n]
		out[j].Resize(n)
		dst := out[j].Num[:n]
		var mean, scale float64
		if s.WithMean {
			mean = s.Mean[j]
		}
		if s.WithStd {
			scale = s.Scale[j]
		}
		overflow := false
		switch {
		case s.WithMean && s.WithStd:
			overflow = subDiv(dst, src, mean, scale)
		case s.WithMean:
			for i, x := range src {
				dst[i] = x - mean
			}
			overflow = finite.AnyInf(dst)
		case s.WithStd:
			for i, x := range src {
				dst[i] = x / scale
			}
			overflow = finite.AnyInf(dst)
		default:
			copy(dst, src)
		}
		if overflow {
			return firstOverflow("standard_scaler", &in[j], dst)
		}
	}
	return nil
}

// ChecksOutput implements OutputChecker: Transform refuses an overflow.
func (s *StandardScaler) ChecksOutput() bool { return true }
