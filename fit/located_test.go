package fit

import (
	"strings"
	"testing"

	"github.com/normguard/normguard/spec"
)

// TestInferredTextLocated (attack run 22 note): a scaler on a group whose
// type the spec leaves out, fitted on data where one column holds text,
// was refused as "does not take categorical columns" with no line of the
// spec and no word of which column made the group categorical, nor that
// the type came from the data. The error names the spec file and the
// step's line, the column and its first value that is not a number.
func TestInferredTextLocated(t *testing.T) {
	const specText = "version: 1\ncolumns:\n  - names: [c]\n    steps: [standard_scaler]\n  - names: [a, b]\n    steps:\n      - simple_imputer: {strategy: median}\n      - standard_scaler: {}\n"
	_, err := fitString(t, specText, "a,b,c\n1,2,0\n2,,1\n3,twelve,2\n")
	if err == nil {
		t.Fatal("a median imputer and scaler on a text column were fitted")
	}
	for _, want := range []string{"spec s.yaml:8: columns[1].steps[1].standard_scaler", "does not take categorical columns",
		`inferred from the data: column "b" is categorical, its value "twelve" in data row 3 is not a number`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}

	// A declared type is the user's: refused as the spec is read, at the
	// step's line, with no word of inference.
	_, err = spec.Parse(strings.NewReader("version: 1\ncolumns:\n  - names: [a]\n    type: categorical\n    steps: [standard_scaler]\n"), "s.yaml")
	if err == nil || !strings.Contains(err.Error(), "spec s.yaml:5: columns[0].steps[0].standard_scaler") || strings.Contains(err.Error(), "inferred") {
		t.Errorf("declared categorical: got %v, want the step's line and no word of inference", err)
	}
}

// TestEncoderAfterEmptyColumnImputer (attack run 29 F4): an all-missing
// categorical through a most_frequent imputer (which drops it, as
// scikit-learn's does) and an encoder was refused naming column "" and "no
// row of training data". The error says the imputer dropped the column and
// what to do.
func TestEncoderAfterEmptyColumnImputer(t *testing.T) {
	_, err := fitString(t, "version: 1\ncolumns:\n  - name: c\n    type: categorical\n    steps: [{simple_imputer: {strategy: most_frequent}}, ordinal_encoder]\n  - name: x\n    steps: [standard_scaler]\n", "c,x\n,1\n,2\n,3\n")
	if err == nil || !strings.Contains(err.Error(), "no column reaches this step") || !strings.Contains(err.Error(), "keep_empty_features") || strings.Contains(err.Error(), `column ""`) {
		t.Errorf("got %v; want the dropped column and keep_empty_features named", err)
	}
}
