package onnxgraph

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/normguard/normguard/modelcheck"
	pb "github.com/normguard/normguard/onnx/onnxpb"
)

// wireTensor decodes t with the wire decoder, as an initializer is.
func wireTensor(t *testing.T, tp *pb.TensorProto) modelcheck.Tensor {
	t.Helper()
	d := &decoder{values: 1 << 20}
	_, out, err := d.tensor(mustMarshal(t, tp))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// referenceDecode is the decoding through the generated protobuf types
// that the wire decoder replaced: the two must give the same graph.
func referenceDecode(b []byte) (*modelcheck.Graph, error) {
	if len(b) == 0 {
		return nil, fmt.Errorf("%w: the file is empty", ErrNotONNX)
	}
	var m pb.ModelProto
	if err := proto.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%w: %v (export the model with torch.onnx.export, tf2onnx or another ONNX converter)", ErrNotONNX, err)
	}
	if m.GetGraph() == nil || m.GetIrVersion() <= 0 || len(m.GetOpsetImport()) == 0 {
		return nil, fmt.Errorf("%w: no graph, IR version or operator set in the file (export the model with torch.onnx.export, tf2onnx or another ONNX converter)", ErrNotONNX)
	}
	g := &modelcheck.Graph{
		Producer:        m.GetProducerName(),
		ProducerVersion: m.GetProducerVersion(),
		IRVersion:       m.GetIrVersion(),
		Constants:       map[string]modelcheck.Tensor{},
		Metadata:        map[string]string{},
	}
	for _, p := range m.GetMetadataProps() {
		g.Metadata[p.GetKey()] = p.GetValue()
	}
	for _, o := range m.GetOpsetImport() {
		if d := o.GetDomain(); d == "" || d == "ai.onnx" {
			g.Opset = o.GetVersion()
		}
	}
	gr := m.GetGraph()
	for _, t := range gr.GetInitializer() {
		g.Constants[t.GetName()] = refTensor(t)
	}
	for _, v := range gr.GetInput() {
		if _, ok := g.Constants[v.GetName()]; ok {
			continue // IR < 4 lists initializers as inputs too
		}
		g.Inputs = append(g.Inputs, refValue(v))
	}
	for _, v := range gr.GetOutput() {
		g.Outputs = append(g.Outputs, refValue(v))
	}
	for _, n := range gr.GetNode() {
		node := modelcheck.Node{Name: n.GetName(), Op: n.GetOpType(), Domain: n.GetDomain(),
			Inputs: n.GetInput(), Outputs: n.GetOutput(), Attrs: map[string]modelcheck.Attr{}}
		for _, a := range n.GetAttribute() {
			node.Attrs[a.GetName()] = refAttr(a)
		}
		if node.Op == "Constant" && (node.Domain == "" || node.Domain == "ai.onnx") && len(node.Outputs) == 1 {
			if c, ok := constantValue(node.Attrs); ok {
				g.Constants[node.Outputs[0]] = c
			}
		}
		g.Nodes = append(g.Nodes, node)
	}
	return g, nil
}

func refValue(v *pb.ValueInfoProto) modelcheck.Value {
	out := modelcheck.Value{Name: v.GetName()}
	tt := v.GetType().GetTensorType()
	if tt == nil {
		out.Type = "non-tensor"
		return out
	}
	out.Type = elemType(tt.GetElemType())
	if sh := tt.GetShape(); sh != nil {
		out.Shape = make([]int64, len(sh.GetDim()))
		out.DimNames = make([]string, len(sh.GetDim()))
		for i, d := range sh.GetDim() {
			out.Shape[i] = -1
			if _, ok := d.GetValue().(*pb.TensorShapeProto_Dimension_DimValue); ok && d.GetDimValue() >= 0 {
				out.Shape[i] = d.GetDimValue()
			}
			out.DimNames[i] = d.GetDimParam()
		}
	}
	return out
}

