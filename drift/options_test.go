package drift

import (
	"math"
	"strings"
	"testing"

	"github.com/normguard/normguard/table"
)

// TestOptionsCheck: options under which no feature, or every feature,
// would drift are refused by every comparison, before any work (attack
// run 15 finding 8: a threshold of -1 passed a drifting data set, and 1e9
// bins took a minute and 1.5 GB).
func TestOptionsCheck(t *testing.T) {
	ref := []table.Column{{Name: "x", Kind: table.Numeric, Num: []float64{1, 2, 3, 4, 5, 6}}}
	cur := []table.Column{{Name: "x", Kind: table.Numeric, Num: []float64{10, 20, 30, 40, 50, 60}}}
	bad := []struct {
		opt  Options
		want string
	}{
		{Options{Method: "ks", Threshold: -1, HasThreshold: true}, "significance level in (0, 1]"},
		{Options{Threshold: 0, HasThreshold: true}, "method auto tests p-values"},
		{Options{Method: "ks", Threshold: 2, HasThreshold: true}, "(0, 1]"},
		{Options{Method: "wasserstein_normed", Threshold: math.Inf(1), HasThreshold: true}, "finite"},
		{Options{Method: "psi", Threshold: math.NaN(), HasThreshold: true}, "finite"},
		{Options{Method: "psi", Threshold: -0.5, HasThreshold: true}, "never negative"},
		{Options{Method: "psi", Bins: MaxBins + 1}, "between 2 and 1048576"},
		{Options{Method: "psi", Bins: 1}, "between 2 and"},
		{Options{Method: "psi", Bins: -3}, "between 2 and"},
		{Options{DriftShare: 1.5}, "(0, 1]"},
		{Options{DriftShare: -1}, "(0, 1]"},
		{Options{Method: "zscore"}, "zscore"},
	}
	for _, tc := range bad {
		err := tc.opt.Check()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: Check %v, want an error mentioning %q", tc.opt, err, tc.want)
		}
		if _, err := Compare(ref, cur, tc.opt); err == nil {
			t.Errorf("%+v: Compare ran", tc.opt)
		}
		if _, err := CompareSegments(ref, cur, "x", tc.opt); err == nil {
			t.Errorf("%+v: CompareSegments ran", tc.opt)
		}
	}
	for _, ok := range []Options{{}, {Method: "ks", Threshold: 1, HasThreshold: true}, {Method: "psi", Threshold: 0, HasThreshold: true, Bins: MaxBins},
		{Method: "wasserstein", Threshold: 1e300, HasThreshold: true}, {DriftShare: 1}} {
		if err := ok.Check(); err != nil {
			t.Errorf("%+v: %v, want accepted", ok, err)
		}
	}
}
