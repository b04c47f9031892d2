package diagnose

import (
	"math"
	"slices"

	"github.com/normguard/normguard/profile"
)

// snapToMasses returns xs with each value that lies within one float32
// rounding of a point mass of the training output (one of the two values
// of a two-valued profile, or a value its quantile grid repeats) replaced
// by that value; xs itself when none moves. A model fed float32 features,
// or a text round trip through a parser off by an ulp, gives the
// artifact's own values a hair off, and compared as numbers a point mass
// a hair off is a different point: a 0/1 indicator standardized and
// rounded to float32 read as drift with KS 0.97 (attack run 35 F2).
func snapToMasses(p *profile.Feature, xs []float64) []float64 {
	var pts []float64
	switch {
	case p.Values != nil:
		pts = slices.Clone([]float64(p.Values.Numbers))
	default:
		q := p.Quantiles
		for i := 1; i < len(q); i++ {
			if q[i] == q[i-1] && (len(pts) == 0 || pts[len(pts)-1] != float64(q[i])) {
				pts = append(pts, float64(q[i]))
			}
		}
	}
	pts = slices.DeleteFunc(pts, func(v float64) bool { return math.IsNaN(v) || math.IsInf(v, 0) })
	if len(pts) == 0 {
		return xs
	}
	slices.Sort(pts)
	lim := float32Tol * scale(pts)
	var out []float64
	for i, x := range xs {
		if math.IsNaN(x) {
			continue
		}
		k, _ := slices.BinarySearch(pts, x)
		best := math.NaN()
		for _, j := range []int{k - 1, k} {
			if j >= 0 && j < len(pts) && math.Abs(x-pts[j]) <= lim && (math.IsNaN(best) || math.Abs(x-pts[j]) < math.Abs(x-best)) {
				best = pts[j]
			}
		}
		if math.IsNaN(best) || best == x {
			continue
		}
		if out == nil {
			out = slices.Clone(xs)
		}
		out[i] = best
	}
	if out == nil {
		return xs
	}
	return out
}