func refAttr(a *pb.AttributeProto) modelcheck.Attr {
	out := modelcheck.Attr{Float: decimal(a.GetF()), Int: a.GetI(), Ints: a.GetInts(), String: string(a.GetS())}
	for _, f := range a.GetFloats() {
		out.Floats = append(out.Floats, decimal(f))
	}
	if t := a.GetT(); t != nil {
		tv := refTensor(t)
		out.Tensor = &tv
	}
	return out
}

func refTensor(t *pb.TensorProto) modelcheck.Tensor {
	dt := pb.TensorProto_DataType(t.GetDataType())
	out := modelcheck.Tensor{Dims: t.GetDims(), Type: elemType(int32(dt))}
	if t.GetDataLocation() == pb.TensorProto_EXTERNAL {
		return out
	}
	n := int64(1)
	for _, d := range out.Dims {
		n *= d
	}
	raw := t.GetRawData()
	var vals []float64
	switch dt {
	case pb.TensorProto_FLOAT:
		if raw != nil {
			for i := 0; i+4 <= len(raw); i += 4 {
				vals = append(vals, float64(math.Float32frombits(binary.LittleEndian.Uint32(raw[i:]))))
			}
		} else {
			for _, x := range t.GetFloatData() {
				vals = append(vals, float64(x))
			}
		}
	case pb.TensorProto_DOUBLE:
		if raw != nil {
			for i := 0; i+8 <= len(raw); i += 8 {
				vals = append(vals, math.Float64frombits(binary.LittleEndian.Uint64(raw[i:])))
			}
		} else {
			vals = append(vals, t.GetDoubleData()...)
		}
	case pb.TensorProto_FLOAT16:
		if raw != nil {
			for i := 0; i+2 <= len(raw); i += 2 {
				vals = append(vals, half(binary.LittleEndian.Uint16(raw[i:])))
			}
		} else {
			for _, x := range t.GetInt32Data() {
				vals = append(vals, half(uint16(x)))
			}
		}
	case pb.TensorProto_INT64:
		if raw != nil {
			for i := 0; i+8 <= len(raw); i += 8 {
				vals = append(vals, float64(int64(binary.LittleEndian.Uint64(raw[i:]))))
			}
		} else {
			for _, x := range t.GetInt64Data() {
				vals = append(vals, float64(x))
			}
		}
	case pb.TensorProto_INT32, pb.TensorProto_INT16, pb.TensorProto_INT8, pb.TensorProto_UINT8, pb.TensorProto_UINT16, pb.TensorProto_BOOL:
		if raw != nil {
			size := map[pb.TensorProto_DataType]int{pb.TensorProto_INT32: 4, pb.TensorProto_INT16: 2, pb.TensorProto_INT8: 1,
				pb.TensorProto_UINT8: 1, pb.TensorProto_UINT16: 2, pb.TensorProto_BOOL: 1}[dt]
			for i := 0; i+size <= len(raw); i += size {
				switch dt {
				case pb.TensorProto_INT32:
					vals = append(vals, float64(int32(binary.LittleEndian.Uint32(raw[i:]))))
				case pb.TensorProto_INT16:
					vals = append(vals, float64(int16(binary.LittleEndian.Uint16(raw[i:]))))
				case pb.TensorProto_UINT16:
					vals = append(vals, float64(binary.LittleEndian.Uint16(raw[i:])))
				case pb.TensorProto_INT8:
					vals = append(vals, float64(int8(raw[i])))
				default:
					vals = append(vals, float64(raw[i]))
				}
			}
		} else {
			for _, x := range t.GetInt32Data() {
				vals = append(vals, float64(x))
			}
		}
	default:
		return out
	}
	if int64(len(vals)) != n {
		return out // truncated or inconsistent data: unknown, not wrong numbers
	}
	if vals == nil {
		vals = []float64{}
	}
	out.Values = vals
	return out
}

