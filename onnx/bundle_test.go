package onnx

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/normguard/normguard/artifact"
	pb "github.com/normguard/normguard/onnx/onnxpb"
	"github.com/normguard/normguard/quickstart"
	"github.com/normguard/normguard/table"
	"github.com/normguard/normguard/transform"
)

// modelsDir holds the small PyTorch models of the bundle tests, made by
// make_models.py there from the quickstart artifact's features.
const modelsDir = "testdata/models"

var (
	qsOnce sync.Once
	qsDir  string
	qsErr  error
)

// quickstartData runs normguard quickstart once (its data ship inside the
// binary) and returns its artifact, transformer and June's input rows.
func quickstartData(t *testing.T) (*artifact.Artifact, *transform.Transformer, *table.Batch) {
	t.Helper()
	qsOnce.Do(func() {
		dir, err := osMkdirTemp()
		if err != nil {
			qsErr = err
			return
		}
		qsDir = dir
		_, qsErr = quickstart.Run(context.Background(), dir, io.Discard)
	})
	if qsErr != nil {
		t.Fatal(qsErr)
	}
	a, err := artifact.Load(filepath.Join(qsDir, quickstart.Files.Artifact))
	if err != nil {
		t.Fatal(err)
	}
	tr, err := transform.New(a)
	if err != nil {
		t.Fatal(err)
	}
	return a, tr, readInputs(t, tr, filepath.Join(qsDir, quickstart.Files.Later))
}

// TestExportMatchesTransformOnQuickstart runs the quickstart artifact's
// graph on June's 16,740 flights: every feature equals normguard
// transform's bit for bit but log1p(distance), which stays within
// inexactTol; unseen airports are flagged as unknown; the text
// passthrough 'date' is left out.
func TestExportMatchesTransformOnQuickstart(t *testing.T) {
	ortScript(t)
	a, tr, in := quickstartData(t)
	ex, got, unknown := exportRun(t, a, in, tr, ExportOptions{})
	if len(ex.Dropped) != 1 || ex.Dropped[0] != "date" {
		t.Errorf("dropped %v, want [date]", ex.Dropped)
	}
	if len(ex.Features) != len(a.Outputs)-1 {
		t.Errorf("%d features, want %d (the outputs but date)", len(ex.Features), len(a.Outputs)-1)
	}
	want := transformRows(t, tr, in, ex.Features)
	st := checkAgainstTransform(t, ex, want, got, unknown, false)
	t.Logf("largest difference %.3g (%.3g of max(1, |value|)) in %s", st.maxAbs, st.maxScaled, st.where)
	exact := 0
	for i := range want {
		k := indexOf(ex.Features, "distance")
		if math.Float64bits(want[i].out[k]) == math.Float64bits(got[i][k]) {
			exact++
		}
	}
	t.Logf("log1p(distance) then standard_scaler: %d of %d rows bit for bit", exact, len(want))
	for _, f := range ex.Features {
		if f == "distance" {
			continue
		}
		// Everything else must be exact: check the column on its own.
		k := indexOf(ex.Features, f)
		for i := range want {
			if math.Float64bits(want[i].out[k]) != math.Float64bits(got[i][k]) {
				t.Fatalf("row %d feature %s: got %v, want %v bit for bit", i+1, f, got[i][k], want[i].out[k])
			}
		}
	}
	// Airports seen in June but not in January-February are unknown to
	// the encoders: they go to the infrequent column and are flagged.
	origin := in.Col("origin")
	known := map[string]bool{}
	for _, g := range a.Groups {
		for _, s := range g.Steps {
			if s.Name == "one_hot_encoder" {
				for _, c := range mustJSONValue(t, s.Fitted)["categories_"].([]any)[0].([]any) {
					known[c.(string)] = true
				}
			}
		}
	}
	flagged := 0
	for i := range in.Rows {
		want := int64(0)
		if !known[origin.Str[i]] {
			want = 1
		}
		if unknown[i][0] != want {
			t.Fatalf("row %d origin %q: unknown flag %d, want %d", i+1, origin.Str[i], unknown[i][0], want)
		}
		flagged += int(want)
	}
	if flagged == 0 {
		t.Error("no June origin is unknown to the encoder; the check above proves nothing")
	}
	t.Logf("%d rows with an origin the encoder never saw", flagged)
}

