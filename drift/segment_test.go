package drift

import (
	"math/rand/v2"
	"testing"

	"github.com/normguard/normguard/table"
)

// TestCompareSegments checks that drift in one segment is found there and
// not in the others, and that a segment new in the current data is
// reported without a verdict.
func TestCompareSegments(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	build := func(n int, shiftB float64, segs []string) []table.Column {
		seg := table.Column{Name: "region", Kind: table.String}
		x := table.Column{Name: "x", Kind: table.Numeric}
		for i := 0; i < n; i++ {
			s := segs[i%len(segs)]
			v := rng.NormFloat64()
			if s == "b" {
				v += shiftB
			}
			seg.Str = append(seg.Str, s)
			x.Num = append(x.Num, v)
		}
		return []table.Column{seg, x}
	}
	ref := build(20000, 0, []string{"a", "b"})
	cur := build(20000, 1, []string{"a", "b", "c"})
	rep, err := CompareSegments(ref, cur, "region", Options{Method: "ks"})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Feature{}
	for _, f := range rep.Features {
		got[f.Segment] = f
	}
	if f := got["a"]; f.Drift || f.Error != "" {
		t.Errorf("segment a: drift %v (p %v), error %q; want no drift", f.Drift, f.PValue, f.Error)
	}
	if f := got["b"]; !f.Drift {
		t.Errorf("segment b: no drift (p %v); want drift", f.PValue)
	}
	if f := got["c"]; f.Skipped == "" || f.Drift || len(rep.NewSegments) != 1 || rep.NewSegments[0] != "c" {
		t.Errorf("segment c (new): got %+v, new segments %v; want it skipped and listed", f, rep.NewSegments)
	}
	if rep.DriftShare != 0.5 {
		t.Errorf("drift share %v, want 0.5 (b of a, b)", rep.DriftShare)
	}
}
