package modelcheck

import "math"

// foldConstants returns g with the outputs of elementwise arithmetic on
// stored constants added to its constants, as an exporter with constant
// folding off leaves them: (x − mean) / Sqrt(var + eps) then reads as an
// affine map with stored constants. The caller's graph is not changed.
// Operands broadcast when one is a scalar or both have the same number of
// values; other shapes are left unfolded.
func foldConstants(g *Graph) *Graph {
	out := *g
	out.Constants = make(map[string]Tensor, len(g.Constants))
	for k, v := range g.Constants {
		out.Constants[k] = v
	}
	for i := range g.Nodes {
		n := &g.Nodes[i]
		if len(n.Outputs) != 1 || n.Outputs[0] == "" || (n.Domain != "" && n.Domain != "ai.onnx") {
			continue
		}
		if _, done := out.Constants[n.Outputs[0]]; done {
			continue
		}
		if t, ok := fold(&out, n); ok {
			out.Constants[n.Outputs[0]] = t
		}
	}
	return &out
}

// maxFold bounds the size of a folded tensor.
const maxFold = 1 << 16

func fold(g *Graph, n *Node) (Tensor, bool) {
	unary := map[string]func(float64) float64{
		"Sqrt": math.Sqrt, "Reciprocal": func(x float64) float64 { return 1 / x },
		"Neg": func(x float64) float64 { return -x }, "Identity": func(x float64) float64 { return x },
		"Cast": func(x float64) float64 { return x },
	}
	binary := map[string]func(a, b float64) float64{
		"Add": func(a, b float64) float64 { return a + b }, "Sub": func(a, b float64) float64 { return a - b },
		"Mul": func(a, b float64) float64 { return a * b }, "Div": func(a, b float64) float64 { return a / b },
		"Pow": math.Pow,
	}
	if f, ok := unary[n.Op]; ok {
		a, ok := g.constant(n.input(0))
		if !ok || len(a.Values) > maxFold {
			return Tensor{}, false
		}
		v := make([]float64, len(a.Values))
		for i, x := range a.Values {
			v[i] = f(x)
		}
		return Tensor{Dims: a.Dims, Type: a.Type, Values: v}, true
	}
	if f, ok := binary[n.Op]; ok && len(n.Inputs) == 2 {
		a, aok := g.constant(n.input(0))
		b, bok := g.constant(n.input(1))
		if !aok || !bok || len(a.Values) > maxFold || len(b.Values) > maxFold {
			return Tensor{}, false
		}
		long := a
		if len(b.Values) > len(a.Values) || (len(b.Values) == len(a.Values) && len(b.Dims) > len(a.Dims)) {
			long = b
		}
		if len(a.Values) != len(b.Values) && len(a.Values) != 1 && len(b.Values) != 1 {
			return Tensor{}, false
		}
		v := make([]float64, len(long.Values))
		for i := range v {
			v[i] = f(a.Values[min(i, len(a.Values)-1)], b.Values[min(i, len(b.Values)-1)])
		}
		return Tensor{Dims: long.Dims, Type: long.Type, Values: v}, true
	}
	if n.Op == "Unsqueeze" {
		a, ok := g.constant(n.input(0))
		axes, aok := g.intsInput(n, "axes", 1)
		if !ok || !aok {
			return Tensor{}, false
		}
		r := len(a.Dims) + len(axes)
		norm, ok := normAxes(axes, r)
		if !ok {
			return Tensor{}, false
		}
		dims := make([]int64, 0, r)
		k := 0
		for i := 0; i < r; i++ {
			if contains(norm, i) {
				dims = append(dims, 1)
			} else if k < len(a.Dims) {
				dims = append(dims, a.Dims[k])
				k++
			}
		}
		if len(dims) != r {
			return Tensor{}, false
		}
		return Tensor{Dims: dims, Type: a.Type, Values: a.Values}, true
	}
	return Tensor{}, false
}
