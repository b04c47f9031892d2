package onnx

import (
	"fmt"
	"math"
	"strconv"

	"google.golang.org/protobuf/proto"

	pb "github.com/normguard/normguard/onnx/onnxpb"
)

// Opset versions of the exported graphs: ai.onnx 18 (ONNX 1.13) and
// ai.onnx.ml 3, whose LabelEncoder is version 2. IR version 8 is the
// oldest that carries opset 18.
const (
	OpsetONNX = 18
	OpsetML   = 3
	IRVersion = 8
)

// domainML is the operator domain of ONNX's classical machine-learning
// operators.
const domainML = "ai.onnx.ml"

// builder accumulates the nodes and initializers of one graph and hands
// out tensor names that collide neither with each other nor with the
// graph's inputs.
type builder struct {
	g      *pb.GraphProto
	taken  map[string]bool
	seq    int
	consts map[string]string // cache key -> initializer name
}

func newBuilder(name string) *builder {
	return &builder{g: &pb.GraphProto{Name: proto.String(name)}, taken: map[string]bool{}, consts: map[string]string{}}
}

// reserve marks a name as used by the graph's interface.
func (b *builder) reserve(name string) { b.taken[name] = true }

// fresh returns an unused tensor name built from hint.
func (b *builder) fresh(hint string) string {
	for {
		b.seq++
		n := "ng." + hint + "." + strconv.Itoa(b.seq)
		if !b.taken[n] {
			b.taken[n] = true
			return n
		}
	}
}

// op appends a node with one output and returns the output's name.
func (b *builder) op(opType string, inputs []string, attrs ...*pb.AttributeProto) string {
	return b.opN(opType, "", inputs, 1, attrs...)[0]
}

// opML appends an ai.onnx.ml node with one output.
func (b *builder) opML(opType string, inputs []string, attrs ...*pb.AttributeProto) string {
	return b.opN(opType, domainML, inputs, 1, attrs...)[0]
}

// opN appends a node with n outputs and returns their names.
func (b *builder) opN(opType, domain string, inputs []string, n int, attrs ...*pb.AttributeProto) []string {
	outs := make([]string, n)
	for i := range outs {
		outs[i] = b.fresh(opType)
	}
	nd := &pb.NodeProto{OpType: proto.String(opType), Input: inputs, Output: outs, Attribute: attrs,
		Name: proto.String(outs[0])}
	if domain != "" {
		nd.Domain = proto.String(domain)
	}
	b.g.Node = append(b.g.Node, nd)
	return outs
}

// opInto appends a node whose single output has a given name (a graph
// output).
func (b *builder) opInto(opType, out string, inputs []string, attrs ...*pb.AttributeProto) {
	b.g.Node = append(b.g.Node, &pb.NodeProto{OpType: proto.String(opType), Input: inputs, Output: []string{out},
		Attribute: attrs, Name: proto.String(b.fresh(opType))})
}

// doubles returns an initializer holding vals with the given dims
// (a scalar when dims is empty). Equal constants share one initializer.
func (b *builder) doubles(vals []float64, dims ...int64) string {
	key := fmt.Sprint("d", dims, ":")
	for _, v := range vals {
		key += strconv.FormatUint(math.Float64bits(v), 16) + ","
	}
	if n, ok := b.consts[key]; ok {
		return n
	}
	name := b.fresh("const")
	b.g.Initializer = append(b.g.Initializer, &pb.TensorProto{Name: proto.String(name), Dims: dims,
		DataType: proto.Int32(int32(pb.TensorProto_DOUBLE)), DoubleData: append([]float64(nil), vals...)})
	b.consts[key] = name
	return name
}

// scalar returns a double scalar initializer.
func (b *builder) scalar(v float64) string { return b.doubles([]float64{v}) }

// int64s returns an int64 initializer.
func (b *builder) int64s(vals []int64, dims ...int64) string {
	key := fmt.Sprint("i", dims, ":", vals)
	if n, ok := b.consts[key]; ok {
		return n
	}
	name := b.fresh("const")
	b.g.Initializer = append(b.g.Initializer, &pb.TensorProto{Name: proto.String(name), Dims: dims,
		DataType: proto.Int32(int32(pb.TensorProto_INT64)), Int64Data: append([]int64(nil), vals...)})
	b.consts[key] = name
	return name
}

