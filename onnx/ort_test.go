package onnx

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	pb "github.com/normguard/normguard/onnx/onnxpb"
	"github.com/normguard/normguard/table"
)

// ortDir holds the node script that runs ONNX Runtime and its
// package.json; `npm ci --ignore-scripts` there installs onnxruntime-node.
const ortDir = "testdata/ort"

// ortScript returns the absolute path of run.js. Without node or the
// installed onnxruntime-node the test is skipped, except in CI (CI=true,
// where .ci/run installs both), where it fails.
func ortScript(t testing.TB) string {
	t.Helper()
	dir, err := filepath.Abs(ortDir)
	if err != nil {
		t.Fatal(err)
	}
	_, errNode := exec.LookPath("node")
	_, errPkg := os.Stat(filepath.Join(dir, "node_modules", "onnxruntime-node", "package.json"))
	if errNode != nil || errPkg != nil {
		msg := fmt.Sprintf("ONNX Runtime unavailable (node: %v; onnxruntime-node: %v); run npm ci --ignore-scripts in onnx/testdata/ort", errNode, errPkg)
		if os.Getenv("CI") != "true" {
			t.Skip(msg)
		}
		t.Fatal(msg)
	}
	return filepath.Join(dir, "run.js")
}

// ortTensor is a tensor as run.js reads and writes it: doubles and floats
// as hex IEEE bit patterns, int64 as decimal strings.
type ortTensor struct {
	Type string   `json:"type"`
	Dims []int64  `json:"dims"`
	Data []string `json:"data"`
}

// doubleTensor encodes xs as a [len, 1] double tensor.
func doubleTensor(xs []float64) ortTensor {
	t := ortTensor{Type: "double", Dims: []int64{int64(len(xs)), 1}, Data: make([]string, len(xs))}
	for i, x := range xs {
		t.Data[i] = fmt.Sprintf("%016x", math.Float64bits(x))
	}
	return t
}

// floatTensor encodes xs (rounded to float32) as a [rows, cols] float tensor.
func floatTensor(xs []float64, rows, cols int) ortTensor {
	t := ortTensor{Type: "float", Dims: []int64{int64(rows), int64(cols)}, Data: make([]string, len(xs))}
	for i, x := range xs {
		t.Data[i] = fmt.Sprintf("%08x", math.Float32bits(float32(x)))
	}
	return t
}

// columnTensor encodes an input column: numbers as double, text as
// string with "" for a missing value.
func columnTensor(c *table.Column, n int) ortTensor {
	if c.Kind == table.Numeric {
		return doubleTensor(c.Num[:n])
	}
	t := ortTensor{Type: "string", Dims: []int64{int64(n), 1}, Data: make([]string, n)}
	for i := range n {
		if !c.IsMissing(i) {
			t.Data[i] = c.Str[i]
		}
	}
	return t
}

// floats decodes a double or float tensor.
func (t ortTensor) floats(tb testing.TB) []float64 {
	tb.Helper()
	out := make([]float64, len(t.Data))
	for i, h := range t.Data {
		bits, err := strconv.ParseUint(h, 16, 64)
		if err != nil {
			tb.Fatalf("bad %s value %q", t.Type, h)
		}
		switch t.Type {
		case "double":
			out[i] = math.Float64frombits(bits)
		case "float":
			out[i] = float64(math.Float32frombits(uint32(bits)))
		default:
			tb.Fatalf("tensor type %s, want double or float", t.Type)
		}
	}
	return out
}

// ints decodes an int64 tensor.
func (t ortTensor) ints(tb testing.TB) []int64 {
	tb.Helper()
	if t.Type != "int64" {
		tb.Fatalf("tensor type %s, want int64", t.Type)
	}
	out := make([]int64, len(t.Data))
	for i, s := range t.Data {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			tb.Fatal(err)
		}
		out[i] = v
	}
	return out
}

// runORT runs model m in ONNX Runtime on inputs and returns its outputs.
func runORT(t testing.TB, m *pb.ModelProto, inputs map[string]ortTensor) map[string]ortTensor {
	t.Helper()
	script := ortScript(t)
	dir := t.TempDir()
	model := filepath.Join(dir, "model.onnx")
	if err := WriteModel(model, m); err != nil {
		t.Fatal(err)
	}
	return runORTFile(t, script, model, inputs)
}

// runORTFile runs the model file in ONNX Runtime on inputs.
func runORTFile(t testing.TB, script, model string, inputs map[string]ortTensor) map[string]ortTensor {
	t.Helper()
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.json"), filepath.Join(dir, "out.json")
	data, err := json.Marshal(inputs)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(in, data, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("node", script, model, in, out)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("onnxruntime: %v\n%s", err, msg)
	}
	var res map[string]ortTensor
	if err := json.Unmarshal(readFile(t, out), &res); err != nil {
		t.Fatal(err)
	}
	return res
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
