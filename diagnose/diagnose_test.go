package diagnose

import (
	"encoding/json"
	"math"
	"testing"
)

// TestVerdictJSONNonFinite: JSON has no NaN, so non-finite evidence
// numbers are written as null; finite ones and other values unchanged.
func TestVerdictJSONNonFinite(t *testing.T) {
	v := Verdict{Name: "c", Verdict: WrongParameters, Explanation: "e", Fix: "f", Evidence: map[string]any{
		"nan": math.NaN(), "inf": math.Inf(-1), "x": 1.5, "n": 3, "s": "a",
		"mapping": map[string]float64{"a": 0, "b": math.NaN()}, "list": []float64{math.Inf(1), 2},
	}, Plot: &Plot{Expected: []float64{1}, Observed: []float64{2}}}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("got error %v, want JSON", err)
	}
	const want = `{"name":"c","verdict":"wrong_parameters","explanation":"e","fix":"f","evidence":{"inf":null,"list":[null,2],"mapping":{"a":0,"b":null},"n":3,"nan":null,"s":"a","x":1.5}}`
	if string(b) != want {
		t.Errorf("got %s, want %s", b, want)
	}
	if v.Evidence["nan"] == nil {
		t.Error("got the verdict's own evidence changed, want it left as it was")
	}
}
