package diagnose

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/fit"
	"github.com/normguard/normguard/spec"
	"github.com/normguard/normguard/table"
	"github.com/normguard/normguard/transform"
)

// fitFlag standardizes a 0/1 flag (share ones of ones) and a normal x,
// and returns the artifact's output on a sample of n rows drawn with
// share ones of ones.
func fitFlag(t *testing.T) (*artifact.Artifact, func(seed uint64, n int, share float64) []table.Column) {
	t.Helper()
	sp, err := spec.Parse(strings.NewReader(`{"version": 1, "remainder": "drop", "columns": [
		{"names": ["b", "x"], "type": "numeric", "steps": [{"standard_scaler": {}}]}]}`), "spec.json")
	if err != nil {
		t.Fatal(err)
	}
	draw := func(seed uint64, n int, share float64) (b, x []float64) {
		r := rand.New(rand.NewPCG(seed, 3))
		for range n {
			v := 0.0
			if r.Float64() < share {
				v = 1
			}
			b, x = append(b, v), append(x, 20+3*r.NormFloat64())
		}
		return b, x
	}
	b, x := draw(1, 5000, 0.28)
	var csv strings.Builder
	csv.WriteString("b,x\n")
	for i := range b {
		fmt.Fprintf(&csv, "%v,%v\n", b[i], x[i])
	}
	rd, err := table.NewCSVReader(strings.NewReader(csv.String()), "train.csv", table.CSVOptions{})
	if err != nil {
		t.Fatal(err)
	}
	a, err := fit.Fit(context.Background(), sp, rd, fit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tr, err := transform.New(a)
	if err != nil {
		t.Fatal(err)
	}
	return a, func(seed uint64, n int, share float64) []table.Column {
		b, x := draw(seed, n, share)
		in := &table.Batch{Rows: n, Cols: []table.Column{{Name: "b", Kind: table.Numeric, Num: b}, {Name: "x", Kind: table.Numeric, Num: x}}}
		out := tr.NewOutput()
		if err := tr.Batch(in, out, "obs"); err != nil {
			t.Fatal(err)
		}
		res := make([]table.Column, len(out.Cols))
		for j, c := range out.Cols {
			res[j] = table.Column{Name: a.Outputs[j].Name, Kind: c.Kind, Num: c.Num[:n]}
		}
		return res
	}
}

// TestUnpairedFloat32OfOwnOutput (attack run 35 F2): the artifact's own
// output rounded to float32, or a two-valued column's values one ulp off,
// was called drift (KS 0.97 on a standardized 0/1 flag): a point mass a
// hair off was compared as another point. Values within one float32
// rounding of the training output's point masses are those masses; a
// flag whose share of ones moved is still drift.
func TestUnpairedFloat32OfOwnOutput(t *testing.T) {
	art, out := fitFlag(t)
	a := func() []table.Column { return out(2, 3000, 0.28) }
	f32 := func(cols []table.Column) []table.Column {
		for _, c := range cols {
			for i, v := range c.Num {
				c.Num[i] = float64(float32(v))
			}
		}
		return cols
	}
	ulp := func(cols []table.Column) []table.Column {
		lo := math.Inf(1)
		for _, v := range cols[0].Num {
			lo = math.Min(lo, v)
		}
		for i, v := range cols[0].Num {
			if v == lo {
				cols[0].Num[i] = math.Nextafter(v, 0)
			}
		}
		return cols
	}
	for _, tc := range []struct {
		name string
		cols []table.Column
	}{{"exact", a()}, {"float32", f32(a())}, {"one ulp", ulp(a())}} {
		rep, err := Unpaired(art, tc.cols, UnpairedOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range rep.Features {
			if v.Verdict != OK {
				t.Errorf("%s: %s %s %v; want ok (the artifact's own output)", tc.name, v.Name, v.Verdict, v.Evidence)
			}
		}
	}
	moved := f32(out(3, 3000, 0.5))
	rep, err := Unpaired(art, moved, UnpairedOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if v := rep.Features[0]; v.Verdict == OK {
		t.Errorf("a flag with half its rows ones (28%% at training), float32: %s %v; want it flagged", v.Verdict, v.Evidence)
	}
}
