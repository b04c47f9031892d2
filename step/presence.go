package step

import (
	"fmt"
	"math"
	"slices"
)

// This file holds what an artifact loader needs to hold a step's NaN
// parameters to its input (attack run 27, F2). scikit-learn, and fit,
// write a NaN fitted parameter for an input column only when the column
// had no value at all in fit (all missing): a standard scaler's mean_,
// var_ and scale_ (with n_samples_seen_ 0), a robust scaler's center_
// and scale_, a power transformer's mean_ and scale_, a min-max scaler's
// data_min_ ... min_, a max-abs scaler's max_abs_ and scale_, an
// imputer's statistics_ (the column is then dropped), a quantile
// transformer's row of quantiles_. Anywhere else a NaN makes the step write NaN, an empty
// feature, for every row: the loader refuses it when it knows that the
// column had values (Presence).

// Presence says what is known of an input column's values in fit.
type Presence int8

const (
	// PresenceUnknown: nothing is known.
	PresenceUnknown Presence = iota
	// PresenceSome: the column had at least one value in fit.
	PresenceSome
	// PresenceNone: the column had no value in fit (all missing).
	PresenceNone
)

// NaNParam returns the path of the first fitted parameter of step f that
// is NaN for input column j (e.g. "center_[2]"), or "" when there is none.
// A fit writes one only for a column that had no value (see above).
func NaNParam(f Fitted, j int) string {
	at := func(attr string, xs []float64) string {
		if j < len(xs) && math.IsNaN(xs[j]) {
			return fmt.Sprintf("%s[%d]", attr, j)
		}
		return ""
	}
	first := func(pairs ...any) string {
		for k := 0; k+1 < len(pairs); k += 2 {
			if p := at(pairs[k].(string), pairs[k+1].(Floats)); p != "" {
				return p
			}
		}
		return ""
	}
	switch s := f.(type) {
	case *StandardScaler:
		return first("mean_", s.Mean, "var_", s.Var, "scale_", s.Scale)
	case *RobustScaler:
		return first("center_", s.Center, "scale_", s.Scale)
	case *PowerTransformer:
		return first("mean_", s.Mean, "scale_", s.Scale)
	case *MinMaxScaler:
		return first("data_min_", s.DataMin, "data_max_", s.DataMax, "data_range_", s.DataRange, "scale_", s.Scale, "min_", s.Min)
	case *MaxAbsScaler:
		return first("max_abs_", s.MaxAbs, "scale_", s.Scale)
	case *SimpleImputer:
		// With a placeholder (missing_values a number), a column may hold
		// values that are all the placeholder: NaN is then what a fit writes.
		if !s.categorical() && !s.active() {
			return at("statistics_", s.Statistics)
		}
	case *QuantileTransformer:
		// A row all NaN, as the check of quantiles_ found it (a streamed
		// reading, Verify, does not hold them), or as held.
		if slices.Contains(s.nanRows, j) || j < len(s.Quantiles) && len(s.Quantiles[j]) > 0 && allNaN(s.Quantiles[j]) {
			return fmt.Sprintf("quantiles_[%d]", j)
		}
	}
	return ""
}

// allNaN reports whether every entry of xs is NaN.
func allNaN(xs []float64) bool {
	for _, x := range xs {
		if !math.IsNaN(x) {
			return false
		}
	}
	return true
}

// PresenceAfter returns what is known of the output columns of step f
// given what is known of its input columns (in), or nil when nothing is
// (a step whose outputs are not one per input, other than an imputer).
// An imputer's kept columns and indicators have a value on every row; a
// standard scaler's n_samples_seen_ tells of each column; a one-to-one
// step keeps what is known.
func PresenceAfter(f Fitted, in []Presence) []Presence {
	switch s := f.(type) {
	case *SimpleImputer:
		var out []Presence
		for j := range s.Names {
			if s.kept(j) {
				out = append(out, PresenceSome)
			}
		}
		for range s.IndicatorFeatures {
			out = append(out, PresenceSome)
		}
		return out
	case *StandardScaler:
		out := append([]Presence(nil), in...)
		for j, n := range s.NSamplesSeen {
			if j < len(out) {
				if n > 0 {
					out[j] = PresenceSome
				} else {
					out[j] = PresenceNone
				}
			}
		}
		return out
	case *RobustScaler, *PowerTransformer, *MinMaxScaler, *MaxAbsScaler, *QuantileTransformer, *Log1p:
		return append([]Presence(nil), in...)
	}
	return nil
}

