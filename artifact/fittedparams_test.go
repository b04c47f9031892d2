package artifact_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/normguard/normguard/artifact"
)

// paramsEdit is an edit of a fitted parity artifact's tree that a fit
// never writes: a fitted field that repeats a parameter changed alone, a
// parameter changed in the step's params and the spec together (the
// fitted field left as it was), or a spec-level field. want is the path
// the refusal must name (after "corrupt artifact: "), and how it starts.
type paramsEdit struct {
	what string
	// edit changes the tree and returns what the refusal must start
	// with, or "" when the edit does not apply to this artifact.
	edit func(root map[string]any) string
}

// stepAt returns groups[gi].steps[si] of the tree and its spec entry's
// parameters.
func stepAt(root map[string]any, gi, si int) (st, params, specParams map[string]any) {
	g := root["groups"].([]any)[gi].(map[string]any)
	st = g["steps"].([]any)[si].(map[string]any)
	sg := root["spec"].(map[string]any)["columns"].([]any)[gi].(map[string]any)
	ss := sg["steps"].([]any)[si].(map[string]any)
	return st, st["params"].(map[string]any), ss[st["step"].(string)].(map[string]any)
}

// eachStep calls fn for every step of the tree until it returns a
// non-empty verdict.
func eachStep(root map[string]any, fn func(gi, si int, name string, st, params, specParams map[string]any) string) string {
	for gi, g := range root["groups"].([]any) {
		for si := range g.(map[string]any)["steps"].([]any) {
			st, p, sp := stepAt(root, gi, si)
			if v := fn(gi, si, st["step"].(string), st, p, sp); v != "" {
				return v
			}
		}
	}
	return ""
}

// fittedEdit changes fitted field field of the first step named name to
// which to gives it a new value (ok).
func fittedEdit(name, field string, to func(v any) (any, bool)) func(root map[string]any) string {
	return func(root map[string]any) string {
		return eachStep(root, func(gi, si int, n string, st, _, _ map[string]any) string {
			f := st["fitted"].(map[string]any)
			if n != name {
				return ""
			}
			v, ok := f[field]
			if !ok {
				return ""
			}
			nv, ok := to(v)
			if !ok {
				return ""
			}
			f[field] = nv
			return fmt.Sprintf("groups[%d].steps[%d].fitted.%s", gi, si, field)
		})
	}
}

// paramEdit changes parameter param of the first step named name to
// which to gives it a new value (ok), in its params and the spec
// together; the refusal names fitted field field (a prefix of the path).
func paramEdit(name, param, field string, to func(v any) (any, bool)) func(root map[string]any) string {
	return func(root map[string]any) string {
		return eachStep(root, func(gi, si int, n string, _, p, sp map[string]any) string {
			if n != name {
				return ""
			}
			nv, ok := to(p[param])
			if !ok {
				return ""
			}
			p[param], sp[param] = nv, nv
			return fmt.Sprintf("groups[%d].steps[%d].fitted.%s", gi, si, field)
		})
	}
}

func flip(v any) (any, bool) {
	b, ok := v.(bool)
	return !b, ok
}

// toFalse turns true into false (the other way, Check's own rules on the
// fields a flag asks for come first).
func toFalse(v any) (any, bool) { return false, v == true }

func swap(a, b string) func(v any) (any, bool) {
	return func(v any) (any, bool) {
		switch v {
		case a:
			return b, true
		case b:
			return a, true
		}
		return nil, false
	}
}

func to(x any) func(any) (any, bool) { return func(any) (any, bool) { return x, true } }

