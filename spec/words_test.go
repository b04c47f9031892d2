package spec

import (
	"strings"
	"testing"
)

// TestErrorsInTheWritersTerms (attack run 35 F5): spec errors named Go's
// types and printing (expected []json.RawMessage, got map[a:b]), a list
// as got "", and "known parameters: " with none after it.
func TestErrorsInTheWritersTerms(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		want       []string
	}{
		{"pair given as a string", "version: 1\ncolumns:\n  - name: x\n    steps: [{min_max_scaler: {feature_range: \"0,1\"}}]\n",
			[]string{"feature_range", "got a string"}},
		{"fill value a mapping", "version: 1\ncolumns:\n  - name: x\n    steps: [{simple_imputer: {strategy: constant, fill_value: {a: b}}}]\n",
			[]string{"fill_value", "got a mapping"}},
		{"type a list", "version: 1\ncolumns:\n  - name: x\n    type: [numeric]\n    steps: [standard_scaler]\n",
			[]string{"type", "got a list"}},
		{"parameter of a step that takes none", "version: 1\ncolumns:\n  - name: x\n    steps: [{log1p: {base: 2}}]\n",
			[]string{"base", "log1p takes no parameters"}},
	} {
		_, err := Parse(strings.NewReader(tc.body), "s.yaml")
		if err == nil {
			t.Errorf("%s: accepted", tc.name)
			continue
		}
		msg := err.Error()
		for _, w := range tc.want {
			if !strings.Contains(msg, w) {
				t.Errorf("%s: %q lacks %q", tc.name, msg, w)
			}
		}
		for _, bad := range []string{"json.RawMessage", "map[", `got ""`, "known parameters: \n", "[]"} {
			if strings.Contains(msg, bad) || strings.HasSuffix(msg, "known parameters: ") {
				t.Errorf("%s: %q holds %q (Go's terms)", tc.name, msg, bad)
			}
		}
	}
}
