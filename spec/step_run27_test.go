package spec

import (
	"strings"
	"testing"
)

// TestStepJSONErrorNamesField (attack run 27 F5 a): a step of an
// artifact's spec section that does not decode is refused naming the
// parameter below the step, not only "parameter %q" in a message.
func TestStepJSONErrorNamesField(t *testing.T) {
	for _, tc := range []struct{ raw, field, msg string }{
		{`{"standard_scaler": {"with_mean": 1}}`, "standard_scaler.with_mean", "expected true or false, got a number"},
		{`{"simple_imputer": {"strategy": []}}`, "simple_imputer.strategy", "expected a string, got a list"},
		{`{"standard_scaler": {"zz": 1}}`, "standard_scaler.zz", "unknown parameter for standard_scaler; known parameters: copy, with_mean, with_std"},
		{`{"standard_scaler": []}`, "standard_scaler", "parameters must be an object, got a JSON array"},
		{`{"min_max_scaler": {"feature_range": [0, [1]]}}`, "min_max_scaler.feature_range[1]", "not a number"},
		{`{"min_max_scaler": {"feature_range": [1, 0]}}`, "min_max_scaler.feature_range", "smaller than maximum"},
		{`{"quantile_transformer": {"subsample": 9223372036854775808}}`, "quantile_transformer.subsample", "expected an integer"},
		{`{"standard_scaler": {}, "log1p": {}}`, "", "exactly one key"},
		{`[]`, "", "exactly one key"},
		{`{"zz_scaler": {}}`, "", `unknown step "zz_scaler"`},
	} {
		se := StepJSONError([]byte(tc.raw))
		if se == nil || se.Field != tc.field || !strings.Contains(se.Err.Error(), tc.msg) {
			t.Errorf("%s: got %+v, want field %q saying %q", tc.raw, se, tc.field, tc.msg)
		}
	}
	for _, ok := range []string{`{"standard_scaler": {}}`, `{"log1p": null}`, `{"min_max_scaler": {"feature_range": [-1, 1]}}`} {
		if se := StepJSONError([]byte(ok)); se != nil {
			t.Errorf("%s: refused: %v", ok, se)
		}
	}
}
