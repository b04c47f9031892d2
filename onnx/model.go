package onnx

import (
	"errors"
	"fmt"
	"os"

	"google.golang.org/protobuf/proto"

	"github.com/normguard/normguard/internal/tempfile"
	pb "github.com/normguard/normguard/onnx/onnxpb"
)

// MaxModelSize bounds the size of a model file ReadModel accepts (the
// protobuf format's own limit).
const MaxModelSize = 2 << 30

// ErrNotModel is wrapped by errors about a file that is not an ONNX model.
var ErrNotModel = errors.New("not an ONNX model")

// Marshal encodes a model deterministically: the same model gives the
// same bytes.
func Marshal(m *pb.ModelProto) ([]byte, error) {
	return proto.MarshalOptions{Deterministic: true}.Marshal(m)
}

// Unmarshal decodes an ONNX model; name labels errors.
func Unmarshal(data []byte, name string) (*pb.ModelProto, error) {
	var m pb.ModelProto
	if err := proto.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("read model %s: %w: %v; pass a .onnx file (ONNX protobuf)", name, ErrNotModel, err)
	}
	if m.GetGraph() == nil || m.GetIrVersion() == 0 {
		return nil, fmt.Errorf("read model %s: %w: it has no graph or no ir_version; pass a .onnx file (ONNX protobuf)", name, ErrNotModel)
	}
	return &m, nil
}

// ReadModel reads an ONNX model file. Models whose weights live in
// external data files, and models of more than MaxElements elements, are
// refused.
func ReadModel(path string) (*pb.ModelProto, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("read model: %w", err)
	}
	if st.Size() > MaxModelSize {
		return nil, fmt.Errorf("read model %s: %d bytes is larger than a protobuf model can be (2 GiB)", path, st.Size())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read model: %w", err)
	}
	if err := checkElements(data, path); err != nil {
		return nil, err
	}
	m, err := Unmarshal(data, path)
	if err != nil {
		return nil, err
	}
	for _, t := range m.GetGraph().GetInitializer() {
		if t.GetDataLocation() == pb.TensorProto_EXTERNAL {
			return nil, fmt.Errorf("read model %s: initializer %q is stored in an external file; save the model with its weights inside (onnx.save with save_as_external_data=False)", path, t.GetName())
		}
	}
	return m, nil
}

// WriteModel writes m to the output path (tempfile.CreateOutput)
// atomically: a temporary file in the same folder, renamed over path once
// complete, so a failure leaves no partial file. A symbolic link is
// followed; a device, FIFO or standard output is written in place.
func WriteModel(path string, m *pb.ModelProto) error {
	data, err := Marshal(m)
	if err != nil {
		return fmt.Errorf("write model %s: %w", path, err)
	}
	o, err := tempfile.CreateOutput(path)
	if err != nil {
		return fmt.Errorf("write model: %w", err)
	}
	if _, err := o.File().Write(data); err != nil {
		o.Discard()
		return fmt.Errorf("write model %s: %w", path, err)
	}
	if err := o.Commit(); err != nil {
		return fmt.Errorf("write model %s: %w", path, err)
	}
	return nil
}
