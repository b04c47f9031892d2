package onnxgraph

import (
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/normguard/normguard/modelcheck"
)

// wideModel encodes a model of inputs graph inputs, each [N, 1, ..., 1]
// of rank, read by an Identity node into one output each: the shape of
// the attack model (30,000 inputs of rank 150 in 38 MB took 1.2 GB to
// check). It writes the wire format directly, so building it costs the
// test little.
func wideModel(inputs, rank int) []byte {
	str := func(b []byte, num int, s string) []byte { return appendLen(appendTag(b, num, 2), []byte(s)) }
	msg := func(b []byte, num int, m []byte) []byte { return appendLen(appendTag(b, num, 2), m) }
	var dims []byte
	dims = msg(dims, shapeDim, str(nil, dimParam, "N"))
	one := binary.AppendUvarint(appendTag(nil, dimValue, 0), 1)
	for i := 1; i < rank; i++ {
		dims = msg(dims, shapeDim, one)
	}
	tt := binary.AppendUvarint(appendTag(nil, tensorTypeElem, 0), 1)
	tt = msg(tt, tensorTypeShape, dims)
	typ := msg(nil, typeTensor, tt)
	var g []byte
	for i := 0; i < inputs; i++ {
		in, out := fmt.Sprintf("in%06d", i), fmt.Sprintf("out%06d", i)
		var node []byte
		node = str(node, nodeInput, in)
		node = str(node, nodeOutput, out)
		node = str(node, nodeOpType, "Identity")
		g = msg(g, graphNode, node)
		g = msg(g, graphInput, msg(str(nil, valueName, in), valueType, typ))
		g = msg(g, graphOutput, msg(str(nil, valueName, out), valueType, typ))
	}
	m := binary.AppendUvarint(appendTag(nil, modelIRVersion, 0), 8)
	m = str(m, modelProducerName, "pytorch")
	m = msg(m, modelOpsetImport, binary.AppendUvarint(appendTag(nil, opsetVersion, 0), 17))
	return msg(m, modelGraph, g)
}

// allocated returns the bytes f allocates.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestWideModelMemory: decoding and checking a model of 30,000 inputs
// allocates a small multiple of its size, and reads every input.
func TestWideModelMemory(t *testing.T) {
	for _, rank := range []int{2, 40, 150} {
		b := wideModel(30000, rank)
		var g *modelcheck.Graph
		var r *modelcheck.Report
		var err error
		n := allocated(func() {
			g, err = Decode(b)
			if err == nil {
				r = modelcheck.Check(g, modelcheck.Options{})
			}
		})
		if err != nil {
			t.Fatalf("rank %d: %v", rank, err)
		}
		// the graph holds 8 bytes per axis (4 in the file) and 16 per
		// axis name, and the graph and the checks' tables take some 2 KB
		// per input with its node and output; the decoding through the
		// protobuf types took 25 times the file at rank 150
		if bound := 2*uint64(len(b)) + 30000*2500; n > bound {
			t.Errorf("rank %d: %d bytes allocated for a %d-byte model, want at most %d", rank, n, len(b), bound)
		}
		if len(g.Inputs) != 30000 || len(g.Outputs) != 30000 || len(g.Nodes) != 30000 || g.Inputs[29999].Name != "in029999" {
			t.Fatalf("rank %d: got %d inputs, %d outputs, %d nodes", rank, len(g.Inputs), len(g.Outputs), len(g.Nodes))
		}
		wantRank := rank
		if rank > MaxRank {
			wantRank = 0 // read as of unknown rank
		}
		if in := g.Inputs[123]; len(in.Shape) != wantRank || (wantRank > 0 && (in.Shape[0] != -1 || in.Shape[wantRank-1] != 1 || in.DimNames[0] != "N")) {
			t.Errorf("rank %d: input 123 read as %+v", rank, in)
		}
		if len(r.Inputs) != 30000 || r.Found() {
			t.Errorf("rank %d: report of %d inputs, found %v; want 30000 inputs and nothing found", rank, len(r.Inputs), r.Found())
		}
		t.Logf("rank %d: %d-byte model, %d bytes allocated", rank, len(b), n)
	}
}

