package embed

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
)

// TestReportsWriteNonFiniteAsNull: a finding whose evidence holds +Inf
// (a norm past the float64 range), NaN, a list and a nested map holding
// them, and a drift result with an infinite mean distance, encode as JSON
// with those numbers null and every other value as encoding/json writes
// it; the finding's map is not changed.
func TestReportsWriteNonFiniteAsNull(t *testing.T) {
	ev := map[string]any{"mean_norm": math.Inf(1), "share": 0.5, "norms": []float64{1, math.NaN()},
		"inner": map[string]any{"max": math.Inf(-1), "n": 3}}
	b, err := json.Marshal(Finding{Code: "c", Message: "m", Fix: "f", Evidence: ev})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"code":"c","message":"m","fix":"f","evidence":{"inner":{"max":null,"n":3},"mean_norm":null,"norms":[1,null],"share":0.5}}`
	if string(b) != want {
		t.Errorf("finding: got %s\nwant %s", b, want)
	}
	if !math.IsInf(ev["mean_norm"].(float64), 1) {
		t.Error("the finding's evidence was changed")
	}
	r := DriftResult{MMD2: 0.25, MMDPValue: 0.01, MeanEuclidean: math.Inf(1), MeanCosine: 1, DomainAUC: 0.5, RefSize: 3, Drift: true}
	b, err = json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	type plain DriftResult
	r.MeanEuclidean = 7 // the same result with a finite distance, as encoding/json writes it
	ref, _ := json.Marshal(plain(r))
	if want := strings.Replace(string(ref), `"mean_euclidean":7`, `"mean_euclidean":null`, 1); string(b) != want {
		t.Errorf("drift result: got %s\nwant %s", b, want)
	}
}

// TestFitOfLongVectors fits vectors whose norms reach past 1e4 (the last
// norm bin, whose upper edge is +Inf): the contract encodes, its last
// bin's hi as null, and decodes to the same bins and a contract that
// passes its check.
func TestFitOfLongVectors(t *testing.T) {
	m := Matrix{Rows: 60, Dim: 8, Data: make([]float64, 60*8)}
	for i := range m.Data {
		m.Data[i] = float64((i*7919)%1000-500) * 100 // norms up to about 1.4e5
	}
	c, err := Fit(m, FitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	h := c.Profile.Norms.Histogram
	if len(h) == 0 || !math.IsInf(h[len(h)-1].Hi, 1) {
		t.Fatalf("the norms did not reach the last bin: %+v", h)
	}
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatalf("the contract does not encode: %v", err)
	}
	if !strings.Contains(string(b), `"hi":null`) {
		t.Errorf("the last bin's upper edge is not written as null")
	}
	var back Contract
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if err := back.Check(); err != nil {
		t.Errorf("the decoded contract fails its check: %v", err)
	}
	if got := back.Profile.Norms.Histogram; len(got) != len(h) || got[len(got)-1] != h[len(h)-1] || got[0] != h[0] {
		t.Errorf("bins %+v, want %+v", got, h)
	}
}
