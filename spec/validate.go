package spec

import (
	"errors"
	"fmt"
	"slices"

	"github.com/normguard/normguard/step"
	"github.com/normguard/normguard/table"
)

// Validate checks the spec's structure: the version, the remainder policy,
// every column named once, known steps, and the impute -> transform order.
// Errors are *Error naming the field.
func (s *Spec) Validate() error { return s.validate() }

func (s *Spec) validate() error {
	if s.Version != Version {
		return &Error{Field: "version", Err: fmt.Errorf("%w: spec version %d is not supported; this normguard reads version %d", ErrInvalid, s.Version, Version)}
	}
	if s.Remainder != RemainderDrop && s.Remainder != RemainderPassthrough {
		return &Error{Field: "remainder", Err: fmt.Errorf("%w: must be %q or %q", ErrInvalid, RemainderDrop, RemainderPassthrough)}
	}
	if len(s.Columns) == 0 {
		return &Error{Field: "columns", Err: fmt.Errorf("%w: no column groups", ErrInvalid)}
	}
	seen := map[string]string{}
	for gi := range s.Columns {
		g := &s.Columns[gi]
		path := fmt.Sprintf("columns[%d]", gi)
		if len(g.Names) == 0 {
			return &Error{Field: path, Err: fmt.Errorf("%w: missing name or names", ErrInvalid)}
		}
		for _, n := range g.Names {
			if prev, dup := seen[n]; dup {
				return &Error{Field: path + ".names", Err: fmt.Errorf("%w: column %q is already used by %s; a column belongs to one group", ErrInvalid, n, prev)}
			}
			seen[n] = path
		}
		if err := checkOrder(g, path); err != nil {
			return err
		}
		if g.Type == TypeVector || g.Vector != nil {
			if err := checkVectorGroup(g, path); err != nil {
				return err
			}
			continue
		}
		if k := g.Kind(); k != table.KindUnknown {
			if err := CheckKinds(g, k, path); err != nil {
				return err
			}
		}
	}
	return nil
}

// CheckFitParams checks every step's parameters against the bounds a
// fit holds them to beyond Validate (step.CheckFitParams: kbins
// n_bins past step.MaxBins, a min_max_scaler feature_range too wide for
// float64). ParseFile applies them with the line; fit applies them to any
// spec it is given. Artifact readers do not (Validate is their rule), so
// an artifact fitted before a bound stays readable. Errors are *Error
// naming the parameter.
func (s *Spec) CheckFitParams() error {
	for gi := range s.Columns {
		for si, st := range s.Columns[gi].Steps {
			if st.Params == nil {
				continue
			}
			if err := step.CheckFitParams(st.Params); err != nil {
				field := fmt.Sprintf("columns[%d].steps[%d].%s", gi, si, st.Name)
				msg := err.Error()
				if pe, ok := errors.AsType[*step.ParamError](err); ok {
					field += "." + pe.Param
					msg = pe.Msg + fmt.Sprintf(" (got %s)", valueWords(pe.Value))
				}
				return &Error{Field: field, Err: fmt.Errorf("%w: %s", ErrInvalid, msg)}
			}
		}
	}
	return nil
}

// checkOrder refuses an imputer placed after a scaler, encoder or other
// transforming step in the same chain.
func checkOrder(g *Group, path string) error {
	firstTransform := -1
	for si, st := range g.Steps {
		def, ok := step.Lookup(st.Name)
		if !ok {
			return &Error{Field: fmt.Sprintf("%s.steps[%d]", path, si), Err: fmt.Errorf("%w: unknown step %q", ErrInvalid, st.Name)}
		}
		if def.Role != step.RoleImputer {
			if firstTransform < 0 {
				firstTransform = si
			}
			continue
		}
		if firstTransform >= 0 {
			return &Error{Field: fmt.Sprintf("%s.steps[%d].%s", path, si, st.Name), Err: fmt.Errorf(
				"%w: %s comes after %s (steps[%d]). Imputing after a scaler or encoder fills "+
					"missing values with statistics of the transformed data (or with a constant "+
					"such as 0 that means something else after scaling), so training and serving "+
					"silently disagree about what a missing value becomes. Move %s before %s: "+
					"impute first, then transform",
				ErrImputeOrder, st.Name, g.Steps[firstTransform].Name, firstTransform, st.Name, g.Steps[firstTransform].Name)}
		}
	}
	return nil
}

// CheckKinds checks that the group's first step accepts columns of kind k,
// and that encoders only see categorical data. path labels errors.
func CheckKinds(g *Group, k table.Kind, path string) error {
	cur := k
	for si, st := range g.Steps {
		def, _ := step.Lookup(st.Name)
		if !slices.Contains(def.Accepts, cur) {
			what := "categorical"
			if cur == table.Numeric {
				what = "numeric"
			}
			hint := "declare `type: categorical` for the group"
			if cur == table.String {
				hint = "encode the column first (one_hot_encoder or ordinal_encoder), or declare `type: numeric` if it holds numbers"
			}
			return &Error{Field: fmt.Sprintf("%s.steps[%d].%s", path, si, st.Name), Err: fmt.Errorf(
				"%w: %s does not take %s columns; %s", ErrInvalid, st.Name, what, hint)}
		}
		if def.Role == step.RoleEncoder {
			cur = table.Numeric
		}
	}
	return nil
}
