package modelcheck_test

import (
	"fmt"

	"github.com/normguard/normguard/modelcheck"
)

// A BatchNorm whose running statistics were never trained, in a graph
// built by hand (onnxgraph.ReadFile builds one from an ONNX file).
func ExampleCheck() {
	g := &modelcheck.Graph{
		Producer: "pytorch", Opset: 15,
		Inputs: []modelcheck.Value{{Name: "x", Type: "float", Shape: []int64{-1, 2}}},
		Constants: map[string]modelcheck.Tensor{
			"gamma": {Dims: []int64{2}, Values: []float64{1, 1}},
			"beta":  {Dims: []int64{2}, Values: []float64{0, 0}},
			"mean":  {Dims: []int64{2}, Values: []float64{0, 0}},
			"var":   {Dims: []int64{2}, Values: []float64{1, 1}},
		},
		Nodes: []modelcheck.Node{{Name: "bn", Op: "BatchNormalization",
			Inputs: []string{"x", "gamma", "beta", "mean", "var"}, Outputs: []string{"y"},
			Attrs: map[string]modelcheck.Attr{"epsilon": {Float: 1e-5}}}},
	}
	r := modelcheck.Check(g, modelcheck.Options{})
	for _, f := range r.Findings {
		fmt.Println(f.Severity, f.Code, f.Node)
	}
	fmt.Println("found:", r.Found())
	// Output:
	// error untrained_running_stats bn
	// found: true
}
