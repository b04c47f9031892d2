package step

import (
	"fmt"
	"math"
	"slices"

	"github.com/normguard/normguard/stats"
)

// The lambda search of power_transformer, in mergeable pieces, so a fit
// that never holds a whole column (normguard-beam) takes the same steps as
// the local fit:
//
//  1. PowerSample: one pass over the column (row ranges added and merged in
//     any order): the present values while there are at most
//     twoStageThreshold of them, else the present values at every
//     PowerStride-th row (about 20,000), and the exact sum of the logs.
//  2. NewPowerSearch: Brent's method on the values (small columns: the
//     answer), or on the strided sample (a guess).
//  3. Large columns: at most PowerSlopePasses passes, each a PowerSlopeAcc
//     (exact, order-free sums) at the search's At; Next takes the slope
//     and moves the secant iteration on.
//  4. Rarely (the secant steps do not settle near the guess): Brent's
//     method on the whole column (NeedsColumn, Fallback).

// PowerSampleRows is about how many rows the sample of a large column
// takes (see PowerStride).
const PowerSampleRows = 20000

// PowerSlopePasses is the most slope passes a PowerSearch asks for: one at
// the guess, then at most 20 secant steps.
const PowerSlopePasses = 21

// PowerStride returns the row stride of the sample of a column of rows
// rows: the present values at rows 0, stride, 2·stride, ...
func PowerStride(rows int64) int64 { return max(1, rows/PowerSampleRows) }

// powerLog returns the logarithm the method's power is computed from:
// log(x) for box-cox, sign(x)·log1p(|x|) for yeo-johnson.
func powerLog(boxCox bool, x float64) float64 {
	if boxCox {
		return math.Log(x)
	}
	return math.Copysign(math.Log1p(math.Abs(x)), x)
}

// PowerSample is the mergeable first pass of a power_transformer column
// (see the steps above). The zero value merges with any sample.
type PowerSample struct {
	BoxCox   bool
	Rows     int64     // rows of the whole column
	Count    int64     // present (non-NaN) values
	Overflow bool      // Count > twoStageThreshold: Pos and Vals dropped
	Pos      []int64   // rows of Vals
	Vals     []float64 // present values (any order)
	SubPos   []int64   // rows of SubVals
	SubVals  []float64 // present values at rows that are multiples of PowerStride(Rows)
	SumLogs  stats.Sum // exact Σ powerLog(x) over the present values
	Min, Max float64   // of the present values (when Count > 0)
	BadPos   int64     // first row with x <= 0 (box-cox), or -1
	BadVal   float64
}

// NewPowerSample returns an empty sample of a column of rows rows.
func NewPowerSample(boxCox bool, rows int64) PowerSample {
	return PowerSample{BoxCox: boxCox, Rows: rows, BadPos: -1}
}

// Add adds rows [start, start+len(xs)) of the column.
func (s *PowerSample) Add(start int64, xs []float64) {
	stride := PowerStride(s.Rows)
	for i, x := range xs {
		if x != x {
			continue
		}
		row := start + int64(i)
		if s.BoxCox && x <= 0 && (s.BadPos < 0 || row < s.BadPos) {
			s.BadPos, s.BadVal = row, x
		}
		if s.Count == 0 {
			s.Min, s.Max = x, x
		} else {
			s.Min, s.Max = min(s.Min, x), max(s.Max, x)
		}
		s.Count++
		if !s.Overflow {
			s.Pos = append(s.Pos, row)
			s.Vals = append(s.Vals, x)
		}
		if row%stride == 0 {
			s.SubPos = append(s.SubPos, row)
			s.SubVals = append(s.SubVals, x)
		}
		s.SumLogs.Add(powerLog(s.BoxCox, x))
	}
	s.checkOverflow()
}

// checkOverflow drops the values once there are more than the
// small-column Brent search takes.
func (s *PowerSample) checkOverflow() {
	if s.Count > twoStageThreshold {
		s.Overflow, s.Pos, s.Vals = true, nil, nil
	}
}

