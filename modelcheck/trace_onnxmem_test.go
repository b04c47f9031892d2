package modelcheck

import (
	"fmt"
	"runtime"
	"testing"
)

// TestTraceBudget: shapes, not the file, set how many columns tracing
// makes. 200 inputs declared [N, 262144], each shifted by a scalar, and
// a Concat of one with itself 20 times over (2^20 times its width) took
// gigabytes from a file of kilobytes (8 GB for the inputs alone at width
// 1048576); the columns followed are now bounded by maxTracedCols in all.
func TestTraceBudget(t *testing.T) {
	g := &Graph{Opset: 17, Constants: map[string]Tensor{"c": {Type: "float", Values: []float64{2}}}}
	for i := 0; i < 200; i++ {
		in := fmt.Sprintf("x%d", i)
		g.Inputs = append(g.Inputs, Value{Name: in, Type: "float", Shape: []int64{-1, 1 << 18}})
		g.Nodes = append(g.Nodes, Node{Op: "Add", Inputs: []string{in, "c"}, Outputs: []string{in + "+c"}},
			Node{Op: "Relu", Inputs: []string{in + "+c"}, Outputs: []string{in + "r"}})
	}
	g.Inputs = append(g.Inputs, Value{Name: "small", Type: "float", Shape: []int64{-1, 4}})
	prev := "small"
	for i := 0; i < 20; i++ {
		out := fmt.Sprintf("cat%d", i)
		g.Nodes = append(g.Nodes, Node{Op: "Concat", Inputs: []string{prev, prev}, Outputs: []string{out}, Attrs: map[string]Attr{"axis": {Int: 1}}})
		prev = out
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	tr := traceInputs(g)
	r := Check(g, Options{})
	runtime.ReadMemStats(&after)
	if n := after.TotalAlloc - before.TotalAlloc; n > 200<<20 {
		t.Errorf("%d MB allocated, want at most 200 MB", n>>20)
	}
	// the inputs are followed first: four of them fill the budget, and
	// nothing is followed further
	if s, ok := tr.tensors["x3"]; !ok || len(s.cols) != 1<<18 || s.cols[7].Col != 7 || s.cols[7].Input != "x3" {
		t.Errorf("x3: traced %v", ok)
	}
	for _, name := range []string{"x4", "x0+c", "small", "cat19"} {
		if _, ok := tr.tensors[name]; ok {
			t.Errorf("%s traced past the budget", name)
		}
	}
	if len(r.Inputs) != 201 {
		t.Errorf("report of %d inputs, want 201", len(r.Inputs))
	}
}
