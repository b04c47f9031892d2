package modelcheck

import "fmt"

// decomposedNorms finds normalizations spelled out in elementary ops, as
// exporters write LayerNorm before opset 17:
//
//	m = ReduceMean(x, axes); d = Sub(x, m); v = ReduceMean(Pow(d, 2) or Mul(d, d), axes)
//	y = d / Sqrt(v + eps)
//
// over axes that exclude axis 0 (over the batch axis it is a batch
// statistic, reported as such). Each becomes a layer_norm Layer, named by
// its first ReduceMean, with eps from the Add that follows the variance
// (0 when there is none).
func decomposedNorms(g *Graph) []Layer {
	producer := map[string]*Node{}
	consumers := map[string][]*Node{}
	for i := range g.Nodes {
		n := &g.Nodes[i]
		for _, o := range n.Outputs {
			producer[o] = n
		}
		for _, in := range n.Inputs {
			consumers[in] = append(consumers[in], n)
		}
	}
	var out []Layer
	for i := range g.Nodes {
		r1 := &g.Nodes[i]
		if r1.Op != "ReduceMean" || len(r1.Outputs) == 0 {
			continue
		}
		axes, ok := g.intsInput(r1, "axes", 1)
		if !ok || len(axes) == 0 || containsInt64(axes, 0) {
			continue
		}
		x := r1.input(0)
		for _, sub := range consumers[r1.Outputs[0]] {
			if sub.Op != "Sub" || sub.input(0) != x || sub.input(1) != r1.Outputs[0] {
				continue
			}
			d := sub.Outputs[0]
			for _, sq := range consumers[d] {
				square := (sq.Op == "Pow" && sq.input(0) == d) || (sq.Op == "Mul" && sq.input(0) == d && sq.input(1) == d)
				if !square {
					continue
				}
				for _, r2 := range consumers[sq.Outputs[0]] {
					a2, ok := g.intsInput(r2, "axes", 1)
					if r2.Op != "ReduceMean" || !ok || fmt.Sprint(a2) != fmt.Sprint(axes) {
						continue
					}
					eps := 0.0
					for _, add := range consumers[r2.Outputs[0]] {
						if add.Op != "Add" {
							continue
						}
						for _, in := range add.Inputs {
							if t, ok := g.constant(in); ok && len(t.Values) == 1 {
								eps = t.Values[0]
							}
						}
					}
					out = append(out, Layer{Node: r1.label(), Op: "ReduceMean/Sub/ReduceMean", Kind: "layer_norm", Epsilon: eps})
				}
			}
		}
	}
	return out
}

func containsInt64(xs []int64, x int64) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}
