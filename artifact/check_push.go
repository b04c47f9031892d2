package artifact

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/normguard/normguard/profile"
	"github.com/normguard/normguard/spec"
	"github.com/normguard/normguard/step"
	"github.com/normguard/normguard/table"
)

// The training push (attack run 27, F2 and F3): the profile says what
// each numeric input held in fit (how many values, their min and max);
// the groups' fitted steps must take that data as the fit did. Two rules
// follow, applied to every numeric group once the profile is read:
//
//   - a NaN fitted parameter for a column that had values (profile count
//     > 0, or a column an imputer filled) is refused, naming it: a fit
//     writes NaN only for a column without any value, and the step would
//     write the feature empty on every row (step.CheckPresence);
//   - the profile's min and max of each column, and the value an imputer
//     fills in, are run through the group's steps with their own
//     Transform, the kernel transform runs; a step that turns them into
//     ±Inf (a power transformer's lambda of 1e308, a scale of 1e-308) is
//     refused, naming the step, where transform would refuse the training
//     data itself as lying "far outside the data the artifact was fitted
//     on"; a step that refuses the value an imputer fills in (box-cox of
//     -17, log1p of -5) is refused naming the imputer's statistic and
//     the step, where transform blamed each row with a missing cell
//     (attack run 35 F7): a fit took its fill value through the steps.
//
// The push stops at a step whose large fields a streamed reading does
// not hold (quantile_transformer, kbins_discretizer: their outputs are
// bounded), so that Decode and Verify agree. It costs a few rows a group.

// trainingInput is what the profile says of a numeric input in fit.
type trainingInput struct {
	count, missing int64
	min, max       float64
	hasRange       bool
}

// trainingInputs records the profile's numeric inputs, by name.
type trainingInputs map[string]trainingInput

// add records input column f of the profile.
func (t *trainingInputs) add(f *profile.Feature) {
	if f.Type != spec.TypeNumeric {
		return
	}
	if *t == nil {
		*t = trainingInputs{}
	}
	in := trainingInput{count: f.Count, missing: f.Missing}
	if f.Min != nil && f.Max != nil {
		in.min, in.max, in.hasRange = float64(*f.Min), float64(*f.Max), true
	}
	(*t)[f.Name] = in
}

// pushError runs the training push on every numeric group, read again
// from source, and returns the first refusal.
func pushError(s *spec.Spec, groups int, source sectionSource, inputs trainingInputs) error {
	if s == nil || inputs == nil || source == nil {
		return nil
	}
	for gi := 0; gi < groups && gi < len(s.Columns); gi++ {
		if s.Columns[gi].Type != spec.TypeNumeric {
			continue
		}
		g, err := source.groupAgain(gi)
		if err != nil {
			return readAgainError(gi, err)
		}
		if err := pushGroup(gi, g, inputs); err != nil {
			return err
		}
	}
	return nil
}

