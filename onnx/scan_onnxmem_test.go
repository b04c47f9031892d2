package onnx

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	pb "github.com/normguard/normguard/onnx/onnxpb"
)

// wideModel is a model of n inputs of the given rank, each read by an
// Identity node into an output: the shape of the attack model (30,000
// inputs of rank 150 in 38 MB took 930 MB for normguard bundle to read).
func wideModel(t *testing.T, n, rank int) []byte {
	t.Helper()
	vi := func(name string) *pb.ValueInfoProto {
		sh := &pb.TensorShapeProto{}
		for i := 0; i < rank; i++ {
			sh.Dim = append(sh.Dim, &pb.TensorShapeProto_Dimension{Value: &pb.TensorShapeProto_Dimension_DimValue{DimValue: 1}})
		}
		return &pb.ValueInfoProto{Name: proto.String(name), Type: &pb.TypeProto{Value: &pb.TypeProto_TensorType{
			TensorType: &pb.TypeProto_Tensor{ElemType: proto.Int32(1), Shape: sh}}}}
	}
	g := &pb.GraphProto{Name: proto.String("g")}
	for i := 0; i < n; i++ {
		in, out := fmt.Sprintf("in%d", i), fmt.Sprintf("out%d", i)
		g.Input = append(g.Input, vi(in))
		g.Output = append(g.Output, vi(out))
		g.Node = append(g.Node, &pb.NodeProto{OpType: proto.String("Identity"), Input: []string{in}, Output: []string{out}})
	}
	b, err := Marshal(&pb.ModelProto{IrVersion: proto.Int64(8), Graph: g, OpsetImport: []*pb.OperatorSetIdProto{{Version: proto.Int64(17)}}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestCountElements counts by the definition: per input and output a
// value info, its type, tensor type, shape and rank axes; per node the
// node and its input and output names; the graph and the operator set.
func TestCountElements(t *testing.T) {
	for _, c := range []struct{ n, rank int }{{1, 2}, {3, 0}, {10, 5}} {
		want := 2 + c.n*(2*(4+c.rank)+3)
		if got := countElements(wideModel(t, c.n, c.rank)); got != want {
			t.Errorf("%d inputs of rank %d: got %d elements, want %d", c.n, c.rank, got, want)
		}
	}
	// the fixtures are far from the bound
	files, _ := filepath.Glob(filepath.Join(modelsDir, "*.onnx"))
	if len(files) == 0 {
		t.Fatal("no model fixtures")
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if n := countElements(b); n == 0 || n > 10000 {
			t.Errorf("%s: %d elements", f, n)
		}
	}
}

// TestReadModelWide: a model of 30,000 inputs of rank 2 is read; of rank
// 40 (2.5 million elements) it is refused with ErrTooLarge naming the
// bound, before it is decoded.
func TestReadModelWide(t *testing.T) {
	dir := t.TempDir()
	ok := filepath.Join(dir, "wide2.onnx")
	if err := os.WriteFile(ok, wideModel(t, 30000, 2), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := ReadModel(ok)
	if err != nil || len(m.GetGraph().GetInput()) != 30000 {
		t.Fatalf("rank 2: got %v", err)
	}
	big := filepath.Join(dir, "wide40.onnx")
	b := wideModel(t, 30000, 40)
	if err := os.WriteFile(big, b, 0o644); err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err = ReadModel(big)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "1000000") || !strings.Contains(err.Error(), big) {
		t.Fatalf("rank 40: got %v, want ErrTooLarge naming the file and the bound", err)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 2*uint64(len(b)) {
		t.Errorf("rank 40: %d bytes allocated to refuse a %d-byte model, want at most twice its size", n, len(b))
	}
}