// Merge adds the rows sampled in o (disjoint from s's) to s.
func (s *PowerSample) Merge(o *PowerSample) {
	if o.Rows == 0 && o.Count == 0 {
		return // the zero value
	}
	if s.Rows == 0 && s.Count == 0 {
		s.BoxCox, s.Rows, s.BadPos = o.BoxCox, o.Rows, -1 // the zero value takes o's column
	}
	if o.BadPos >= 0 && (s.BadPos < 0 || o.BadPos < s.BadPos) {
		s.BadPos, s.BadVal = o.BadPos, o.BadVal
	}
	if o.Count > 0 {
		if s.Count == 0 {
			s.Min, s.Max = o.Min, o.Max
		} else {
			s.Min, s.Max = min(s.Min, o.Min), max(s.Max, o.Max)
		}
	}
	s.Count += o.Count
	s.Overflow = s.Overflow || o.Overflow
	if !s.Overflow {
		s.Pos = append(s.Pos, o.Pos...)
		s.Vals = append(s.Vals, o.Vals...)
	}
	s.SubPos = append(s.SubPos, o.SubPos...)
	s.SubVals = append(s.SubVals, o.SubVals...)
	s.SumLogs.Merge(&o.SumLogs)
	s.checkOverflow()
}

// logsInRowOrder returns powerLog of vals sorted by pos.
func logsInRowOrder(boxCox bool, pos []int64, vals []float64) []float64 {
	idx := make([]int, len(pos))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int {
		switch {
		case pos[a] < pos[b]:
			return -1
		case pos[a] > pos[b]:
			return 1
		}
		return 0
	})
	logs := make([]float64, len(idx))
	for k, i := range idx {
		logs[k] = powerLog(boxCox, vals[i])
	}
	return logs
}