// TestExportFloat32OnQuickstart: with dtype float32 the features are the
// float64 transform rounded once to float32, so each equals normguard
// transform's value rounded to float32 (log1p(distance) may land on the
// neighbouring float32 when its float64 value sits near a rounding
// boundary).
func TestExportFloat32OnQuickstart(t *testing.T) {
	ortScript(t)
	a, tr, in := quickstartData(t)
	ex, got, _ := exportRun(t, a, in, tr, ExportOptions{DType: "float32"})
	want := transformRows(t, tr, in, ex.Features)
	dist := indexOf(ex.Features, "distance")
	off := 0
	for i, w := range want {
		for k, name := range ex.Features {
			g, v := float32(got[i][k]), float32(w.out[k])
			if math.Float32bits(g) == math.Float32bits(v) {
				continue
			}
			if k == dist && math.Abs(float64(g)-float64(v)) <= float64(math.Nextafter32(v, float32(math.Inf(1)))-v) {
				off++
				continue
			}
			t.Fatalf("row %d feature %s: got %v, want float32(%v) = %v", i+1, name, g, w.out[k], v)
		}
	}
	t.Logf("log1p(distance): %d of %d rows one float32 step off", off, len(want))
}

func indexOf(xs []string, x string) int {
	for i, v := range xs {
		if v == x {
			return i
		}
	}
	return -1
}

