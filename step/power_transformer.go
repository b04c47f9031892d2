package step

import (
	"errors"
	"fmt"
	"math"

	"github.com/normguard/normguard/stats"
	"github.com/normguard/normguard/table"
)

func init() {
	register(&Def{
		Name:      "power_transformer",
		Role:      RoleTransform,
		Accepts:   []table.Kind{table.Numeric},
		NewParams: func() Params { return &PowerTransformerParams{Method: "yeo-johnson", Standardize: true, Copy: true} },
		NewFitted: func() Fitted { return &PowerTransformer{} },
	})
}

// errBoxCoxDomain is scikit-learn's message for non-positive box-cox input.
var errBoxCoxDomain = fmt.Errorf("%w: The Box-Cox transformation can only be applied to strictly positive data", ErrBadValue)

// PowerTransformerParams configures scikit-learn's PowerTransformer. Copy
// is accepted and has no effect.
type PowerTransformerParams struct {
	Method      string `json:"method"`
	Standardize bool   `json:"standardize"`
	Copy        bool   `json:"copy"`
}

// Validate implements Params: method is "yeo-johnson" or "box-cox".
func (p *PowerTransformerParams) Validate() error {
	if p.Method != "yeo-johnson" && p.Method != "box-cox" {
		return &ParamError{Step: "power_transformer", Param: "method", Value: p.Method,
			Msg: `must be "yeo-johnson" or "box-cox"`}
	}
	return nil
}