// sameGraph reports how the wire decoder's graph differs from the
// reference's, "" when they agree. DimNames are nil when no axis is
// named, where the reference holds a slice of empty strings.
func sameGraph(got, want *modelcheck.Graph) string {
	norm := func(vs []modelcheck.Value) {
		for i := range vs {
			for len(vs[i].DimNames) > 0 && vs[i].DimNames[len(vs[i].DimNames)-1] == "" {
				vs[i].DimNames = vs[i].DimNames[:len(vs[i].DimNames)-1]
			}
			if len(vs[i].DimNames) == 0 {
				vs[i].DimNames = nil
			}
			if len(vs[i].Shape) > MaxRank {
				vs[i].Shape, vs[i].DimNames = nil, nil // read as of unknown rank
			}
		}
	}
	norm(want.Inputs)
	norm(want.Outputs)
	noNaN(got)
	noNaN(want)
	switch {
	case !reflect.DeepEqual(got.Inputs, want.Inputs):
		return fmt.Sprintf("inputs %+v, want %+v", got.Inputs, want.Inputs)
	case !reflect.DeepEqual(got.Outputs, want.Outputs):
		return fmt.Sprintf("outputs %+v, want %+v", got.Outputs, want.Outputs)
	case !reflect.DeepEqual(got.Nodes, want.Nodes):
		for i := range got.Nodes {
			if i < len(want.Nodes) && !reflect.DeepEqual(got.Nodes[i], want.Nodes[i]) {
				return fmt.Sprintf("node %d: %+v, want %+v", i, got.Nodes[i], want.Nodes[i])
			}
		}
		return fmt.Sprintf("%d nodes, want %d", len(got.Nodes), len(want.Nodes))
	case !reflect.DeepEqual(got.Constants, want.Constants):
		return fmt.Sprintf("constants %+v, want %+v", got.Constants, want.Constants)
	case !reflect.DeepEqual(got.Metadata, want.Metadata):
		return fmt.Sprintf("metadata %v, want %v", got.Metadata, want.Metadata)
	case got.Producer != want.Producer || got.ProducerVersion != want.ProducerVersion || got.IRVersion != want.IRVersion || got.Opset != want.Opset:
		return fmt.Sprintf("header %q %q %d %d, want %q %q %d %d", got.Producer, got.ProducerVersion, got.IRVersion, got.Opset,
			want.Producer, want.ProducerVersion, want.IRVersion, want.Opset)
	}
	return ""
}

