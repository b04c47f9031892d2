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
