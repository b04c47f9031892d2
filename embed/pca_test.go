package embed

import (
	"math"
	"testing"
)

// TestPrincipalRankDeficient: 5 vectors of dimension 4 spanning a plane.
// The directions must be orthonormal, the variances must add up to the
// total (the data has no variance outside the first two), and the first
// two must lie in the plane of the data.
func TestPrincipalRankDeficient(t *testing.T) {
	x := []float64{0, 0, 0, 0, 48, 48, 48, 48, 0, 0, 0, 0, 48, 48, 48, 48, 104, 104, 0, 0}
	comps, total := principal(x, 5, 4, 10, 0)
	if len(comps) != 4 {
		t.Fatalf("%d components, want 4 (min of k, d, n−1)", len(comps))
	}
	// total variance by hand: dimensions 0,1 hold 0,48,0,48,104 (mean 40,
	// variance (1600+64+1600+64+4096)/5 = 1484.8); 2,3 hold 0,48,0,48,0
	// (mean 19.2, variance 552.96).
	if want := 2*1484.8 + 2*552.96; math.Abs(total-want) > 1e-9 {
		t.Errorf("total variance %v, want %v", total, want)
	}
	var sum float64
	for i, a := range comps {
		sum += a.Variance
		for j, b := range comps {
			want := 0.0
			if i == j {
				want = 1
			}
			if got := dot(a.Direction, b.Direction); math.Abs(got-want) > 1e-12 {
				t.Errorf("direction %d · direction %d = %v, want %v", i, j, got, want)
			}
		}
	}
	if math.Abs(sum-total) > 1e-9*total {
		t.Errorf("variances add up to %v, want the total %v", sum, total)
	}
	for _, c := range comps[:2] {
		// the plane is spanned by (1,1,0,0) and (0,0,1,1)
		if d := c.Direction; math.Abs(d[0]-d[1]) > 1e-9 || math.Abs(d[2]-d[3]) > 1e-9 {
			t.Errorf("leading direction %v leaves the data's plane", d)
		}
	}
}
