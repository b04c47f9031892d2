package artifact_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/fit"
	"github.com/normguard/normguard/spec"
	"github.com/normguard/normguard/table"
)

// nanEdit sets entry 0 of the fitted array field of the first step named
// name whose entry is a number to NaN, when pick accepts the step, and
// returns the path the refusal must name ("" when no step applies).
func nanEdit(name, field string, pick func(st map[string]any) bool) func(root map[string]any) string {
	return func(root map[string]any) string {
		return eachStep(root, func(gi, si int, n string, st, _, _ map[string]any) string {
			if n != name || (pick != nil && !pick(st)) {
				return ""
			}
			f := st["fitted"].(map[string]any)
			xs, ok := f[field].([]any)
			if !ok || len(xs) == 0 || xs[0] == "NaN" {
				return ""
			}
			xs[0] = "NaN"
			return fmt.Sprintf("groups[%d].steps[%d].fitted.", gi, si)
		})
	}
}

// afterImputer reports whether groups[gi]'s first step is a simple
// imputer that keeps its first column.
func afterImputer(root map[string]any, gi, si int) bool {
	steps := root["groups"].([]any)[gi].(map[string]any)["steps"].([]any)
	first := steps[0].(map[string]any)
	if si == 0 || first["step"] != "simple_imputer" {
		return false
	}
	stats, _ := first["fitted"].(map[string]any)["statistics_"].([]any)
	return len(stats) > 0 && stats[0] != "NaN"
}

