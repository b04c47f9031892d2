package stats

import (
	"math"
	"sort"
)

// Interp returns the piecewise-linear interpolant of the points (xp, fp)
// at x, with numpy.interp's semantics (numpy 1.24, default left/right).
// xp must be sorted ascending and have the length of fp. With j the last
// index such that xp[j] <= x:
//
//	x < xp[0]            -> fp[0]
//	x > xp[n-1]          -> fp[n-1]
//	j == n-1             -> fp[n-1]
//	x == xp[j]           -> fp[j]
//	otherwise            -> s*(x - xp[j]) + fp[j],  s = (fp[j+1]-fp[j]) / (xp[j+1]-xp[j])
//
// When that is NaN (infinite points or slopes) it falls back to
// s*(x - xp[j+1]) + fp[j+1], and then to fp[j] if fp[j] == fp[j+1]. With ties
// in xp the last of the tied points wins. NaN x gives NaN, except with a
// single point, where numpy returns fp[0] for NaN (it only compares); an
// empty xp gives NaN (numpy raises).
func Interp(x float64, xp, fp []float64) float64 {
	n := len(xp)
	switch {
	case n == 0 || len(fp) != n:
		return math.NaN()
	case n == 1:
		// numpy compares only, so NaN falls through to fp[0].
		return fp[0]
	case math.IsNaN(x):
		return x
	case x < xp[0]:
		return fp[0]
	case x > xp[n-1]:
		return fp[n-1]
	}
	j := sort.Search(n, func(i int) bool { return xp[i] > x }) - 1
	if j == n-1 {
		return fp[j]
	}
	if xp[j] == x {
		return fp[j]
	}
	s := (fp[j+1] - fp[j]) / (xp[j+1] - xp[j])
	y := s*(x-xp[j]) + fp[j]
	if math.IsNaN(y) {
		y = s*(x-xp[j+1]) + fp[j+1]
		if math.IsNaN(y) && fp[j] == fp[j+1] {
			y = fp[j]
		}
	}
	return y
}