// TestBundlePredictsAsModelOnTransform bundles the quickstart artifact
// with PyTorch MLPs trained on its features (float32 and float64, opsets
// 17 and 13) and checks that the bundle, fed June's raw rows, predicts
// what the model predicts on normguard transform's features.
func TestBundlePredictsAsModelOnTransform(t *testing.T) {
	script := ortScript(t)
	a, tr, in := quickstartData(t)
	ex, err := Export(a, ExportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := transformRows(t, tr, in, ex.Features)
	flat := make([]float64, 0, in.Rows*len(ex.Features))
	for _, r := range want {
		if r.err != nil {
			t.Fatal(r.err)
		}
		flat = append(flat, r.out...)
	}
	raw := map[string]ortTensor{}
	for _, vi := range ex.Model.GetGraph().GetInput() {
		for j, f := range tr.Inputs() {
			if f.Name == vi.GetName() {
				raw[f.Name] = columnTensor(&in.Cols[j], in.Rows)
			}
		}
	}
	for _, tc := range []struct {
		file  string
		cast  bool
		opset int64
		// tol bounds |bundled - model on transform|: the float64 model
		// sees log1p(distance) within inexactTol; in float32 the features
		// round to the same float32 but where that rounding is a tie
		// breaker.
		tol float64
	}{
		{"mlp_f64.onnx", false, 13, 1e-13},
		{"mlp_f32.onnx", true, 17, 1e-6},
	} {
		t.Run(tc.file, func(t *testing.T) {
			path := filepath.Join(modelsDir, tc.file)
			model, err := ReadModel(path)
			if err != nil {
				t.Fatal(err)
			}
			b, err := Bundle(a, model, "test")
			if err != nil {
				t.Fatal(err)
			}
			if b.Cast != tc.cast || b.Opset != tc.opset {
				t.Errorf("cast %v opset %d, want %v and %d", b.Cast, b.Opset, tc.cast, tc.opset)
			}
			var feats ortTensor
			if tc.cast {
				feats = floatTensor(flat, in.Rows, len(ex.Features))
			} else {
				feats = doubleTensor(flat)
				feats.Dims = []int64{int64(in.Rows), int64(len(ex.Features))}
			}
			ref := runORTFile(t, script, path, map[string]ortTensor{"features": feats})["late"].floats(t)
			res := runORT(t, b.Model, raw)
			got := res["late"].floats(t)
			if len(got) != len(ref) || len(got) != in.Rows {
				t.Fatalf("%d predictions, want %d", len(got), len(ref))
			}
			if _, ok := res[UnknownOutput]; !ok {
				t.Errorf("the bundle has no %s output", UnknownOutput)
			}
			same, worst, late := 0, 0.0, 0
			for i := range got {
				if math.Float64bits(got[i]) == math.Float64bits(ref[i]) {
					same++
				}
				worst = max(worst, math.Abs(got[i]-ref[i]))
				if got[i] > 0.5 {
					late++
				}
				if (got[i] > 0.5) != (ref[i] > 0.5) {
					t.Errorf("row %d: bundle predicts %v, the model on transform's features %v", i+1, got[i], ref[i])
				}
			}
			t.Logf("%s: %d of %d predictions bit for bit, largest difference %.3g; %d predicted late", tc.file, same, len(got), worst, late)
			if worst > tc.tol {
				t.Errorf("largest difference %.3g, bound %.3g", worst, tc.tol)
			}
			if late == 0 || late == len(got) {
				t.Errorf("%d of %d predicted late: the model predicts nothing useful", late, len(got))
			}
		})
	}
}

// TestBundleRefusesMismatch changes one thing at a time in a real model
// and checks that Bundle refuses it, saying what differs.
func TestBundleRefusesMismatch(t *testing.T) {
	a, _, _ := quickstartData(t)
	base, err := ReadModel(filepath.Join(modelsDir, "mlp_f32.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		change func(m *pb.ModelProto)
		want   []string
	}{
		{"width", func(m *pb.ModelProto) {
			m.Graph.Input[0].Type.GetTensorType().Shape.Dim[1].Value = &pb.TensorShapeProto_Dimension_DimValue{DimValue: 25}
		}, []string{"takes 25 features", "produces 26"}},
		{"dtype", func(m *pb.ModelProto) {
			m.Graph.Input[0].Type.GetTensorType().ElemType = proto.Int32(int32(pb.TensorProto_INT64))
		}, []string{`"features"`, "INT64"}},
		{"rank", func(m *pb.ModelProto) {
			s := m.Graph.Input[0].Type.GetTensorType().Shape
			s.Dim = append(s.Dim, s.Dim[1])
		}, []string{"rank 3"}},
		{"two inputs", func(m *pb.ModelProto) {
			m.Graph.Input = append(m.Graph.Input, tensorInfo("extra", pb.TensorProto_FLOAT, 1))
		}, []string{"2 data inputs", `"extra"`}},
		{"order", func(m *pb.ModelProto) {
			names := []string{"distance", "delay"}
			ex, _ := Export(a, ExportOptions{})
			names = append(names, ex.Features[2:]...)
			m.MetadataProps = append(m.MetadataProps, entry(MetaFeatureNames, jsonList(names)))
		}, []string{`feature 1 is "distance" for the model, "delay" in the artifact`, "order differs"}},
		{"old opset", func(m *pb.ModelProto) {
			m.OpsetImport[0].Version = proto.Int64(11)
		}, []string{"opset 11", "opset_version=13"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := proto.Clone(base).(*pb.ModelProto)
			tc.change(m)
			_, err := Bundle(a, m, "test")
			if err == nil {
				t.Fatal("bundle accepted the model")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if tc.name != "old opset" && !errors.Is(err, ErrMismatch) {
				t.Errorf("error %v does not wrap ErrMismatch", err)
			}
		})
	}
}

func osMkdirTemp() (string, error) { return os.MkdirTemp("", "normguard-onnx-quickstart-") }

// TestMain removes the quickstart folder the tests share.
func TestMain(m *testing.M) {
	code := m.Run()
	if qsDir != "" {
		os.RemoveAll(qsDir)
	}
	os.Exit(code)
}

func mustJSONValue(t *testing.T, v any) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(mustJSON(v), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestBundlePrefixesModelNames gives the model's tensors the names of the
// transform's (a raw column, an internal tensor): the bundle still runs
// and predicts the same bits as the bundle of the untouched model.
func TestBundlePrefixesModelNames(t *testing.T) {
	ortScript(t)
	a, tr, in := quickstartData(t)
	base, err := ReadModel(filepath.Join(modelsDir, "mlp_f64.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	clash := proto.Clone(base).(*pb.ModelProto)
	g := clash.GetGraph()
	hidden := g.GetNode()[0].GetOutput()[0]
	weight := g.GetInitializer()[0].GetName()
	ex, err := Export(a, ExportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	internal := ex.Model.GetGraph().GetNode()[0].GetOutput()[0]
	renameGraph(g, func(n string) string {
		switch n {
		case hidden:
			return "delay" // a raw column, an input of the bundle
		case weight:
			return internal // a tensor of the exported transform
		}
		return n
	}, func(n string) string { return n })
	raw := map[string]ortTensor{}
	for j, f := range tr.Inputs() {
		if f.Name != "date" {
			raw[f.Name] = columnTensor(&in.Cols[j], in.Rows)
		}
	}
	var preds [2][]float64
	for i, m := range []*pb.ModelProto{base, clash} {
		b, err := Bundle(a, m, "test")
		if err != nil {
			t.Fatal(err)
		}
		preds[i] = runORT(t, b.Model, raw)["late"].floats(t)
	}
	for i := range preds[0] {
		if math.Float64bits(preds[0][i]) != math.Float64bits(preds[1][i]) {
			t.Fatalf("row %d: %v with clashing names, %v without", i+1, preds[1][i], preds[0][i])
		}
	}
}
