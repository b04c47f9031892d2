package step

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/normguard/normguard/stats"
	"github.com/normguard/normguard/table"
)

// The search before it was split into mergeable pieces (PowerSample,
// PowerSearch, PowerSlopeAcc): the reference the pieces are checked
// against. Its slope sums are sequential, so large columns agree to the
// secant's tolerance, small ones bit for bit.

func oldYeoJohnsonLambda(x []float64) float64 {
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
	return oldTwoStageMinimize(logs, objective, yeoJohnsonSlope)
}

func oldBoxCoxLambda(x []float64) float64 {
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
	return oldTwoStageMinimize(logs, objective, boxCoxSlope)
}

// twoStageMinimize minimizes the objective that objective(logs, y) builds
// over a sample's precomputed logarithms (y is scratch of the same length),
// as scipy.optimize.brent(brack=(-2, 2)) does. For large samples it first
// runs Brent's method from (-2, 2) on an evenly strided subsample of about
// 20,000 values, then finds where the whole sample's objective has zero
// slope by the secant method from that estimate (slope gives the exact
// derivative), to 1e-10 relative: the optimum Brent's method approaches to
// its tolerance of 1.48e-8, with a handful of passes over the data. When
// the secant steps do not settle near the estimate, Brent's method runs on
// the whole sample from a bracket around it.
func oldTwoStageMinimize(logs []float64, objective func(logs, y []float64) func(float64) float64,
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
	if lambda, ok := oldSecantRoot(logs, y, guess, slope); ok && math.Abs(lambda-guess) <= 0.5 {
		return lambda
	}
	return stats.BrentMinimize(objective(logs, y), guess-0.01, guess+0.01)
}

