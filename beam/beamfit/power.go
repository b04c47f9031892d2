package beamfit

import (
	"encoding/json"
	"fmt"
	"reflect"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/normguard/normguard/stats"
	"github.com/normguard/normguard/step"
)

func init() {
	beam.RegisterCoder(reflect.TypeFor[PowerSamples](), encodePowerSamples, decodePowerSamples)
	beam.RegisterCoder(reflect.TypeFor[PowerSearches](), encodePowerSearches, decodePowerSearches)
	beam.RegisterCoder(reflect.TypeFor[PowerSlopes](), encodePowerSlopes, decodePowerSlopes)
	for _, t := range []reflect.Type{
		reflect.TypeFor[powerSampleFn](), reflect.TypeFor[mergePowerSamplesFn](), reflect.TypeFor[startPowerFn](),
		reflect.TypeFor[powerSlopeFn](), reflect.TypeFor[mergePowerSlopesFn](), reflect.TypeFor[nextPowerFn](),
		reflect.TypeFor[powerColumnFn](), reflect.TypeFor[gatherPowerFn](), reflect.TypeFor[fallbackPowerFn](),
		reflect.TypeFor[powerSumsFn](), reflect.TypeFor[finishPowerFn](),
	} {
		beam.RegisterType(t)
	}
}

// power_transformer is fitted in the passes of the core's lambda search
// (see step.PowerSearch), each a Combine of mergeable accumulators per
// group:
//
//  1. step.PowerSample per column (bounded: at most twoStageThreshold
//     values, else a strided sample of about 20,000), then the search's
//     start (Brent's method on the sample) in a ParDo;
//  2. step.PowerSlopePasses slope passes (step.PowerSlopeAcc, exact sums),
//     each followed by the search's Next; a pass after the search has
//     finished emits nothing and passes the state through;
//  3. the search's fallback (Brent's method on the whole column) when the
//     secant steps did not settle: a Combine that gathers the group only
//     then (the local fit holds the column then too);
//  4. the standardize sums of the transformed column (stats.NanShiftedAcc
//     about 0, then about the mean), then step.PowerTransformerParams.FitSums.

// PowerSamples are a group's step.PowerSample, one per column.
type PowerSamples struct {
	Group int
	Names []string
	Cols  []step.PowerSample
}

// PowerSearches are a group's lambda searches, one per column.
type PowerSearches struct {
	Group int
	Names []string
	Cols  []step.PowerSearch
}

// PowerSlopes are a group's slope passes, one per column (zero for a
// column whose search waits for no slope).
type PowerSlopes struct {
	Group int
	Cols  []step.PowerSlopeAcc
}

// powerParams returns step K of group g as a power_transformer.
func powerParams(l *loaded, g, k int) (*step.PowerTransformerParams, error) {
	st := l.spec.Columns[g].Steps[k]
	p, ok := st.Params.(*step.PowerTransformerParams)
	if !ok {
		return nil, fmt.Errorf("beamfit: columns[%d].steps[%d] is not a power_transformer", g, k)
	}
	return p, nil
}

// powerSampleFn samples one chunk of a group's columns.
type powerSampleFn struct {
	P Plan
	K int
	l *loaded
}

func (f *powerSampleFn) Setup() (err error) {
	f.l, err = f.P.load()
	return err
}

func (f *powerSampleFn) ProcessElement(g int, c Chunk, emit func(int, PowerSamples)) error {
	p, err := powerParams(f.l, g, f.K)
	if err != nil {
		return err
	}
	out := PowerSamples{Group: g, Names: make([]string, len(c.Cols)), Cols: make([]step.PowerSample, len(c.Cols))}
	for j := range c.Cols {
		out.Names[j] = c.Cols[j].Name
		out.Cols[j] = step.NewPowerSample(p.Method == "box-cox", c.Total)
		out.Cols[j].Add(c.Start, c.Cols[j].Num[:c.Rows])
	}
	emit(g, out)
	return nil
}

// mergePowerSamplesFn merges PowerSamples in any order.
type mergePowerSamplesFn struct{}