// CheckPresence refuses a NaN fitted parameter of step f for an input
// column known to have had values in fit (in[j] PresenceSome), naming it.
func CheckPresence(f Fitted, in []Presence) error {
	for j, p := range in {
		if p != PresenceSome {
			continue
		}
		if path := NaNParam(f, j); path != "" {
			return &PathError{Path: path, Msg: "is NaN, but the step's input column had values in fit (a fit writes NaN only for a column without any value): the step would write the feature empty on every row"}
		}
	}
	return nil
}

// nanTogether refuses a NaN in one of two per-column arrays that a fit
// writes NaN together (for a column without any value) where the other
// holds a number, naming the NaN.
func nanTogether(attrA string, a []float64, attrB string, b []float64) error {
	for j := range min(len(a), len(b)) {
		na, nb := math.IsNaN(a[j]), math.IsNaN(b[j])
		switch {
		case na && !nb:
			return badAt(attrA, j, "is NaN, but %s[%d] is %v: a fit writes both NaN (a column without any value) or neither", attrB, j, b[j])
		case nb && !na:
			return badAt(attrB, j, "is NaN, but %s[%d] is %v: a fit writes both NaN (a column without any value) or neither", attrA, j, a[j])
		}
	}
	return nil
}

// checkNaNs holds a standard scaler's mean_ and var_ to n_samples_seen_:
// a fit writes NaN exactly for a column without any value (0 seen).
func (s *StandardScaler) checkNaNs() error {
	for j, n := range s.NSamplesSeen {
		for _, a := range []struct {
			attr string
			xs   []float64
		}{{"mean_", s.Mean}, {"var_", s.Var}} {
			if j >= len(a.xs) {
				continue
			}
			switch isNaN := math.IsNaN(a.xs[j]); {
			case isNaN && n > 0:
				return badAt(a.attr, j, "is NaN, but n_samples_seen_[%d] is %d: a fit writes NaN only for a column without any value (0 seen); the step would write the feature empty on every row", j, n)
			case !isNaN && n == 0:
				return badAt(a.attr, j, "is %v, but n_samples_seen_[%d] is 0: a fit writes NaN for a column without any value", a.xs[j], j)
			}
		}
	}
	return nil
}

// Pushable reports whether an artifact loader can run f's Transform on a
// few values whatever way it read the artifact: not a step whose large
// fields a streamed reading does not hold (an encoder's categories_, a
// quantile transformer's quantiles_, a KBins discretizer's bin_edges_).
func Pushable(f Fitted) bool {
	_, streamed := f.(streamer)
	return !streamed
}

// OverflowParam returns the path of the fitted parameter of step f that
// maps input column j ("lambdas_[2]", "scale_[2]"), the one to name when
// f turns a value of the column fit took into ±Inf, or "".
func OverflowParam(f Fitted, j int) string {
	attr := ""
	switch s := f.(type) {
	case *PowerTransformer:
		attr = "lambdas_"
	case *StandardScaler:
		if s.Scale != nil {
			attr = "scale_"
		}
	case *RobustScaler:
		if s.Scale != nil {
			attr = "scale_"
		}
	case *MinMaxScaler:
		attr = "scale_"
	case *MaxAbsScaler:
		attr = "scale_"
	}
	if attr == "" {
		return ""
	}
	return fmt.Sprintf("%s[%d]", attr, j)
}
