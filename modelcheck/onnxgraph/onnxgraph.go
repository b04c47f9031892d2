// Package onnxgraph reads an ONNX model file into the plain graph values
// that package modelcheck judges. It is the only part of model checking
// that knows protobuf: the types come from onnx/onnxpb, generated from
// ONNX's published onnx-ml.proto.
package onnxgraph

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"

	"google.golang.org/protobuf/proto"

	"github.com/normguard/normguard/modelcheck"
	pb "github.com/normguard/normguard/onnx/onnxpb"
)

// ErrNotONNX marks input that does not decode as an ONNX model.
var ErrNotONNX = errors.New("not an ONNX model")

// maxFileBytes bounds what ReadFile loads (protobuf's own 2 GiB limit).
const maxFileBytes = 2 << 30

// ReadFile reads and decodes the ONNX model at path.
func ReadFile(path string) (*modelcheck.Graph, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("read ONNX model: %w", err)
	}
	if st.IsDir() {
		return nil, fmt.Errorf("read ONNX model: %s is a directory, not an ONNX file", path)
	}
	if st.Size() > maxFileBytes {
		return nil, fmt.Errorf("read ONNX model: %s is %d bytes, over ONNX's 2 GiB limit for one file", path, st.Size())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read ONNX model: %w", err)
	}
	g, err := Decode(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return g, nil
}

// Decode decodes a serialized ONNX ModelProto. Bytes that are not a
// protobuf message, or a message without a graph, IR version or operator
// set, are refused with an error wrapping ErrNotONNX.
func Decode(b []byte) (*modelcheck.Graph, error) {
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
		g.Constants[t.GetName()] = tensor(t)
	}
	for _, v := range gr.GetInput() {
		if _, ok := g.Constants[v.GetName()]; ok {
			continue // IR < 4 lists initializers as inputs too
		}
		g.Inputs = append(g.Inputs, value(v))
	}
	for _, v := range gr.GetOutput() {
		g.Outputs = append(g.Outputs, value(v))
	}
	for _, n := range gr.GetNode() {
		node := modelcheck.Node{Name: n.GetName(), Op: n.GetOpType(), Domain: n.GetDomain(),
			Inputs: n.GetInput(), Outputs: n.GetOutput(), Attrs: map[string]modelcheck.Attr{}}
		for _, a := range n.GetAttribute() {
			node.Attrs[a.GetName()] = attr(a)
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

func value(v *pb.ValueInfoProto) modelcheck.Value {
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

func attr(a *pb.AttributeProto) modelcheck.Attr {
	out := modelcheck.Attr{Float: decimal(a.GetF()), Int: a.GetI(), Ints: a.GetInts(), String: string(a.GetS())}
	for _, f := range a.GetFloats() {
		out.Floats = append(out.Floats, decimal(f))
	}
	if t := a.GetT(); t != nil {
		tv := tensor(t)
		out.Tensor = &tv
	}
	return out
}

// decimal widens a float32 attribute to the float64 nearest its shortest
// decimal form, so that an epsilon written as 1e-5 reads 1e-5, not
// 9.999999747378752e-06.
func decimal(f float32) float64 {
	x, err := strconv.ParseFloat(strconv.FormatFloat(float64(f), 'g', -1, 32), 64)
	if err != nil {
		return float64(f)
	}
	return x
}

// constantValue is a Constant node's value, whichever attribute holds it.
func constantValue(attrs map[string]modelcheck.Attr) (modelcheck.Tensor, bool) {
	if a, ok := attrs["value"]; ok && a.Tensor != nil {
		return *a.Tensor, true
	}
	if a, ok := attrs["value_float"]; ok {
		return modelcheck.Tensor{Type: "float", Values: []float64{a.Float}}, true
	}
	if a, ok := attrs["value_floats"]; ok {
		return modelcheck.Tensor{Type: "float", Dims: []int64{int64(len(a.Floats))}, Values: a.Floats}, true
	}
	if a, ok := attrs["value_int"]; ok {
		return modelcheck.Tensor{Type: "int64", Values: []float64{float64(a.Int)}}, true
	}
	if a, ok := attrs["value_ints"]; ok {
		v := make([]float64, len(a.Ints))
		for i, x := range a.Ints {
			v[i] = float64(x)
		}
		return modelcheck.Tensor{Type: "int64", Dims: []int64{int64(len(v))}, Values: v}, true
	}
	return modelcheck.Tensor{}, false
}

// tensor converts a TensorProto's numbers to float64, from the typed
// fields or raw_data (little-endian). Values stays nil for external data
// and types other than float, double, float16 and the integers.
func tensor(t *pb.TensorProto) modelcheck.Tensor {
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

// half converts an IEEE 754 binary16 to float64.
func half(h uint16) float64 {
	sign := 1.0
	if h&0x8000 != 0 {
		sign = -1
	}
	exp := int(h>>10) & 0x1f
	frac := float64(h & 0x3ff)
	switch exp {
	case 0:
		return sign * frac * math.Pow(2, -24)
	case 0x1f:
		if frac != 0 {
			return math.NaN()
		}
		return sign * math.Inf(1)
	}
	return sign * (1 + frac/1024) * math.Pow(2, float64(exp-15))
}

func elemType(t int32) string {
	switch pb.TensorProto_DataType(t) {
	case pb.TensorProto_FLOAT:
		return "float"
	case pb.TensorProto_DOUBLE:
		return "double"
	case pb.TensorProto_FLOAT16:
		return "float16"
	case pb.TensorProto_BFLOAT16:
		return "bfloat16"
	case pb.TensorProto_INT64:
		return "int64"
	case pb.TensorProto_INT32:
		return "int32"
	case pb.TensorProto_STRING:
		return "string"
	case pb.TensorProto_BOOL:
		return "bool"
	case pb.TensorProto_UNDEFINED:
		return "undefined"
	}
	return pb.TensorProto_DataType(t).String()
}
