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
		x := present(cols[j].Num) // in row order: numpy's sums depend on it
		var lambda float64
		if boxCox {
			if len(x) == 0 || isConstant(x) {
				msg := "Data must not be constant."
				if len(x) == 0 {
					msg = "no values to fit (the column is all missing)"
				}
				return &ValueError{Step: "power_transformer", Column: cols[j].Name, Row: -1,
					Err: fmt.Errorf("%w: box-cox: %s", ErrBadValue, msg), Hint: "drop the column or use method yeo-johnson"}
			}
			lambda = boxCoxLambda(x)
		} else {
			lambda = yeoJohnsonLambda(x)
		}
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
// exp(λ·log1p(|x|)) from logarithms taken once (see twoStageMinimize).
func yeoJohnsonLambda(x []float64) float64 {
	logs := make([]float64, len(x))
	for i, v := range x {
		logs[i] = math.Copysign(math.Log1p(math.Abs(v)), v)
	}
	objective := func(logs, y []float64) func(float64) float64 {
		n := float64(len(logs))
		sumLogs := stats.PairwiseSum(logs)
		return func(lambda float64) float64 {
			yeoJohnsonFromLogs(y, logs, lambda)
			v := npVar(y)
			if v < 0x1p-1022 { // numpy.finfo(float64).tiny
				return math.Inf(1)
			}
			return -(-n/2*math.Log(v) + (lambda-1)*sumLogs)
		}
	}
	return twoStageMinimize(logs, objective, yeoJohnsonSlope)
}

// yeoJohnsonSlope returns the derivative of the Yeo-Johnson objective at
// λ, using y and dy as scratch:
//
//	g'(λ) = Σ (y_i - mean(y)) y'_i / var(y) - Σ sign(x)*log1p(|x|)
//
// with y'_i = (l·exp(λ·l) - y_i)/λ for x >= 0 (l²/2 at λ = 0) and
// (L·exp((2-λ)·L) + y_i)/(2-λ) with L = log1p(|x|) for x < 0 (L²/2 at
// λ = 2).
func yeoJohnsonSlope(logs, y, dy []float64, sumLogs, lambda float64) float64 {
	const eps = 0x1p-52
	posLinear := math.Abs(lambda) < eps
	negLinear := math.Abs(lambda-2) <= eps
	// Reciprocals instead of divisions: this is the optimizer's search
	// direction, not a fitted value, and it runs once per pass.
	a, b := lambda, 2-lambda
	ia, ib := 1/a, 1/b
	for i, l := range logs {
		switch {
		case l >= 0 && !posLinear:
			e := math.Exp(a * l)
			y[i] = (e - 1) * ia
			dy[i] = (l*e - y[i]) * ia
		case l < 0 && !negLinear:
			e := math.Exp(-b * l)
			y[i] = -(e - 1) * ib
			dy[i] = (-l*e + y[i]) * ib
		default:
			y[i], dy[i] = l, l*l/2
		}
	}
	return slopeFromSamples(y, dy, sumLogs)
}

// slopeFromSamples returns Σ (y_i - mean(y)) dy_i / var(y) - sumLogs, the
// derivative of n/2·log(var(y)) - (λ-1)·sumLogs when dy = dy/dλ.
func slopeFromSamples(y, dy []float64, sumLogs float64) float64 {
	n := float64(len(y))
	mean := stats.PairwiseSum(y) / n
	var cov, sq float64
	for i, v := range y {
		d := v - mean
		cov += d * dy[i]
		sq += d * d
	}
	return cov/(sq/n) - sumLogs
}

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
// with x^λ computed as exp(λ·log x) (see twoStageMinimize).
func boxCoxLambda(x []float64) float64 {
	logs := make([]float64, len(x))
	for i, v := range x {
		logs[i] = math.Log(v)
	}
	objective := func(logs, y []float64) func(float64) float64 {
		n := float64(len(logs))
		sumLogs := stats.PairwiseSum(logs)
		return func(lambda float64) float64 {
			if lambda == 0 {
				copy(y, logs)
			} else {
				for i, l := range logs {
					y[i] = math.Exp(lambda*l) / lambda
				}
			}
			return -((lambda-1)*sumLogs - n/2*math.Log(npVar(y)))
		}
	}
	return twoStageMinimize(logs, objective, boxCoxSlope)
}

