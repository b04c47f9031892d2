package onnx

import (
	"errors"
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
)

// MaxElements bounds the protobuf messages (nodes, attributes, tensors,
// value infos, the axes of their shapes, ...) and the tensor names of
// node inputs and outputs a model may have for ReadModel. Decoded, each
// takes 50 to 150 bytes however few bytes encode it (an axis is 4), so a
// 38 MB model of 30,000 inputs of rank 150 took 930 MB; the bound keeps
// the decoded model within some 150 MB besides the file. A large exported
// transformer has a few hundred thousand.
const MaxElements = 1_000_000

// ErrTooLarge is wrapped by the error about a model over MaxElements.
var ErrTooLarge = errors.New("too many graph elements")

type msgKind int

const (
	kModel msgKind = iota
	kGraph
	kNode
	kAttr
	kTensor
	kSparse
	kValueInfo
	kType
	kTensorType
	kShape
	kTraining
	kFunction
	kOther // a message without fields of interest: counted, not entered
)

// children gives, per message kind, the fields holding messages (by
// onnx-ml.proto), what they are, and the fields of repeated strings
// (-1), whose entries are counted one by one.
var children = map[msgKind]map[protowire.Number]msgKind{
	kModel:      {7: kGraph, 8: kOther, 14: kOther, 20: kTraining, 25: kFunction},
	kGraph:      {1: kNode, 5: kTensor, 15: kSparse, 11: kValueInfo, 12: kValueInfo, 13: kValueInfo, 14: kOther},
	kNode:       {1: -1, 2: -1, 5: kAttr},
	kAttr:       {5: kTensor, 6: kGraph, 8: -1, 9: -1, 10: kTensor, 11: kGraph, 14: kType, 15: kType, 22: kSparse, 23: kSparse},
	kTensor:     {6: -1, 13: kOther},
	kSparse:     {1: kTensor, 2: kTensor},
	kValueInfo:  {2: kType, 4: kOther},
	kType:       {1: kTensorType, 4: kType, 5: kType, 8: kTensorType, 9: kType},
	kTensorType: {2: kShape},
	kShape:      {1: kOther},
	kTraining:   {1: kGraph, 2: kGraph, 3: kOther, 4: kOther},
	kFunction:   {4: -1, 5: -1, 7: kNode, 11: kAttr, 12: kValueInfo, 13: kOther},
}

// countElements counts the elements of the serialized model b, up to
// past MaxElements. Malformed bytes end the count without an error: the
// protobuf decoder reports those.
func countElements(b []byte) int {
	n := 0
	var walk func(b []byte, k msgKind, depth int)
	walk = func(b []byte, k msgKind, depth int) {
		fs := children[k]
		for len(b) > 0 && n <= MaxElements {
			num, typ, m := protowire.ConsumeTag(b)
			if m < 0 {
				return
			}
			b = b[m:]
			m = protowire.ConsumeFieldValue(num, typ, b)
			if m < 0 {
				return
			}
			v := b[:m]
			b = b[m:]
			child, ok := fs[num]
			if !ok || typ != protowire.BytesType {
				continue
			}
			n++
			// sequence and map types nest TypeProtos; a deeper nesting
			// than protobuf's own limit (100) fails to decode anyway
			if child >= 0 && child != kOther && depth < 100 {
				s, _ := protowire.ConsumeBytes(v)
				walk(s, child, depth+1)
			}
		}
	}
	walk(b, kModel, 0)
	return n
}

// checkElements refuses a model of more than MaxElements elements.
func checkElements(data []byte, name string) error {
	if n := countElements(data); n > MaxElements {
		return fmt.Errorf("read model %s: %w: it has more than %d nodes, attributes, tensors, inputs, outputs, value infos, axes and tensor names together, the most normguard reads; check a model exported without unrolled loops or one input per feature", name, ErrTooLarge, MaxElements)
	}
	return nil
}
