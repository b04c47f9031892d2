package step

import (
	"errors"
	"fmt"
	"math"
)

// PathError reports a fitted attribute that a transform kernel cannot use,
// with the attribute's JSON path inside the step (e.g. "scale_[3]"), so
// that an artifact loader can name the exact field of the file.
type PathError struct {
	// Path is the JSON path of the field, relative to where the error is
	// reported (scikit-learn's attribute name, then indexes).
	Path string
	// Msg says what is wrong with it ("must be > 0").
	Msg string
}

func (e *PathError) Error() string { return e.Path + ": " + e.Msg }

// Under returns a PathError for err placed below prefix: a *PathError's
// path is joined to prefix, any other error becomes prefix's message.
func Under(prefix string, err error) *PathError {
	var pe *PathError
	if errors.As(err, &pe) {
		if prefix == "" {
			return &PathError{Path: pe.Path, Msg: pe.Msg}
		}
		sep := "."
		if len(pe.Path) > 0 && pe.Path[0] == '[' {
			sep = ""
		}
		return &PathError{Path: prefix + sep + pe.Path, Msg: pe.Msg}
	}
	return &PathError{Path: prefix, Msg: err.Error()}
}

func badAt(attr string, i int, format string, args ...any) error {
	return &PathError{Path: fmt.Sprintf("%s[%d]", attr, i), Msg: fmt.Sprintf(format, args...)}
}

// checkScales checks divisors: finite and > 0. scikit-learn replaces the
// scale of a constant feature by 1, so a stored 0 never comes from a fit.
func checkScales(attr string, xs []float64) error {
	for i, x := range xs {
		if !(x > 0) || math.IsInf(x, 0) {
			return badAt(attr, i, "must be a finite number > 0, got %v", x)
		}
	}
	return nil
}

// checkScalesOrNaN is checkScales allowing NaN, which scikit-learn stores
// for a feature that had no value at all in fit (all missing): the
// transform then gives NaN, as scikit-learn's does.
func checkScalesOrNaN(attr string, xs []float64) error {
	for i, x := range xs {
		if math.IsNaN(x) {
			continue
		}
		if !(x > 0) || math.IsInf(x, 0) {
			return badAt(attr, i, "must be a finite number > 0, got %v", x)
		}
	}
	return nil
}

// checkNotInf refuses infinities (NaN stands for a feature without values).
func checkNotInf(attr string, xs []float64) error {
	for i, x := range xs {
		if err := notInfAt(attr, i, x); err != nil {
			return err
		}
	}
	return nil
}

// checkFinite refuses NaN and infinities.
func checkFinite(attr string, xs []float64) error {
	for i, x := range xs {
		if !isFinite(x) {
			return badAt(attr, i, "must be a finite number, got %v", x)
		}
	}
	return nil
}

// checkNonDecreasing refuses NaN and values smaller than the one before.
func checkNonDecreasing(attr string, xs []float64) error {
	for i, x := range xs {
		prev := 0.0
		if i > 0 {
			prev = xs[i-1]
		}
		if err := sortedAt(attr, i, x, prev); err != nil {
			return err
		}
	}
	return nil
}

// checkNames refuses empty and duplicate column names.
func checkNames(attr string, names []string) error {
	seen := make(map[string]bool, len(names))
	for i, n := range names {
		if n == "" {
			return badAt(attr, i, "must not be empty")
		}
		if seen[n] {
			return badAt(attr, i, "duplicate name %q", n)
		}
		seen[n] = true
	}
	return nil
}

// CheckStep checks fitted step f against its parameters p and its nIn
// input columns: Fitted.Check's rules, and for the encoders the rules on
// categories_ that need the parameters (categories="auto" sorted, given
// categories kept as given; see CategoriesCheck), applied entry by entry
// instead of through a map of every category. An artifact loader runs it
// on every step it reads, after p.Validate. A step whose large fields a
// streamed reading feeds entry by entry (see StreamedCheck) is checked
// by feeding them to the same checks from memory. Then, when p is not nil,
// the fitted fields that repeat or follow from a parameter must agree
// with it (fitted_params_check.go).
func CheckStep(p Params, f Fitted, nIn int) error {
	switch e := f.(type) {
	case streamer:
		c := newStreamedCheck(p, e)
		e.feed(c)
		if err := e.checkStreamed(nIn, c); err != nil {
			return err
		}
		return checkParams(p, f, c)
	}
	if err := f.Check(nIn); err != nil {
		return err
	}
	return checkParams(p, f, nil)
}
