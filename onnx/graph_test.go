package onnx

import (
	"math"
	"math/rand/v2"
	"sort"
	"testing"

	"google.golang.org/protobuf/proto"

	pb "github.com/normguard/normguard/onnx/onnxpb"
)

// TestCountLessEq checks the graph's searchsorted (side right), direct and
// block by block, against sort.Search on edges with ties, for values on,
// between and beyond the edges, ±Inf and NaN.
func TestCountLessEq(t *testing.T) {
	ortScript(t)
	rng := rand.New(rand.NewPCG(5, 8))
	for _, n := range []int{1, 2, 63, 64, 65, 100, 1000, 1001} {
		edges := make([]float64, n)
		for i := range edges {
			edges[i] = math.Round(rng.NormFloat64()*20) / 4 // many ties
		}
		sort.Float64s(edges)
		xs := []float64{math.Inf(-1), math.Inf(1), math.NaN(), edges[0], edges[n-1], edges[0] - 1, edges[n-1] + 1}
		for range 300 {
			xs = append(xs, edges[rng.IntN(n)], rng.NormFloat64()*6)
		}
		b := newBuilder("g")
		b.g.Input = append(b.g.Input, tensorInfo("x", pb.TensorProto_DOUBLE, 1))
		b.opInto("Identity", "c", []string{b.countLessEq("x", edges)})
		b.g.Output = append(b.g.Output, tensorInfo("c", pb.TensorProto_INT64, 1))
		m := &pb.ModelProto{IrVersion: proto.Int64(IRVersion), Graph: b.g,
			OpsetImport: []*pb.OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(OpsetONNX)}}}
		got := runORT(t, m, map[string]ortTensor{"x": doubleTensor(xs)})["c"].ints(t)
		for i, x := range xs {
			want := int64(sort.Search(n, func(k int) bool { return edges[k] > x }))
			if math.IsNaN(x) {
				want = 0
			}
			if got[i] != want {
				t.Fatalf("n=%d x=%v: got %d, want %d", n, x, got[i], want)
			}
		}
	}
}
