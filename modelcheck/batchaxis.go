package modelcheck

import (
	"fmt"
	"sort"
	"strings"
)

// axisInfo follows where the rows of a batch are in a tensor computed from
// the model's inputs: batch is the axis that indexes rows (-1: none, the
// rows were reduced away or are unknown), rank the tensor's rank (-1:
// unknown).
type axisInfo struct {
	batch, rank int
}

// batchReduction is a node that reduces a row-dependent tensor over its
// batch axis.
type batchReduction struct {
	node *Node
	what string
}

// elementwise ops keep the batch axis where it is (after broadcasting).
var elementwise = map[string]bool{
	"Add": true, "Sub": true, "Mul": true, "Div": true, "Pow": true, "Relu": true, "Sigmoid": true,
	"Tanh": true, "Sqrt": true, "Exp": true, "Log": true, "Abs": true, "Neg": true, "Cast": true,
	"CastLike": true, "Identity": true, "Dropout": true, "Clip": true, "LeakyRelu": true, "Elu": true,
	"Selu": true, "Softplus": true, "Erf": true, "Where": true, "Max": true, "Min": true, "Sum": true,
	"Mean": true, "Reciprocal": true, "BatchNormalization": true, "LayerNormalization": true,
	"InstanceNormalization": true, "Softmax": true, "LogSoftmax": true, "Gelu": true, "HardSigmoid": true,
	"HardSwish": true, "PRelu": true, "Floor": true, "Ceil": true, "Round": true, "Sign": true,
	"Not": true, "Equal": true, "Less": true, "Greater": true, "LessOrEqual": true, "GreaterOrEqual": true,
	"IsNaN": true, "IsInf": true, "Mish": true, "ThresholdedRelu": true, "Celu": true, "Mod": true,
	"Conv": true, "ConvTranspose": true, "MaxPool": true, "AveragePool": true, "GlobalAveragePool": true,
	"GlobalMaxPool": true, "LpNormalization": true, "Expand": true, "Tile": true, "Pad": true,
}

// statReductions are the reductions that make a batch statistic.
var statReductions = map[string]string{
	"ReduceMean": "mean", "ReduceSum": "sum", "ReduceSumSquare": "sum of squares", "ReduceMax": "maximum",
	"ReduceMin": "minimum", "ReduceL1": "L1 norm", "ReduceL2": "L2 norm", "ReduceLogSumExp": "log-sum-exp",
	"ReduceProd": "product",
}

// batchReductions follows the batch axis from the graph inputs (axis 0 of
// each) through the nodes and returns the nodes that reduce over it:
// Reduce* ops whose axes include it, MeanVarianceNormalization over it,
// LayerNormalization from axis 0, and MatMul contracting it (x^T·x).
// Shape-only paths (Shape, Size) carry no rows.
func batchReductions(g *Graph) []batchReduction {
	info := map[string]axisInfo{}
	for _, in := range g.Inputs {
		r := -1
		if in.Shape != nil {
			r = len(in.Shape)
		}
		info[in.Name] = axisInfo{batch: 0, rank: r}
	}
	var out []batchReduction
	for i := range g.Nodes {
		n := &g.Nodes[i]
		var src axisInfo
		found := false
		for _, in := range n.Inputs {
			if a, ok := info[in]; ok && a.batch >= 0 {
				if !found || a.rank > src.rank {
					src = a
				}
				found = true
			}
		}
		if !found {
			continue
		}
		res, red := propagate(g, n, src, info)
		if red != "" {
			out = append(out, batchReduction{node: n, what: red})
		}
		if res.batch >= 0 && len(n.Outputs) > 0 {
			info[n.Outputs[0]] = res
		}
	}
	return out
}

