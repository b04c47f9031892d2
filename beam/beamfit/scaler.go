package beamfit

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/normguard/normguard/stats"
	"github.com/normguard/normguard/step"
)

// ScalerSums are a column group's stats.NanShiftedAcc, one per column:
// the mergeable state of standard_scaler's two passes (sums about 0 for
// mean_, then about mean_ for var_).
type ScalerSums struct {
	Group int
	Names []string
	Cols  []stats.NanShiftedAcc
}

// scalerSumsFn accumulates one chunk of a group's columns about the
// shifts: 0 in the first pass, the means from the side input in the
// second.
type scalerSumsFn struct {
	Second bool
}

func (f *scalerSumsFn) ProcessElement(g int, c Chunk, means func(*ScalerSums) bool, emit func(int, ScalerSums)) error {
	shift := make([]float64, len(c.Cols))
	if f.Second {
		var s ScalerSums
		for means(&s) {
			if s.Group == g {
				shift = scalerMeans(&s)
			}
		}
	}
	out := ScalerSums{Group: g, Names: make([]string, len(c.Cols)), Cols: make([]stats.NanShiftedAcc, len(c.Cols))}
	for j := range c.Cols {
		out.Names[j] = c.Cols[j].Name
		out.Cols[j] = stats.NewNanShiftedAcc(c.Total, shift[j])
		if err := out.Cols[j].Add(c.Start, c.Cols[j].Num[:c.Rows]); err != nil {
			return fmt.Errorf("beamfit: standard_scaler sums of rows %d to %d: %w", c.Start, c.Start+int64(c.Rows), err)
		}
	}
	emit(g, out)
	return nil
}

// scalerMeans returns mean_ of each column from the first pass.
func scalerMeans(s *ScalerSums) []float64 {
	means := make([]float64, len(s.Cols))
	for j := range s.Cols {
		sum, _, _ := s.Cols[j].Sums()
		means[j] = step.StandardScalerMean(sum, s.Cols[j].Count)
	}
	return means
}

// mergeScalerSumsFn merges ScalerSums in any order.
type mergeScalerSumsFn struct{}

func (mergeScalerSumsFn) MergeAccumulators(a, b ScalerSums) (ScalerSums, error) {
	if len(a.Cols) == 0 {
		a.Group, a.Names, a.Cols = b.Group, b.Names, make([]stats.NanShiftedAcc, len(b.Cols))
	}
	for j := range b.Cols {
		if err := a.Cols[j].Merge(&b.Cols[j]); err != nil {
			return ScalerSums{}, err
		}
	}
	return a, nil
}

// finishScalerFn builds the fitted standard_scaler of a group from both
// passes with the core step (StandardScalerParams.FitSums).
type finishScalerFn struct {
	P Plan
	K int
	l *loaded
}

func (f *finishScalerFn) Setup() (err error) {
	f.l, err = f.P.load()
	return err
}

func (f *finishScalerFn) ProcessElement(second ScalerSums, first func(*ScalerSums) bool) (FittedMsg, error) {
	var means []float64
	var s ScalerSums
	for first(&s) {
		if s.Group == second.Group {
			means = scalerMeans(&s)
		}
	}
	st := f.l.spec.Columns[second.Group].Steps[f.K]
	params, ok := st.Params.(*step.StandardScalerParams)
	if !ok || means == nil {
		return FittedMsg{}, fmt.Errorf("beamfit: columns[%d].steps[%d] is not a standard_scaler with a first pass", second.Group, f.K)
	}
	n := make([]int64, len(second.Cols))
	corr, sq := make([]float64, len(n)), make([]float64, len(n))
	for j := range second.Cols {
		var ok bool
		corr[j], sq[j], ok = second.Cols[j].Sums()
		if !ok {
			return FittedMsg{}, fmt.Errorf("beamfit: columns[%d].steps[%d]: not every row reached the standard_scaler sums", second.Group, f.K)
		}
		n[j] = second.Cols[j].Count
	}
	fitted := params.FitSums(second.Names, n, means, corr, sq)
	b, err := json.Marshal(step.FittedStep{Name: st.Name, Params: st.Params, Inputs: second.Names, Fitted: fitted})
	if err != nil {
		return FittedMsg{}, err
	}
	return FittedMsg{Group: second.Group, Step: f.K, JSON: b}, nil
}

// fitScalers fits step k of the groups whose step k is a standard_scaler
// (parts keyed by group) in two mergeable passes.
func fitScalers(s beam.Scope, p Plan, k int, parts beam.PCollection) beam.PCollection {
	s = s.Scope("standard_scaler")
	none := beam.CreateList(s, []ScalerSums{})
	first := beam.DropKey(s, beam.CombinePerKey(s, mergeScalerSumsFn{},
		beam.ParDo(s, &scalerSumsFn{}, parts, beam.SideInput{Input: none})))
	second := beam.DropKey(s, beam.CombinePerKey(s, mergeScalerSumsFn{},
		beam.ParDo(s, &scalerSumsFn{Second: true}, parts, beam.SideInput{Input: first})))
	return beam.ParDo(s, &finishScalerFn{P: p, K: k}, second, beam.SideInput{Input: first})
}

func encodeScalerSums(s ScalerSums) ([]byte, error) {
	out := binary.AppendUvarint(nil, uint64(s.Group))
	out = binary.AppendUvarint(out, uint64(len(s.Cols)))
	for j := range s.Cols {
		c := &s.Cols[j]
		out = appendString(out, s.Names[j])
		out = binary.LittleEndian.AppendUint64(out, math.Float64bits(c.Shift))
		out = binary.AppendVarint(out, c.Count)
		for _, acc := range []*stats.PairwiseAcc{&c.Sum, &c.SumSq} {
			b, err := acc.MarshalBinary()
			if err != nil {
				return nil, err
			}
			out = binary.AppendUvarint(out, uint64(len(b)))
			out = append(out, b...)
		}
	}
	return out, nil
}

func decodeScalerSums(b []byte) (ScalerSums, error) {
	d := decoder{b: b}
	s := ScalerSums{Group: int(d.uvarint())}
	n := d.count()
	for j := 0; j < n && d.err == nil; j++ {
		s.Names = append(s.Names, d.str())
		var c stats.NanShiftedAcc
		if raw := d.bytes(8); d.err == nil {
			c.Shift = math.Float64frombits(binary.LittleEndian.Uint64(raw))
		}
		c.Count = d.varint()
		for _, acc := range []*stats.PairwiseAcc{&c.Sum, &c.SumSq} {
			if raw := d.bytes(d.count()); d.err == nil {
				if err := acc.UnmarshalBinary(raw); err != nil {
					return ScalerSums{}, err
				}
			}
		}
		s.Cols = append(s.Cols, c)
	}
	return s, d.done()
}
