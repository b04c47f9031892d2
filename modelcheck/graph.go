package modelcheck

import "math"

// Graph is a model's computation graph as plain values: what the checks
// read, free of any serialization format. onnxgraph.Read builds one from
// an ONNX file.
type Graph struct {
	// Producer names the exporting framework ("pytorch", "tf2onnx", ...)
	// and ProducerVersion its version, as the model file records them.
	Producer, ProducerVersion string
	// IRVersion is the file format's version; Opset the version of the
	// default ("ai.onnx") operator set.
	IRVersion, Opset int64
	// Inputs are the graph's runtime inputs (initializers excluded);
	// Outputs its outputs.
	Inputs, Outputs []Value
	// Nodes in topological order, as ONNX requires.
	Nodes []Node
	// Constants holds every tensor whose value the file stores: the
	// initializers and the outputs of Constant nodes, by name.
	Constants map[string]Tensor
	// Metadata is the model's metadata_props.
	Metadata map[string]string
}

// Value is a named graph input or output with its element type and shape.
type Value struct {
	Name string `json:"name"`
	// Type is the element type ("float", "double", "int64", "string", ...).
	Type string `json:"type"`
	// Shape holds one entry per axis: a size, or -1 for a symbolic or
	// unknown one. Nil means the rank is unknown.
	Shape []int64 `json:"shape"`
	// DimNames holds the symbolic names of the axes ("N"), "" elsewhere,
	// up to the last named axis: shorter than Shape when the later axes
	// have no name, nil when none has.
	DimNames []string `json:"-"`
}

// Node is one operator application.
type Node struct {
	Name, Op, Domain string
	// Inputs and Outputs name tensors; an empty name is an omitted
	// optional input or output.
	Inputs, Outputs []string
	Attrs           map[string]Attr
}

// Attr is a node attribute; only the fields of its kind are set.
type Attr struct {
	Float  float64
	Int    int64
	Floats []float64
	Ints   []int64
	String string
	// Tensor is a tensor-valued attribute (Constant's value).
	Tensor *Tensor
}

// Tensor is a stored tensor converted to float64 (integers exactly as far
// as float64 holds them). Values is nil when the data could not be read
// (external data, an unsupported type).
type Tensor struct {
	Dims   []int64
	Type   string
	Values []float64
}

// Float returns the named float attribute, or def when absent.
func (n *Node) Float(name string, def float64) float64 {
	if a, ok := n.Attrs[name]; ok {
		return a.Float
	}
	return def
}

// Int returns the named integer attribute, or def when absent.
func (n *Node) Int(name string, def int64) int64 {
	if a, ok := n.Attrs[name]; ok {
		return a.Int
	}
	return def
}

// Ints returns the named integer-list attribute and whether it is present.
func (n *Node) Ints(name string) ([]int64, bool) {
	a, ok := n.Attrs[name]
	return a.Ints, ok
}

// input returns the i-th input name, "" when absent.
func (n *Node) input(i int) string {
	if i < len(n.Inputs) {
		return n.Inputs[i]
	}
	return ""
}

// label names a node for a reader: its name, or its op and first output.
func (n *Node) label() string {
	if n.Name != "" {
		return n.Name
	}
	if len(n.Outputs) > 0 {
		return n.Op + " → " + n.Outputs[0]
	}
	return n.Op
}

// constant returns the stored value of tensor name.
func (g *Graph) constant(name string) (Tensor, bool) {
	if name == "" {
		return Tensor{}, false
	}
	t, ok := g.Constants[name]
	return t, ok && t.Values != nil
}

// intsInput returns an integer list given either as attribute attr or, from
// the opsets that moved it there, as constant input i.
func (g *Graph) intsInput(n *Node, attr string, i int) ([]int64, bool) {
	if v, ok := n.Ints(attr); ok {
		return v, true
	}
	t, ok := g.constant(n.input(i))
	if !ok {
		return nil, false
	}
	out := make([]int64, len(t.Values))
	for k, v := range t.Values {
		out[k] = int64(v)
	}
	return out, true
}

// finite reports whether every value is neither NaN nor ±Inf.
func finite(xs []float64) bool {
	for _, x := range xs {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return false
		}
	}
	return true
}
