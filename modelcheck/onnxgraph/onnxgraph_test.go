package onnxgraph

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/normguard/normguard/modelcheck"
	pb "github.com/normguard/normguard/onnx/onnxpb"
)

const modelsDir = "../../testdata/models"

// TestReadFixture reads a model torch.onnx.export wrote: the facts checked
// here are what PyTorch 1.13 records (make_models.py exports opset 15 with
// a dynamic batch axis named N).
func TestReadFixture(t *testing.T) {
	g, err := ReadFile(filepath.Join(modelsDir, "penguins_clean.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	if g.Producer != "pytorch" || g.ProducerVersion != "1.13.0" || g.Opset != 15 {
		t.Errorf("got producer %q %q opset %d, want pytorch 1.13.0 opset 15", g.Producer, g.ProducerVersion, g.Opset)
	}
	if len(g.Inputs) != 1 || g.Inputs[0].Name != "features" || g.Inputs[0].Type != "float" ||
		len(g.Inputs[0].Shape) != 2 || g.Inputs[0].Shape[0] != -1 || g.Inputs[0].Shape[1] != 4 || g.Inputs[0].DimNames[0] != "N" {
		t.Errorf("got inputs %+v, want features float [N, 4]", g.Inputs)
	}
	var bn []modelcheck.Node
	for _, n := range g.Nodes {
		if n.Op == "BatchNormalization" {
			bn = append(bn, n)
		}
	}
	if len(bn) != 2 {
		t.Fatalf("got %d BatchNormalization nodes, want 2", len(bn))
	}
	// epsilon is the float32 1e-5 and reads as 1e-5; momentum 1 − 0.1
	if e := bn[0].Float("epsilon", 0); e != 1e-5 {
		t.Errorf("epsilon: got %v, want 1e-05", e)
	}
	if m := bn[0].Float("momentum", 0); m != 0.9 {
		t.Errorf("momentum: got %v, want 0.9", m)
	}
	mean, ok := g.Constants[bn[0].Inputs[3]]
	if !ok || len(mean.Values) != 4 || len(mean.Dims) != 1 || mean.Dims[0] != 4 || mean.Type != "float" {
		t.Errorf("running mean: got %+v, want 4 floats", mean)
	}
}

// TestRefuse: what is not an ONNX model is refused with ErrNotONNX.
func TestRefuse(t *testing.T) {
	for name, b := range map[string][]byte{
		"empty": {},
		"csv":   []byte("a,b\n1,2\n"),
		"json":  []byte(`{"format": "normguard"}`),
		// a valid protobuf message without a graph
		"no graph": mustMarshal(t, &pb.ModelProto{IrVersion: proto.Int64(8)}),
	} {
		if _, err := Decode(b); !errors.Is(err, ErrNotONNX) {
			t.Errorf("%s: got %v, want ErrNotONNX", name, err)
		}
	}
	dir := t.TempDir()
	if _, err := ReadFile(dir); err == nil || !strings.Contains(err.Error(), "directory") {
		t.Errorf("directory: got %v", err)
	}
	if _, err := ReadFile(filepath.Join(dir, "absent.onnx")); err == nil || !strings.Contains(err.Error(), "absent.onnx") {
		t.Errorf("missing file: got %v", err)
	}
}

// TestTensorEncodings: typed fields and raw_data give the same numbers;
// inconsistent lengths and external data leave the values unknown.
func TestTensorEncodings(t *testing.T) {
	raw := []byte{0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0} // float32 1, −2 little-endian
	cases := []struct {
		name string
		t    *pb.TensorProto
		want []float64
	}{
		{"float_data", &pb.TensorProto{DataType: proto.Int32(int32(pb.TensorProto_FLOAT)), Dims: []int64{2}, FloatData: []float32{1, -2}}, []float64{1, -2}},
		{"raw float", &pb.TensorProto{DataType: proto.Int32(int32(pb.TensorProto_FLOAT)), Dims: []int64{2}, RawData: raw}, []float64{1, -2}},
		{"double_data", &pb.TensorProto{DataType: proto.Int32(int32(pb.TensorProto_DOUBLE)), Dims: []int64{1}, DoubleData: []float64{0.1}}, []float64{0.1}},
		{"int64 scalar", &pb.TensorProto{DataType: proto.Int32(int32(pb.TensorProto_INT64)), Int64Data: []int64{-3}}, []float64{-3}},
		{"float16 raw", &pb.TensorProto{DataType: proto.Int32(int32(pb.TensorProto_FLOAT16)), Dims: []int64{3}, RawData: []byte{0x00, 0x3c, 0x00, 0xc0, 0xff, 0x7b}}, []float64{1, -2, 65504}},
		{"short raw", &pb.TensorProto{DataType: proto.Int32(int32(pb.TensorProto_FLOAT)), Dims: []int64{3}, RawData: raw}, nil},
		{"external", &pb.TensorProto{DataType: proto.Int32(int32(pb.TensorProto_FLOAT)), Dims: []int64{2}, DataLocation: pb.TensorProto_EXTERNAL.Enum()}, nil},
		{"string", &pb.TensorProto{DataType: proto.Int32(int32(pb.TensorProto_STRING)), Dims: []int64{1}, StringData: [][]byte{[]byte("x")}}, nil},
	}
	for _, c := range cases {
		got := wireTensor(t, c.t).Values
		if (got == nil) != (c.want == nil) || len(got) != len(c.want) {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
			continue
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("%s: got %v, want %v", c.name, got, c.want)
			}
		}
	}
}

// TestHalf pins IEEE 754 binary16 values: 1, −2, the largest finite,
// the smallest subnormal 2^−24, ±Inf and NaN.
func TestHalf(t *testing.T) {
	for h, want := range map[uint16]float64{0x3c00: 1, 0xc000: -2, 0x7bff: 65504, 0x0001: math.Pow(2, -24), 0x7c00: math.Inf(1), 0xfc00: math.Inf(-1), 0x3555: 0.333251953125} {
		if got := half(h); got != want {
			t.Errorf("half(%#x): got %v, want %v", h, got, want)
		}
	}
	if !math.IsNaN(half(0x7e00)) {
		t.Errorf("half(0x7e00): got %v, want NaN", half(0x7e00))
	}
}

func mustMarshal(t *testing.T, m proto.Message) []byte {
	t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// FuzzDecode: no input makes decoding or checking panic.
func FuzzDecode(f *testing.F) {
	for _, name := range []string{"penguins_clean", "penguins_training_mode", "wine_batch_statistics", "wine_other_norms_opset14", "wine_double_scaling", "diamonds_two_inputs_clean", "penguins_per_feature_inputs"} {
		b, err := os.ReadFile(filepath.Join(modelsDir, name+".onnx"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("a,b\n1,2\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		g, err := Decode(b)
		if err != nil {
			return
		}
		r := modelcheck.Check(g, modelcheck.Options{})
		if r == nil {
			t.Fatal("nil report")
		}
	})
}
