package step

import (
	"math"
	"strings"
	"testing"
)

// TestNaNParamsHeldToTheirColumn checks attack run 27 F2 at the steps'
// own rules: a NaN parameter is refused where the step's other fields say
// the column had values (a standard scaler's n_samples_seen_, the other
// parameter a fit writes NaN with it), naming the field; the NaNs a fit
// writes for a column without any value are accepted. An imputer's
// infinite statistic is refused (F3).
func TestNaNParamsHeldToTheirColumn(t *testing.T) {
	nan := math.NaN()
	names := []string{"a"}
	for _, tc := range []struct {
		name string
		f    Fitted
		want string // "" for accepted
	}{
		{"standard all-missing", &StandardScaler{WithMean: true, WithStd: true, Mean: Floats{nan}, Var: Floats{nan}, Scale: Floats{nan}, NSamplesSeen: []int64{0}, Names: names}, ""},
		{"standard mean NaN, 600 seen", &StandardScaler{WithMean: true, WithStd: true, Mean: Floats{nan}, Var: Floats{4}, Scale: Floats{2}, NSamplesSeen: []int64{600}, Names: names}, "mean_[0]: is NaN, but n_samples_seen_[0] is 600"},
		{"standard mean finite, 0 seen", &StandardScaler{WithMean: true, WithStd: false, Mean: Floats{3}, NSamplesSeen: []int64{0}, Names: names}, "mean_[0]: is 3, but n_samples_seen_[0] is 0"},
		{"robust all-missing", &RobustScaler{Center: Floats{nan}, Scale: Floats{nan}, Names: names}, ""},
		{"robust scale NaN", &RobustScaler{Center: Floats{3}, Scale: Floats{nan}, Names: names}, "scale_[0]: is NaN, but center_[0] is 3"},
		{"power all-missing", &PowerTransformer{Method: "yeo-johnson", Standardize: true, Lambdas: Floats{1}, Mean: Floats{nan}, Scale: Floats{nan}, Names: names}, ""},
		{"power mean NaN", &PowerTransformer{Method: "yeo-johnson", Standardize: true, Lambdas: Floats{1}, Mean: Floats{nan}, Scale: Floats{2}, Names: names}, "mean_[0]: is NaN, but scale_[0] is 2"},
		{"imputer +Inf", &SimpleImputer{Statistics: Floats{math.Inf(1)}, Names: names}, "statistics_[0]: must be finite, got +Inf"},
		{"imputer dropped column", &SimpleImputer{Statistics: Floats{nan}, Names: names}, ""},
	} {
		err := tc.f.Check(1)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: refused: %v", tc.name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: got %v, want %q", tc.name, err, tc.want)
		}
	}
	// After an imputer, every kept column has values: a NaN parameter of
	// the next step is refused.
	imp := &SimpleImputer{Statistics: Floats{2, nan}, Names: []string{"a", "b"}}
	present := PresenceAfter(imp, make([]Presence, 2))
	if len(present) != 1 || present[0] != PresenceSome {
		t.Fatalf("presence after the imputer: %v", present)
	}
	rs := &RobustScaler{Center: Floats{nan}, Scale: Floats{nan}, Names: []string{"a"}}
	if err := CheckPresence(rs, present); err == nil || !strings.Contains(err.Error(), "center_[0]: is NaN") {
		t.Errorf("robust scaler after an imputer: got %v", err)
	}
	if err := CheckPresence(rs, []Presence{PresenceNone}); err != nil {
		t.Errorf("robust scaler of a column without values: %v", err)
	}
}
