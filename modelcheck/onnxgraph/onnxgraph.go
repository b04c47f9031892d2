// Package onnxgraph reads an ONNX model file into the plain graph values
// that package modelcheck judges. It is the only part of model checking
// that knows protobuf: the types come from onnx/onnxpb, generated from
// ONNX's published onnx-ml.proto.
package onnxgraph

import (
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"

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
// set, are refused with an error wrapping ErrNotONNX; a model with more
// than MaxElements graph elements with one wrapping ErrTooLarge.
func Decode(b []byte) (*modelcheck.Graph, error) {
	if len(b) == 0 {
		return nil, fmt.Errorf("%w: the file is empty", ErrNotONNX)
	}
	g, err := decodeModel(b)
	switch {
	case errors.Is(err, ErrTooLarge):
		return nil, err
	case errors.Is(err, errNoGraph):
		return nil, fmt.Errorf("%w: no graph, IR version or operator set in the file (export the model with torch.onnx.export, tf2onnx or another ONNX converter)", ErrNotONNX)
	case err != nil:
		return nil, fmt.Errorf("%w: %v (export the model with torch.onnx.export, tf2onnx or another ONNX converter)", ErrNotONNX, err)
	}
	return g, nil
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