// Shorthands for the operators the export uses. Every arithmetic operator
// is an IEEE-754 double operation, rounded once, as Go's are.

func (b *builder) add(x, y string) string { return b.op("Add", []string{x, y}) }
func (b *builder) sub(x, y string) string { return b.op("Sub", []string{x, y}) }
func (b *builder) mul(x, y string) string { return b.op("Mul", []string{x, y}) }
func (b *builder) div(x, y string) string { return b.op("Div", []string{x, y}) }
func (b *builder) neg(x string) string    { return b.op("Neg", []string{x}) }
func (b *builder) abs(x string) string    { return b.op("Abs", []string{x}) }
func (b *builder) log(x string) string    { return b.op("Log", []string{x}) }
func (b *builder) exp(x string) string    { return b.op("Exp", []string{x}) }
func (b *builder) sqrt(x string) string   { return b.op("Sqrt", []string{x}) }
func (b *builder) isNaN(x string) string  { return b.op("IsNaN", []string{x}) }
func (b *builder) less(x, y string) string {
	return b.op("Less", []string{x, y})
}
func (b *builder) greater(x, y string) string { return b.op("Greater", []string{x, y}) }
func (b *builder) lessEq(x, y string) string  { return b.op("LessOrEqual", []string{x, y}) }
func (b *builder) greaterEq(x, y string) string {
	return b.op("GreaterOrEqual", []string{x, y})
}
func (b *builder) equal(x, y string) string { return b.op("Equal", []string{x, y}) }
func (b *builder) or(x, y string) string    { return b.op("Or", []string{x, y}) }
func (b *builder) and(x, y string) string   { return b.op("And", []string{x, y}) }

// where returns cond ? x : y, element-wise with broadcasting.
//
// ONNX Runtime 1.31's CPU Where returns +0 where it selects a -0 from its
// first branch (x); the second branch (y) keeps every bit. Values that
// may be -0 go in the second branch, or through whereSigned. A Not must
// not feed a Where's condition: ONNX Runtime's NotWhereFusion swaps the
// branches back.
func (b *builder) where(cond, x, y string) string { return b.op("Where", []string{cond, x, y}) }

// whereSigned is where for two branches that may both be -0: a -0 result
// is written from a -0 constant in the second branch.
func (b *builder) whereSigned(cond, x, y string) string {
	zero := b.scalar(0)
	// notNegZero: v != 0, NaN, or +0 (1/v = +Inf).
	notNegZero := func(v string) string {
		return b.or(b.or(b.less(v, zero), b.greater(v, zero)), b.or(b.isNaN(v), b.greater(b.div(b.scalar(1), v), zero)))
	}
	keep := b.or(b.and(cond, notNegZero(x)), b.and(b.not(cond), notNegZero(y)))
	return b.where(keep, b.where(cond, x, y), b.scalar(math.Copysign(0, -1)))
}

// whereConst is where with a constant first branch, which keeps its sign
// when it is -0.
func (b *builder) whereConst(cond string, v float64, y string) string {
	if v == 0 && math.Signbit(v) {
		return b.whereSigned(cond, b.scalar(v), y)
	}
	return b.where(cond, b.scalar(v), y)
}

// unequal is x != y (true for NaN) without a Not feeding a Where, which
// ONNX Runtime's NotWhereFusion would turn back into swapped branches.
func (b *builder) unequal(x, y string) string {
	return b.or(b.or(b.less(x, y), b.greater(x, y)), b.or(b.isNaN(x), b.isNaN(y)))
}

func (b *builder) not(x string) string { return b.op("Not", []string{x}) }

// cast converts x to the tensor type to.
func (b *builder) cast(x string, to pb.TensorProto_DataType) string {
	return b.op("Cast", []string{x}, attrInt("to", int64(to)))
}

// nanIf returns NaN where cond holds and y elsewhere.
func (b *builder) nanIf(cond, y string) string { return b.where(cond, b.scalar(math.NaN()), y) }

