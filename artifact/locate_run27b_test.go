package artifact

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
)

// TestDecodeRefusalNamesPath (attack run 27 F5 a, b): a value the decoder
// refuses without a path — a spec step's parameter of another type or
// unknown, a step of two keys, a profile count of another JSON type, a
// profile number or list element that is not a number — is refused by
// Decode and Verify naming its JSON path, with indices.
func TestDecodeRefusalNamesPath(t *testing.T) {
	data, err := Encode(profiled(t))
	if err != nil {
		t.Fatal(err)
	}
	nth := func(re string, n int, repl string) func([]byte) []byte {
		return func(b []byte) []byte {
			r := regexp.MustCompile(re)
			locs := r.FindAllIndex(b, -1)
			if len(locs) <= n {
				t.Fatalf("%s: %d matches", re, len(locs))
			}
			l := locs[n]
			return append(append(append([]byte{}, b[:l[0]]...), repl...), b[l[1]:]...)
		}
	}
	for _, tc := range []struct {
		name, path, msg string
		edit            func([]byte) []byte
	}{
		{"param of another type", "spec.columns[0].steps[1].binarizer.threshold", "not a number",
			nth(`"threshold": 0.5`, 0, `"threshold": "0.5"`)},
		{"step name of another type", "spec.columns[0].steps[0]", "exactly one key",
			nth(`"log1p": \{\}`, 0, `"log1p": {}, "zz": 1`)},
		{"unknown param", "spec.columns[0].steps[1].binarizer.zz", "unknown parameter for binarizer",
			nth(`"threshold": 0.5`, 0, `"threshold": 0.5, "zz": 1`)},
		{"params not an object", "spec.columns[0].steps[1].binarizer", "parameters must be an object",
			nth(`"binarizer": \{\s*"threshold": 0.5\s*\}`, 0, `"binarizer": []`)},
		{"step of two keys", "spec.columns[0].steps[0]", "exactly one key",
			nth(`"log1p": \{\}`, 0, `"log1p": {}, "binarizer": {}`)},
		{"profile count a bool", "profile.inputs[0].missing", "a JSON bool where an artifact holds a whole number",
			nth(`"missing": [0-9]+`, 0, `"missing": true`)},
		{"output profile count a string", "profile.outputs[1].count", "a JSON string where an artifact holds a whole number",
			nth(`"count": [0-9]+`, 3, `"count": "300"`)},
		{"profile number a string", "profile.inputs[0].mean", "not a number",
			nth(`"mean": [-0-9.e]+`, 0, `"mean": "1.5"`)},
		{"profile list element", "profile.inputs[0].quantiles[5]", "not a number",
			nth(`"quantiles": \[\s*[-0-9.e]+,\s*[-0-9.e]+,\s*[-0-9.e]+,\s*[-0-9.e]+,\s*[-0-9.e]+,\s*[-0-9.e]+`, 0,
				`"quantiles": [0, 0, 0, 0, 0, true`)},
	} {
		edited := tc.edit(data)
		_, derr := Decode(edited, "a.json")
		_, verr := Verify(bytes.NewReader(edited), int64(len(edited)), "a.json")
		for i, err := range []error{derr, verr} {
			if err == nil || !strings.Contains(err.Error(), "corrupt artifact: "+tc.path+": ") || !strings.Contains(err.Error(), tc.msg) ||
				strings.Contains(err.Error(), "json: cannot unmarshal") {
				t.Errorf("%s (%s): got %v, want a refusal at %s saying %q", tc.name, []string{"Decode", "Verify"}[i], err, tc.path, tc.msg)
			}
		}
	}
}
