package step

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/normguard/normguard/stats"
)

// TestTwoStageMinimizeFindsTheSameOptimum compares the two-stage search on
// large samples with Brent's method from (-2, 2) on the whole sample, as
// scikit-learn runs it: the optimum must agree to Brent's tolerance.
func TestTwoStageMinimizeFindsTheSameOptimum(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	gens := map[string]func() float64{
		"lognormal": func() float64 { return math.Exp(rng.NormFloat64()) },
		"normal":    func() float64 { return rng.NormFloat64()*3 + 1 },
		"exp":       func() float64 { return rng.ExpFloat64() + 0.01 },
	}
	for name, gen := range gens {
		x := make([]float64, 3*twoStageThreshold/2)
		for i := range x {
			x[i] = gen()
		}
		logs := make([]float64, len(x))
		for i, v := range x {
			logs[i] = math.Copysign(math.Log1p(math.Abs(v)), v)
		}
		got := yeoJohnsonLambda(x)
		y := make([]float64, len(x))
		want := stats.BrentMinimize(func(lambda float64) float64 {
			yeoJohnsonFromLogs(y, logs, lambda)
			return float64(len(x))/2*math.Log(npVar(y)) - (lambda-1)*stats.PairwiseSum(logs)
		}, -2, 2)
		if math.Abs(got-want) > 1e-7*math.Max(1, math.Abs(want)) {
			t.Errorf("%s yeo-johnson: two-stage λ %v, whole-sample Brent %v", name, got, want)
		}
		if x[0] > 0 && name != "normal" {
			got := boxCoxLambda(x)
			lg := make([]float64, len(x))
			for i, v := range x {
				lg[i] = math.Log(v)
			}
			want := stats.BrentMinimize(func(lambda float64) float64 {
				for i, l := range lg {
					y[i] = math.Exp(lambda*l) / lambda
				}
				return -((lambda-1)*stats.PairwiseSum(lg) - float64(len(x))/2*math.Log(npVar(y)))
			}, -2, 2)
			if math.Abs(got-want) > 1e-7*math.Max(1, math.Abs(want)) {
				t.Errorf("%s box-cox: two-stage λ %v, whole-sample Brent %v", name, got, want)
			}
		}
	}
}

// TestSlopesMatchFiniteDifferences checks the analytic derivatives the
// secant refinement uses against central differences of the objectives.
func TestSlopesMatchFiniteDifferences(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	x := make([]float64, 5000)
	for i := range x {
		x[i] = math.Exp(rng.NormFloat64()) - 0.8 // both signs for yeo-johnson
	}
	yj := make([]float64, len(x))
	for i, v := range x {
		yj[i] = math.Copysign(math.Log1p(math.Abs(v)), v)
	}
	pos := make([]float64, len(x))
	for i, v := range x {
		pos[i] = math.Log(v + 1)
	}
	y, dy := make([]float64, len(x)), make([]float64, len(x))
	obj := func(logs []float64, power func(l, lambda float64) float64) func(float64) float64 {
		return func(lambda float64) float64 {
			for i, l := range logs {
				y[i] = power(l, lambda)
			}
			return float64(len(logs))/2*math.Log(npVar(y)) - (lambda-1)*stats.PairwiseSum(logs)
		}
	}
	yjPower := func(l, lambda float64) float64 {
		tmp := []float64{0}
		yeoJohnsonFromLogs(tmp, []float64{l}, lambda)
		return tmp[0]
	}
	bcPower := func(l, lambda float64) float64 { return math.Exp(lambda*l) / lambda }
	for _, lambda := range []float64{-1.3, -0.2, 0.4, 1, 1.7, 2.6} {
		const h = 1e-5
		f := obj(yj, yjPower)
		want := (f(lambda+h) - f(lambda-h)) / (2 * h)
		got := yeoJohnsonSlope(yj, y, dy, stats.PairwiseSum(yj), lambda)
		if math.Abs(got-want) > 1e-4*math.Max(1, math.Abs(want)) {
			t.Errorf("yeo-johnson slope at %v: got %v, finite difference %v", lambda, got, want)
		}
		f = obj(pos, bcPower)
		want = (f(lambda+h) - f(lambda-h)) / (2 * h)
		got = boxCoxSlope(pos, y, dy, stats.PairwiseSum(pos), lambda)
		if math.Abs(got-want) > 1e-4*math.Max(1, math.Abs(want)) {
			t.Errorf("box-cox slope at %v: got %v, finite difference %v", lambda, got, want)
		}
	}
}
