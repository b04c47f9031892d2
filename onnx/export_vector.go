package onnx

import (
	"fmt"

	"github.com/normguard/normguard/artifact"
)

// splitVectors gives every vector column of a one graph input of shape
// [N, d] named after the column (the vectors as the producer wrote them,
// fed as double), split (Split on axis 1) into the d dimension columns the
// artifact's steps read: inputs' entries for the dimension columns are
// pointed at the Split's outputs. It returns the dimension columns, which
// are no graph inputs of their own.
func (x *exporter) splitVectors(a *artifact.Artifact, inputs map[string]*column) (map[string]artifact.VectorDim, error) {
	dims := a.VectorInputs()
	for _, e := range a.Embeddings {
		switch {
		case e.Column == FeaturesOutput || e.Column == UnknownOutput:
			return nil, fmt.Errorf("export onnx: vector column %q has the name of a graph output: %w; rename the column", e.Column, ErrUnsupported)
		case inputs[e.Column] != nil:
			return nil, fmt.Errorf("export onnx: vector column %q has the name of another input column: %w; rename one of them", e.Column, ErrUnsupported)
		}
		x.b.reserve(e.Column)
		outs := x.b.opN("Split", "", []string{e.Column}, len(e.Columns), attrInt("axis", 1), attrInt("num_outputs", int64(len(e.Columns))))
		for k, c := range e.Columns {
			col, ok := inputs[c]
			if !ok {
				return nil, fmt.Errorf("export onnx: vector column %q: dimension column %q is not an input of the artifact", e.Column, c)
			}
			col.name = outs[k]
		}
	}
	return dims, nil
}
