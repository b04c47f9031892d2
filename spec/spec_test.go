package spec

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

const yamlSpec = `version: 1
remainder: passthrough
columns:
  - names: [age, income]
    type: numeric
    steps:
      - simple_imputer: {strategy: median}
      - standard_scaler: {}
  - name: city
    type: categorical
    steps:
      - simple_imputer: {strategy: most_frequent}
      - one_hot_encoder: {handle_unknown: ignore}
`

const jsonSpec = `{"version": 1, "remainder": "passthrough", "columns": [
 {"names": ["age", "income"], "type": "numeric",
  "steps": [{"simple_imputer": {"strategy": "median"}}, {"standard_scaler": {}}]},
 {"name": "city", "type": "categorical",
  "steps": [{"simple_imputer": {"strategy": "most_frequent"}}, {"one_hot_encoder": {"handle_unknown": "ignore"}}]}]}`

func TestParseYAMLAndJSONAgree(t *testing.T) {
	y, err := Parse(strings.NewReader(yamlSpec), "s.yaml")
	if err != nil {
		t.Fatal(err)
	}
	j, err := Parse(strings.NewReader(jsonSpec), "s.json")
	if err != nil {
		t.Fatal(err)
	}
	yb, _ := json.Marshal(y)
	jb, _ := json.Marshal(j)
	if string(yb) != string(jb) {
		t.Fatalf("YAML and JSON specs differ:\n%s\n%s", yb, jb)
	}
	if got := y.Columns[1].Names; len(got) != 1 || got[0] != "city" {
		t.Fatalf("name: got %v, want [city]", got)
	}
	if y.Remainder != RemainderPassthrough {
		t.Fatalf("remainder: got %q, want passthrough", y.Remainder)
	}
	// scikit-learn's defaults are filled in.
	if !strings.Contains(string(yb), `"with_mean":true`) || !strings.Contains(string(yb), `"add_indicator":false`) {
		t.Fatalf("defaults not filled in: %s", yb)
	}
	// The encoded spec parses back to the same spec.
	back, err := Parse(strings.NewReader(string(yb)), "back.json")
	if err != nil {
		t.Fatal(err)
	}
	bb, _ := json.Marshal(back)
	if string(bb) != string(yb) {
		t.Fatalf("round trip changed the spec:\n%s\n%s", bb, yb)
	}
}