func (mergePowerSamplesFn) MergeAccumulators(a, b PowerSamples) PowerSamples {
	if len(a.Cols) == 0 {
		a.Group, a.Names, a.Cols = b.Group, b.Names, make([]step.PowerSample, len(b.Cols))
	}
	for j := range b.Cols {
		a.Cols[j].Merge(&b.Cols[j])
	}
	return a
}

// startPowerFn checks a group's samples as the step's Fit checks its
// columns and starts the searches.
type startPowerFn struct {
	P Plan
	K int
	l *loaded
}

func (f *startPowerFn) Setup() (err error) {
	f.l, err = f.P.load()
	return err
}

func (f *startPowerFn) ProcessElement(s PowerSamples) (PowerSearches, error) {
	p, err := powerParams(f.l, s.Group, f.K)
	if err != nil {
		return PowerSearches{}, err
	}
	for _, positivity := range []bool{true, false} {
		for j := range s.Cols {
			if err := p.CheckSample(s.Names[j], &s.Cols[j], positivity); err != nil {
				return PowerSearches{}, fmt.Errorf("fit %s: columns[%d].steps[%d].power_transformer: %w", f.P.Source, s.Group, f.K, err)
			}
		}
	}
	out := PowerSearches{Group: s.Group, Names: s.Names, Cols: make([]step.PowerSearch, len(s.Cols))}
	for j := range s.Cols {
		out.Cols[j] = *step.NewPowerSearch(&s.Cols[j])
	}
	return out, nil
}

// searchOf returns group g's searches from the side input.
func searchOf(g int, states func(*PowerSearches) bool) (PowerSearches, bool) {
	var s PowerSearches
	for states(&s) {
		if s.Group == g {
			return s, true
		}
	}
	return PowerSearches{}, false
}

// powerSlopeFn accumulates one chunk of a group's columns at the lambdas
// its searches wait for; nothing when none waits for a slope.
type powerSlopeFn struct{}

func (powerSlopeFn) ProcessElement(g int, c Chunk, states func(*PowerSearches) bool, emit func(int, PowerSlopes)) {
	s, ok := searchOf(g, states)
	if !ok {
		return
	}
	out := PowerSlopes{Group: g, Cols: make([]step.PowerSlopeAcc, len(s.Cols))}
	waiting := false
	for j := range s.Cols {
		if s.Cols[j].Phase != step.PowerSlope {
			continue
		}
		waiting = true
		out.Cols[j] = s.Cols[j].NewSlopeAcc()
		out.Cols[j].Add(c.Cols[j].Num[:c.Rows])
	}
	if waiting {
		emit(g, out)
	}
}

// mergePowerSlopesFn merges PowerSlopes in any order.
type mergePowerSlopesFn struct{}

func (mergePowerSlopesFn) MergeAccumulators(a, b PowerSlopes) PowerSlopes {
	if len(a.Cols) == 0 {
		a.Group, a.Cols = b.Group, make([]step.PowerSlopeAcc, len(b.Cols))
		copy(a.Cols, b.Cols)
		for j := range a.Cols {
			a.Cols[j].D, a.Cols[j].D2, a.Cols[j].DDy, a.Cols[j].Dy = stats.Sum{}, stats.Sum{}, stats.Sum{}, stats.Sum{}
		}
	}
	for j := range b.Cols {
		a.Cols[j].Merge(&b.Cols[j])
	}
	return a
}

// nextPowerFn moves a group's searches on by the merged slope pass (a
// search that waits for no slope ignores it).
type nextPowerFn struct{}

func (nextPowerFn) ProcessElement(s PowerSearches, slopes func(*PowerSlopes) bool) PowerSearches {
	var sl PowerSlopes
	for slopes(&sl) {
		if sl.Group != s.Group {
			continue
		}
		for j := range s.Cols {
			if s.Cols[j].Phase == step.PowerSlope {
				s.Cols[j].Next(s.Cols[j].Slope(&sl.Cols[j]))
			}
		}
	}
	return s
}

// powerColumnFn passes a chunk of a group on to the fallback's gather
// only when one of the group's searches needs the whole column.
type powerColumnFn struct{}

func (powerColumnFn) ProcessElement(g int, c Chunk, states func(*PowerSearches) bool, emit func(int, Chunk)) {
	s, ok := searchOf(g, states)
	if !ok {
		return
	}
	for j := range s.Cols {
		if s.Cols[j].Phase == step.PowerColumn {
			emit(g, c)
			return
		}
	}
}