// countLessEq returns, per row of x [N,1], the number of entries of the
// sorted constant edges that are <= x, as int64 [N,1]: numpy's
// searchsorted(edges, x, side="right"), but 0 for NaN. Up to blockedMin
// edges every edge is compared; above, the edges are cut in blocks of
// about sqrt(n): the
// blocks whose last edge is <= x are counted whole, then the edges of the
// next block one by one, so a batch holds [N, 2·sqrt(n)] comparisons
// instead of [N, n]. The count is the same integer either way.
func (b *builder) countLessEq(x string, edges []float64) string {
	n := len(edges)
	if n <= blockedMin {
		e := b.doubles(edges, 1, int64(n))
		return b.sumInt(b.cast(b.lessEq(e, x), pb.TensorProto_INT64), 1)
	}
	size := int(math.Ceil(math.Sqrt(float64(n))))
	blocks := (n + size - 1) / size
	var lasts []float64
	rows := make([]float64, 0, (blocks+1)*size)
	for k := 0; k < blocks; k++ {
		blk := edges[k*size : min((k+1)*size, n)]
		if len(blk) == size {
			lasts = append(lasts, blk[size-1])
		}
		rows = append(rows, blk...)
	}
	// Padding past the edges never counts: NaN <= x is false for every x.
	for len(rows) < (blocks+1)*size {
		rows = append(rows, math.NaN())
	}
	full := b.sumInt(b.cast(b.lessEq(b.doubles(lasts, 1, int64(len(lasts))), x), pb.TensorProto_INT64), 1) // [N,1]
	table := b.doubles(rows, int64(blocks+1), int64(size))
	block := b.op("Gather", []string{table, full}, attrInt("axis", 0))     // [N,1,size]
	x3 := b.op("Unsqueeze", []string{x, b.int64s([]int64{2}, 1)})          // [N,1,1]
	part := b.sumInt(b.cast(b.lessEq(block, x3), pb.TensorProto_INT64), 2) // [N,1,1]
	part = b.op("Squeeze", []string{part, b.int64s([]int64{2}, 1)})        // [N,1]
	return b.op("Add", []string{b.op("Mul", []string{full, b.int64s([]int64{int64(size)})}), part})
}

// blockedMin is the number of edges above which countLessEq compares
// block by block.
const blockedMin = 64

// sumInt sums an int64 tensor over one axis, keeping it.
func (b *builder) sumInt(x string, axis int64) string {
	return b.op("ReduceSum", []string{x, b.int64s([]int64{axis}, 1)}, attrInt("keepdims", 1))
}

// concat joins [N,k] tensors along axis 1.
func (b *builder) concat(xs []string) string {
	if len(xs) == 1 {
		return xs[0]
	}
	return b.op("Concat", xs, attrInt("axis", 1))
}

// splitCols splits x [N,k] into k tensors [N,1].
func (b *builder) splitCols(x string, k int) []string {
	if k == 1 {
		return []string{x}
	}
	ones := make([]int64, k)
	for i := range ones {
		ones[i] = 1
	}
	return b.opN("Split", "", []string{x, b.int64s(ones, int64(k))}, k, attrInt("axis", 1))
}

func attrInt(name string, v int64) *pb.AttributeProto {
	return &pb.AttributeProto{Name: proto.String(name), Type: pb.AttributeProto_INT.Enum(), I: proto.Int64(v)}
}

func attrInts(name string, v []int64) *pb.AttributeProto {
	return &pb.AttributeProto{Name: proto.String(name), Type: pb.AttributeProto_INTS.Enum(), Ints: v}
}

func attrStrings(name string, v []string) *pb.AttributeProto {
	bs := make([][]byte, len(v))
	for i, s := range v {
		bs[i] = []byte(s)
	}
	return &pb.AttributeProto{Name: proto.String(name), Type: pb.AttributeProto_STRINGS.Enum(), Strings: bs}
}

// tensorInfo describes a tensor of element type t with shape [N, width]
// (N symbolic).
func tensorInfo(name string, t pb.TensorProto_DataType, width int64) *pb.ValueInfoProto {
	return &pb.ValueInfoProto{Name: proto.String(name), Type: &pb.TypeProto{Value: &pb.TypeProto_TensorType{
		TensorType: &pb.TypeProto_Tensor{ElemType: proto.Int32(int32(t)), Shape: &pb.TensorShapeProto{Dim: []*pb.TensorShapeProto_Dimension{
			{Value: &pb.TensorShapeProto_Dimension_DimParam{DimParam: "N"}},
			{Value: &pb.TensorShapeProto_Dimension_DimValue{DimValue: width}},
		}}},
	}}}
}