func TestParseDefaults(t *testing.T) {
	sp, err := Parse(strings.NewReader("version: 1\ncolumns:\n  - name: x\n    steps: [standard_scaler]\n"), "")
	if err != nil {
		t.Fatal(err)
	}
	if sp.Remainder != RemainderDrop {
		t.Errorf("remainder: got %q, want drop", sp.Remainder)
	}
	if sp.Columns[0].Type != "" {
		t.Errorf("type: got %q, want empty (inferred later)", sp.Columns[0].Type)
	}
	if sp.Columns[0].Steps[0].Name != "standard_scaler" {
		t.Errorf("bare step name: got %q", sp.Columns[0].Steps[0].Name)
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct {
		name, spec string
		want       []string
		is         error
	}{
		{"empty", "", []string{"empty file"}, ErrInvalid},
		{"not a mapping", "- 1\n- 2\n", []string{"mapping"}, ErrInvalid},
		{"bad yaml", "version: 1\ncolumns: [\n", []string{"not valid YAML"}, ErrInvalid},
		{"no version", "columns:\n  - name: x\n", []string{"version", "missing"}, ErrInvalid},
		{"newer version", "version: 2\ncolumns:\n  - name: x\n", []string{":1", "version 2"}, ErrInvalid},
		{"no columns", "version: 1\n", []string{"columns"}, ErrInvalid},
		{"unknown top field", "version: 1\ncolums: []\n", []string{":2", "colums", "unknown field"}, ErrInvalid},
		{"bad remainder", "version: 1\nremainder: keep\ncolumns:\n  - name: x\n", []string{":2", "remainder", `"keep"`}, ErrInvalid},
		{"name and names", "version: 1\ncolumns:\n  - name: x\n    names: [y]\n", []string{"columns[0].names", "not both"}, ErrInvalid},
		{"no name", "version: 1\ncolumns:\n  - type: numeric\n", []string{":3", "columns[0]", "name"}, ErrInvalid},
		{"bad type", "version: 1\ncolumns:\n  - name: x\n    type: text\n", []string{":4", "columns[0].type", `"text"`}, ErrInvalid},
		{"unknown step", "version: 1\ncolumns:\n  - name: x\n    steps:\n      - zscore: {}\n", []string{":5", "columns[0].steps[0]", `"zscore"`, "standard_scaler"}, ErrInvalid},
		{"unknown parameter", "version: 1\ncolumns:\n  - name: x\n    steps:\n      - standard_scaler: {mean: false}\n", []string{":5", "standard_scaler", `"mean"`, "with_mean"}, ErrInvalid},
		{"parameter type", "version: 1\ncolumns:\n  - name: x\n    steps:\n      - standard_scaler: {with_std: 3}\n", []string{"with_std", "expected true or false, got a number"}, ErrInvalid},
		{"params not a mapping", "version: 1\ncolumns:\n  - name: x\n    steps:\n      - standard_scaler: [1]\n", []string{":5", "mapping"}, ErrInvalid},
		{"two keys in a step", "version: 1\ncolumns:\n  - name: x\n    steps:\n      - {standard_scaler: {}, log1p: {}}\n", []string{"one-key"}, ErrInvalid},
		{"column in two groups", "version: 1\ncolumns:\n  - name: x\n  - names: [y, x]\n", []string{"columns[1].names", `"x"`, "columns[0]"}, ErrInvalid},
		{"imputer after scaler", "version: 1\ncolumns:\n  - name: x\n    steps:\n      - standard_scaler: {}\n      - simple_imputer: {}\n",
			[]string{"columns[0].steps[1].simple_imputer", "after standard_scaler", "impute first"}, ErrImputeOrder},
		{"imputer after encoder", "version: 1\ncolumns:\n  - name: c\n    type: categorical\n    steps:\n      - one_hot_encoder: {}\n      - simple_imputer: {strategy: most_frequent}\n",
			[]string{"columns[0].steps[1].simple_imputer", "after one_hot_encoder"}, ErrImputeOrder},
		{"encoder on numeric", "version: 1\ncolumns:\n  - name: x\n    type: numeric\n    steps:\n      - ordinal_encoder: {}\n", []string{"ordinal_encoder", "numeric"}, ErrInvalid},
		{"an artifact", `{"format": "normguard.artifact/v1", "format_version": 1, "digest": "sha256:00", "spec": {"version": 1, "columns": [{"name": "x"}]}}`,
			[]string{"this is an artifact", "--artifact"}, ErrInvalid},
		// Attack run 4 (F8): keys given twice were taken, both chains fitted or the last value used.
		{"steps twice", "version: 1\ncolumns:\n  - names: [x]\n    type: numeric\n    steps: [standard_scaler: {}]\n    steps: [min_max_scaler: {}]\n",
			[]string{":6", "steps", "given twice", "first at line 5"}, ErrInvalid},
		{"parameter twice", "version: 1\ncolumns:\n  - names: [x]\n    steps: [min_max_scaler: {feature_range: [0, 1], feature_range: [-1, 1]}]\n",
			[]string{":4", "feature_range", "given twice"}, ErrInvalid},
		{"version twice, JSON", `{"version": 1, "version": 1, "columns": [{"name": "x"}]}`, []string{"version", "given twice"}, ErrInvalid},
		{"steps twice, JSON", `{"version": 1, "columns": [{"names": ["x"], "steps": [{"standard_scaler": {}}], "steps": [{"min_max_scaler": {}}]}]}`,
			[]string{"steps", "given twice"}, ErrInvalid},
		{"scaler on categorical", "version: 1\ncolumns:\n  - name: x\n    type: categorical\n    steps:\n      - standard_scaler: {}\n", []string{"standard_scaler", "categorical", "encode"}, ErrInvalid},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(strings.NewReader(tc.spec), "s.yaml")
			if err == nil {
				t.Fatalf("got no error, want one mentioning %v", tc.want)
			}
			var se *Error
			if !errors.As(err, &se) {
				t.Fatalf("got %T, want *spec.Error", err)
			}
			if !errors.Is(err, tc.is) {
				t.Errorf("error %q does not wrap %v", err, tc.is)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

// A spec written by Python's json.dump escapes characters above U+FFFF as
// surrogate pairs; it is valid JSON and must parse to the character itself.
func TestParseJSONSurrogatePairs(t *testing.T) {
	sp, err := ParseFile("testdata/surrogate/json_dump.json")
	if err != nil {
		t.Fatal(err)
	}
	got := sp.Columns[0].Names
	want := []string{"\U0001F600 score", `\ud83d literal`}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("names: got %q, want %q", got, want)
	}
	// Lines stay where they were: an error after the pair names line 3.
	bad := "{\"version\": 1,\n \"columns\": [{\"names\": [\"\\ud83d\\ude00\"], \"type\": \"numeric\",\n \"steps\": [\"no_such_step\"]}]}"
	_, err = Parse(strings.NewReader(bad), "b.json")
	var se *Error
	if !errors.As(err, &se) || se.Line != 3 {
		t.Fatalf("got %v, want an error on line 3", err)
	}
}