// fitRun27 fits the spec on the CSV data.
func fitRun27(t *testing.T, specYAML, data string) *artifact.Artifact {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "train.csv")
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	sp, err := spec.Parse(strings.NewReader(specYAML), "s.yaml")
	if err != nil {
		t.Fatal(err)
	}
	r, err := table.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	a, err := fit.Fit(context.Background(), sp, r, fit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// run27Chains is an artifact with an imputer before each scaler kind and,
// for each, a column without any value in fit (whose parameters a fit
// writes NaN).
func run27Chains(t *testing.T) *artifact.Artifact {
	kinds := []string{"standard_scaler", "robust_scaler", "power_transformer", "min_max_scaler", "max_abs_scaler", "quantile_transformer", "log1p"}
	var sp, head strings.Builder
	sp.WriteString("version: 1\ncolumns:\n")
	for i, k := range kinds {
		fmt.Fprintf(&sp, "  - name: imp%d\n    steps: [{simple_imputer: {strategy: median}}, %s]\n", i, k)
		fmt.Fprintf(&sp, "  - name: none%d\n    type: numeric\n    steps: [%s]\n", i, k)
		fmt.Fprintf(&head, "imp%d,none%d,", i, i)
	}
	var data strings.Builder
	data.WriteString(head.String() + "z\n")
	for r := range 40 {
		for i := range kinds {
			if r%5 == 0 {
				data.WriteString(",,")
			} else {
				fmt.Fprintf(&data, "%d.%d,,", r+i, r%7)
			}
		}
		fmt.Fprintf(&data, "%d\n", r)
	}
	sp.WriteString("remainder: drop\n")
	return fitRun27(t, sp.String(), data.String())
}

// TestNaNFittedParamsRefused checks attack run 27 F2: a NaN fitted
// parameter where no fit writes one (a column with values in fit) made
// the step write the feature empty on every row, exit 0. Decode and the
// streamed Verify refuse it alike, naming the field; every fitted parity
// artifact (all-missing columns, whose parameters a fit writes NaN,
// included) is accepted.
func TestNaNFittedParamsRefused(t *testing.T) {
	cases := fittedCases(t)
	cases["run27 chains"] = run27Chains(t)
	names := make([]string, 0, len(cases))
	for n := range cases {
		names = append(names, n)
	}
	sort.Strings(names)
	type edit struct {
		what string
		// edit changes the tree and returns the path the refusal must
		// start with, or "".
		edit func(root map[string]any) string
	}
	positive := func(field string) func(st map[string]any) bool {
		return func(st map[string]any) bool {
			xs, _ := st["fitted"].(map[string]any)[field].([]any)
			return len(xs) > 0 && fmt.Sprint(xs[0]) != "0"
		}
	}
	edits := []edit{
		{"standard_scaler mean_ with n_samples_seen_ > 0", nanEdit("standard_scaler", "mean_", positive("n_samples_seen_"))},
		{"standard_scaler var_ with n_samples_seen_ > 0", nanEdit("standard_scaler", "var_", positive("n_samples_seen_"))},
		{"robust_scaler scale_ alone", nanEdit("robust_scaler", "scale_", func(st map[string]any) bool {
			c, _ := st["fitted"].(map[string]any)["center_"].([]any)
			return len(c) > 0 && c[0] != "NaN"
		})},
		{"power_transformer mean_ alone", nanEdit("power_transformer", "mean_", nil)},
		{"min_max_scaler data_max_ alone", nanEdit("min_max_scaler", "data_max_", nil)},
	}
	// A step after an imputer: both of its parameters NaN (as for an
	// all-missing column), where the imputer leaves no missing value.
	for _, name := range []string{"robust_scaler", "power_transformer", "min_max_scaler", "max_abs_scaler"} {
		name := name
		fields := map[string][]string{
			"robust_scaler":     {"center_", "scale_"},
			"power_transformer": {"mean_", "scale_"},
			"min_max_scaler":    {"data_min_", "data_max_", "data_range_", "scale_", "min_"},
			"max_abs_scaler":    {"max_abs_", "scale_"},
		}[name]
		edits = append(edits, edit{name + " all NaN after an imputer", func(root map[string]any) string {
			return eachStep(root, func(gi, si int, n string, st, _, _ map[string]any) string {
				if n != name || !afterImputer(root, gi, si) {
					return ""
				}
				f := st["fitted"].(map[string]any)
				for _, field := range fields {
					if xs, ok := f[field].([]any); ok && len(xs) > 0 {
						xs[0] = "NaN"
					}
				}
				return fmt.Sprintf("groups[%d].steps[%d].fitted.%s[0]: is NaN, but the step's input column had values", gi, si, fields[0])
			})
		}})
	}
	// A quantile transformer's row of quantiles_ all NaN where the
	// imputer before it leaves no missing value.
	edits = append(edits, edit{"quantile_transformer row all NaN after an imputer", func(root map[string]any) string {
		return eachStep(root, func(gi, si int, n string, st, _, _ map[string]any) string {
			if n != "quantile_transformer" || !afterImputer(root, gi, si) {
				return ""
			}
			rows, ok := st["fitted"].(map[string]any)["quantiles_"].([]any)
			if !ok || len(rows) == 0 {
				return ""
			}
			row := rows[0].([]any)
			for i := range row {
				row[i] = "NaN"
			}
			return fmt.Sprintf("groups[%d].steps[%d].fitted.quantiles_[0]: is NaN, but the step's input column had values", gi, si)
		})
	}})
	hits := map[string]int{}
	for _, name := range names {
		base, err := artifact.Encode(cases[name])
		if err != nil {
			t.Fatal(err)
		}
		if _, err := artifact.Decode(base, "a.json"); err != nil {
			t.Errorf("%s: the fitted artifact is refused: %v", name, err)
		}
		var tree any
		dec := json.NewDecoder(bytes.NewReader(base))
		dec.UseNumber()
		if err := dec.Decode(&tree); err != nil {
			t.Fatal(err)
		}
		for _, e := range edits {
			m := copyTree(tree).(map[string]any)
			want := e.edit(m)
			if want == "" {
				continue
			}
			data, ok := reencodeTree(m)
			if !ok {
				t.Errorf("%s, %s: not re-encoded", name, e.what)
				continue
			}
			hits[e.what]++
			decErr, verErr := bothReadings(data)
			switch {
			case decErr == nil || verErr == nil:
				t.Errorf("%s, %s: accepted (Decode: %v, Verify: %v)", name, e.what, decErr, verErr)
			case decErr.Error() != verErr.Error():
				t.Errorf("%s, %s:\n Decode: %v\n Verify: %v", name, e.what, decErr, verErr)
			case !strings.Contains(decErr.Error(), "corrupt artifact: "+want) || !strings.Contains(decErr.Error(), "NaN"):
				t.Errorf("%s, %s: %v, want a refusal of %s naming NaN", name, e.what, decErr, want)
			}
		}
	}
	for _, e := range edits {
		if hits[e.what] == 0 {
			t.Errorf("%s: no parity artifact to edit", e.what)
		}
	}
	t.Logf("edits: %v", hits)
}
