package modelcheck

// colRef says that a channel of a tensor equals a·x + b, x being column
// Col of model input Input: the channel still carries one input feature,
// only shifted and scaled by constants stored in the graph.
type colRef struct {
	Input string
	Col   int
	A, B  float64
}

// traced is a tensor whose channels (axis 1; axis 0 for rank 1) are input
// features under constant affine maps, and whose other axes beyond the
// channel axis have size 1.
type traced struct {
	cols []colRef
	rank int
}

// chain is a traced tensor that leaves the value-preserving part of the
// graph: the consumer reads the features after the graph's own constant
// affine maps.
type chain struct {
	tensor   string
	consumer *Node
	cols     []colRef
}

// tracing is what following the features from the inputs finds.
type tracing struct {
	// onInputs maps a normalization node to the features it reads.
	onInputs map[*Node]traced
	// chains are the non-identity affine maps applied to the inputs.
	chains []chain
	// tensors are the traced tensors by name.
	tensors map[string]traced
	// afterLinear maps a BatchNormalization to the linear layer of input
	// features it reads (a Linear followed by a BatchNorm).
	afterLinear map[*Node]linear
}

// linear is a tensor y = W·x + b over traced input features x: one row of
// W and one b per output channel.
type linear struct {
	cols []colRef
	w    [][]float64
	b    []float64
}

// maxTracedWidth bounds the input width followed feature by feature.
const maxTracedWidth = 1 << 20

// maxTracedCols bounds the columns followed in all: those of the inputs,
// and each one a concatenation, a gather, arithmetic with a constant or a
// scaling chain produces (40 bytes each, so 40 MB in all). A graph's
// shapes, not its size, set these counts: an input declared [N, 1048576]
// is a few bytes in the file, and each Add of a scalar or Concat of a
// tensor with itself makes another set of its columns. Past the bound the
// features are not followed further, as past a layer that mixes them.
const maxTracedCols = 1 << 20

// budget counts the columns tracing may still make.
type budget int

// take reports whether n more columns are within the budget, and takes
// them when they are.
func (b *budget) take(n int) bool {
	if n < 0 || n > int(*b) {
		*b = 0
		return false
	}
	*b -= budget(n)
	return true
}

// traceInputs follows each input feature through Identity, Cast, Dropout,
// axis-adding reshapes, column slices, concatenation along the channel
// axis and elementwise arithmetic with stored constants, up to the first
// layer that mixes features or normalizes them.
func traceInputs(g *Graph) tracing {
	t := tracing{onInputs: map[*Node]traced{}, afterLinear: map[*Node]linear{}}
	tr := map[string]traced{}
	t.tensors = tr
	left := budget(maxTracedCols)
	for _, in := range g.Inputs {
		switch {
		case len(in.Shape) == 2 && in.Shape[1] > 0 && in.Shape[1] <= maxTracedWidth && left.take(int(in.Shape[1])):
			cols := make([]colRef, in.Shape[1])
			for j := range cols {
				cols[j] = colRef{Input: in.Name, Col: j, A: 1}
			}
			tr[in.Name] = traced{cols: cols, rank: 2}
		case len(in.Shape) == 1 && left.take(1):
			tr[in.Name] = traced{cols: []colRef{{Input: in.Name, A: 1}}, rank: 1}
		}
	}
	consumed := map[string]bool{}
	for i := range g.Nodes {
		n := &g.Nodes[i]
		var src traced
		var srcName string
		for _, in := range n.Inputs {
			if s, ok := tr[in]; ok {
				src, srcName = s, in
				break
			}
		}
		if srcName == "" {
			continue
		}
		out, ok := step(g, n, src, srcName, tr, &left)
		if ok && len(n.Outputs) > 0 && n.Outputs[0] != "" {
			tr[n.Outputs[0]] = out
			continue
		}
		switch n.Op {
		case "BatchNormalization", "InstanceNormalization", "LayerNormalization":
			if n.input(0) == srcName {
				t.onInputs[n] = src
			}
		}
		for _, in := range n.Inputs {
			s, ok := tr[in]
			if !ok || consumed[in] || !left.take(len(s.cols)) || identity(s.cols) {
				continue
			}
			consumed[in] = true
			t.chains = append(t.chains, chain{tensor: in, consumer: n, cols: s.cols})
		}
	}
	traceLinear(g, &t)
	return t
}

// maxLinear bounds the weights followed through a linear layer.
const maxLinear = 1 << 20

