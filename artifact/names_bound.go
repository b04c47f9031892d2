package artifact

import (
	"fmt"
	"reflect"

	"github.com/normguard/normguard/step"
)

// MaxNamesBytes bounds each list of column names an artifact holds and
// readers decode whole: the input schema ("inputs"), "passthrough", a
// group's "columns" and a step's "inputs" (after a one-hot encoder, its
// output names), measured as the bytes of the value in the file before it
// is decoded, as MaxSpecBytes bounds the spec. Decoding costs about three
// times the bytes (the bytes, the strings, the schema the check keeps),
// so an upload stays near its flat memory. 8 MiB holds the names of
// about 150,000 input columns (each field takes a 4-line object), or
// 250,000 names in a step's inputs: a one-hot encoder with more outputs
// than that can end its group (its outputs are read one at a time), not
// feed another step. fit refuses an artifact past the bound before it is
// written (Save, EncodeChecked).
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
			if n := size(st.Inputs, 5); n > maxNamesBytes {
				return bad(fmt.Sprintf("groups[%d].steps[%d].inputs", gi, si), "%d bytes in the artifact, more than the %d a list of column names may hold (artifact.MaxNamesBytes); give the one-hot encoder before it max_categories or min_frequency, or end the group with the encoder", n, maxNamesBytes)
			}
		}
	}
	return over("passthrough", a.Passthrough, 1)
}
