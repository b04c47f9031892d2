package onnx_test

import (
	"fmt"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/onnx"
	"github.com/normguard/normguard/step"
)

// An artifact standardizing one column exports as a graph with one input
// per raw column and the features output, the digest in its metadata.
func ExampleExport() {
	scaler := &step.StandardScaler{WithMean: true, WithStd: true, Mean: step.Floats{40}, Var: step.Floats{100},
		Scale: step.Floats{10}, NSamplesSeen: []int64{5}, Names: []string{"age"}}
	a := &artifact.Artifact{
		Digest: "sha256:0123",
		Inputs: []artifact.Field{{Name: "age", Type: "numeric"}},
		Groups: []artifact.Group{{Columns: []string{"age"}, Type: "numeric",
			Steps: []step.FittedStep{{Name: "standard_scaler", Inputs: []string{"age"}, Fitted: scaler}}}},
		Outputs: []artifact.Field{{Name: "age", Type: "numeric"}},
	}
	ex, err := onnx.Export(a, onnx.ExportOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	g := ex.Model.GetGraph()
	for _, in := range g.GetInput() {
		fmt.Println("input", in.GetName())
	}
	for _, out := range g.GetOutput() {
		fmt.Println("output", out.GetName())
	}
	for _, n := range g.GetNode() {
		fmt.Println("node", n.GetOpType())
	}
	for _, m := range ex.Model.GetMetadataProps() {
		if m.GetKey() == onnx.MetaDigest {
			fmt.Println(m.GetKey(), m.GetValue())
		}
	}
	// Output:
	// input age
	// output features
	// node Sub
	// node Div
	// node Identity
	// normguard.artifact_digest sha256:0123
}