// traceLinear follows traced features through one Gemm, or MatMul and a
// bias Add, with stored weights, into a BatchNormalization.
func traceLinear(g *Graph, t *tracing) {
	lin := map[string]linear{}
	for i := range g.Nodes {
		n := &g.Nodes[i]
		if len(n.Outputs) == 0 || n.Outputs[0] == "" {
			continue
		}
		switch n.Op {
		case "Gemm", "MatMul":
			x, ok := t.tensors[n.input(0)]
			if !ok || x.rank != 2 || n.Int("transA", 0) != 0 {
				continue
			}
			w, ok := g.constant(n.input(1))
			if !ok || len(w.Dims) != 2 || len(w.Values) > maxLinear {
				continue
			}
			k := len(x.cols)
			var m int
			at := func(u, j int) float64 { return w.Values[j*m+u] } // [K, M]
			switch {
			case n.Op == "Gemm" && n.Int("transB", 0) != 0 && int(w.Dims[1]) == k:
				m = int(w.Dims[0])
				at = func(u, j int) float64 { return w.Values[u*k+j] } // [M, K]
			case int(w.Dims[0]) == k:
				m = int(w.Dims[1])
			default:
				continue
			}
			alpha, beta := 1.0, 1.0
			if n.Op == "Gemm" {
				alpha, beta = n.Float("alpha", 1), n.Float("beta", 1)
			}
			l := linear{cols: x.cols, w: make([][]float64, m), b: make([]float64, m)}
			for u := 0; u < m; u++ {
				l.w[u] = make([]float64, k)
				for j := 0; j < k; j++ {
					l.w[u][j] = alpha * at(u, j)
				}
			}
			if n.Op == "Gemm" && n.input(2) != "" {
				c, ok := g.constant(n.input(2))
				if !ok || (len(c.Values) != 1 && len(c.Values) != m) {
					continue
				}
				for u := range l.b {
					l.b[u] = beta * c.Values[min(u, len(c.Values)-1)]
				}
			}
			lin[n.Outputs[0]] = l
		case "Add":
			for a := 0; a < 2 && len(n.Inputs) == 2; a++ {
				l, ok := lin[n.Inputs[a]]
				c, cok := g.constant(n.Inputs[1-a])
				if !ok || !cok || (len(c.Values) != 1 && len(c.Values) != len(l.b)) {
					continue
				}
				nb := make([]float64, len(l.b))
				for u := range nb {
					nb[u] = l.b[u] + c.Values[min(u, len(c.Values)-1)]
				}
				lin[n.Outputs[0]] = linear{cols: l.cols, w: l.w, b: nb}
			}
		case "BatchNormalization":
			if l, ok := lin[n.input(0)]; ok {
				t.afterLinear[n] = l
			}
		}
	}
}

func identity(cols []colRef) bool {
	for _, c := range cols {
		if c.A != 1 || c.B != 0 {
			return false
		}
	}
	return true
}

// step returns the traced output of n, or false when n ends the tracing.
func step(g *Graph, n *Node, src traced, srcName string, tr map[string]traced, left *budget) (traced, bool) {
	switch n.Op {
	case "Identity", "Cast", "Dropout":
		return src, n.input(0) == srcName
	case "Unsqueeze":
		axes, ok := g.intsInput(n, "axes", 1)
		if !ok {
			return traced{}, false
		}
		r := src.rank + len(axes)
		norm, ok := normAxes(axes, r)
		if !ok {
			return traced{}, false
		}
		for _, a := range norm {
			// rank 1 [N] → [N, 1]: the feature moves to axis 1; otherwise
			// axes after the channel axis only.
			if a < 1 || (a == 1 && src.rank != 1) {
				return traced{}, false
			}
		}
		return traced{cols: src.cols, rank: r}, true
	case "Squeeze":
		axes, ok := g.intsInput(n, "axes", 1)
		if !ok {
			return traced{}, false
		}
		norm, ok := normAxes(axes, src.rank)
		if !ok {
			return traced{}, false
		}
		for _, a := range norm {
			if a < 2 {
				return traced{}, false
			}
		}
		return traced{cols: src.cols, rank: src.rank - len(norm)}, true
	case "Flatten":
		if n.Int("axis", 1) == 1 && src.rank >= 2 {
			return traced{cols: src.cols, rank: 2}, true
		}
	case "Reshape":
		s, ok := g.constant(n.input(1))
		if !ok || len(s.Values) < 2 || src.rank < 2 || int(s.Values[1]) != len(src.cols) {
			return traced{}, false
		}
		for _, d := range s.Values[2:] {
			if d != 1 {
				return traced{}, false
			}
		}
		return traced{cols: src.cols, rank: len(s.Values)}, true
	case "Concat":
		if src.rank < 2 {
			return traced{}, false
		}
		if ax, ok := normAxes([]int64{n.Int("axis", 0)}, src.rank); !ok || ax[0] != 1 {
			return traced{}, false
		}
		width := 0
		for _, in := range n.Inputs {
			s, ok := tr[in]
			if !ok || s.rank != src.rank {
				return traced{}, false
			}
			width += len(s.cols)
		}
		if !left.take(width) {
			return traced{}, false
		}
		cols := make([]colRef, 0, width)
		for _, in := range n.Inputs {
			cols = append(cols, tr[in].cols...)
		}
		return traced{cols: cols, rank: src.rank}, true
	case "Slice":
		return slice(g, n, src)
	case "Gather":
		idx, ok := g.constant(n.input(1))
		if !ok || src.rank < 2 || n.input(0) != srcName {
			return traced{}, false
		}
		if ax, ok := normAxes([]int64{n.Int("axis", 0)}, src.rank); !ok || ax[0] != 1 {
			return traced{}, false
		}
		if !left.take(len(idx.Values)) {
			return traced{}, false
		}
		var cols []colRef
		for _, v := range idx.Values {
			j := int(v)
			if j < 0 {
				j += len(src.cols)
			}
			if j < 0 || j >= len(src.cols) {
				return traced{}, false
			}
			cols = append(cols, src.cols[j])
		}
		r := src.rank
		if len(idx.Dims) == 0 {
			r--
		}
		return traced{cols: cols, rank: r}, true
	case "Add", "Sub", "Mul", "Div":
		if !left.take(len(src.cols)) {
			return traced{}, false
		}
		return affineStep(g, n, src, srcName)
	}
	return traced{}, false
}