// propagate returns where the batch axis is in n's first output, and a
// description when n reduces over it.
func propagate(g *Graph, n *Node, src axisInfo, info map[string]axisInfo) (axisInfo, string) {
	none := axisInfo{batch: -1, rank: -1}
	if what, ok := statReductions[n.Op]; ok {
		axes, ok := g.intsInput(n, "axes", 1)
		keep := n.Int("keepdims", 1) != 0
		if !ok || len(axes) == 0 {
			if n.Int("noop_with_empty_axes", 0) != 0 {
				return src, ""
			}
			return none, fmt.Sprintf("%s over all axes, the batch axis included", what)
		}
		norm, ok := normAxes(axes, src.rank)
		if !ok {
			return none, ""
		}
		if contains(norm, src.batch) {
			return none, fmt.Sprintf("%s over axes %s (the batch axis is %d)", what, intsText(axes), src.batch)
		}
		if keep {
			return src, ""
		}
		b := src.batch
		for _, a := range norm {
			if a < src.batch {
				b--
			}
		}
		return axisInfo{batch: b, rank: src.rank - len(norm)}, ""
	}
	switch n.Op {
	case "Shape", "Size", "NonZero":
		return none, ""
	case "MeanVarianceNormalization":
		axes, ok := n.Ints("axes")
		if !ok {
			axes = []int64{0, 2, 3}
		}
		if norm, ok := normAxes(axes, src.rank); ok && contains(norm, src.batch) {
			return src, fmt.Sprintf("mean and variance over axes %s (the batch axis is %d)", intsText(axes), src.batch)
		}
		return src, ""
	case "LayerNormalization":
		if norm, ok := normAxes([]int64{n.Int("axis", -1)}, src.rank); ok && norm[0] <= src.batch {
			return src, fmt.Sprintf("layer normalization from axis %d, over the batch axis %d", n.Int("axis", -1), src.batch)
		}
		return src, ""
	case "Gemm":
		if n.Int("transA", 0) != 0 && n.input(0) != "" && info[n.input(0)].batch == 0 {
			return none, "a product contracting the batch axis (Aᵀ·B)"
		}
		if a, ok := info[n.input(0)]; ok && a.batch == 0 && n.Int("transA", 0) == 0 {
			return axisInfo{batch: 0, rank: 2}, ""
		}
		return none, ""
	case "MatMul":
		a, aok := info[n.input(0)]
		b, bok := info[n.input(1)]
		if aok && a.rank > 0 && a.batch == a.rank-1 && a.rank >= 2 {
			return none, "a product contracting the batch axis (xᵀ·x)"
		}
		if bok && b.rank >= 2 && b.batch == b.rank-2 {
			return none, "a product contracting the batch axis (xᵀ·x)"
		}
		if aok && a.batch >= 0 {
			return a, ""
		}
		return none, ""
	case "Transpose":
		perm, ok := n.Ints("perm")
		if !ok {
			if src.rank < 0 {
				return none, ""
			}
			return axisInfo{batch: src.rank - 1 - src.batch, rank: src.rank}, ""
		}
		for i, p := range perm {
			if int(p) == src.batch {
				return axisInfo{batch: i, rank: len(perm)}, ""
			}
		}
		return none, ""
	case "Unsqueeze":
		axes, ok := g.intsInput(n, "axes", 1)
		if !ok || src.rank < 0 {
			return none, ""
		}
		r := src.rank + len(axes)
		norm, ok := normAxes(axes, r)
		if !ok {
			return none, ""
		}
		sort.Ints(norm)
		b := src.batch
		for _, a := range norm {
			if a <= b {
				b++
			}
		}
		return axisInfo{batch: b, rank: r}, ""
	case "Squeeze":
		axes, ok := g.intsInput(n, "axes", 1)
		if !ok || src.rank < 0 {
			return axisInfo{batch: src.batch, rank: -1}, ""
		}
		norm, ok := normAxes(axes, src.rank)
		if !ok || contains(norm, src.batch) {
			return none, ""
		}
		b := src.batch
		for _, a := range norm {
			if a < src.batch {
				b--
			}
		}
		return axisInfo{batch: b, rank: src.rank - len(norm)}, ""
	case "Reshape":
		// A reshape that keeps the leading (row) axis is the common case:
		// flattening features, adding a channel axis.
		if src.batch != 0 {
			return none, ""
		}
		r := -1
		if t, ok := g.constant(n.input(1)); ok {
			r = len(t.Values)
		}
		return axisInfo{batch: 0, rank: r}, ""
	case "Flatten":
		if src.batch == 0 && n.Int("axis", 1) >= 1 {
			return axisInfo{batch: 0, rank: 2}, ""
		}
		return none, ""
	case "Concat", "Slice", "Gather", "Split":
		return src, ""
	}
	if elementwise[n.Op] {
		r := src.rank
		for _, in := range n.Inputs {
			if a, ok := info[in]; ok && a.rank > r {
				r = a.rank
			}
			if t, ok := g.Constants[in]; ok && len(t.Dims) > r && r >= 0 {
				r = len(t.Dims)
			}
		}
		if r >= 0 && src.rank >= 0 {
			return axisInfo{batch: src.batch + r - src.rank, rank: r}, ""
		}
		return axisInfo{batch: src.batch, rank: -1}, ""
	}
	return none, ""
}

// normAxes turns possibly negative axes into 0..rank-1; false when a
// negative axis meets an unknown rank.
func normAxes(axes []int64, rank int) ([]int, bool) {
	out := make([]int, len(axes))
	for i, a := range axes {
		if a < 0 {
			if rank < 0 {
				return nil, false
			}
			a += int64(rank)
		}
		out[i] = int(a)
	}
	return out, true
}

func contains(xs []int, x int) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// batchStatisticsFinding groups the batch reductions into one finding.
func batchStatisticsFinding(reds []batchReduction) Finding {
	nodes := make([]string, len(reds))
	lines := make([]string, len(reds))
	for i, r := range reds {
		nodes[i] = r.node.label()
		lines[i] = fmt.Sprintf("%s (%s: %s)", r.node.label(), r.node.Op, r.what)
	}
	return Finding{
		Code: BatchStatisticsInGraph, Severity: SeverityError, Node: nodes[0],
		Description: fmt.Sprintf("the graph computes statistics over the rows of its batch: %s. Each row's output then depends on the other rows it is sent with: one row alone gets a zero deviation (a standard deviation of a single row is 0, or NaN with Bessel's correction), and serving batches that differ from training batches change the predictions. This is per-batch normalization inside the model.", strings.Join(lines, "; ")),
		Fix:         "replace the batch statistics with constants computed once on the training set: fit the normalization (normguard fit) and feed its output, or store the training mean and standard deviation as buffers in the model instead of x.mean(0) / x.std(0)",
		Evidence:    map[string]any{"nodes": nodes},
	}
}

func intsText(xs []int64) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, ", ")
}
