package artifact_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"testing"

	"github.com/normguard/normguard/artifact"
)

// setFirst sets entry 0 of fitted field of the first step named name in
// a group whose first column the profile counts values of (pick decides
// on the step's position), to v; it returns the refusal's path prefix.
func setFirst(name, field string, v any, firstStep bool, want string) func(root map[string]any) string {
	return func(root map[string]any) string {
		counts := map[string]string{}
		if p, ok := root["profile"].(map[string]any); ok {
			for _, f := range p["inputs"].([]any) {
				m := f.(map[string]any)
				counts[m["name"].(string)] = fmt.Sprint(m["count"])
			}
		}
		return eachStep(root, func(gi, si int, n string, st, _, _ map[string]any) string {
			if n != name || (si == 0) != firstStep {
				return ""
			}
			g := root["groups"].([]any)[gi].(map[string]any)
			col := g["columns"].([]any)[0].(string)
			if c, ok := counts[col]; !ok || c == "0" {
				return ""
			}
			f := st["fitted"].(map[string]any)
			xs, ok := f[field].([]any)
			if !ok || len(xs) == 0 || xs[0] == "NaN" {
				return ""
			}
			xs[0] = v
			if name == "robust_scaler" && v == "NaN" {
				if c, ok := f["scale_"].([]any); ok && len(c) > 0 {
					c[0] = "NaN" // both NaN, as a fit writes for a column without values
				}
			}
			if name == "power_transformer" && v == "NaN" {
				if c, ok := f["scale_"].([]any); ok && len(c) > 0 {
					c[0] = "NaN"
				}
			}
			return fmt.Sprintf("groups[%d].steps[%d].fitted.%s[0]: %s", gi, si, field, want)
		})
	}
}

// TestTrainingPushRefused checks attack run 27 F3 (and F2 for a group's
// first step): parameters that turn the artifact's own training data into
// ±Inf (an imputer's statistic +Infinity, a power transformer's lambda
// 1e308, a robust scaler's scale 1e-308), or a NaN parameter for a column
// the profile counts values of, are refused by Decode and the streamed
// Verify alike, naming the field, where transform blamed the data; every
// fitted parity artifact is accepted by both.
func TestTrainingPushRefused(t *testing.T) {
	cases := fittedCases(t)
	cases["run27 chains"] = run27Chains(t)
	names := make([]string, 0, len(cases))
	for n := range cases {
		names = append(names, n)
	}
	sort.Strings(names)
	type edit struct {
		what string
		edit func(root map[string]any) string
	}
	turns := "turns the training data into a number past float64's range"
	hadValues := "is NaN, but the step's input column had values"
	edits := []edit{
		{"imputer statistics_ +Infinity", setFirst("simple_imputer", "statistics_", "Infinity", true, "must be finite, got +Inf")},
		{"power_transformer lambdas_ 1e308", setFirst("power_transformer", "lambdas_", json.Number("1e308"), true, turns)},
		{"robust_scaler scale_ 1e-308", setFirst("robust_scaler", "scale_", json.Number("1e-308"), true, turns)},
		{"robust_scaler scale_ 1e-308 after a step", setFirst("robust_scaler", "scale_", json.Number("1e-308"), false, turns)},
		{"robust_scaler center_ and scale_ NaN, first step", setFirst("robust_scaler", "center_", "NaN", true, hadValues)},
		{"power_transformer mean_ and scale_ NaN, first step", setFirst("power_transformer", "mean_", "NaN", true, hadValues)},
	}
	hits := map[string]int{}
	for _, name := range names {
		base, err := artifact.Encode(cases[name])
		if err != nil {
			t.Fatal(err)
		}
		if _, err := artifact.Decode(base, "a.json"); err != nil {
			t.Errorf("%s: the fitted artifact is refused by Decode: %v", name, err)
		}
		restore := artifact.SetDecodeFallbackSizeForTest(0)
		_, err = artifact.Verify(bytes.NewReader(base), int64(len(base)), "a.json")
		restore()
		if err != nil {
			t.Errorf("%s: the fitted artifact is refused by Verify: %v", name, err)
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
			refusedAlike(t, name+", "+e.what, data, want)
		}
	}
	for _, e := range edits {
		if hits[e.what] == 0 {
			t.Errorf("%s: no parity artifact to edit", e.what)
		}
	}
	t.Logf("edits: %v", hits)
}
