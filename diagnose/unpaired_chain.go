package diagnose

import (
	"math"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/profile"
	"github.com/normguard/normguard/step"
	"github.com/normguard/normguard/table"
	"github.com/normguard/normguard/transform"
)

// What the artifact says about each output in unpaired mode: the last step
// of a 1-to-1 chain as an affine map, and what a missing input becomes.

// affineMap is a last step known to be y = intercept + slope*x.
type affineMap struct {
	intercept, slope float64
}

// lastStep is the last step of a 1-to-1 numeric chain and the column it
// reads, to apply it to observed values.
type lastStep struct {
	fitted step.Fitted
	name   string // the step's spec name (standard_scaler, ...)
	input  string
	width  int // the group's width; the step is applied to one column
	k      int // the column's position in the group
}

// apply runs the step on xs as the k-th column of its group (the others
// filled with copies of xs, as the step treats columns independently);
// nil when it fails.
func (s *lastStep) apply(xs []float64) []float64 {
	in := make([]table.Column, s.width)
	for i := range in {
		in[i] = table.Column{Name: s.input, Kind: table.Numeric, Num: xs}
	}
	out, err := transform.ApplyStep(s.fitted, in, len(xs), 1)
	if err != nil || len(out) != s.width || out[s.k].Kind != table.Numeric {
		return nil
	}
	return out[s.k].Num[:len(xs)]
}

// forEachGroupOutput calls fn for every group of a, in order, with the
// index of its first output column, its number of outputs, and whether it
// is a numeric chain whose first outputs follow its input columns one to
// one: every step keeps the width, or the first step is an imputer that
// appends missing indicators after the imputed columns
// (add_indicator) and the later steps keep its width. The outputs past
// len(g.Columns) are then indicators.
func forEachGroupOutput(a *artifact.Artifact, fn func(g artifact.Group, off, width int, chain bool)) {
	off := 0
	for _, g := range a.Groups {
		width := len(g.Columns)
		oneToOne := true
		for i, s := range g.Steps {
			outs := s.Fitted.Outputs()
			w := len(outs)
			if i == 0 && w > width && s.Name == "simple_imputer" {
				for k, name := range g.Columns {
					oneToOne = oneToOne && outs[k].Name == name
				}
			} else {
				oneToOne = oneToOne && w == width
			}
			width = w
		}
		fn(g, off, width, oneToOne && len(g.Steps) > 0 && g.Type != "categorical")
		off += width
	}
}

// lastInputs returns the names of the columns the last step of g reads:
// the previous step's outputs, or the group's columns.
func lastInputs(g artifact.Group) []string {
	if len(g.Steps) < 2 {
		return g.Columns
	}
	var names []string
	for _, f := range g.Steps[len(g.Steps)-2].Fitted.Outputs() {
		names = append(names, f.Name)
	}
	return names
}

// lastAffine returns, per output, the last step of its group as an affine
// map (nil when the group is not 1-to-1 numeric or the step not affine),
// found by feeding it 0, 1 and 2, and the step itself (nil when the group
// is not 1-to-1 numeric).
func lastAffine(a *artifact.Artifact) ([]*affineMap, []*lastStep) {
	maps := make([]*affineMap, len(a.Outputs))
	steps := make([]*lastStep, len(a.Outputs))
	forEachGroupOutput(a, func(g artifact.Group, off, width int, chain bool) {
		if chain && off+width <= len(maps) {
			names := lastInputs(g)
			if len(names) != width {
				return
			}
			probe := make([]table.Column, width)
			for k := range probe {
				probe[k] = table.Column{Name: names[k], Kind: table.Numeric, Num: []float64{0, 1, 2}}
			}
			last := g.Steps[len(g.Steps)-1].Fitted
			for k := 0; k < width; k++ {
				steps[off+k] = &lastStep{fitted: last, name: g.Steps[len(g.Steps)-1].Name, input: names[k], width: width, k: k}
			}
			out, err := transform.ApplyStep(last, probe, 3, 1)
			for k := 0; err == nil && k < width; k++ {
				if out[k].Kind != table.Numeric {
					continue
				}
				y := out[k].Num
				m := affineMap{intercept: y[0], slope: y[1] - y[0]}
				if m.slope != 0 && !math.IsNaN(m.slope) && !math.IsInf(m.slope, 0) &&
					math.Abs(y[2]-(y[0]+2*m.slope)) <= fitTol*math.Max(1, math.Abs(y[2])) {
					maps[off+k] = &m
				}
			}
		}
	})
	return maps, steps
}

func (m *affineMap) apply(xs []float64) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = m.intercept + m.slope*x
	}
	return out
}

func (m *affineMap) invert(xs []float64) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = (x - m.intercept) / m.slope
	}
	return out
}

// missingOutputs returns, per output, what the artifact gives a row whose
// input is missing (a 1-to-1 numeric chain that starts with an imputer
// gives its fill value, transformed); NaN when unknown or missing.
func missingOutputs(a *artifact.Artifact) []float64 {
	out := make([]float64, len(a.Outputs))
	for i := range out {
		out[i] = math.NaN()
	}
	forEachGroupOutput(a, func(g artifact.Group, off, width int, chain bool) {
		if chain && off+width <= len(out) {
			cur := make([]table.Column, len(g.Columns))
			for k := range cur {
				cur[k] = table.Column{Name: g.Columns[k], Kind: table.Numeric, Num: []float64{math.NaN()}}
			}
			var err error
			for _, s := range g.Steps {
				if cur, err = transform.ApplyStep(s.Fitted, cur, 1, 1); err != nil {
					break
				}
			}
			for k := 0; err == nil && k < width && k < len(cur); k++ {
				if cur[k].Kind == table.Numeric && !math.IsInf(cur[k].Num[0], 0) {
					out[off+k] = cur[k].Num[0]
				}
			}
		}
	})
	return out
}

// trainingMissing reports, per output, whether the raw input it follows
// one to one (see forEachGroupOutput) had missing values in the training
// data; false when unknown.
func trainingMissing(a *artifact.Artifact) []bool {
	out := make([]bool, len(a.Outputs))
	forEachGroupOutput(a, func(g artifact.Group, off, width int, chain bool) {
		if !chain {
			return
		}
		for k, name := range g.Columns {
			if p := inputProfile(a, name); p != nil && off+k < len(out) && k < width {
				out[off+k] = p.Missing > 0
			}
		}
	})
	return out
}

// fitsMap reports whether the affine map that best carries xs onto the
// profile's distribution (quantileFit) is want to within mapTol: the
// slopes relatively, and their values at the median of xs in units of sd.
func fitsMap(p *profile.Feature, xs []float64, want affineMap, sd float64) bool {
	alpha, beta, ok := quantileFit(p, xs)
	if !ok {
		return false
	}
	x := percentileOf(xs, 0.5)
	return math.Abs(beta/want.slope-1) <= mapTol &&
		math.Abs((alpha+beta*x)-(want.intercept+want.slope*x)) <= mapTol*sd
}

// nearIdentity reports whether the map is within identityTol of
// (x - 0) / 1: slope relatively, intercept in units of sd.
func (m *affineMap) nearIdentity(sd float64) bool {
	return math.Abs(m.slope-1) <= identityTol && math.Abs(m.intercept) <= identityTol*sd
}

// at applies the map to one value.
func (m *affineMap) at(x float64) float64 { return m.intercept + m.slope*x }
