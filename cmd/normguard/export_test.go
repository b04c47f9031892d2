package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/onnx"
	pb "github.com/normguard/normguard/onnx/onnxpb"
)

// fitPeer fits a parity case and returns the artifact's path.
func fitPeer(t *testing.T, dir, specPath string) string {
	t.Helper()
	art := filepath.Join(t.TempDir(), "a.json")
	mustRun(t, "fit", "--spec", specPath, "--data", filepath.Join(peerDir, dir, "train.csv"), "--out", art, "--model", "churn", "--model-version", "3")
	return art
}

func meta(m *pb.ModelProto) map[string]string {
	out := map[string]string{}
	for _, e := range m.GetMetadataProps() {
		out[e.GetKey()] = e.GetValue()
	}
	return out
}

// TestExportCLI exports a mixed artifact (numeric, categorical,
// min-max) and checks the model file's interface: one [N,1] input per raw
// column with its type, features and unknown_categories outputs, the
// digest and model link in metadata_props.
func TestExportCLI(t *testing.T) {
	const c = "column_transformer__mixed"
	art := fitPeer(t, c, filepath.Join(peerDir, c, "spec.json"))
	a, err := artifact.Load(art)
	if err != nil {
		t.Fatal(err)
	}
	// scikit-learn's get_feature_names_out for the case.
	header, _ := readCSVFile(t, filepath.Join(peerDir, c, "expected.csv"))
	width := len(header)
	for _, dtype := range []string{"float64", "float32"} {
		out := filepath.Join(t.TempDir(), "prep.onnx")
		code, _, errOut := runCLI(t, "export", "--artifact", art, "--format", "onnx", "--out", out, "--dtype", dtype)
		if code != ExitOK {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		if !strings.Contains(errOut, fmt.Sprintf("exported %d features", width)) || !strings.Contains(errOut, a.Digest) {
			t.Errorf("stderr %q does not report %d features and the digest", errOut, width)
		}
		m, err := onnx.ReadModel(out)
		if err != nil {
			t.Fatal(err)
		}
		wantIn := map[string]pb.TensorProto_DataType{"age": pb.TensorProto_DOUBLE, "income": pb.TensorProto_DOUBLE,
			"city": pb.TensorProto_STRING, "visits": pb.TensorProto_DOUBLE}
		if got := len(m.GetGraph().GetInput()); got != len(wantIn) {
			t.Errorf("%d inputs, want %d", got, len(wantIn))
		}
		for _, in := range m.GetGraph().GetInput() {
			tt := in.GetType().GetTensorType()
			if want, ok := wantIn[in.GetName()]; !ok || pb.TensorProto_DataType(tt.GetElemType()) != want {
				t.Errorf("input %q of type %v, want %v", in.GetName(), tt.GetElemType(), want)
			}
			if d := tt.GetShape().GetDim(); len(d) != 2 || d[0].GetDimParam() != "N" || d[1].GetDimValue() != 1 {
				t.Errorf("input %q shape %v, want [N, 1]", in.GetName(), d)
			}
		}
		outs := m.GetGraph().GetOutput()
		wantType := pb.TensorProto_DOUBLE
		if dtype == "float32" {
			wantType = pb.TensorProto_FLOAT
		}
		if len(outs) != 2 || outs[0].GetName() != onnx.FeaturesOutput || outs[1].GetName() != onnx.UnknownOutput ||
			pb.TensorProto_DataType(outs[0].GetType().GetTensorType().GetElemType()) != wantType ||
			outs[0].GetType().GetTensorType().GetShape().GetDim()[1].GetDimValue() != int64(width) {
			t.Errorf("outputs %v, want features [N, %d] %v and unknown_categories", outs, width, wantType)
		}
		if md := meta(m); md[onnx.MetaFeatures] != jsonText(t, header) {
			t.Errorf("feature names %s, want scikit-learn's %v", md[onnx.MetaFeatures], header)
		}
		md := meta(m)
		if md[onnx.MetaDigest] != a.Digest || md[onnx.MetaModelName] != "churn" || md[onnx.MetaModelVersion] != "3" {
			t.Errorf("metadata %v, want digest %s and model churn 3", md, a.Digest)
		}
		if md[onnx.MetaUnknown] != `["city"]` {
			t.Errorf("unknown columns %s, want [\"city\"]", md[onnx.MetaUnknown])
		}
	}
}

// TestExportRefusesTextOutput: a categorical column that is only imputed
// stays text, which the features tensor cannot hold. The error names the
// column and no file is left behind.
func TestExportRefusesTextOutput(t *testing.T) {
	dir := t.TempDir()
	sp := filepath.Join(dir, "spec.yaml")
	if err := os.WriteFile(sp, []byte(`version: 1
columns:
  - name: age
    type: numeric
    steps: [{standard_scaler: {}}]
  - name: city
    type: categorical
    steps: [{simple_imputer: {strategy: most_frequent}}]
`), 0o644); err != nil {
		t.Fatal(err)
	}
	art := fitPeer(t, "column_transformer__mixed", sp)
	out := filepath.Join(dir, "prep.onnx")
	code, _, errOut := runCLI(t, "export", "--artifact", art, "--out", out)
	if code != ExitError {
		t.Fatalf("exit %d, want %d", code, ExitError)
	}
	if !strings.Contains(errOut, `"city"`) || !strings.Contains(errOut, "one_hot_encoder") {
		t.Errorf("error %q does not name the column and the fix", errOut)
	}
	if got := dirEntries(t, dir); len(got) != 1 {
		t.Errorf("files left: %v", got)
	}
}

// TestExportBadFlags: unknown format or dtype exit 2 with the fix.
func TestExportBadFlags(t *testing.T) {
	art := fitPeer(t, "standard_scaler__default", filepath.Join(peerDir, "standard_scaler__default", "spec.json"))
	out := filepath.Join(t.TempDir(), "p.onnx")
	for _, args := range [][]string{
		{"--format", "pmml"}, {"--dtype", "float16"},
	} {
		code, _, errOut := runCLI(t, append([]string{"export", "--artifact", art, "--out", out}, args...)...)
		if code != ExitError || !strings.Contains(errOut, args[1]) {
			t.Errorf("%v: exit %d, stderr %q; want 2 naming %q", args, code, errOut, args[1])
		}
	}
	if code, _, errOut := runCLI(t, "export", "--artifact", art); code != ExitError || !strings.Contains(errOut, "--out") {
		t.Errorf("missing --out: exit %d, stderr %q", code, errOut)
	}
}

// TestBundleCLI bundles the quickstart artifact with the float32 PyTorch
// MLP trained on its features: the bundle takes the raw columns and
// returns the model's output and the unknown-category flags; a model of
// another width is refused with both widths and no file is written.
func TestBundleCLI(t *testing.T) {
	dir := t.TempDir()
	mustRun(t, "quickstart", "--dir", dir)
	art := filepath.Join(dir, "flights.normguard.json")
	model := "../../onnx/testdata/models/mlp_f32.onnx"
	out := filepath.Join(dir, "served.onnx")
	code, _, errOut := runCLI(t, "bundle", "--artifact", art, "--model", model, "--out", out)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(errOut, "cast to float32") || !strings.Contains(errOut, `"date"`) {
		t.Errorf("stderr %q does not report the cast and the dropped date column", errOut)
	}
	m, err := onnx.ReadModel(out)
	if err != nil {
		t.Fatal(err)
	}
	var ins, outs []string
	for _, in := range m.GetGraph().GetInput() {
		ins = append(ins, in.GetName())
	}
	for _, o := range m.GetGraph().GetOutput() {
		outs = append(outs, o.GetName())
	}
	if strings.Join(ins, ",") != "delay,distance,origin,destination" || strings.Join(outs, ",") != "late,unknown_categories" {
		t.Errorf("inputs %v outputs %v, want the raw columns and late, unknown_categories", ins, outs)
	}

	// A model taking 25 features.
	src, err := onnx.ReadModel(model)
	if err != nil {
		t.Fatal(err)
	}
	src.Graph.Input[0].Type.GetTensorType().Shape.Dim[1].Value = &pb.TensorShapeProto_Dimension_DimValue{DimValue: 25}
	narrow := filepath.Join(dir, "narrow.onnx")
	if err := onnx.WriteModel(narrow, src); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.onnx")
	code, _, errOut = runCLI(t, "bundle", "--artifact", art, "--model", narrow, "--out", bad)
	if code != ExitError || !strings.Contains(errOut, "takes 25 features") || !strings.Contains(errOut, "produces 26") {
		t.Errorf("exit %d, stderr %q; want 2 naming both widths", code, errOut)
	}
	if _, err := os.Stat(bad); err == nil {
		t.Error("a bundle was written despite the mismatch")
	}
	code, _, errOut = runCLI(t, "bundle", "--artifact", art, "--model", art, "--out", bad)
	if code != ExitError || !strings.Contains(errOut, "not an ONNX model") {
		t.Errorf("an artifact as the model: exit %d, stderr %q", code, errOut)
	}
}

func jsonText(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