// TestTooManyElements: a model of more than MaxElements nodes is refused
// with ErrTooLarge naming the bound, before its nodes are read.
func TestTooManyElements(t *testing.T) {
	node := appendLen(appendTag(nil, graphNode, 2), appendLen(appendTag(nil, nodeOpType, 2), []byte("X")))
	g := make([]byte, 0, len(node)*(MaxElements+1))
	for i := 0; i <= MaxElements; i++ {
		g = append(g, node...)
	}
	m := binary.AppendUvarint(appendTag(nil, modelIRVersion, 0), 8)
	m = appendLen(appendTag(m, modelOpsetImport, 2), binary.AppendUvarint(appendTag(nil, opsetVersion, 0), 17))
	m = appendLen(appendTag(m, modelGraph, 2), g)
	var err error
	n := allocated(func() { _, err = Decode(m) })
	if !errors.Is(err, ErrTooLarge) || errors.Is(err, ErrNotONNX) || !strings.Contains(err.Error(), "1000000") {
		t.Fatalf("got %v, want ErrTooLarge naming the bound", err)
	}
	if n > 1<<20 {
		t.Errorf("%d bytes allocated to refuse the model, want it refused before reading the nodes", n)
	}
	// one node fewer is read
	m = binary.AppendUvarint(appendTag(nil, modelIRVersion, 0), 8)
	m = appendLen(appendTag(m, modelOpsetImport, 2), binary.AppendUvarint(appendTag(nil, opsetVersion, 0), 17))
	m = appendLen(appendTag(m, modelGraph, 2), g[:len(g)-len(node)])
	gr, err := Decode(m)
	if err != nil || len(gr.Nodes) != MaxElements {
		t.Fatalf("MaxElements nodes: got %v", err)
	}
}

// TestValueBudget: float32 weights are read whatever their size; 8-bit
// integers past a quarter of the file plus minValueBudget values are left
// unread (nil values), not converted to 8 bytes each.
func TestValueBudget(t *testing.T) {
	tensor := func(name string, dt int, raw []byte) []byte {
		var b []byte
		b = binary.AppendUvarint(appendTag(b, tensorDims, 0), uint64(len(raw)/map[int]int{1: 4, 3: 1}[dt]))
		b = binary.AppendUvarint(appendTag(b, tensorDataType, 0), uint64(dt))
		b = appendLen(appendTag(b, tensorName, 2), []byte(name))
		return appendLen(appendTag(b, tensorRawData, 2), raw)
	}
	build := func(tensors ...[]byte) []byte {
		var g []byte
		for _, tb := range tensors {
			g = appendLen(appendTag(g, graphInitializer, 2), tb)
		}
		m := binary.AppendUvarint(appendTag(nil, modelIRVersion, 0), 8)
		m = appendLen(appendTag(m, modelOpsetImport, 2), binary.AppendUvarint(appendTag(nil, opsetVersion, 0), 17))
		return appendLen(appendTag(m, modelGraph, 2), g)
	}
	big := build(tensor("w", 1, make([]byte, 4<<20)), tensor("q", 3, make([]byte, 3<<20)), tensor("s", 3, []byte{1, 2}))
	var g *modelcheck.Graph
	var err error
	n := allocated(func() { g, err = Decode(big) })
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Constants["w"].Values) != 1<<20 {
		t.Errorf("float32 weights: got %d values, want %d", len(g.Constants["w"].Values), 1<<20)
	}
	// budget: 7 MB / 4 + 1M = 2.75M values; w takes 1M, q's 3M do not fit
	if q, ok := g.Constants["q"]; !ok || q.Values != nil || q.Type != "INT8" {
		t.Errorf("int8 tensor over the budget: got %d values, want present and unread", len(q.Values))
	}
	if s := g.Constants["s"].Values; len(s) != 2 || s[0] != 1 || s[1] != 2 {
		t.Errorf("small int8 tensor: got %v, want [1 2]", s)
	}
	if bound := 2 * uint64(len(big)); n > bound {
		t.Errorf("%d bytes allocated for a %d-byte model, want at most %d", n, len(big), bound)
	}
}