// pushGroup applies the training push's rules to groups[gi].
func pushGroup(gi int, g *Group, inputs trainingInputs) error {
	n := len(g.Columns)
	present := make([]step.Presence, n)
	// Rows: each column's min, its max, and a missing value where the
	// column had one (else its min again). A column without any value is
	// missing on every row.
	const rows = 3
	cur := make([]table.Column, n)
	for j, name := range g.Columns {
		in, ok := inputs[name]
		xs := []float64{math.NaN(), math.NaN(), math.NaN()}
		switch {
		case !ok:
			return nil // a column the profile does not describe: nothing to push
		case in.count == 0:
			present[j] = step.PresenceNone
		case in.hasRange:
			present[j] = step.PresenceSome
			xs[0], xs[1], xs[2] = in.min, in.max, in.min
			if in.missing > 0 {
				xs[2] = math.NaN()
			}
		default:
			return nil
		}
		cur[j] = table.Column{Name: name, Kind: table.Numeric, Num: xs}
	}
	// filledBy names, for a column whose missing row (row 2) holds an
	// imputer's fill value, that value's fitted parameter.
	filledBy := map[string]string{}
	for si := range g.Steps {
		s := &g.Steps[si]
		sp := fmt.Sprintf("groups[%d].steps[%d]", gi, si)
		if present != nil {
			if err := step.CheckPresence(s.Fitted, present); err != nil {
				return underStep(sp+".fitted", err)
			}
			present = step.PresenceAfter(s.Fitted, present)
		}
		if cur == nil {
			continue
		}
		if !step.Pushable(s.Fitted) || len(s.Inputs) != len(cur) {
			cur = nil
			continue
		}
		out := table.NewColumns(s.Fitted.Outputs())
		err := s.Fitted.Transform(cur, out, rows)
		if err == nil {
			err = firstInf(s.Name, cur, out)
		}
		if err != nil {
			if ve, ok := errors.AsType[*step.ValueError](err); ok && errors.Is(err, step.ErrNotFinite) {
				what := strings.TrimPrefix(ve.Err.Error(), step.ErrBadValue.Error()+": "+step.ErrNotFinite.Error()+": ")
				if ve.Value != "" {
					what += " " + ve.Value
				}
				path := sp + ".fitted"
				for k, name := range s.Inputs {
					if name == ve.Column {
						if p := step.OverflowParam(s.Fitted, k); p != "" {
							path += "." + p
						}
						break
					}
				}
				return bad(path, "turns the training data into a number past float64's range: column %s: %s (the profile's min and max of each input column, and the value an imputer fills in, are run through the steps as transform runs them; a fit took that data)", strconv.Quote(ve.Column), what)
			}
			if err := fillRefused(sp, s.Name, err, filledBy); err != nil {
				return err
			}
			cur = nil // another refusal of a value: not the push's to judge
			continue
		}
		filledBy = filledAfter(sp, s, cur, out, filledBy)
		cur = out
	}
	return nil
}

// firstInf is the overflow error of the first ±Inf among the numeric
// outputs out of step name for in, or nil.
func firstInf(name string, in, out []table.Column) error {
	for k := range out {
		c := &out[k]
		if c.Kind != table.Numeric {
			continue
		}
		for i, y := range c.Num {
			if !math.IsInf(y, 0) {
				continue
			}
			if len(out) == len(in) && in[k].Kind == table.Numeric && !math.IsNaN(in[k].Num[i]) {
				return step.OverflowError(name, in[k].Name, i, in[k].Num[i], y, false)
			}
			return step.OverflowErrorAt(name, c.Name, i, y, "for output "+strconv.Quote(c.Name))
		}
	}
	return nil
}

// filledAfter returns filledBy after step s (at path sp) turned cur into
// out: a simple imputer that filled a column's missing row names its
// statistic; a column a step passes on under its name (a step of one
// output per input, in order) keeps what filled it; others are dropped.
func filledAfter(sp string, s *step.FittedStep, cur, out []table.Column, filledBy map[string]string) map[string]string {
	next := map[string]string{}
	if len(out) < len(cur) {
		return next
	}
	imp, isImp := s.Fitted.(*step.SimpleImputer)
	for k := range cur {
		if out[k].Name != cur[k].Name || cur[k].Kind != table.Numeric || out[k].Kind != table.Numeric {
			continue
		}
		switch {
		case isImp && math.IsNaN(cur[k].Num[2]) && !math.IsNaN(out[k].Num[2]) && k < len(imp.Statistics):
			next[cur[k].Name] = fmt.Sprintf("%s.fitted.statistics_[%d]", sp, k)
		case filledBy[cur[k].Name] != "":
			next[cur[k].Name] = filledBy[cur[k].Name]
		}
	}
	return next
}

// fillRefused is the refusal of an imputer's fill value when err is step
// name (at path sp) refusing the value the imputer filled in (row 2 of
// the push), and nil otherwise: a fit took that value through the step,
// so the fitted statistic was edited (attack run 35 F7: transform blamed
// the user's data on each row with a missing cell).
func fillRefused(sp, name string, err error, filledBy map[string]string) error {
	ve, ok := errors.AsType[*step.ValueError](err)
	if !ok || ve.Row != 2 || filledBy[ve.Column] == "" {
		return nil
	}
	return bad(filledBy[ve.Column], "fills column %s's missing cells with a value the next steps refuse: %s (%s) refuses it (%v %s); a fit on the training data took its own fill value through the steps, so the imputer's statistic was edited",
		strconv.Quote(ve.Column), sp, name, ve.Err, ve.Value)
}