// gatherPowerFn gathers the chunks powerColumnFn passes on.
type gatherPowerFn struct{}

func (gatherPowerFn) MergeAccumulators(a, b Gather) Gather {
	a.Parts = append(a.Parts, b.Parts...)
	return a
}

func (gatherPowerFn) AddInput(a Gather, c Chunk) Gather {
	a.Parts = append(a.Parts, c)
	return a
}

// fallbackPowerFn finishes the searches that need the whole column.
type fallbackPowerFn struct{}

func (fallbackPowerFn) ProcessElement(s PowerSearches, gathered func(*Gather) bool) (PowerSearches, error) {
	var gs Gather
	for gathered(&gs) {
		if len(gs.Parts) == 0 || gs.Parts[0].Shard != s.Group {
			continue
		}
		cols, _, err := concat(gs.Parts)
		if err != nil {
			return PowerSearches{}, err
		}
		for j := range s.Cols {
			if s.Cols[j].Phase == step.PowerColumn {
				s.Cols[j].Fallback(presentValues(cols[j].Num))
			}
		}
	}
	for j := range s.Cols {
		if s.Cols[j].Phase != step.PowerDone {
			return PowerSearches{}, fmt.Errorf("beamfit: columns[%d] %s: the power_transformer lambda search did not finish", s.Group, s.Names[j])
		}
	}
	return s, nil
}

// presentValues returns the non-NaN values of xs in order.
func presentValues(xs []float64) []float64 {
	out := make([]float64, 0, len(xs))
	for _, x := range xs {
		if x == x {
			out = append(out, x)
		}
	}
	return out
}

// powerSumsFn accumulates the transform of one chunk of a group's columns
// at the fitted lambdas about the shifts: 0 in the first pass, the means
// from the side input in the second.
type powerSumsFn struct {
	P      Plan
	K      int
	Second bool
	l      *loaded
}

func (f *powerSumsFn) Setup() (err error) {
	f.l, err = f.P.load()
	return err
}

func (f *powerSumsFn) ProcessElement(g int, c Chunk, states func(*PowerSearches) bool, means func(*ScalerSums) bool, emit func(int, ScalerSums)) error {
	p, err := powerParams(f.l, g, f.K)
	if err != nil {
		return err
	}
	s, ok := searchOf(g, states)
	if !ok {
		return fmt.Errorf("beamfit: columns[%d].steps[%d]: no power_transformer lambdas", g, f.K)
	}
	shift := make([]float64, len(c.Cols))
	if f.Second {
		var m ScalerSums
		for means(&m) {
			if m.Group == g {
				shift = scalerMeans(&m)
			}
		}
	}
	out := ScalerSums{Group: g, Names: make([]string, len(c.Cols)), Cols: make([]stats.NanShiftedAcc, len(c.Cols))}
	y := make([]float64, c.Rows)
	for j := range c.Cols {
		out.Names[j] = c.Cols[j].Name
		p.PowerInto(y, c.Cols[j].Num[:c.Rows], s.Cols[j].Lambda)
		out.Cols[j] = stats.NewNanShiftedAcc(c.Total, shift[j])
		if err := out.Cols[j].Add(c.Start, y); err != nil {
			return fmt.Errorf("beamfit: power_transformer sums of rows %d to %d: %w", c.Start, c.Start+int64(c.Rows), err)
		}
	}
	emit(g, out)
	return nil
}

// finishPowerFn builds the fitted power_transformer of a group with the
// core step (PowerTransformerParams.FitSums).
type finishPowerFn struct {
	P Plan
	K int
	l *loaded
}

func (f *finishPowerFn) Setup() (err error) {
	f.l, err = f.P.load()
	return err
}