// edgeModels are encodings the fixtures do not have: unpacked repeated
// fields, initializers listed as inputs (IR < 4), a Constant node, a
// non-tensor input, a shape without axes, repeated singular fields.
func edgeModels(t testing.TB) map[string][]byte {
	f32 := func(v float32) []byte { return binary.LittleEndian.AppendUint32(nil, math.Float32bits(v)) }
	tensorType := func(elem int32, dims ...*pb.TensorShapeProto_Dimension) *pb.TypeProto {
		var sh *pb.TensorShapeProto
		if dims != nil {
			sh = &pb.TensorShapeProto{Dim: dims}
		}
		return &pb.TypeProto{Value: &pb.TypeProto_TensorType{TensorType: &pb.TypeProto_Tensor{ElemType: proto.Int32(elem), Shape: sh}}}
	}
	n := &pb.TensorShapeProto_Dimension{Value: &pb.TensorShapeProto_Dimension_DimParam{DimParam: "N"}}
	four := &pb.TensorShapeProto_Dimension{Value: &pb.TensorShapeProto_Dimension_DimValue{DimValue: 4}}
	neg := &pb.TensorShapeProto_Dimension{Value: &pb.TensorShapeProto_Dimension_DimValue{DimValue: -3}}
	model := &pb.ModelProto{IrVersion: proto.Int64(3), ProducerName: proto.String("tf2onnx"), ProducerVersion: proto.String("1.9"),
		OpsetImport:   []*pb.OperatorSetIdProto{{Domain: proto.String("ai.onnx.ml"), Version: proto.Int64(3)}, {Version: proto.Int64(11)}},
		MetadataProps: []*pb.StringStringEntryProto{{Key: proto.String("feature_names"), Value: proto.String("a,b")}, {Key: proto.String("empty")}},
		Graph: &pb.GraphProto{
			Input: []*pb.ValueInfoProto{
				{Name: proto.String("x"), Type: tensorType(1, n, four)},
				{Name: proto.String("w"), Type: tensorType(1, four)},
				{Name: proto.String("seq"), Type: &pb.TypeProto{Value: &pb.TypeProto_SequenceType{SequenceType: &pb.TypeProto_Sequence{}}}},
				{Name: proto.String("scalar"), Type: &pb.TypeProto{Value: &pb.TypeProto_TensorType{TensorType: &pb.TypeProto_Tensor{ElemType: proto.Int32(7), Shape: &pb.TensorShapeProto{}}}}},
				{Name: proto.String("norank"), Type: tensorType(11)},
				{Name: proto.String("odd"), Type: tensorType(1, four, neg, &pb.TensorShapeProto_Dimension{})},
			},
			Output: []*pb.ValueInfoProto{{Name: proto.String("y"), Type: tensorType(1, n, four)}},
			Initializer: []*pb.TensorProto{
				{Name: proto.String("w"), DataType: proto.Int32(1), Dims: []int64{4}, FloatData: []float32{1, 2, 3, 4}},
				{Name: proto.String("raw"), DataType: proto.Int32(1), Dims: []int64{2}, RawData: append(f32(0.5), f32(-1)...)},
				{Name: proto.String("i8"), DataType: proto.Int32(3), Dims: []int64{3}, RawData: []byte{0xff, 1, 0x80}},
				{Name: proto.String("u16"), DataType: proto.Int32(4), Dims: []int64{1}, RawData: []byte{0xff, 0xff}},
				{Name: proto.String("i32"), DataType: proto.Int32(6), Dims: []int64{2}, Int32Data: []int32{-7, 1 << 30}},
				{Name: proto.String("i64"), DataType: proto.Int32(7), Dims: []int64{2, 1}, Int64Data: []int64{-1, 1 << 40}},
				{Name: proto.String("f16"), DataType: proto.Int32(10), Dims: []int64{1}, Int32Data: []int32{0x3c00}},
				{Name: proto.String("d"), DataType: proto.Int32(11), DoubleData: []float64{0.1}},
				{Name: proto.String("emptyraw"), DataType: proto.Int32(1), Dims: []int64{0}, RawData: []byte{}},
				{Name: proto.String("str"), DataType: proto.Int32(8), Dims: []int64{1}, StringData: [][]byte{[]byte("s")}},
				{Name: proto.String("ext"), DataType: proto.Int32(1), Dims: []int64{1}, DataLocation: pb.TensorProto_EXTERNAL.Enum()},
				{Name: proto.String("short"), DataType: proto.Int32(1), Dims: []int64{3}, FloatData: []float32{1}},
			},
			Node: []*pb.NodeProto{
				{OpType: proto.String("Constant"), Output: []string{"c"}, Attribute: []*pb.AttributeProto{{Name: proto.String("value"),
					T: &pb.TensorProto{DataType: proto.Int32(1), Dims: []int64{1}, FloatData: []float32{2}}}}},
				{OpType: proto.String("Constant"), Output: []string{"cf"}, Attribute: []*pb.AttributeProto{{Name: proto.String("value_floats"), Floats: []float32{1e-5, 0.1}}}},
				{OpType: proto.String("Constant"), Output: []string{"ci"}, Attribute: []*pb.AttributeProto{{Name: proto.String("value_ints"), Ints: []int64{-1, 3}}}},
				{OpType: proto.String("Constant"), Output: []string{"w"}, Attribute: []*pb.AttributeProto{{Name: proto.String("value_int"), I: proto.Int64(9)}}},
				{Name: proto.String("bn"), OpType: proto.String("BatchNormalization"), Input: []string{"x", "w", "raw", "", "c"}, Output: []string{"y", "", "m"},
					Attribute: []*pb.AttributeProto{{Name: proto.String("epsilon"), F: proto.Float32(1e-3)}, {Name: proto.String("mode"), S: []byte("x")}}},
				{OpType: proto.String("Scaler"), Domain: proto.String("ai.onnx.ml"), Input: []string{"y"}, Output: []string{"z"}},
			},
		}}
	b, err := proto.Marshal(model)
	if err != nil {
		t.Fatal(err)
	}
	// the same model with repeated fields written unpacked, one value per
	// field, as protobuf allows and older writers did
	unpacked := appendUnpacked(t, model)
	// a second graph field merges with the first
	extra := &pb.ModelProto{Graph: &pb.GraphProto{Node: []*pb.NodeProto{{OpType: proto.String("Identity"), Input: []string{"z"}, Output: []string{"zz"}}}},
		IrVersion: proto.Int64(7), ProducerName: proto.String("later")}
	more, err := proto.Marshal(extra)
	if err != nil {
		t.Fatal(err)
	}
	return map[string][]byte{"packed": b, "unpacked": unpacked, "merged": append(append([]byte{}, b...), more...)}
}

