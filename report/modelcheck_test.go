package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/normguard/normguard/modelcheck"
)

func sampleModelReport() *modelcheck.Report {
	return &modelcheck.Report{
		Model: "m.onnx", Producer: "pytorch 1.13.0", Opset: 15,
		Inputs: []modelcheck.Value{{Name: "features", Type: "float", Shape: []int64{-1, 4}}},
		Layers: []modelcheck.Layer{{Node: "<b>bn\tin</b>", Op: "BatchNormalization", Kind: "batch_norm", Epsilon: 1e-5, Channels: 4,
			TrainingMode: true, MeanRange: []float64{-0.5, 0.25}, VarRange: []float64{1, 1}, ReadsInputs: []string{"features"}}},
		Findings: []modelcheck.Finding{
			{Code: modelcheck.BatchNormTrainingMode, Severity: modelcheck.SeverityError, Node: "<b>bn\tin</b>",
				Description: "exported\nin training mode <script>", Fix: "call model.eval()", Evidence: map[string]any{"training_mode": 1, "channels": []int{1, 2}}},
			{Code: modelcheck.TrainedOnUnscaled, Severity: modelcheck.SeverityError, Node: "bn", Description: "raw",
				Evidence: map[string]any{"channels": []map[string]any{{"feature": "a<1>", "running_mean": 44.0, "raw_mean": 44.01, "expected_mean": -8.9e-16}}}},
			{Code: modelcheck.LayerNormFact, Severity: modelcheck.SeverityInfo, Node: "ln", Description: "a fact"},
		},
		Errors: 2, Infos: 1,
	}
}

// TestModelCheckTable: the layer and finding tables keep user strings on
// one line, and the verdict counts errors, warnings and facts.
func TestModelCheckTable(t *testing.T) {
	var b bytes.Buffer
	if err := ModelCheckTable(&b, sampleModelReport(), false); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"model m.onnx (pytorch 1.13.0, opset 15), inputs features float[N, 4]",
		"batch_norm (training mode)", "-0.5 … 0.25", "batchnorm_training_mode: exported\\nin training mode <script>",
		"2 errors, 0 warnings in 1 normalization layer (1 fact)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "bn\tin") {
		t.Errorf("a tab in a node name reached the table:\n%s", out)
	}
	r := &modelcheck.Report{Model: "c.onnx", Layers: []modelcheck.Layer{}, Findings: []modelcheck.Finding{}}
	b.Reset()
	if err := ModelCheckTable(&b, r, false); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(b.String(), "nothing found: 0 normalization layers checked\n") {
		t.Errorf("clean verdict: got %q", b.String())
	}
}

// TestModelCheckHTML: every user string is escaped, each finding is a card
// with its code, the layers are listed.
func TestModelCheckHTML(t *testing.T) {
	var b bytes.Buffer
	if err := ModelCheckHTML(&b, sampleModelReport(), ModelCheckMeta{Artifact: "a.json (sha256:00)"}); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	if strings.Contains(page, "<script>") || strings.Contains(page, "<b>bn") {
		t.Errorf("unescaped user string in the page")
	}
	for _, want := range []string{`<article class="card bad" data-code="batchnorm_training_mode">`, `<article class="card info" data-code="layer_norm">`,
		"&lt;b&gt;bn", "a.json (sha256:00)", "call model.eval()", "<dt>channels</dt><dd>1, 2</dd>", `<tr class="training">`,
		// per-channel evidence as a table, a rounding-zero mean shown as 0
		`<th scope="col">feature</th><th scope="col">running mean</th><th scope="col">artifact mean</th><th scope="col">raw mean</th>`,
		`<td>a&lt;1&gt;</td><td class="n">44</td><td class="n">0</td><td class="n">44.01</td>`} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
}

// TestModelCheckJSON: the JSON round-trips to the report's fields.
func TestModelCheckJSON(t *testing.T) {
	var b bytes.Buffer
	if err := ModelCheckJSON(&b, sampleModelReport()); err != nil {
		t.Fatal(err)
	}
	var back modelcheck.Report
	if err := json.Unmarshal(b.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if back.Errors != 2 || len(back.Findings) != 3 || back.Findings[0].Code != modelcheck.BatchNormTrainingMode || back.Layers[0].Epsilon != 1e-5 {
		t.Errorf("round trip: got %+v", back)
	}
	if err := ModelCheckJSON(&b, nil); err == nil {
		t.Error("nil report: want an error")
	}
}
