package onnxpb

import (
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// The wire format is fixed by onnx-ml.proto: ModelProto.ir_version is field 1 (varint) and
// ModelProto.graph field 7; GraphProto.name is field 2. A model holding only those must encode
// to exactly these bytes, and decode back.
func TestWireFieldNumbers(t *testing.T) {
	m := &ModelProto{IrVersion: proto.Int64(8), Graph: &GraphProto{Name: proto.String("g")}}
	got, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var want []byte
	want = protowire.AppendTag(want, 1, protowire.VarintType)
	want = protowire.AppendVarint(want, 8)
	inner := protowire.AppendTag(nil, 2, protowire.BytesType)
	inner = protowire.AppendString(inner, "g")
	want = protowire.AppendTag(want, 7, protowire.BytesType)
	want = protowire.AppendBytes(want, inner)
	if string(got) != string(want) {
		t.Fatalf("encoded % x, want % x", got, want)
	}
	var back ModelProto
	if err := proto.Unmarshal(got, &back); err != nil {
		t.Fatal(err)
	}
	if back.GetIrVersion() != 8 || back.GetGraph().GetName() != "g" {
		t.Fatalf("decoded %v", &back)
	}
	if int64(Version_IR_VERSION) != 14 {
		t.Fatalf("IR_VERSION = %d, want 14 for ONNX 1.23", Version_IR_VERSION)
	}
}