// appendUnpacked encodes m with every initializer's float and int64 data
// unpacked: tag and value per number.
func appendUnpacked(t testing.TB, m *pb.ModelProto) []byte {
	m = proto.Clone(m).(*pb.ModelProto)
	var extra []byte // a GraphProto holding the unpacked initializers
	for _, init := range m.Graph.Initializer {
		if len(init.FloatData) == 0 && len(init.Int64Data) == 0 && len(init.Dims) == 0 {
			continue
		}
		var tb []byte
		tb = appendTag(tb, 8, 2)
		tb = appendLen(tb, []byte(init.GetName()))
		tb = appendTag(tb, 2, 0)
		tb = binary.AppendUvarint(tb, uint64(init.GetDataType()))
		for _, d := range init.Dims {
			tb = appendTag(tb, 1, 0)
			tb = binary.AppendUvarint(tb, uint64(d))
		}
		for _, f := range init.FloatData {
			tb = appendTag(tb, 4, 5)
			tb = binary.LittleEndian.AppendUint32(tb, math.Float32bits(f))
		}
		for _, x := range init.Int64Data {
			tb = appendTag(tb, 7, 0)
			tb = binary.AppendUvarint(tb, uint64(x))
		}
		if init.RawData != nil {
			tb = appendTag(tb, 9, 2)
			tb = appendLen(tb, init.RawData)
		}
		if init.Int32Data != nil || init.DoubleData != nil || init.StringData != nil || init.DataLocation != nil {
			continue // left packed
		}
		extra = appendTag(extra, 5, 2)
		extra = appendLen(extra, tb)
		init.Name = proto.String(init.GetName() + "_packed")
	}
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	b = appendTag(b, 7, 2)
	return appendLen(b, extra)
}

func appendTag(b []byte, num, typ int) []byte { return binary.AppendUvarint(b, uint64(num<<3|typ)) }
func appendLen(b, v []byte) []byte {
	return append(binary.AppendUvarint(b, uint64(len(v))), v...)
}

