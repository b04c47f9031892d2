package modelcheck

import (
	"math"
	"strings"
	"testing"
)

// build is a small graph builder for hand-made cases of the rules that the
// PyTorch fixtures do not reach.
type build struct{ g *Graph }

func newBuild(producer string, inputs ...Value) *build {
	return &build{g: &Graph{Producer: producer, Opset: 15, Inputs: inputs, Constants: map[string]Tensor{}}}
}

func (b *build) konst(name string, dims []int64, vals ...float64) string {
	b.g.Constants[name] = Tensor{Dims: dims, Type: "float", Values: vals}
	return name
}

func (b *build) node(op, name string, in []string, out string, attrs map[string]Attr) *build {
	if attrs == nil {
		attrs = map[string]Attr{}
	}
	b.g.Nodes = append(b.g.Nodes, Node{Name: name, Op: op, Inputs: in, Outputs: []string{out}, Attrs: attrs})
	return b
}

func ints(v ...int64) map[string]Attr { return map[string]Attr{"axes": {Ints: v}} }

func x2(width int64) Value { return Value{Name: "x", Type: "float", Shape: []int64{-1, width}} }

func TestBatchReductions(t *testing.T) {
	cases := []struct {
		name  string
		build func() *build
		found bool
	}{
		{"mean over rows", func() *build { return newBuild("", x2(4)).node("ReduceMean", "r", []string{"x"}, "m", ints(0)) }, true},
		{"mean over features", func() *build { return newBuild("", x2(4)).node("ReduceMean", "r", []string{"x"}, "m", ints(-1)) }, false},
		{"no axes: all", func() *build { return newBuild("", x2(4)).node("ReduceMax", "r", []string{"x"}, "m", nil) }, true},
		{"axes as input (opset 13 ReduceSum)", func() *build {
			b := newBuild("", x2(4))
			return b.node("ReduceSum", "r", []string{"x", b.konst("ax", []int64{1}, 0)}, "m", nil)
		}, true},
		{"transposed, then axis 1", func() *build {
			return newBuild("", x2(4)).node("Transpose", "t", []string{"x"}, "xt", map[string]Attr{"perm": {Ints: []int64{1, 0}}}).
				node("ReduceMean", "r", []string{"xt"}, "m", ints(1))
		}, true},
		{"transposed, then axis 0", func() *build {
			return newBuild("", x2(4)).node("Transpose", "t", []string{"x"}, "xt", map[string]Attr{"perm": {Ints: []int64{1, 0}}}).
				node("ReduceMean", "r", []string{"xt"}, "m", ints(0))
		}, false},
		{"unsqueezed [N,1,4], axis 2", func() *build {
			return newBuild("", x2(4)).node("Unsqueeze", "u", []string{"x"}, "xu", ints(1)).node("ReduceMean", "r", []string{"xu"}, "m", ints(2))
		}, false},
		{"after a Linear, over rows", func() *build {
			b := newBuild("", x2(4))
			return b.node("Gemm", "fc", []string{"x", b.konst("w", []int64{3, 4}, make([]float64, 12)...)}, "h", map[string]Attr{"transB": {Int: 1}}).
				node("ReduceMin", "r", []string{"h"}, "m", ints(0))
		}, true},
		{"a constant reduced", func() *build {
			b := newBuild("", x2(4))
			return b.node("ReduceMean", "r", []string{b.konst("c", []int64{2, 4}, make([]float64, 8)...)}, "m", ints(0))
		}, false},
		{"shape only", func() *build {
			b := newBuild("", x2(4))
			return b.node("Shape", "s", []string{"x"}, "sh", nil).node("ReduceProd", "r", []string{"sh"}, "n", map[string]Attr{"keepdims": {Int: 0}})
		}, false},
		{"xᵀ·x", func() *build {
			return newBuild("", x2(4)).node("Transpose", "t", []string{"x"}, "xt", map[string]Attr{"perm": {Ints: []int64{1, 0}}}).
				node("MatMul", "mm", []string{"xt", "x"}, "cov", nil)
		}, true},
		{"LayerNormalization from axis 0", func() *build {
			return newBuild("", x2(4)).node("LayerNormalization", "ln", []string{"x"}, "y", map[string]Attr{"axis": {Int: 0}})
		}, true},
		{"LayerNormalization on the last axis", func() *build {
			return newBuild("", x2(4)).node("LayerNormalization", "ln", []string{"x"}, "y", map[string]Attr{"axis": {Int: -1}})
		}, false},
		{"MeanVarianceNormalization, default axes", func() *build {
			return newBuild("", x2(4)).node("MeanVarianceNormalization", "mvn", []string{"x"}, "y", nil)
		}, true},
	}
	for _, c := range cases {
		reds := batchReductions(c.build().g)
		if got := len(reds) > 0; got != c.found {
			t.Errorf("%s: got batch reduction %v, want %v", c.name, got, c.found)
		}
	}
}