// secantRoot finds a zero of slope(λ) near start by the secant method, to
// 1e-9 relative (finer than Brent's tolerance of 1.48e-8; below that the
// slope is rounding noise). It reports false when the steps do not settle.
func oldSecantRoot(logs, y []float64, start float64,
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

// The old search's slopes (sequential sums over the column).

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

// boxCoxSlope returns the derivative of the Box-Cox objective at λ != 0
// (y = exp(λ·l)/λ, y' = y·(l - 1/λ)), using y and dy as scratch.
func boxCoxSlope(logs, y, dy []float64, sumLogs, lambda float64) float64 {
	for i, l := range logs {
		y[i] = math.Exp(lambda*l) / lambda
		dy[i] = y[i] * (l - 1/lambda)
	}
	return slopeFromSamples(y, dy, sumLogs)
}

// powerColumn returns n values from gen with every nanEvery-th row NaN
// (none when nanEvery is 0).
func powerColumn(rng *rand.Rand, n, nanEvery int, gen func(*rand.Rand) float64) []float64 {
	col := make([]float64, n)
	for i := range col {
		col[i] = gen(rng)
		if nanEvery > 0 && rng.IntN(nanEvery) == 0 {
			col[i] = math.NaN()
		}
	}
	return col
}

var powerGens = map[string]func(*rand.Rand) float64{
	"lognormal": func(r *rand.Rand) float64 { return math.Exp(r.NormFloat64()) },
	"exp":       func(r *rand.Rand) float64 { return r.ExpFloat64() + 0.01 },
	"normal":    func(r *rand.Rand) float64 { return r.NormFloat64()*3 + 1 },
	"constant":  func(*rand.Rand) float64 { return 2.5 },
}

// TestPowerLambdaSmallEqualsOld checks that columns of at most
// twoStageThreshold values (NaN, constant and empty ones included) get
// the old search's lambda bit for bit: Brent's method on the present
// values in row order.
func TestPowerLambdaSmallEqualsOld(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for name, gen := range powerGens {
		for _, n := range []int{0, 1, 2, 17, 1000, twoStageThreshold + 500} {
			col := powerColumn(rng, n, 20, gen)
			x := present(col)
			if len(x) > twoStageThreshold {
				continue
			}
			if got, want := powerLambda(false, col), oldYeoJohnsonLambda(x); math.Float64bits(got) != math.Float64bits(want) {
				t.Errorf("%s n=%d yeo-johnson: got %v, want %v", name, n, got, want)
			}
			if name == "normal" || len(x) == 0 || isConstant(x) {
				continue // box-cox refuses these in Fit
			}
			if got, want := powerLambda(true, col), oldBoxCoxLambda(x); math.Float64bits(got) != math.Float64bits(want) {
				t.Errorf("%s n=%d box-cox: got %v, want %v", name, n, got, want)
			}
		}
	}
}

// TestPowerLambdaLargeMatchesOld checks large columns (the two-stage
// path) against the old search: the same optimum to the secant's
// tolerance (the slope sums are exact now, sequential before, and the
// sample is taken by row instead of by present value).
func TestPowerLambdaLargeMatchesOld(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, name := range []string{"lognormal", "exp", "normal"} {
		col := powerColumn(rng, twoStageThreshold+30000, 0, powerGens[name])
		x := present(col)
		check := func(method string, got, want float64) {
			t.Helper()
			if math.Abs(got-want) > 1e-8*math.Max(1, math.Abs(want)) {
				t.Errorf("%s %s: got %v, want %v", name, method, got, want)
			}
		}
		check("yeo-johnson", powerLambda(false, col), oldYeoJohnsonLambda(x))
		if name != "normal" {
			check("box-cox", powerLambda(true, col), oldBoxCoxLambda(x))
		}
	}
}

// splitAt returns the cut points of n rows into random pieces.
func splitAt(rng *rand.Rand, n, pieces int) []int {
	cuts := []int{0}
	for range pieces - 1 {
		cuts = append(cuts, rng.IntN(n+1))
	}
	cuts = append(cuts, n)
	for i := 1; i < len(cuts); i++ { // insertion sort
		for j := i; j > 0 && cuts[j] < cuts[j-1]; j-- {
			cuts[j], cuts[j-1] = cuts[j-1], cuts[j]
		}
	}
	return cuts
}

// TestPowerSearchMergedEqualsLocal drives the search from row ranges
// accumulated separately and merged in random order, as a distributed
// fit does, and checks that the lambda equals powerLambda's bit for bit,
// and the number of slope passes stays within PowerSlopePasses.
func TestPowerSearchMergedEqualsLocal(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	cases := []struct {
		name     string
		n, nanEv int
		boxCox   bool
	}{
		{"lognormal", 5000, 7, false},
		{"lognormal", twoStageThreshold + 20000, 0, true},
		{"normal", twoStageThreshold + 45000, 9, false},
		{"exp", twoStageThreshold + 1, 3, true}, // fewer present values than the threshold
		{"constant", twoStageThreshold + 100, 0, false},
	}
	for _, c := range cases {
		col := powerColumn(rng, c.n, c.nanEv, powerGens[c.name])
		want := powerLambda(c.boxCox, col)
		cuts := splitAt(rng, c.n, 17)
		order := rng.Perm(len(cuts) - 1)
		var s PowerSample
		for _, k := range order {
			part := NewPowerSample(c.boxCox, int64(c.n))
			part.Add(int64(cuts[k]), col[cuts[k]:cuts[k+1]])
			s.Merge(&part)
		}
		search := NewPowerSearch(&s)
		passes := 0
		for search.Phase == PowerSlope {
			passes++
			acc := search.NewSlopeAcc()
			for _, k := range order {
				part := search.NewSlopeAcc()
				part.Add(col[cuts[k]:cuts[k+1]])
				acc.Merge(&part)
			}
			search.Next(search.Slope(&acc))
		}
		search.Fallback(present(col))
		if got := search.Lambda; math.Float64bits(got) != math.Float64bits(want) {
			t.Errorf("%s n=%d box-cox=%v: got %v, want %v", c.name, c.n, c.boxCox, got, want)
		}
		if twoStage := s.Count > twoStageThreshold && c.name != "constant"; twoStage && passes == 0 {
			t.Errorf("%s n=%d: no slope pass, want the secant refinement", c.name, c.n)
		}
		if passes > PowerSlopePasses {
			t.Errorf("%s n=%d: got %d slope passes, want at most %d", c.name, c.n, passes, PowerSlopePasses)
		}
	}
}

// TestPowerSlopeAccMatchesSlope checks the exact shifted sums against the
// old sequential slope on the same values.
func TestPowerSlopeAccMatchesSlope(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	x := make([]float64, 5000)
	for i := range x {
		x[i] = math.Exp(rng.NormFloat64()) - 0.8
	}
	pos := make([]float64, len(x))
	for i, v := range x {
		pos[i] = v + 1
	}
	for _, lambda := range []float64{-1.3, -0.2, 0.4, 1, 1.7, 2.6} {
		for _, boxCox := range []bool{false, true} {
			vals := x
			if boxCox {
				vals = pos
			}
			logs := make([]float64, len(vals))
			for i, v := range vals {
				logs[i] = powerLog(boxCox, v)
			}
			y, dy := make([]float64, len(x)), make([]float64, len(x))
			var want float64
			if boxCox {
				want = boxCoxSlope(logs, y, dy, stats.PairwiseSum(logs), lambda)
			} else {
				want = yeoJohnsonSlope(logs, y, dy, stats.PairwiseSum(logs), lambda)
			}
			s := NewPowerSample(boxCox, int64(len(vals)))
			s.Add(0, vals)
			search := PowerSearch{BoxCox: boxCox, Lambda: lambda, N: s.Count, SumLogs: s.SumLogs.Float64(), Center: logs[17]}
			acc := search.NewSlopeAcc()
			acc.Add(vals)
			if got := search.Slope(&acc); math.Abs(got-want) > 1e-9*math.Max(1, math.Abs(want)) {
				t.Errorf("box-cox=%v slope at %v: got %v, want %v", boxCox, lambda, got, want)
			}
		}
	}
}

// TestPowerSearchStates checks the state machine's edges: a NaN slope and
// a guess where the closed forms switch send it to the whole column from
// a bracket around the guess; other phases ignore Next and Fallback.
func TestPowerSearchStates(t *testing.T) {
	s := PowerSearch{Phase: PowerSlope, Guess: 0.7, Lambda: 0.7, X0: 0.7, Iter: -1}
	s.Next(1.5)
	if s.Phase != PowerSlope || s.Lambda != 0.7+1e-4 || s.F0 != 1.5 {
		t.Fatalf("after the guess's slope: got phase %v at %v (f0 %v), want %v at %v (f0 1.5)", s.Phase, s.Lambda, s.F0, PowerSlope, 0.7+1e-4)
	}
	s.Next(math.NaN())
	if s.Phase != PowerColumn || s.Lo != 0.7-0.01 || s.Hi != 0.7+0.01 {
		t.Errorf("after a NaN slope: got phase %v bracket (%v, %v), want %v (%v, %v)", s.Phase, s.Lo, s.Hi, PowerColumn, 0.7-0.01, 0.7+0.01)
	}
	done := PowerSearch{Phase: PowerDone, Lambda: 1.25}
	done.Next(3)
	done.Fallback([]float64{1, 2, 3})
	if done.Lambda != 1.25 {
		t.Errorf("a finished search moved: got %v, want 1.25", done.Lambda)
	}
}

// TestPowerFitSumsEqualsFit checks that the transformer built from the
// mergeable pieces (PowerSample, PowerSearch, the transform's
// stats.NanShiftedAcc sums about 0 and about the mean, FitSums) equals
// Fit's, for both methods, with and without standardize, and that
// CheckSample refuses what Fit refuses.
func TestPowerFitSumsEqualsFit(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	col := powerColumn(rng, 3000, 10, powerGens["exp"])
	for _, method := range []string{"yeo-johnson", "box-cox"} {
		for _, standardize := range []bool{true, false} {
			p := &PowerTransformerParams{Method: method, Standardize: standardize}
			want, err := p.Fit(&FitContext{Workers: 1}, []table.Column{{Name: "x", Kind: table.Numeric, Num: col}})
			if err != nil {
				t.Fatal(err)
			}
			s := NewPowerSample(method == "box-cox", int64(len(col)))
			s.Add(0, col)
			for _, positivity := range []bool{true, false} {
				if err := p.CheckSample("x", &s, positivity); err != nil {
					t.Fatalf("%s: CheckSample: got %v, want nil", method, err)
				}
			}
			search := NewPowerSearch(&s)
			y := make([]float64, len(col))
			p.PowerInto(y, col, search.Lambda)
			first := stats.NewNanShiftedAcc(int64(len(y)), 0)
			if err := first.Add(0, y); err != nil {
				t.Fatal(err)
			}
			sum, _, _ := first.Sums()
			mean := StandardScalerMean(sum, first.Count)
			second := stats.NewNanShiftedAcc(int64(len(y)), mean)
			if err := second.Add(0, y); err != nil {
				t.Fatal(err)
			}
			corr, sq, _ := second.Sums()
			got := p.FitSums([]string{"x"}, []float64{search.Lambda}, []int64{second.Count}, []float64{mean}, []float64{corr}, []float64{sq})
			gb, _ := json.Marshal(got)
			wb, _ := json.Marshal(want)
			if string(gb) != string(wb) {
				t.Errorf("%s standardize=%v: got %s, want %s", method, standardize, gb, wb)
			}
		}
	}
	bad := []float64{2, math.NaN(), -1, 0}
	s := NewPowerSample(true, int64(len(bad)))
	s.Add(0, bad)
	p := &PowerTransformerParams{Method: "box-cox"}
	_, want := p.Fit(&FitContext{Workers: 1}, []table.Column{{Name: "x", Kind: table.Numeric, Num: bad}})
	if got := p.CheckSample("x", &s, true); got == nil || want == nil || got.Error() != want.Error() {
		t.Errorf("box-cox on %v: got error %v, want %v", bad, got, want)
	}
	flat := []float64{3, 3, math.NaN(), 3}
	s = NewPowerSample(true, int64(len(flat)))
	s.Add(0, flat)
	_, want = p.Fit(&FitContext{Workers: 1}, []table.Column{{Name: "x", Kind: table.Numeric, Num: flat}})
	if got := p.CheckSample("x", &s, false); got == nil || want == nil || got.Error() != want.Error() {
		t.Errorf("box-cox on %v: got error %v, want %v", flat, got, want)
	}
}
