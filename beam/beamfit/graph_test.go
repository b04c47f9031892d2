package beamfit

import (
	"slices"
	"strings"
	"testing"

	"github.com/normguard/normguard/spec"
	"github.com/normguard/normguard/step"
)

// TestOnlyGatherStepsGather checks, for every step kind of allSteps, which
// partFn stage its groups reach: only the kinds in GatherSteps are fitted
// by gathering a column group on one worker; standard_scaler and every
// other kind are fitted from mergeable accumulators.
func TestOnlyGatherStepsGather(t *testing.T) {
	sp, err := spec.Parse(strings.NewReader(allSteps), "all.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"power_transformer"}; !slices.Equal(GatherSteps, want) {
		t.Fatalf("GatherSteps: got %v, want %v", GatherSteps, want)
	}
	seen := map[string]bool{}
	for _, g := range sp.Columns {
		for _, st := range g.Steps {
			seen[st.Name] = true
			got := fitMode(st.Name)
			want := modeSummary
			switch {
			case st.Name == "standard_scaler":
				want = modeScaler
			case st.Name == "power_transformer":
				want = modeGather
			}
			if got != want {
				t.Errorf("%s: got fit mode %d, want %d", st.Name, got, want)
			}
			if got == modeSummary {
				if _, err := (&finishFn{}).fit(st.Params, &Summary{}, 1); err != nil && strings.Contains(err.Error(), "no mergeable fit") {
					t.Errorf("%s: fitted from summaries but finishFn has no constructor for it", st.Name)
				}
			}
		}
	}
	// allSteps covers every registered step kind.
	for _, name := range step.Names() {
		if !seen[name] {
			t.Errorf("allSteps has no %s step", name)
		}
	}
}