// TestTraceAffine: (x − c)/s with stored c and s is followed per feature
// to the layer after it: a = 1/s, b = −c/s; c − x flips the sign; a column
// slice keeps the columns it takes.
func TestTraceAffine(t *testing.T) {
	b := newBuild("", x2(3))
	b.node("Sub", "sub", []string{"x", b.konst("c", []int64{3}, 1, 2, 3)}, "d", nil).
		node("Div", "div", []string{"d", b.konst("s", []int64{1, 3}, 2, 4, 8)}, "z", nil).
		node("Gemm", "fc", []string{"z", b.konst("w", []int64{2, 3}, 0, 0, 0, 0, 0, 0)}, "h", nil)
	tr := traceInputs(b.g)
	if len(tr.chains) != 1 {
		t.Fatalf("got %d chains, want 1", len(tr.chains))
	}
	wantA, wantB := []float64{0.5, 0.25, 0.125}, []float64{-0.5, -0.5, -0.375}
	for j, col := range tr.chains[0].cols {
		if col.A != wantA[j] || col.B != wantB[j] || col.Col != j {
			t.Errorf("column %d: got %+v, want a %v b %v", j, col, wantA[j], wantB[j])
		}
	}

	b = newBuild("", x2(4))
	b.node("Slice", "sl", []string{"x", b.konst("st", []int64{1}, 1), b.konst("en", []int64{1}, 3), b.konst("ax", []int64{1}, 1)}, "xs", nil).
		node("Sub", "neg", []string{b.konst("k", nil, 10), "xs"}, "y", nil).
		node("BatchNormalization", "bn", []string{"y", "g", "be", "m", "v"}, "o", nil)
	tr = traceInputs(b.g)
	var got traced
	for n, s := range tr.onInputs {
		if n.Name == "bn" {
			got = s
		}
	}
	if len(got.cols) != 2 || got.cols[0].Col != 1 || got.cols[1].Col != 2 || got.cols[0].A != -1 || got.cols[0].B != 10 {
		t.Errorf("slice then 10 − x: got %+v, want columns 1, 2 with a −1, b 10", got.cols)
	}
}

// TestEMATolerance pins the tolerance formula at PyTorch's momentum 0.1
// (the floors 0.3 and ln 3) and at momentum 1 (the last batch only).
func TestEMATolerance(t *testing.T) {
	tm, tv := emaTolerance(0.1)
	if tm != 0.3 || tv != math.Log(3) {
		t.Errorf("alpha 0.1: got %v, %v, want 0.3, ln 3", tm, tv)
	}
	tm, tv = emaTolerance(1)
	if math.Abs(tm-1.25) > 1e-15 || math.Abs(tv-4*math.Sqrt(0.5)) > 1e-15 {
		t.Errorf("alpha 1: got %v, %v, want 1.25, 2.828", tm, tv)
	}
}

