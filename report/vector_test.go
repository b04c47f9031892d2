package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/normguard/normguard/embed"
)

func TestVectorDriftRendering(t *testing.T) {
	vs := []VectorDrift{{Column: "emb<x>", Reference: "ref.jsonl", Result: embed.DriftResult{
		MMD2: 0.5, MMDPValue: 0.004975, Permutations: 200, DriftedDims: 100, DriftedDimShare: 1,
		MeanEuclidean: 2.5, MeanCosine: 0.001, DomainAUC: 1, RefSize: 500, CurSize: 1000, Dimension: 100, Drift: true}}}
	for _, doc := range []string{"{\n  \"a\": 1\n}\n", "{}\n"} {
		out, err := AddVectorsJSON([]byte(doc), vs)
		if err != nil {
			t.Fatal(err)
		}
		var got map[string]any
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("%q: not JSON: %v\n%s", doc, err, out)
		}
		v := got["vectors"].([]any)[0].(map[string]any)
		if v["column"] != "emb<x>" || v["result"].(map[string]any)["mmd2"] != 0.5 {
			t.Errorf("got %v", v)
		}
	}
	if out, _ := AddVectorsJSON([]byte("{}\n"), nil); string(out) != "{}\n" {
		t.Errorf("without vectors: got %q, want the report unchanged", out)
	}
	var tb bytes.Buffer
	if err := VectorDriftTable(&tb, vs, false); err != nil {
		t.Fatal(err)
	}
	if s := tb.String(); !strings.Contains(s, "500/1000") || !strings.Contains(s, "100 (1)") || !strings.Contains(s, "DRIFT") {
		t.Errorf("table:\n%s", s)
	}
	h, err := VectorDriftHTML(vs)
	if err != nil {
		t.Fatal(err)
	}
	if s := string(h); !strings.Contains(s, "emb&lt;x&gt;") || !strings.Contains(s, `class="badge drift"`) {
		t.Errorf("html does not escape the name or mark the drift:\n%s", s)
	}
}