// Fit implements Params: it finds each column's lambda by maximum
// likelihood and, with standardize, the mean and scale of the transformed
// training data (see PowerTransformer).
func (p *PowerTransformerParams) Fit(ctx *FitContext, cols []table.Column) (Fitted, error) {
	if err := requireRows("power_transformer", cols); err != nil {
		return nil, err
	}
	boxCox := p.Method == "box-cox"
	if boxCox {
		if err := checkPositive(cols, cols[0].Len(), false); err != nil {
			return nil, err
		}
	}
	m := len(cols)
	pt := &PowerTransformer{Method: p.Method, Standardize: p.Standardize, Lambdas: make(Floats, m), Names: names(cols)}
	if p.Standardize {
		pt.Mean, pt.Scale = make(Floats, m), make(Floats, m)
	}
	if err := forEachColumn(ctx, len(cols), func(j int) error {
		var y []float64
		x := present(cols[j].Num)
		if boxCox {
			if len(x) == 0 || isConstant(x) {
				msg := "Data must not be constant."
				if len(x) == 0 {
					msg = "no values to fit (the column is all missing)"
				}
				return &ValueError{Step: "power_transformer", Column: cols[j].Name, Row: -1,
					Err: fmt.Errorf("%w: box-cox: %s", ErrBadValue, msg), Hint: "drop the column or use method yeo-johnson"}
			}
		}
		lambda := powerLambda(boxCox, cols[j].Num) // the search a distributed fit runs too
		pt.Lambdas[j] = lambda
		if p.Standardize {
			// The transform of every row (NaN where missing, so numpy's
			// summation order matches scikit-learn's), as Transform
			// computes it.
			y = make([]float64, len(cols[j].Num))
			pt.powerInto(y, cols[j].Num, lambda)
			mean, v, n := meanVar(y)
			pt.Mean[j], pt.Scale[j] = mean, standardScale(v, mean, n)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	return pt, nil
}

// present returns the non-NaN values of xs in order.
func present(xs []float64) []float64 {
	out := make([]float64, 0, len(xs))
	for _, x := range xs {
		if x == x {
			out = append(out, x)
		}
	}
	return out
}

// isConstant reports whether every value of x equals the first.
func isConstant(x []float64) bool {
	for _, v := range x {
		if v != x[0] {
			return false
		}
	}
	return true
}

// checkPositive returns scikit-learn's box-cox error for the first value
// <= 0 among the first n rows (NaN passes); the error carries the row in
// transform and -1 in fit.
func checkPositive(cols []table.Column, n int, inTransform bool) error {
	for j := range cols {
		for i, x := range cols[j].Num[:n] {
			if x <= 0 {
				r := -1
				if inTransform {
					r = i
				}
				return &ValueError{Step: "power_transformer", Column: cols[j].Name, Row: r, Value: formatValue(x),
					Err: errBoxCoxDomain, Hint: "use method yeo-johnson, or shift the column to positive values"}
			}
		}
	}
	return nil
}

// yeoJohnsonLambda maximizes scikit-learn 1.2's Yeo-Johnson log-likelihood
// over the non-NaN values x with stats.BrentMinimize from the bracket
// (-2, 2):
//
//	-llf(λ) = n/2 * log(var(yj(x, λ))) - (λ-1) * Σ sign(x)*log1p(|x|)
//
// (+Inf when the variance is below the smallest normal float64). An empty
// x gives a NaN objective, which Brent's method follows to the same point
// scipy reaches (about 8.4721). The powers are computed as
// exp(λ·log1p(|x|)) from logarithms taken once (see powerLambda).
func yeoJohnsonLambda(x []float64) float64 { return powerLambda(false, x) }

// yeoJohnsonFromLogs writes yj(x, λ) for every x to y, given
// logs[i] = sign(x)*log1p(|x|):
//
//	(exp(λ·l) - 1) / λ              x >= 0, λ != 0   ((x+1)^λ = exp(λ·log1p(x)))
//	l                               x >= 0, λ == 0
//	-(exp((2-λ)·|l|) - 1) / (2-λ)   x < 0,  λ != 2
//	l                               x < 0,  λ == 2
func yeoJohnsonFromLogs(y, logs []float64, lambda float64) {
	const eps = 0x1p-52 // numpy.spacing(1.0)
	posLinear := math.Abs(lambda) < eps
	negLinear := math.Abs(lambda-2) <= eps
	a, b := lambda, 2-lambda
	for i, l := range logs {
		switch {
		case l >= 0 && !posLinear:
			y[i] = (math.Exp(a*l) - 1) / a
		case l < 0 && !negLinear:
			y[i] = -(math.Exp(-b*l) - 1) / b
		default:
			y[i] = l
		}
	}
}

// boxCoxLambda maximizes scipy 1.10's Box-Cox log-likelihood
// (scipy.stats.boxcox_llf, method "mle" of boxcox_normmax) over the
// positive values x with stats.BrentMinimize from the bracket (-2, 2):
//
//	llf(λ) = (λ-1) * Σ log(x) - n/2 * log(var(x^λ / λ))     (var(log x) at λ = 0)
//
// with x^λ computed as exp(λ·log x) (see powerLambda).
func boxCoxLambda(x []float64) float64 { return powerLambda(true, x) }

// twoStageThreshold is the sample size above which powerLambda
// locates the optimum on a subsample first.
const twoStageThreshold = 200000

// npVar is numpy.var(y) for a 1-D array: the mean and the mean of squared
// deviations, both with numpy's pairwise sums. NaN for an empty y.
func npVar(y []float64) float64 {
	n := float64(len(y))
	mean := stats.PairwiseSum(y) / n
	_, sq := stats.NanShiftedSums(y, mean)
	return sq / n
}

// yeoJohnson is scikit-learn 1.2's Yeo-Johnson transform of one value:
//
//	((x+1)^λ - 1) / λ              x >= 0, λ != 0
//	log1p(x)                       x >= 0, λ == 0
//	-((1-x)^(2-λ) - 1) / (2-λ)     x < 0,  λ != 2
//	-log1p(-x)                     x < 0,  λ == 2
//
// where "λ == 0" means |λ| < 2^-52, as scikit-learn tests it. NaN gives NaN.
// The powers are computed as exp(λ·log1p(x)) (and exp((2-λ)·log1p(-x))),
// exactly as yeoJohnsonFromLogs does, which agrees with pow to a few ulps
// and is several times faster.
func yeoJohnson(x, lambda float64) float64 {
	y := [1]float64{math.Copysign(math.Log1p(math.Abs(x)), x)}
	yeoJohnsonFromLogs(y[:], y[:], lambda)
	return y[0]
}

// powerInto writes the fitted method's transform of every x to y.
func (p *PowerTransformer) powerInto(y, x []float64, lambda float64) {
	if p.Method == "box-cox" {
		for i, v := range x {
			y[i] = boxCox(v, lambda)
		}
		return
	}
	for i, v := range x {
		y[i] = math.Copysign(math.Log1p(math.Abs(v)), v)
	}
	yeoJohnsonFromLogs(y, y, lambda)
}

// boxCox is scipy.special.boxcox of one value:
//
//	expm1(λ*log(x)) / λ      (log(x) when |λ| < 1e-19)
//
// NaN for x < 0 or NaN, -Inf at x = 0 for λ <= 0.
func boxCox(x, lambda float64) float64 {
	if math.Abs(lambda) < 1e-19 {
		return math.Log(x)
	}
	return math.Expm1(lambda*math.Log(x)) / lambda
}

// PowerTransformer applies a per-column power transform, then (with
// standardize) scales the result to zero mean and unit variance:
//
//	t = yeoJohnson(x, lambdas_[j])    or    boxCox(x, lambdas_[j])
//	y = (t - mean_[j]) / scale_[j]    (standardize) else y = t
//
// lambdas_[j] maximizes the log-likelihood of the column's non-NaN training
// values (Brent's method from the bracket (-2, 2), tolerance 1.48e-8, as
// scipy.optimize.brent). mean_ and scale_ are those of the internal
// StandardScaler scikit-learn fits on the transformed training data
// (scale_ 1 for a constant result). NaN is ignored in fit and stays NaN in
// transform. Box-Cox refuses any value <= 0, in fit and in transform, with
// scikit-learn's message, and a constant or all-NaN column in fit (scipy
// raises). Matches scikit-learn 1.2 PowerTransformer to about 1e-7
// relative: lambda comes from an iterative optimizer and libm's pow/log1p
// may differ from Go's in the last bit.
type PowerTransformer struct {
	Method      string   `json:"method"`
	Standardize bool     `json:"standardize"`
	Lambdas     Floats   `json:"lambdas_"`
	Mean        Floats   `json:"mean_"`  // of the internal scaler; nil without standardize
	Scale       Floats   `json:"scale_"` // of the internal scaler; nil without standardize
	Names       []string `json:"feature_names_in_"`
}

// power applies the fitted method to one value.
func (p *PowerTransformer) power(x, lambda float64) float64 {
	if p.Method == "box-cox" {
		return boxCox(x, lambda)
	}
	return yeoJohnson(x, lambda)
}

// Outputs implements Fitted.
func (p *PowerTransformer) Outputs() []table.Field { return numericFields(p.Names) }

// Check implements Fitted.
func (p *PowerTransformer) Check(nIn int) error {
	if p.Method != "yeo-johnson" && p.Method != "box-cox" {
		return fmt.Errorf("method %q is not yeo-johnson or box-cox", p.Method)
	}
	if err := checkLen("feature_names_in_", len(p.Names), nIn); err != nil {
		return err
	}
	if err := checkLen("lambdas_", len(p.Lambdas), nIn); err != nil {
		return err
	}
	if p.Standardize {
		if err := checkLen("mean_", len(p.Mean), nIn); err != nil {
			return err
		}
		return checkLen("scale_", len(p.Scale), nIn)
	}
	if p.Mean != nil || p.Scale != nil {
		return errors.New("mean_ and scale_ must be null without standardize")
	}
	return nil
}

// Transform implements Fitted.
func (p *PowerTransformer) Transform(in, out []table.Column, n int) error {
	if p.Method == "box-cox" {
		if err := checkPositive(in, n, true); err != nil {
			return err
		}
	}
	for j := range in {
		lambda := p.Lambdas[j]
		src := in[j].Num[:n]
		out[j].Resize(n)
		dst := out[j].Num[:n]
		p.powerInto(dst, src, lambda)
		if p.Standardize {
			mean, scale := p.Mean[j], p.Scale[j]
			for i, t := range dst {
				dst[i] = (t - mean) / scale
			}
		}
	}
	return nil
}