// powerObjective returns the negated log-likelihood of the method over
// logs (see yeoJohnsonLambda and boxCoxLambda), with y as scratch.
func powerObjective(boxCox bool, logs, y []float64) func(float64) float64 {
	n := float64(len(logs))
	sumLogs := stats.PairwiseSum(logs)
	if boxCox {
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
	return func(lambda float64) float64 {
		yeoJohnsonFromLogs(y, logs, lambda)
		v := npVar(y)
		if v < 0x1p-1022 { // numpy.finfo(float64).tiny
			return math.Inf(1)
		}
		return -(-n/2*math.Log(v) + (lambda-1)*sumLogs)
	}
}

// brentOver runs Brent's method on the objective over logs from (a, b).
func brentOver(boxCox bool, logs []float64, a, b float64) float64 {
	return stats.BrentMinimize(powerObjective(boxCox, logs, make([]float64, len(logs))), a, b)
}

// PowerPhase is what a PowerSearch waits for.
type PowerPhase int

// The phases of a PowerSearch.
const (
	PowerDone   PowerPhase = iota // Lambda is the answer
	PowerSlope                    // a slope pass at At
	PowerColumn                   // the whole column (Fallback)
)

// PowerSearch is the state of one column's lambda search after its
// PowerSample: a state machine driven by slope passes (Next) and, rarely,
// one pass holding the whole column (Fallback). Its fields are exported so
// that it can travel between the stages of a pipeline; treat them as
// opaque.
type PowerSearch struct {
	BoxCox  bool
	Phase   PowerPhase
	Lambda  float64 // the answer (PowerDone), or where to evaluate the slope
	Guess   float64 // Brent's optimum on the sample
	X0, F0  float64 // the secant's previous point and slope
	Iter    int     // slopes evaluated after the one at the guess; -1 before it
	Lo, Hi  float64 // Fallback's bracket
	N       int64   // present values
	SumLogs float64 // Σ powerLog(x), exact
	Center  float64 // powerLog of the sample's median: the slope sums' shift
}

// NewPowerSearch starts the search from a complete sample.
func NewPowerSearch(s *PowerSample) *PowerSearch {
	ps := &PowerSearch{BoxCox: s.BoxCox, N: s.Count, SumLogs: s.SumLogs.Float64()}
	if !s.Overflow {
		ps.Lambda = brentOver(s.BoxCox, logsInRowOrder(s.BoxCox, s.Pos, s.Vals), -2, 2)
		return ps
	}
	sub := logsInRowOrder(s.BoxCox, s.SubPos, s.SubVals)
	guess := brentOver(s.BoxCox, sub, -2, 2)
	if len(sub) > 0 {
		sorted := slices.Clone(sub)
		slices.Sort(sorted)
		// +0 for -0: the search travels between a pipeline's stages,
		// whose encodings may not keep the sign of a zero.
		ps.Center = sorted[len(sorted)/2] + 0
	}
	ps.Guess = guess
	if math.IsNaN(guess) || math.IsInf(guess, 0) {
		ps.Phase, ps.Lo, ps.Hi = PowerColumn, -2, 2
		return ps
	}
	ps.X0, ps.Lambda, ps.Iter = guess, guess+1e-4, -1
	if ps.X0 == 0 || ps.Lambda == 0 || ps.X0 == 2 || ps.Lambda == 2 {
		ps.fail() // the closed forms switch there
		return ps
	}
	ps.Phase = PowerSlope
	ps.Lambda = ps.X0 // the first slope is the guess's
	return ps
}

// At returns where the next slope pass evaluates the slope.
func (s *PowerSearch) At() float64 { return s.Lambda }

// fail gives up the secant iteration: Brent's method on the whole column
// from a bracket around the guess.
func (s *PowerSearch) fail() {
	s.Phase, s.Lo, s.Hi = PowerColumn, s.Guess-0.01, s.Guess+0.01
}

// finish ends the secant iteration at lambda, accepted when it settled
// (ok) near the guess.
func (s *PowerSearch) finish(lambda float64, ok bool) {
	if ok && math.Abs(lambda-s.Guess) <= 0.5 {
		s.Phase, s.Lambda = PowerDone, lambda
		return
	}
	s.fail()
}

// Next moves the secant iteration on from the slope at At (a
// PowerSlopeAcc's Slope): it finds a zero of the slope to 1e-9 relative
// (finer than Brent's tolerance of 1.48e-8; below that the slope is
// rounding noise). Next does nothing unless the phase is PowerSlope.
func (s *PowerSearch) Next(slope float64) {
	const tol = 1e-9
	if s.Phase != PowerSlope {
		return
	}
	if s.Iter < 0 { // the slope at the guess
		s.F0, s.Iter, s.Lambda = slope, 0, s.Guess+1e-4
		return
	}
	x1, f1 := s.Lambda, slope
	if math.IsNaN(f1) || math.IsInf(f1, 0) {
		s.fail()
		return
	}
	if f1 == 0 || f1 == s.F0 {
		s.finish(x1, math.Abs(x1-s.X0) <= 1e-6*math.Max(1, math.Abs(x1)))
		return
	}
	step := f1 * (x1 - s.X0) / (f1 - s.F0)
	step = math.Max(-0.1, math.Min(0.1, step))
	s.X0, s.F0, x1 = x1, f1, x1-step
	if math.Abs(step) <= tol*math.Max(1, math.Abs(x1)) {
		s.finish(x1, true)
		return
	}
	s.Iter++
	if s.Iter == PowerSlopePasses-1 || x1 == 0 || x1 == 2 {
		s.fail()
		return
	}
	s.Lambda = x1
}

// Fallback finishes a search in phase PowerColumn from the column's
// present values in row order.
func (s *PowerSearch) Fallback(present []float64) {
	if s.Phase != PowerColumn {
		return
	}
	logs := make([]float64, len(present))
	for i, x := range present {
		logs[i] = powerLog(s.BoxCox, x)
	}
	s.Phase, s.Lambda = PowerDone, brentOver(s.BoxCox, logs, s.Lo, s.Hi)
}

// NewSlopeAcc returns the accumulator of the slope pass at At.
func (s *PowerSearch) NewSlopeAcc() PowerSlopeAcc {
	a := PowerSlopeAcc{BoxCox: s.BoxCox, Lambda: s.Lambda}
	a.Shift, _ = a.power(s.Center)
	return a
}

// Slope returns the derivative of the objective at the accumulator's
// lambda from the complete pass a:
//
//	g'(λ) = Σ (y_i - mean(y)) y'_i / var(y) - Σ log_i
//
// with every sum taken about Shift (the power of the sample's median) and
// exact: Σd·y' - mean(d)·Σy' over (Σd² - mean(d)·Σd)/n, d = y - Shift.
func (s *PowerSearch) Slope(a *PowerSlopeAcc) float64 {
	n := float64(s.N)
	sd := a.D.Float64()
	md := sd / n
	sq := a.D2.Float64() - md*sd
	cov := a.DDy.Float64() - md*a.Dy.Float64()
	return cov/(sq/n) - s.SumLogs
}

// PowerSlopeAcc accumulates the exact sums of one slope evaluation over a
// column's present values, added and merged in any order.
type PowerSlopeAcc struct {
	BoxCox        bool
	Lambda, Shift float64
	D, D2, DDy    stats.Sum // Σd, Σd², Σd·y' with d = y - Shift
	Dy            stats.Sum // Σy'
}

// power returns the method's power y of the logarithm l at Lambda and its
// derivative y' with respect to lambda.
func (a *PowerSlopeAcc) power(l float64) (y, dy float64) {
	const eps = 0x1p-52
	lambda := a.Lambda
	if a.BoxCox {
		y = math.Exp(lambda*l) / lambda
		return y, y * (l - 1/lambda)
	}
	// Reciprocals instead of divisions: this is the optimizer's search
	// direction, not a fitted value.
	switch b := 2 - lambda; {
	case l >= 0 && !(math.Abs(lambda) < eps):
		e := math.Exp(lambda * l)
		y = (e - 1) * (1 / lambda)
		return y, (l*e - y) * (1 / lambda)
	case l < 0 && !(math.Abs(lambda-2) <= eps):
		e := math.Exp(-b * l)
		y = -(e - 1) * (1 / b)
		return y, (-l*e + y) * (1 / b)
	}
	return l, l * l / 2
}

// Add adds column values (NaN skipped).
func (a *PowerSlopeAcc) Add(xs []float64) {
	for _, x := range xs {
		if x != x {
			continue
		}
		y, dy := a.power(powerLog(a.BoxCox, x))
		d := y - a.Shift
		a.D.Add(d)
		a.D2.Add(d * d)
		a.DDy.Add(d * dy)
		a.Dy.Add(dy)
	}
}

// Merge adds the values accumulated in o (same pass) to a.
func (a *PowerSlopeAcc) Merge(o *PowerSlopeAcc) {
	a.D.Merge(&o.D)
	a.D2.Merge(&o.D2)
	a.DDy.Merge(&o.DDy)
	a.Dy.Merge(&o.Dy)
}

// powerLambda finds the lambda of one column (NaN where missing) by the
// steps above, as a pipeline that never holds the column does.
func powerLambda(boxCox bool, col []float64) float64 {
	s := NewPowerSample(boxCox, int64(len(col)))
	s.Add(0, col)
	search := NewPowerSearch(&s)
	for search.Phase == PowerSlope {
		acc := search.NewSlopeAcc()
		acc.Add(col)
		search.Next(search.Slope(&acc))
	}
	search.Fallback(present(col))
	return search.Lambda
}

// CheckSample returns the error Fit returns for a column named name whose
// PowerSample is s, or nil: box-cox refuses a value <= 0 (checked for
// every column before the others), a constant and an all-missing column.
func (p *PowerTransformerParams) CheckSample(name string, s *PowerSample, positivity bool) error {
	if p.Method != "box-cox" {
		return nil
	}
	if positivity {
		if s.BadPos >= 0 {
			return &ValueError{Step: "power_transformer", Column: name, Row: -1, Value: formatValue(s.BadVal),
				Err: errBoxCoxDomain, Hint: "use method yeo-johnson, or shift the column to positive values"}
		}
		return nil
	}
	if s.Count == 0 || s.Min == s.Max {
		msg := "Data must not be constant."
		if s.Count == 0 {
			msg = "no values to fit (the column is all missing)"
		}
		return &ValueError{Step: "power_transformer", Column: name, Row: -1,
			Err: fmt.Errorf("%w: box-cox: %s", ErrBadValue, msg), Hint: "drop the column or use method yeo-johnson"}
	}
	return nil
}

// PowerInto writes the method's transform at lambda of every x to y (NaN
// where x is NaN), as the fitted step computes it: the values whose
// mean and variance FitSums takes.
func (p *PowerTransformerParams) PowerInto(y, x []float64, lambda float64) {
	(&PowerTransformer{Method: p.Method}).powerInto(y, x, lambda)
}

// FitSums returns the transformer Fit returns for the columns named names
// from statistics computed elsewhere (a distributed fit accumulates them
// with PowerSample, PowerSearch and stats.NanShiftedAcc): each column's
// lambda and, over its transform by PowerInto, the non-NaN count n, the
// mean (see StandardScalerMean) and np.nansum(y - mean) and
// np.nansum((y - mean)**2) in numpy's order (corr and sq). n, mean, corr
// and sq are ignored without standardize.
func (p *PowerTransformerParams) FitSums(names []string, lambdas []float64, n []int64, mean, corr, sq []float64) *PowerTransformer {
	m := len(names)
	pt := &PowerTransformer{Method: p.Method, Standardize: p.Standardize, Lambdas: make(Floats, m), Names: names}
	copy(pt.Lambdas, lambdas)
	if p.Standardize {
		pt.Mean, pt.Scale = make(Floats, m), make(Floats, m)
		for j := range m {
			v := StandardScalerVar(corr[j], sq[j], n[j])
			pt.Mean[j], pt.Scale[j] = mean[j], standardScale(v, mean[j], n[j])
		}
	}
	return pt
}