// TestWireMatchesReference: decoding the wire format directly gives the
// graph that decoding through the generated protobuf types gave, for the
// fixtures exported by PyTorch and tf2onnx and for encodings they lack.
func TestWireMatchesReference(t *testing.T) {
	files, err := filepathGlob(modelsDir+"/*.onnx", "testdata/*.onnx")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 10 {
		t.Fatalf("found %d model fixtures, want the testdata models", len(files))
	}
	cases := edgeModels(t)
	for _, f := range files {
		b, err := readFile(f)
		if err != nil {
			t.Fatal(err)
		}
		cases[f] = b
	}
	for name, b := range cases {
		want, err := referenceDecode(b)
		if err != nil {
			t.Fatalf("%s: reference: %v", name, err)
		}
		got, err := Decode(b)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if d := sameGraph(got, want); d != "" {
			t.Errorf("%s: %s", name, d)
		}
	}
	// the edge model's values, from its definition
	g, err := Decode(cases["unpacked"])
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string][]float64{"w": {9}, "w_packed": {1, 2, 3, 4}, "i8": {-1, 1, -128}, "u16": {65535}, "i32": {-7, 1 << 30},
		"i64_packed": {-1, 1 << 40}, "i64": {-1, 1 << 40}, "f16": {1}, "d": {0.1}, "emptyraw": {}, "c": {2}, "cf": {1e-5, 0.1}, "ci": {-1, 3}} {
		if got := g.Constants[name].Values; !reflect.DeepEqual(got, want) {
			t.Errorf("constant %s: got %v, want %v", name, got, want)
		}
	}
	for _, name := range []string{"str", "ext", "short"} {
		if c, ok := g.Constants[name]; !ok || c.Values != nil {
			t.Errorf("constant %s: got %+v, want present without values", name, c)
		}
	}
	if len(g.Inputs) != 5 || g.Inputs[0].Name != "x" || g.Inputs[1].Type != "non-tensor" || g.Inputs[2].Shape == nil || len(g.Inputs[2].Shape) != 0 ||
		g.Inputs[3].Shape != nil || !reflect.DeepEqual(g.Inputs[4].Shape, []int64{4, -1, -1}) || g.Inputs[4].DimNames != nil ||
		!reflect.DeepEqual(g.Inputs[0].DimNames, []string{"N"}) {
		t.Errorf("inputs: got %+v", g.Inputs)
	}
	if g.Opset != 11 || g.IRVersion != 3 || g.Metadata["feature_names"] != "a,b" {
		t.Errorf("header: got opset %d IR %d metadata %v", g.Opset, g.IRVersion, g.Metadata)
	}
}

// FuzzWireMatchesReference: on any input both decoders refuse, or both
// give the same graph.
func FuzzWireMatchesReference(f *testing.F) {
	for _, b := range edgeModels(f) {
		f.Add(b)
	}
	f.Add([]byte{0x3a, 0x02, 0x0a, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		want, werr := referenceDecode(b)
		got, err := Decode(b)
		if (err == nil) != (werr == nil) {
			t.Fatalf("got error %v, reference error %v", err, werr)
		}
		if err == nil {
			if d := sameGraph(got, want); d != "" {
				t.Fatal(d)
			}
		}
	})
}

func filepathGlob(patterns ...string) ([]string, error) {
	var out []string
	for _, p := range patterns {
		m, err := filepath.Glob(p)
		if err != nil {
			return nil, err
		}
		out = append(out, m...)
	}
	return out, nil
}

func readFile(name string) ([]byte, error) { return os.ReadFile(name) }

// noNaN replaces NaN values in g's tensors and float attributes by a
// number, for reflect.DeepEqual (NaN != NaN).
func noNaN(g *modelcheck.Graph) {
	fix := func(xs []float64) {
		for i, x := range xs {
			if math.IsNaN(x) {
				xs[i] = -123456.789
			}
		}
	}
	for _, c := range g.Constants {
		fix(c.Values)
	}
	for _, n := range g.Nodes {
		for _, a := range n.Attrs {
			fix(a.Floats)
			if a.Tensor != nil {
				fix(a.Tensor.Values)
			}
		}
	}
	for i := range g.Nodes {
		for k, a := range g.Nodes[i].Attrs {
			if math.IsNaN(a.Float) {
				a.Float = -123456.789
				g.Nodes[i].Attrs[k] = a
			}
		}
	}
}