// bnGraph is one BatchNormalization on x [N, len(mean)] with stored
// statistics.
func bnGraph(producer string, eps float64, mean, variance []float64) *Graph {
	w := int64(len(mean))
	b := newBuild(producer, x2(w))
	ones := make([]float64, len(mean))
	for i := range ones {
		ones[i] = 1
	}
	b.konst("g", []int64{w}, ones...)
	b.konst("be", []int64{w}, make([]float64, len(mean))...)
	b.konst("m", []int64{w}, mean...)
	b.konst("v", []int64{w}, variance...)
	b.node("BatchNormalization", "bn", []string{"x", "g", "be", "m", "v"}, "y", map[string]Attr{"epsilon": {Float: eps}, "momentum": {Float: 0.9}})
	return b.g
}

func codes(r *Report) string {
	var s []string
	for _, f := range r.Findings {
		s = append(s, f.Severity+":"+f.Code)
	}
	return strings.Join(s, " ")
}

// TestStatisticsRules: a variance of exactly 0 with a non-zero mean is a
// warning; one far below epsilon with a mean of exactly 0 is a dead unit
// (info); TensorFlow's producer with PyTorch's epsilon is foreign; an
// unknown producer is not judged.
func TestStatisticsRules(t *testing.T) {
	cases := []struct {
		name, producer string
		eps            float64
		mean, variance []float64
		want           string
	}{
		{"zero variance", "pytorch", 1e-5, []float64{0.5, 0}, []float64{0, 1}, "warning:nonpositive_variance"},
		{"dead unit", "pytorch", 1e-5, []float64{0, 0.1}, []float64{1e-30, 1}, "info:dead_channels"},
		{"tf2onnx with 1e-5", "tf2onnx", 1e-5, []float64{0.1}, []float64{1}, "warning:foreign_epsilon"},
		{"tf2onnx with 1e-3", "tf2onnx", 1e-3, []float64{0.1}, []float64{1}, ""},
		{"unknown producer", "", 1e-3, []float64{0.1}, []float64{1}, ""},
		{"chainer's 2e-5 in pytorch", "pytorch", 2e-5, []float64{0.1}, []float64{1}, "warning:foreign_epsilon"},
	}
	for _, c := range cases {
		r := Check(bnGraph(c.producer, c.eps, c.mean, c.variance), Options{})
		var got []string
		for _, f := range r.Findings {
			if f.Code != InputNormalization {
				got = append(got, f.Severity+":"+f.Code)
			}
		}
		if strings.Join(got, " ") != c.want {
			t.Errorf("%s: got %q, want %q (%s)", c.name, strings.Join(got, " "), c.want, codes(r))
		}
	}
}

// TestAgree: affine maps compared on a distribution, within 0.25 sd in
// location and a factor 1.25 in scale.
func TestAgree(t *testing.T) {
	id := affine{1, 0}
	for _, c := range []struct {
		f    affine
		want bool
	}{
		{affine{1, 0.2}, true},  // 0.2 sd shift
		{affine{1, 0.3}, false}, // 0.3 sd
		{affine{1.2, 0}, true},  // 20% scale
		{affine{1.3, 0}, false}, // 30%
		{affine{-1, 0}, false},  // sign flip
		{affine{0, 0}, false},   // constant
	} {
		if got := agree(c.f, id, 0, 1); got != c.want {
			t.Errorf("agree(%v, identity): got %v, want %v", c.f, got, c.want)
		}
	}
}

// TestFoldConstants: (x − mean) / Sqrt(var + eps), as an export without
// constant folding writes it, is followed as one affine map per feature:
// a = 1/sqrt(var + eps), b = −mean·a; the caller's graph keeps its own
// constants.
func TestFoldConstants(t *testing.T) {
	b := newBuild("", x2(2))
	b.node("Sub", "sub", []string{"x", b.konst("mu", []int64{2}, 1, 2)}, "d", nil).
		node("Add", "add", []string{b.konst("var", []int64{2}, 4, 16), b.konst("eps", nil, 1e-5)}, "ve", nil).
		node("Sqrt", "sqrt", []string{"ve"}, "sd", nil).
		node("Div", "div", []string{"d", "sd"}, "z", nil).
		node("Gemm", "fc", []string{"z", b.konst("w", []int64{1, 2}, 0, 0)}, "h", nil)
	g := foldConstants(b.g)
	tr := traceInputs(g)
	if len(tr.chains) != 1 {
		t.Fatalf("got %d chains, want 1", len(tr.chains))
	}
	for j, v := range []float64{4, 16} {
		a := 1 / math.Sqrt(v+1e-5)
		col := tr.chains[0].cols[j]
		if math.Abs(col.A-a) > 1e-15 || math.Abs(col.B+float64(j+1)*a) > 1e-15 {
			t.Errorf("column %d: got a %v b %v, want %v, %v", j, col.A, col.B, a, -float64(j+1)*a)
		}
	}
	if _, ok := b.g.Constants["sd"]; ok {
		t.Error("folding changed the caller's graph")
	}
}