// boxCoxSlope returns the derivative of the Box-Cox objective at λ != 0
// (y = exp(λ·l)/λ, y' = y·(l - 1/λ)), using y and dy as scratch.
func boxCoxSlope(logs, y, dy []float64, sumLogs, lambda float64) float64 {
	for i, l := range logs {
		y[i] = math.Exp(lambda*l) / lambda
		dy[i] = y[i] * (l - 1/lambda)
	}
	return slopeFromSamples(y, dy, sumLogs)
}

// twoStageThreshold is the sample size above which twoStageMinimize
// locates the optimum on a subsample first.
const twoStageThreshold = 200000

// twoStageMinimize minimizes the objective that objective(logs, y) builds
// over a sample's precomputed logarithms (y is scratch of the same length),
// as scipy.optimize.brent(brack=(-2, 2)) does. For large samples it first
// runs Brent's method from (-2, 2) on an evenly strided subsample of about
// 20,000 values, then finds where the whole sample's objective has zero
// slope by the secant method from that estimate (slope gives the exact
// derivative), to 1e-9 relative: the optimum Brent's method approaches to
// its tolerance of 1.48e-8, with a handful of passes over the data. When
// the secant steps do not settle near the estimate, Brent's method runs on
// the whole sample from a bracket around it.
func twoStageMinimize(logs []float64, objective func(logs, y []float64) func(float64) float64,
	slope func(logs, y, dy []float64, sumLogs, lambda float64) float64) float64 {
	y := make([]float64, len(logs))
	if len(logs) <= twoStageThreshold {
		return stats.BrentMinimize(objective(logs, y), -2, 2)
	}
	stride := len(logs) / 20000
	sub := make([]float64, 0, len(logs)/stride+1)
	for i := 0; i < len(logs); i += stride {
		sub = append(sub, logs[i])
	}
	guess := stats.BrentMinimize(objective(sub, y[:len(sub)]), -2, 2)
	if math.IsNaN(guess) || math.IsInf(guess, 0) {
		return stats.BrentMinimize(objective(logs, y), -2, 2)
	}
	if lambda, ok := secantRoot(logs, y, guess, slope); ok && math.Abs(lambda-guess) <= 0.5 {
		return lambda
	}
	return stats.BrentMinimize(objective(logs, y), guess-0.01, guess+0.01)
}

// secantRoot finds a zero of slope(λ) near start by the secant method, to
// 1e-9 relative (finer than Brent's tolerance of 1.48e-8; below that the
// slope is rounding noise). It reports false when the steps do not settle.
func secantRoot(logs, y []float64, start float64,
	slope func(logs, y, dy []float64, sumLogs, lambda float64) float64) (float64, bool) {
	const tol = 1e-9
	dy := make([]float64, len(logs))
	sumLogs := stats.PairwiseSum(logs)
	x0, x1 := start, start+1e-4
	if x0 == 0 || x1 == 0 || x0 == 2 || x1 == 2 {
		return 0, false // the closed forms switch there
	}
	f0 := slope(logs, y, dy, sumLogs, x0)
	for iter := 0; iter < 20; iter++ {
		if x1 == 0 || x1 == 2 {
			return 0, false
		}
		f1 := slope(logs, y, dy, sumLogs, x1)
		if math.IsNaN(f1) || math.IsInf(f1, 0) {
			return 0, false
		}
		if f1 == 0 || f1 == f0 {
			return x1, math.Abs(x1-x0) <= 1e-6*math.Max(1, math.Abs(x1))
		}
		step := f1 * (x1 - x0) / (f1 - f0)
		step = math.Max(-0.1, math.Min(0.1, step))
		x0, f0, x1 = x1, f1, x1-step
		if math.Abs(step) <= tol*math.Max(1, math.Abs(x1)) {
			return x1, true
		}
	}
	return 0, false
}

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
	if err := checkFinite("lambdas_", p.Lambdas); err != nil {
		return err
	}
	if err := checkNames("feature_names_in_", p.Names); err != nil {
		return err
	}
	if p.Standardize {
		if err := checkLen("mean_", len(p.Mean), nIn); err != nil {
			return err
		}
		if err := checkLen("scale_", len(p.Scale), nIn); err != nil {
			return err
		}
		if err := checkNotInf("mean_", p.Mean); err != nil {
			return err
		}
		if err := checkScalesOrNaN("scale_", p.Scale); err != nil {
			return err
		}
		return nanTogether("mean_", p.Mean, "scale_", p.Scale)
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
