package jsonnum

import (
	"encoding/json"
	"math"
	"testing"
)

// TestMap: every NaN or infinite float of an evidence map, at any depth,
// encodes as null, every other value as encoding/json writes it, and the
// map given is not changed; a map without one is returned as it is.
func TestMap(t *testing.T) {
	ev := map[string]any{"mean_norm": math.Inf(1), "share": 0.5, "norms": []float64{1, math.NaN()},
		"per": map[string]float64{"a": math.Inf(-1)}, "inner": map[string]any{"max": float32(math.Inf(1)), "n": 3, "ok": []float64{2}},
		"name": "x"}
	b, err := json.Marshal(Map(ev))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"inner":{"max":null,"n":3,"ok":[2]},"mean_norm":null,"name":"x","norms":[1,null],"per":{"a":null},"share":0.5}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
	if !math.IsInf(ev["mean_norm"].(float64), 1) || !math.IsNaN(ev["norms"].([]float64)[1]) {
		t.Error("the map given was changed")
	}
	clean := map[string]any{"a": 1.5, "b": []float64{1}}
	if m := Map(clean); len(m) != 2 || &m == nil {
		t.Fatal("a clean map lost values")
	} else {
		m["c"] = 1
		if _, ok := clean["c"]; !ok {
			t.Error("a map without a non-finite number was copied, not returned as it is")
		}
	}
}
