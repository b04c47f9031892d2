package artifact

import (
	"fmt"
	"reflect"

	"github.com/normguard/normguard/step"
)

// A step's fitted parameters hold, besides lists of names (MaxNamesBytes)
// and the fields a streamed reading feeds to its checks entry by entry
// (categories, quantiles, bin edges), arrays of one entry per input
// column: a scaler's scale_ and mean_, a KBins discretizer's n_bins_, a
// one-hot encoder's drop_idx_, an imputer's indicator_features_. No valid
// artifact has a step with more input columns than it has outputs (every
// step gives each input at least one output), so each such array holds at
// most MaxOutputs entries, and both readers refuse a longer one by its
// path before holding more: Verify as it reads the array entry by entry,
// Decode before the step's rules run.

// fittedTooLong is the refusal of the fitted parameter field holding
// more than maxOutputs entries, placed under the step by its reader.
func fittedTooLong(field string) error {
	return step.Under("fitted", step.Under(field, fmt.Errorf("more than the %d entries a fitted array may hold (artifact.MaxOutputs: one per input column)", maxOutputs)))
}

// isEntryList tells the types of fitted parameters bounded by their
// entries besides step.Floats: slices of numbers, booleans or pointers to
// them (n_bins_, drop_idx_, indicator_features_, n_samples_seen_).
func isEntryList(t reflect.Type) bool {
	if t.Kind() != reflect.Slice || t == floatsType {
		return false
	}
	e := t.Elem()
	if e.Kind() == reflect.Pointer {
		e = e.Elem()
	}
	switch e.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return true
	}
	return false
}

// checkFittedEntries refuses, as Verify does, decoded fitted parameters f
// (configured by p) holding an array of more than maxOutputs entries
// among those Verify counts (step.Floats and isEntryList's types, not
// fed to a streamed check), in the order of their fields.
func checkFittedEntries(p step.Params, f step.Fitted) error {
	t := reflect.TypeOf(f)
	if t == nil || t.Kind() != reflect.Pointer || ownEncoding(t.Elem()) {
		return nil
	}
	fields, ok := structFields(t.Elem())
	if !ok {
		return nil
	}
	sc := step.NewStreamedCheck(p, f)
	s := reflect.ValueOf(f).Elem()
	for _, fd := range fields {
		if sc != nil && (sc.Categories(fd.name) != nil || sc.Floats(fd.name) != nil) {
			continue
		}
		fv := s.Field(fd.index)
		if (fv.Type() == floatsType || isEntryList(fv.Type())) && fv.Len() > maxOutputs {
			return fittedTooLong(fd.name)
		}
	}
	return nil
}