// TestFitsBinary: a rare category's running variance may stray by
// 4·sqrt(α/(2−α)·(1−4pq)/(pq)/16) in log (2.26 for p = 0.01, α = 0.1);
// at p = 1/2 the kurtosis is 1 and the floor ln 3 holds.
func TestFitsBinary(t *testing.T) {
	tm, tv := emaTolerance(0.1)
	p := 0.01
	sd := math.Sqrt(p * (1 - p))
	k := 0.1 / 1.9
	tol := 4 * math.Sqrt(k*(1-4*p*(1-p))/(p*(1-p))/16)
	if math.Abs(tol-2.2596) > 1e-3 {
		t.Fatalf("tolerance %v, want 2.2596", tol)
	}
	for _, c := range []struct {
		p, logRatio float64
		want        bool
	}{{0.01, tol - 0.01, true}, {0.01, tol + 0.01, false}, {0.01, -(tol - 0.01), true}, {0.5, math.Log(3) - 0.01, true}, {0.5, math.Log(3) + 0.01, false}} {
		s := math.Sqrt(c.p * (1 - c.p))
		if p == c.p {
			s = sd
		}
		if got := fitsBinary(c.p, s*s*math.Exp(c.logRatio), c.p, s, c.p, tm, tv, 0.1); got != c.want {
			t.Errorf("p %v, log ratio %v: got %v, want %v", c.p, c.logRatio, got, c.want)
		}
	}
}

// TestConstantNormalization: LayerNorm over a last axis of size 1 outputs
// its bias; over the feature axis it does not.
func TestConstantNormalization(t *testing.T) {
	for _, c := range []struct {
		axis int64
		want bool
	}{{-1, true}, {1, false}, {2, true}} {
		b := newBuild("pytorch", x2(4))
		b.node("Unsqueeze", "u", []string{"x", b.konst("ax", []int64{1}, 2)}, "x3", nil).
			node("LayerNormalization", "ln", []string{"x3", b.konst("g", []int64{1}, 1)}, "y", map[string]Attr{"axis": {Int: c.axis}, "epsilon": {Float: 1e-5}})
		r := Check(b.g, Options{})
		if got := r.Has(ConstantNormalization); got != c.want {
			t.Errorf("LayerNorm from axis %d of [N, 4, 1]: got %v, want %v (%s)", c.axis, got, c.want, codes(r))
		}
	}
}

// A BatchNorm whose statistics cannot be read (external data) must not
// pass as checked.
func TestStatisticsUnread(t *testing.T) {
	b := newBuild("pytorch", x2(2))
	b.konst("scale", []int64{2}, 1, 1)
	b.konst("bias", []int64{2}, 0, 0)
	b.g.Constants["mean"] = Tensor{Dims: []int64{2}, Type: "float"} // external data: no values
	b.g.Constants["var"] = Tensor{Dims: []int64{2}, Type: "float"}
	b.node("BatchNormalization", "bn", []string{"x", "scale", "bias", "mean", "var"}, "y", map[string]Attr{"epsilon": {Float: 1e-5}})
	r := Check(b.g, Options{})
	if !r.Has(StatisticsUnread) || !r.Found() {
		t.Fatalf("unreadable statistics passed as checked: %+v", r.Findings)
	}
}
