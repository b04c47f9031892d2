package artifact

import (
	"encoding/json"
	"fmt"
	"reflect"

	"github.com/normguard/normguard/step"
)

// MaxNamesBytes bounds each list of column names an artifact holds and
// readers decode whole: the input schema ("inputs"), "passthrough", a
// group's "columns", a step's "inputs" (after a one-hot encoder, its
// output names) and the lists among its fitted parameters
// (feature_names_in_, the same names), measured as the bytes of the value
// in the file before it is decoded, as MaxSpecBytes bounds the spec.
// Decoding costs about four times the bytes (the bytes, the strings, the
// schema the check keeps: 33.9 MB of upload growth for a 7.1 MB input
// schema), so an upload stays within its growth bound. 8 MiB holds about
// 118,000 input columns of 16-byte names (each field takes a 4-line
// object, 71 bytes), or 240,000 names of 20 bytes in a step's inputs: a
// one-hot encoder with more outputs than that can end its group (its
// outputs are read one at a time), not feed another step. fit refuses an
// artifact past the bound before it is written (Save, EncodeChecked).
const MaxNamesBytes = 8 << 20

// maxNamesBytes is MaxNamesBytes, lowered by tests.
var maxNamesBytes int64 = MaxNamesBytes

// namesTooLarge is the refusal of the list of names at path over
// maxNamesBytes.
func namesTooLarge(path string) error {
	return bad(path, "more than the %d bytes a list of column names may hold (artifact.MaxNamesBytes)", maxNamesBytes)
}

// stepInputsTooLarge is namesTooLarge for a step's inputs, placed under
// the step by its reader.
func stepInputsTooLarge() error {
	return step.Under("inputs", fmt.Errorf("more than the %d bytes a list of column names may hold (artifact.MaxNamesBytes); a one-hot encoder with this many outputs must be its group's last step", maxNamesBytes))
}

// fittedListTooLarge is namesTooLarge for a list of names among a
// step's fitted parameters (feature_names_in_: the step's inputs again),
// placed under the step by its reader.
func fittedListTooLarge(field string) error {
	return step.Under("fitted", step.Under(field, fmt.Errorf("more than the %d bytes a list of column names may hold (artifact.MaxNamesBytes); a one-hot encoder with this many outputs must be its group's last step", maxNamesBytes)))
}

// isNameList tells the types of fitted parameters bounded as lists of
// names ([]string, []*string: feature_names_in_ and its like, one entry
// per input column).
func isNameList(t reflect.Type) bool {
	return t.Kind() == reflect.Slice && (t.Elem().Kind() == reflect.String ||
		t.Elem().Kind() == reflect.Pointer && t.Elem().Elem().Kind() == reflect.String)
}

// fittedNameLists returns the JSON keys of the fitted parameters f holds
// as lists of names (isNameList).
func fittedNameLists(f step.Fitted) []string {
	if f == nil {
		return nil
	}
	var keys []string
	for _, fd := range fittedFieldsOf(reflect.TypeOf(f)) {
		keys = append(keys, fd.name)
	}
	return keys
}

// checkFittedLists refuses, as Verify does, fitted parameters (the bytes
// of a step's "fitted" object) holding a list of names past
// maxNamesBytes.
func checkFittedLists(f step.Fitted, fitted []byte) error {
	keys := fittedNameLists(f)
	if len(keys) == 0 {
		return nil
	}
	var raw map[string]inPlace
	if json.Unmarshal(fitted, &raw) != nil {
		return nil // decoding them words the error
	}
	for _, k := range keys {
		if int64(len(raw[k])) > maxNamesBytes {
			return fittedListTooLarge(k)
		}
	}
	return nil
}

// checkNames returns an error naming the first list of names of a whose
// encoding passes maxNamesBytes (what Verify and Decode refuse).
func checkNames(a *Artifact) error {
	size := func(v any, depth int) int64 {
		var n countingWriter
		e := &canonicalEncoder{w: &n}
		e.value(reflect.ValueOf(v), depth)
		return int64(n)
	}
	over := func(path string, v any, depth int) error {
		if n := size(v, depth); n > maxNamesBytes {
			return bad(path, "%d bytes in the artifact, more than the %d a list of column names may hold (artifact.MaxNamesBytes)", n, maxNamesBytes)
		}
		return nil
	}
	if err := over("inputs", a.Inputs, 1); err != nil {
		return err
	}
	for gi, g := range a.Groups {
		if err := over(fmt.Sprintf("groups[%d].columns", gi), g.Columns, 3); err != nil {
			return err
		}
		for si, st := range g.Steps {
			sp := fmt.Sprintf("groups[%d].steps[%d]", gi, si)
			if n := size(st.Inputs, 5); n > maxNamesBytes {
				return bad(sp+".inputs", "%d bytes in the artifact, more than the %d a list of column names may hold (artifact.MaxNamesBytes); give the one-hot encoder before it max_categories or min_frequency, or end the group with the encoder", n, maxNamesBytes)
			}
			if st.Fitted == nil {
				continue
			}
			fv := reflect.ValueOf(st.Fitted)
			for _, fd := range fittedFieldsOf(fv.Type()) {
				if n := size(fv.Elem().Field(fd.index).Interface(), 6); n > maxNamesBytes {
					return bad(sp+".fitted."+fd.name, "%d bytes in the artifact, more than the %d a list of column names may hold (artifact.MaxNamesBytes); give the one-hot encoder before it max_categories or min_frequency, or end the group with the encoder", n, maxNamesBytes)
				}
			}
		}
	}
	return over("passthrough", a.Passthrough, 1)
}

// fittedFieldsOf returns the fields of fitted parameters of type t (a
// pointer to a struct the canonical encoding walks) that are lists of
// names.
func fittedFieldsOf(t reflect.Type) []canonicalField {
	if t.Kind() != reflect.Pointer {
		return nil
	}
	fields, ok := structFields(t.Elem())
	if !ok || ownEncoding(t.Elem()) {
		return nil
	}
	var out []canonicalField
	for _, fd := range fields {
		if isNameList(t.Elem().Field(fd.index).Type) {
			out = append(out, fd)
		}
	}
	return out
}
