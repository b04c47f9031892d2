package monitor

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/normguard/normguard/step"
)

// TestStoredReferenceChecked: a reference read back from the state file
// goes through the artifact's profile check, so a damaged one (a NaN in a
// quantile grid, a CDF shorter than its grid) is refused with the field's
// path instead of reaching the drift evaluation.
func TestStoredReferenceChecked(t *testing.T) {
	a := testArtifact(t)
	good := storedRef{Digest: a.Digest, Inputs: a.Profile.Inputs, Outputs: a.Profile.Outputs}
	b, err := json.Marshal(good)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := decodeReference(b); err != nil {
		t.Fatalf("intact reference refused: %v", err)
	}
	for name, damage := range map[string]func(s *storedRef){
		"nan quantile": func(s *storedRef) { s.Inputs[0].Quantiles[5] = math.NaN() },
		"short cdf":    func(s *storedRef) { s.Inputs[0].CDF = s.Inputs[0].CDF[:3] },
	} {
		var s storedRef
		if err := json.Unmarshal(b, &s); err != nil {
			t.Fatal(err)
		}
		if s.Inputs[0].Quantiles == nil {
			t.Fatalf("the test artifact's first input has no quantile grid")
		}
		s.Inputs[0].Quantiles = append(step.Floats(nil), s.Inputs[0].Quantiles...)
		damage(&s)
		if _, err := buildReference(s); err == nil || !strings.Contains(err.Error(), "inputs[0]") {
			t.Errorf("%s: got %v, want a refusal naming inputs[0]", name, err)
		}
	}
}
