package modelcheck

// staticShapes infers the static shapes of the graph's tensors as far as
// the common ops of an exported tabular network allow: a shape holds one
// size per axis, -1 for an unknown or dynamic size (the batch); a tensor
// without an entry has an unknown rank. Stored constants have their own
// dims.
func staticShapes(g *Graph) map[string][]int64 {
	sh := map[string][]int64{}
	for _, in := range g.Inputs {
		if in.Shape != nil {
			sh[in.Name] = in.Shape
		}
	}
	for k, t := range g.Constants {
		sh[k] = t.Dims
	}
	for i := range g.Nodes {
		n := &g.Nodes[i]
		if len(n.Outputs) == 0 || n.Outputs[0] == "" {
			continue
		}
		if _, ok := g.Constants[n.Outputs[0]]; ok {
			continue
		}
		if s, ok := shapeOf(g, n, sh); ok {
			sh[n.Outputs[0]] = s
		}
	}
	return sh
}

func shapeOf(g *Graph, n *Node, sh map[string][]int64) ([]int64, bool) {
	in, ok := sh[n.input(0)]
	if !ok {
		return nil, false
	}
	switch n.Op {
	case "Relu", "Sigmoid", "Tanh", "Identity", "Cast", "Dropout", "LeakyRelu", "Elu", "Selu", "Gelu", "Softplus",
		"Sqrt", "Exp", "Log", "Abs", "Neg", "Clip", "BatchNormalization", "LayerNormalization", "InstanceNormalization", "Softmax":
		return in, true
	case "Add", "Sub", "Mul", "Div", "Pow":
		other, ok := sh[n.input(1)]
		if !ok {
			return nil, false
		}
		return broadcast(in, other)
	case "Gemm":
		w, ok := sh[n.input(1)]
		if !ok || len(in) != 2 || len(w) != 2 {
			return nil, false
		}
		rows, cols := in[0], w[1]
		if n.Int("transA", 0) != 0 {
			rows = in[1]
		}
		if n.Int("transB", 0) != 0 {
			cols = w[0]
		}
		return []int64{rows, cols}, true
	case "MatMul":
		w, ok := sh[n.input(1)]
		if !ok || len(in) < 2 || len(w) != 2 {
			return nil, false
		}
		out := append([]int64(nil), in...)
		out[len(out)-1] = w[1]
		return out, true
	case "Unsqueeze":
		axes, ok := g.intsInput(n, "axes", 1)
		if !ok {
			return nil, false
		}
		r := len(in) + len(axes)
		norm, ok := normAxes(axes, r)
		if !ok {
			return nil, false
		}
		out := make([]int64, 0, r)
		k := 0
		for i := 0; i < r; i++ {
			if contains(norm, i) {
				out = append(out, 1)
			} else if k < len(in) {
				out = append(out, in[k])
				k++
			}
		}
		return out, len(out) == r
	case "Squeeze":
		axes, ok := g.intsInput(n, "axes", 1)
		if !ok {
			return nil, false
		}
		norm, ok := normAxes(axes, len(in))
		if !ok {
			return nil, false
		}
		var out []int64
		for i, d := range in {
			if !contains(norm, i) {
				out = append(out, d)
			}
		}
		return out, true
	case "Reshape":
		t, ok := g.constant(n.input(1))
		if !ok {
			return nil, false
		}
		out := make([]int64, len(t.Values))
		for i, v := range t.Values {
			out[i] = int64(v)
			if v == 0 && n.Int("allowzero", 0) == 0 {
				out[i] = -1
				if i < len(in) {
					out[i] = in[i]
				}
			}
			if out[i] < -1 {
				return nil, false
			}
		}
		return resolveMinusOne(in, out), true
	case "Flatten":
		if len(in) < 2 || n.Int("axis", 1) != 1 {
			return nil, false
		}
		p := int64(1)
		for _, d := range in[1:] {
			if d < 0 {
				return []int64{in[0], -1}, true
			}
			p *= d
		}
		return []int64{in[0], p}, true
	}
	return nil, false
}

// broadcast is numpy's broadcasting of two static shapes; -1 meets any size.
func broadcast(a, b []int64) ([]int64, bool) {
	if len(b) > len(a) {
		a, b = b, a
	}
	out := append([]int64(nil), a...)
	off := len(a) - len(b)
	for i, d := range b {
		switch o := out[off+i]; {
		case d == o || d == 1:
		case o == 1:
			out[off+i] = d
		case o == -1 || d == -1:
			out[off+i] = -1
		default:
			return nil, false
		}
	}
	return out, true
}

// singleValue reports whether a normalization over the axes from first on
// of shape s normalizes one value per group: every such axis has size 1,
// so the output is the layer's bias whatever the input.
func singleValue(s []int64, first int) bool {
	if first >= len(s) || first < 0 {
		return false
	}
	for _, d := range s[first:] {
		if d != 1 {
			return false
		}
	}
	return true
}

// resolveMinusOne fills a reshape's single -1 when the batch axis is kept
// (out[0] == in[0]) and every other size is known: it is the product of
// the input's other sizes over the product of the output's.
func resolveMinusOne(in, out []int64) []int64 {
	if len(in) == 0 || len(out) == 0 || out[0] != in[0] {
		return out
	}
	pin := int64(1)
	for _, d := range in[1:] {
		if d < 0 {
			return out
		}
		pin *= d
	}
	pout, hole := int64(1), -1
	for i, d := range out[1:] {
		if d == -1 {
			if hole >= 0 {
				return out
			}
			hole = i + 1
			continue
		}
		pout *= d
	}
	if hole < 0 || pout == 0 || pin%pout != 0 {
		return out
	}
	out[hole] = pin / pout
	return out
}
