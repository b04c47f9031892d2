package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBadInputs runs the corpus in testdata/bad: every case must exit 2
// with a message naming the file and the line, column or field, and leave
// no output behind.
func TestBadInputs(t *testing.T) {
	dir := t.TempDir()
	good := fitGood(t, dir)
	flipped := filepath.Join(dir, "flipped.json")
	b := readFile(t, good)
	i := strings.Index(string(b), `"mean_"`)
	i += strings.IndexAny(string(b[i:]), "123456789")
	b[i] ^= 1 // one digit of a fitted mean changes
	os.WriteFile(flipped, b, 0o644)

	fitCase := func(specFile, data string) []string {
		return []string{"fit", "--spec", specFile, "--data", data}
	}
	transformCase := func(art, in string) []string {
		return []string{"transform", "--artifact", art, "--in", in}
	}
	cases := []struct {
		name string
		args []string
		want []string // substrings of stderr
	}{
		{"ragged short row", fitCase(bad("good.yaml"), bad("ragged_short.csv")), []string{"ragged_short.csv:3", "3", "2"}},
		{"ragged long row", transformCase(good, bad("ragged_long.csv")), []string{"ragged_long.csv:3"}},
		{"text in numeric column", fitCase(bad("good.yaml"), bad("text_in_numeric.csv")), []string{"text_in_numeric.csv:3", `"income"`, `"lots"`}},
		{"text in numeric column at transform", transformCase(good, bad("text_in_numeric.csv")), []string{"text_in_numeric.csv:3", `"income"`}},
		{"empty file", fitCase(bad("good.yaml"), bad("empty.csv")), []string{"empty.csv", "empty"}},
		{"header only", fitCase(bad("good.yaml"), bad("header_only.csv")), []string{"header_only.csv", "no rows"}},
		{"duplicate column names", fitCase(bad("good.yaml"), bad("duplicate_header.csv")), []string{"duplicate_header.csv", `"age"`}},
		{"unterminated quote", fitCase(bad("good.yaml"), bad("unterminated_quote.csv")), []string{"unterminated_quote.csv:2", "quote"}},
		{"infinite value", fitCase(bad("good.yaml"), bad("infinite.csv")), []string{"infinite.csv:2", `"income"`, "infinite"}},
		{"unseen category with handle_unknown=error", transformCase(filepath.Join(dir, "strict.json"), bad("unseen_category.csv")), []string{"unseen_category.csv:2", `"city"`, `"tokyo"`}},
		{"column missing at transform", transformCase(good, bad("missing_column.csv")), []string{"missing_column.csv", `"income"`}},
		{"spec names absent column", fitCase(bad("absent_column.yaml"), bad("train.csv")), []string{"train.csv", `"salary"`}},
		{"bad yaml", fitCase(bad("bad_yaml.yaml"), bad("train.csv")), []string{"bad_yaml.yaml", "line"}},
		{"unknown step", fitCase(bad("unknown_step.yaml"), bad("train.csv")), []string{"unknown_step.yaml:5", "columns[0].steps[0]", `"standard_scalar"`}},
		{"unknown parameter", fitCase(bad("unknown_param.yaml"), bad("train.csv")), []string{"unknown_param.yaml:5", "standard_scaler", "with_centre", "with_mean"}},
		{"wrong parameter type", fitCase(bad("wrong_param_type.yaml"), bad("train.csv")), []string{"wrong_param_type.yaml:5", "with_mean", "expected true or false, got a string"}},
		{"imputer after scaler", fitCase(bad("impute_after_scale.yaml"), bad("train.csv")), []string{"impute_after_scale.yaml", "columns[0].steps[1].simple_imputer", "before"}},
		{"newer spec version", fitCase(bad("newer_version.yaml"), bad("train.csv")), []string{"newer_version.yaml:1", "version 7"}},
		{"encoder on numeric column", fitCase(bad("encoder_on_numeric.yaml"), bad("train.csv")), []string{"encoder_on_numeric.yaml", "one_hot_encoder", "numeric"}},
		{"missing spec file", fitCase(bad("no_such.yaml"), bad("train.csv")), []string{"no_such.yaml"}},
		{"missing data file", fitCase(bad("good.yaml"), bad("no_such.csv")), []string{"no_such.csv"}},
		{"unsupported data format", fitCase(bad("good.yaml"), bad("good.yaml")), []string{"good.yaml", ".csv"}},
		{"foreign artifact", transformCase(bad("foreign_artifact.json"), bad("train.csv")), []string{"foreign_artifact.json", "not a normguard artifact"}},
		{"newer artifact format", transformCase(bad("newer_artifact.json"), bad("train.csv")), []string{"newer_artifact.json", "version 99", "upgrade"}},
		{"garbage artifact", transformCase(bad("garbage_artifact.json"), bad("train.csv")), []string{"garbage_artifact.json", "corrupt artifact"}},
		{"changed artifact", transformCase(flipped, bad("train.csv")), []string{"flipped.json", "digest mismatch"}},
		{"missing flag", []string{"fit", "--spec", bad("good.yaml")}, []string{"--data"}},
		{"unknown flag", []string{"fit", "--specc", "x"}, []string{"specc"}},
		{"unknown command", []string{"fitt"}, []string{"fitt"}},
	}
	strictSpec := filepath.Join(dir, "strict.yaml")
	os.WriteFile(strictSpec, []byte(strings.Replace(string(readFile(t, bad("good.yaml"))), "handle_unknown: ignore", "handle_unknown: error", 1)), 0o644)
	mustRun(t, "fit", "-q", "--spec", strictSpec, "--data", bad("train.csv"), "--out", filepath.Join(dir, "strict.json"))

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out := t.TempDir()
			outFile := filepath.Join(out, "result.csv")
			if tc.args[0] == "fit" {
				outFile = filepath.Join(out, "result.json")
			}
			args := append(append([]string{}, tc.args...), "--out", outFile)
			if tc.args[0] == "fitt" {
				args = tc.args
			}
			code, _, errOut := runCLI(t, args...)
			if code != ExitError {
				t.Fatalf("exit %d, want %d; stderr: %s", code, ExitError, errOut)
			}
			for _, w := range tc.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr %q does not mention %q", strings.TrimSpace(errOut), w)
				}
			}
			if left := dirEntries(t, out); len(left) != 0 {
				t.Errorf("left files behind: %v", left)
			}
		})
	}
}
