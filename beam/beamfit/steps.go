package beamfit

import (
	"cmp"
	"encoding/json"
	"fmt"
	"runtime"
	"slices"

	"github.com/normguard/normguard/step"
	"github.com/normguard/normguard/table"
	"github.com/normguard/normguard/transform"
)

// FittedMsg carries one fitted step (step.FittedStep as JSON, the form
// the artifact stores) to the stages that apply it and to the writer.
type FittedMsg struct {
	Group, Step int
	JSON        []byte
}

// ProfileMsg carries one column's profile (profile.Feature as JSON).
type ProfileMsg struct {
	Key  int
	JSON []byte
}

// outKey keys output column j of group g; input column j is keyed j.
func outKey(g, j int) int { return g<<20 | j }

// stage splits a converted chunk into its groups' columns: the input of
// every group's first step.
type stageFn struct {
	P Plan
	l *loaded
}

func (f *stageFn) Setup() (err error) {
	f.l, err = f.P.load()
	return err
}

func (f *stageFn) ProcessElement(c Chunk) Staged {
	s := Staged{Start: c.Start, Total: c.Total, Rows: c.Rows}
	for g, grp := range f.l.spec.Columns {
		at := f.l.groupAt[g]
		s.Groups = append(s.Groups, c.Cols[at:at+len(grp.Names)])
	}
	return s
}

// partFn keys the input of step K of every group that has one by the
// group (the key travels in Chunk.Shard too, for the Combine's output):
// the groups whose step K is fitted in Mode (see fitMode).
type partFn struct {
	P    Plan
	K    int
	Mode int
	l    *loaded
}

func (f *partFn) Setup() (err error) {
	f.l, err = f.P.load()
	return err
}

func (f *partFn) ProcessElement(s Staged, emit func(int, Chunk)) {
	for g, grp := range f.l.spec.Columns {
		if len(grp.Steps) > f.K && fitMode(grp.Steps[f.K].Name) == f.Mode {
			emit(g, Chunk{Shard: g, Start: s.Start, Rows: s.Rows, Total: s.Total, Cols: s.Groups[g]})
		}
	}
}

// fitStepFn fits step K of a group on the whole group, gathered in row
// order, with the core step's own Fit: the parameters are the ones the
// local fit computes from the same columns.
type fitStepFn struct {
	P Plan
	K int
	l *loaded
}

func (f *fitStepFn) Setup() (err error) {
	f.l, err = f.P.load()
	return err
}

func (f *fitStepFn) CreateAccumulator() Gather { return Gather{} }

func (f *fitStepFn) AddInput(acc Gather, c Chunk) Gather {
	acc.Parts = append(acc.Parts, c)
	return acc
}

func (f *fitStepFn) MergeAccumulators(a, b Gather) Gather {
	a.Parts = append(a.Parts, b.Parts...)
	return a
}

func (f *fitStepFn) ExtractOutput(acc Gather) (FittedMsg, error) {
	cols, _, err := concat(acc.Parts)
	if err != nil {
		return FittedMsg{}, err
	}
	g := acc.Parts[0].Shard
	st := f.l.spec.Columns[g].Steps[f.K]
	fc := &step.FitContext{Workers: runtime.GOMAXPROCS(0)}
	fitted, err := st.Params.Fit(fc, cols)
	if err != nil {
		return FittedMsg{}, fmt.Errorf("fit %s: columns[%d].steps[%d].%s: %w", f.P.Source, g, f.K, st.Name, err)
	}
	names := make([]string, len(cols))
	for i := range cols {
		names[i] = cols[i].Name
	}
	b, err := json.Marshal(step.FittedStep{Name: st.Name, Params: st.Params, Inputs: names, Fitted: fitted})
	if err != nil {
		return FittedMsg{}, err
	}
	return FittedMsg{Group: g, Step: f.K, JSON: b}, nil
}

// applyFn passes every group that has a step K through it, fitted
// parameters from the side input, with the core transform.
type applyFn struct {
	P      Plan
	K      int
	fitted map[int]step.FittedStep
}

func (f *applyFn) ProcessElement(s Staged, fitted func(*FittedMsg) bool) (Staged, error) {
	if f.fitted == nil {
		m, err := decodeFitted(fitted)
		if err != nil {
			return Staged{}, err
		}
		f.fitted = map[int]step.FittedStep{}
		for k, fs := range m {
			if k[1] == f.K {
				f.fitted[k[0]] = fs
			}
		}
	}
	out := Staged{Start: s.Start, Total: s.Total, Rows: s.Rows, Groups: slices.Clone(s.Groups)}
	for g, fs := range f.fitted {
		next, err := transform.ApplyStep(fs.Fitted, s.Groups[g], s.Rows, 1)
		if err != nil {
			return Staged{}, fmt.Errorf("fit %s: columns[%d].steps[%d].%s: applying to the training data: %w", f.P.Source, g, f.K, fs.Name, err)
		}
		out.Groups[g] = next
	}
	return out, nil
}

// decodeFitted reads fitted steps keyed by {group, step}.
func decodeFitted(next func(*FittedMsg) bool) (map[[2]int]step.FittedStep, error) {
	m := map[[2]int]step.FittedStep{}
	var msg FittedMsg
	for next(&msg) {
		var fs step.FittedStep
		if err := json.Unmarshal(msg.JSON, &fs); err != nil {
			return nil, fmt.Errorf("decode fitted step %d of group %d: %w", msg.Step, msg.Group, err)
		}
		m[[2]int{msg.Group, msg.Step}] = fs
	}
	return m, nil
}

// concat joins chunks of the same columns in row order; they must tile
// rows [0, n) exactly.
func concat(parts []Chunk) ([]table.Column, int, error) {
	if len(parts) == 0 {
		return nil, 0, fmt.Errorf("beamfit: no rows reached a fit stage")
	}
	parts = slices.Clone(parts)
	slices.SortFunc(parts, func(a, b Chunk) int { return cmp.Compare(a.Start, b.Start) })
	n := 0
	for _, p := range parts {
		if p.Start != int64(n) {
			return nil, 0, fmt.Errorf("beamfit: rows %d to %d reached a fit stage twice or never", n, p.Start)
		}
		n += p.Rows
	}
	cols := make([]table.Column, len(parts[0].Cols))
	for j := range cols {
		c := &cols[j]
		first := &parts[0].Cols[j]
		c.Name, c.Kind = first.Name, first.Kind
		if c.Kind == table.Numeric {
			c.Num = make([]float64, 0, n)
			for _, p := range parts {
				c.Num = append(c.Num, p.Cols[j].Num[:p.Rows]...)
			}
			continue
		}
		c.Str = make([]string, 0, n)
		anyNull := false
		for _, p := range parts {
			c.Str = append(c.Str, p.Cols[j].Str[:p.Rows]...)
			anyNull = anyNull || p.Cols[j].Null != nil
		}
		if anyNull {
			c.Null = make([]bool, 0, n)
			for _, p := range parts {
				if p.Cols[j].Null != nil {
					c.Null = append(c.Null, p.Cols[j].Null[:p.Rows]...)
				} else {
					c.Null = append(c.Null, make([]bool, p.Rows)...)
				}
			}
		}
	}
	return cols, n, nil
}