// slice applies a Slice along the channel axis with stored bounds.
func slice(g *Graph, n *Node, src traced) (traced, bool) {
	var starts, ends, axes, steps []int64
	var ok bool
	if starts, ok = n.Ints("starts"); ok { // opset < 10
		ends, _ = n.Ints("ends")
		axes, _ = n.Ints("axes")
	} else {
		if starts, ok = g.intsInput(n, "", 1); !ok {
			return traced{}, false
		}
		if ends, ok = g.intsInput(n, "", 2); !ok {
			return traced{}, false
		}
		axes, _ = g.intsInput(n, "", 3)
		steps, _ = g.intsInput(n, "", 4)
	}
	if axes == nil {
		axes = make([]int64, len(starts))
		for i := range axes {
			axes[i] = int64(i)
		}
	}
	cols := src.cols
	for i, a := range axes {
		na, ok := normAxes([]int64{a}, src.rank)
		if !ok || i >= len(ends) {
			return traced{}, false
		}
		st := int64(1)
		if i < len(steps) {
			st = steps[i]
		}
		if na[0] != 1 {
			if na[0] == 0 || st == 1 {
				continue // rows, or a size-1 axis sliced
			}
			return traced{}, false
		}
		if st != 1 {
			return traced{}, false
		}
		w := int64(len(cols))
		b, e := clamp(starts[i], w), clamp(ends[i], w)
		if e < b {
			e = b
		}
		cols = cols[b:e]
	}
	return traced{cols: cols, rank: src.rank}, true
}

func clamp(i, w int64) int64 {
	if i < 0 {
		i += w
	}
	if i < 0 {
		return 0
	}
	if i > w {
		return w
	}
	return i
}

// affineStep applies x+c, x−c, c−x, x·c, c·x or x/c with a stored c that is
// a scalar or one value per channel.
func affineStep(g *Graph, n *Node, src traced, srcName string) (traced, bool) {
	if len(n.Inputs) != 2 || n.Inputs[0] == n.Inputs[1] {
		return traced{}, false
	}
	other, first := n.Inputs[1], true
	if n.Inputs[1] == srcName {
		other, first = n.Inputs[0], false
	}
	c, ok := g.constant(other)
	if !ok {
		return traced{}, false
	}
	per, ok := perChannel(c, len(src.cols), src.rank)
	if !ok {
		return traced{}, false
	}
	cols := make([]colRef, len(src.cols))
	for j, col := range src.cols {
		v := per[j]
		switch {
		case n.Op == "Add":
			col.B += v
		case n.Op == "Sub" && first:
			col.B -= v
		case n.Op == "Sub":
			col.A, col.B = -col.A, v-col.B
		case n.Op == "Mul":
			col.A, col.B = col.A*v, col.B*v
		case n.Op == "Div" && first && v != 0:
			col.A, col.B = col.A/v, col.B/v
		default:
			return traced{}, false
		}
		cols[j] = col
	}
	return traced{cols: cols, rank: src.rank}, true
}

// perChannel expands a broadcast constant to one value per channel, when
// it is a scalar or varies along the channel axis only.
func perChannel(c Tensor, width, rank int) ([]float64, bool) {
	out := make([]float64, width)
	if len(c.Values) == 1 {
		for j := range out {
			out[j] = c.Values[0]
		}
		return out, true
	}
	if len(c.Values) != width || len(c.Dims) > rank {
		return nil, false
	}
	// Right-aligned broadcasting: the channel axis (1 of rank, or 0 of a
	// rank-1 tensor) must be the constant's only axis of size > 1.
	chAxis := len(c.Dims) - (rank - 1)
	if rank == 1 {
		chAxis = len(c.Dims) - 1
	}
	for i, d := range c.Dims {
		if d != 1 && i != chAxis {
			return nil, false
		}
	}
	copy(out, c.Values)
	return out, true
}