func (f *finishPowerFn) ProcessElement(s PowerSearches, first, second func(*ScalerSums) bool) (FittedMsg, error) {
	p, err := powerParams(f.l, s.Group, f.K)
	if err != nil {
		return FittedMsg{}, err
	}
	m := len(s.Cols)
	lambdas := make([]float64, m)
	for j := range s.Cols {
		lambdas[j] = s.Cols[j].Lambda
	}
	n, mean, corr, sq := make([]int64, m), make([]float64, m), make([]float64, m), make([]float64, m)
	var sums ScalerSums
	for first(&sums) {
		if sums.Group == s.Group {
			mean = scalerMeans(&sums)
		}
	}
	found := false
	for second(&sums) {
		if sums.Group != s.Group {
			continue
		}
		found = true
		for j := range sums.Cols {
			var ok bool
			corr[j], sq[j], ok = sums.Cols[j].Sums()
			if !ok {
				return FittedMsg{}, fmt.Errorf("beamfit: columns[%d].steps[%d]: not every row reached the power_transformer sums", s.Group, f.K)
			}
			n[j] = sums.Cols[j].Count
		}
	}
	if !found {
		return FittedMsg{}, fmt.Errorf("beamfit: columns[%d].steps[%d]: no power_transformer sums", s.Group, f.K)
	}
	fitted := p.FitSums(s.Names, lambdas, n, mean, corr, sq)
	st := f.l.spec.Columns[s.Group].Steps[f.K]
	b, err := json.Marshal(step.FittedStep{Name: st.Name, Params: st.Params, Inputs: s.Names, Fitted: fitted})
	if err != nil {
		return FittedMsg{}, err
	}
	return FittedMsg{Group: s.Group, Step: f.K, JSON: b}, nil
}

// fitPowers fits step k of the groups whose step k is a power_transformer
// (parts keyed by group) in the passes listed above.
func fitPowers(s beam.Scope, p Plan, k int, parts beam.PCollection) beam.PCollection {
	s = s.Scope("power_transformer")
	samples := beam.DropKey(s, beam.CombinePerKey(s, mergePowerSamplesFn{},
		beam.ParDo(s, &powerSampleFn{P: p, K: k}, parts)))
	states := beam.ParDo(s, &startPowerFn{P: p, K: k}, samples)
	for i := 0; i < step.PowerSlopePasses; i++ {
		ss := s.Scope(fmt.Sprintf("slope%d", i))
		slopes := beam.DropKey(ss, beam.CombinePerKey(ss, mergePowerSlopesFn{},
			beam.ParDo(ss, powerSlopeFn{}, parts, beam.SideInput{Input: states})))
		states = beam.ParDo(ss, nextPowerFn{}, states, beam.SideInput{Input: slopes})
	}
	sf := s.Scope("fallback")
	gathered := beam.DropKey(sf, beam.CombinePerKey(sf, gatherPowerFn{},
		beam.ParDo(sf, powerColumnFn{}, parts, beam.SideInput{Input: states})))
	states = beam.ParDo(sf, fallbackPowerFn{}, states, beam.SideInput{Input: gathered})
	none := beam.CreateList(s, []ScalerSums{})
	first := beam.DropKey(s, beam.CombinePerKey(s, mergeScalerSumsFn{},
		beam.ParDo(s, &powerSumsFn{P: p, K: k}, parts, beam.SideInput{Input: states}, beam.SideInput{Input: none})))
	second := beam.DropKey(s, beam.CombinePerKey(s, mergeScalerSumsFn{},
		beam.ParDo(s, &powerSumsFn{P: p, K: k, Second: true}, parts, beam.SideInput{Input: states}, beam.SideInput{Input: first})))
	return beam.ParDo(s, &finishPowerFn{P: p, K: k}, states, beam.SideInput{Input: first}, beam.SideInput{Input: second})
}

// The power stages' coders use encoding/gob (see encodeSummary; stats.Sum
// travels as its MarshalBinary).

func encodePowerSamples(v PowerSamples) ([]byte, error)   { return encodeGob(v) }
func decodePowerSamples(b []byte) (PowerSamples, error)   { return decodeGob[PowerSamples](b) }
func encodePowerSearches(v PowerSearches) ([]byte, error) { return encodeGob(v) }
func decodePowerSearches(b []byte) (PowerSearches, error) { return decodeGob[PowerSearches](b) }
func encodePowerSlopes(v PowerSlopes) ([]byte, error)     { return encodeGob(v) }
func decodePowerSlopes(b []byte) (PowerSlopes, error)     { return decodeGob[PowerSlopes](b) }