var paramsEdits = []paramsEdit{
	{"fitted with_mean", fittedEdit("standard_scaler", "with_mean", flip)},
	{"fitted with_std", fittedEdit("standard_scaler", "with_std", toFalse)},
	{"fitted clip", fittedEdit("min_max_scaler", "clip", flip)},
	{"fitted feature_range", fittedEdit("min_max_scaler", "feature_range", to([]any{json.Number("0"), json.Number("2")}))},
	{"fitted output_distribution", fittedEdit("quantile_transformer", "output_distribution", swap("uniform", "normal"))},
	{"fitted norm", fittedEdit("normalizer", "norm", swap("l1", "l2"))},
	{"fitted method", fittedEdit("power_transformer", "method", swap("yeo-johnson", "box-cox"))},
	{"fitted encode", fittedEdit("kbins_discretizer", "encode", swap("ordinal", "onehot-dense"))},
	{"fitted float32", fittedEdit("kbins_discretizer", "float32", flip)},
	{"fitted one-hot handle_unknown", fittedEdit("one_hot_encoder", "handle_unknown", swap("ignore", "error"))},
	{"fitted ordinal encoded_missing_value", fittedEdit("ordinal_encoder", "encoded_missing_value", to(json.Number("-7")))},
	{"fitted indicator_features_", fittedEdit("simple_imputer", "indicator_features_", func(v any) (any, bool) {
		if v == nil {
			return []any{}, true
		}
		return nil, true
	})},
	{"fitted threshold", fittedEdit("binarizer", "threshold", to(json.Number("12345.5")))},
	{"params with_std", paramEdit("standard_scaler", "with_std", "with_std", flip)},
	{"params clip", paramEdit("min_max_scaler", "clip", "clip", flip)},
	{"params output_distribution", paramEdit("quantile_transformer", "output_distribution", "output_distribution", swap("uniform", "normal"))},
	{"params norm", paramEdit("normalizer", "norm", "norm", swap("l1", "l2"))},
	{"params method", paramEdit("power_transformer", "method", "method", swap("yeo-johnson", "box-cox"))},
	{"params encode", paramEdit("kbins_discretizer", "encode", "encode", swap("ordinal", "onehot"))},
	{"params handle_unknown", paramEdit("one_hot_encoder", "handle_unknown", "handle_unknown", swap("ignore", "error"))},
	{"params drop", paramEdit("one_hot_encoder", "drop", "drop_idx_", func(v any) (any, bool) { return "first", v == nil })},
	{"params min_frequency", func(root map[string]any) string {
		return eachStep(root, func(gi, si int, n string, _, p, sp map[string]any) string {
			if n != "one_hot_encoder" {
				return ""
			}
			want := fmt.Sprintf("groups[%d].steps[%d].fitted.infrequent_categories_: ", gi, si)
			if p["min_frequency"] == nil && p["max_categories"] == nil {
				p["min_frequency"], sp["min_frequency"] = json.Number("1000"), json.Number("1000")
				return want + "is missing"
			}
			p["min_frequency"], sp["min_frequency"] = nil, nil
			p["max_categories"], sp["max_categories"] = nil, nil
			return want + "is set"
		})
	}},
	{"params max_categories 2", func(root map[string]any) string {
		return eachStep(root, func(gi, si int, n string, _, p, sp map[string]any) string {
			if n != "one_hot_encoder" || p["max_categories"] == nil || p["max_categories"] == json.Number("2") {
				return ""
			}
			p["max_categories"], sp["max_categories"] = json.Number("2"), json.Number("2")
			return fmt.Sprintf("groups[%d].steps[%d].fitted.categories_[", gi, si)
		})
	}},
	{"params with_centering", paramEdit("robust_scaler", "with_centering", "center_", flip)},
	{"params add_indicator", paramEdit("simple_imputer", "add_indicator", "indicator_features_", flip)},
	{"params strategy constant", paramEdit("simple_imputer", "strategy", "statistics", func(v any) (any, bool) { return "constant", v != "constant" })},
	{"spec version 2", func(root map[string]any) string {
		root["spec"].(map[string]any)["version"] = json.Number("2")
		return "spec.version: is 2; only spec version 1 exists"
	}},
	{"spec remainder", func(root map[string]any) string {
		root["spec"].(map[string]any)["remainder"] = "keep"
		return "spec.remainder"
	}},
	{"spec type", func(root map[string]any) string {
		g := root["spec"].(map[string]any)["columns"].([]any)[0].(map[string]any)
		v, ok := swap("numeric", "categorical")(g["type"])
		if !ok {
			return ""
		}
		g["type"] = v
		return "groups[0].type"
	}},
	{"an input nothing reads", func(root map[string]any) string {
		ins := root["inputs"].([]any)
		root["inputs"] = append(ins, map[string]any{"name": "zz_unread", "type": "numeric"})
		return fmt.Sprintf("inputs[%d]: \"zz_unread\" is neither a column of the spec nor passed through", len(ins))
	}},
}

// TestFittedParamsDisagreementRefused edits every fitted parity artifact
// with paramsEdits and requires Decode and the streamed Verify to refuse
// each with the same message, naming the field; the artifacts themselves
// (every step kind and parameter style a fit writes) are accepted.
func TestFittedParamsDisagreementRefused(t *testing.T) {
	cases := fittedCases(t)
	names := make([]string, 0, len(cases))
	for n := range cases {
		names = append(names, n)
	}
	sort.Strings(names)
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
		for _, e := range paramsEdits {
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
	for _, e := range paramsEdits {
		if hits[e.what] == 0 {
			t.Errorf("%s: no parity artifact to edit", e.what)
		}
	}
	t.Logf("edits: %v", hits)
}

// bothReadings reads data with Decode and with the streamed Verify (no
// fallback to a whole decoding) and returns their errors.
func bothReadings(data []byte) (decErr, verErr error) {
	_, decErr = artifact.Decode(data, "m.json")
	restore := artifact.SetDecodeFallbackSizeForTest(0)
	defer restore()
	_, verErr = artifact.Verify(bytes.NewReader(data), int64(len(data)), "m.json")
	return decErr, verErr
}

// refusedAlike checks that Decode and the streamed Verify both refuse data
// with the same message, a refusal of the path and rule want.
func refusedAlike(t *testing.T, label string, data []byte, want string) {
	t.Helper()
	decErr, verErr := bothReadings(data)
	switch {
	case decErr == nil || verErr == nil:
		t.Errorf("%s: accepted (Decode: %v, Verify: %v)", label, decErr, verErr)
	case decErr.Error() != verErr.Error():
		t.Errorf("%s:\n Decode: %v\n Verify: %v", label, decErr, verErr)
	case !strings.Contains(decErr.Error(), "corrupt artifact: "+want):
		t.Errorf("%s: %v, want a refusal of %s", label, decErr, want)
	}
}
