package stats

import "math"

// Constants of scipy.optimize.bracket and scipy.optimize.brent (scipy 1.10).
const (
	bracketGold      = 1.618034 // golden ratio as scipy rounds it
	bracketVerySmall = 1e-21
	bracketGrowLimit = 110.0
	bracketMaxIter   = 1000
	brentTol         = 1.48e-8
	brentMinTol      = 1.0e-11
	brentMaxIter     = 500
	brentCGold       = 0.3819660 // (3 - √5) / 2 as scipy rounds it
)

// BrentMinimize returns a local minimizer of f, following
// scipy.optimize.brent(f, brack=(xa, xb)) of scipy 1.10 step for step: a
// downhill bracket search from the two starting points (the golden-ratio
// expansion with parabolic extrapolation of scipy.optimize.bracket,
// grow_limit 110), then Brent's method (golden-section search combined
// with successive parabolic interpolation) with relative tolerance 1.48e-8
// and at most 500 iterations.
//
// Comparisons involving NaN are false, as in scipy, so an f that returns
// NaN steers the search the way it steers scipy's. It returns NaN when the
// bracket search does not terminate within 1000 iterations (scipy raises
// RuntimeError).
//
// Reference: R. P. Brent, "Algorithms for Minimization without
// Derivatives", Prentice-Hall, 1973, chapter 5.
func BrentMinimize(f func(float64) float64, xa, xb float64) float64 {
	xa, xb, xc, fb, ok := bracket(f, xa, xb)
	if !ok {
		return math.NaN()
	}
	return brent(f, xa, xb, xc, fb)
}

// bracket searches downhill from xa, xb for points with f(xa) > f(xb) <
// f(xc), as scipy.optimize.bracket does, and returns them with f(xb).
func bracket(f func(float64) float64, xa, xb float64) (_, _, _, _ float64, ok bool) {
	fa, fb := f(xa), f(xb)
	if fa < fb {
		xa, xb, fa, fb = xb, xa, fb, fa
	}
	xc := xb + bracketGold*(xb-xa)
	fc := f(xc)
	for iter := 0; fc < fb; iter++ {
		tmp1 := (xb - xa) * (fb - fc)
		tmp2 := (xb - xc) * (fb - fa)
		val := tmp2 - tmp1
		denom := 2.0 * val
		if math.Abs(val) < bracketVerySmall {
			denom = 2.0 * bracketVerySmall
		}
		w := xb - ((xb-xc)*tmp2-(xb-xa)*tmp1)/denom
		wlim := xb + bracketGrowLimit*(xc-xb)
		if iter > bracketMaxIter {
			return 0, 0, 0, 0, false
		}
		var fw float64
		switch {
		case (w-xc)*(xb-w) > 0: // parabolic minimum between xb and xc
			fw = f(w)
			if fw < fc {
				return xb, w, xc, fw, true
			} else if fw > fb {
				return xa, xb, w, fb, true
			}
			w = xc + bracketGold*(xc-xb)
			fw = f(w)
		case (w-wlim)*(wlim-xc) >= 0: // limit the parabolic step
			w = wlim
			fw = f(w)
		case (w-wlim)*(xc-w) > 0: // parabolic minimum between xc and the limit
			fw = f(w)
			if fw < fc {
				xb, xc = xc, w
				w = xc + bracketGold*(xc-xb)
				fb, fc = fc, fw
				fw = f(w)
			}
		default: // reject the parabola, take a golden step
			w = xc + bracketGold*(xc-xb)
			fw = f(w)
		}
		xa, xb, xc = xb, xc, w
		fa, fb, fc = fb, fc, fw
	}
	return xa, xb, xc, fb, true
}

// brent runs Brent's method on the bracket (xa, xb, xc) with f(xb) = fb,
// as scipy.optimize.Brent.optimize does.
func brent(f func(float64) float64, xa, xb, xc, fb float64) float64 {
	x, w, v := xb, xb, xb
	fx, fw, fv := fb, fb, fb
	a, b := xc, xa
	if xa < xc {
		a, b = xa, xc
	}
	var deltax, rat float64
	for iter := 0; iter < brentMaxIter; iter++ {
		tol1 := brentTol*math.Abs(x) + brentMinTol
		tol2 := 2.0 * tol1
		xmid := 0.5 * (a + b)
		if math.Abs(x-xmid) < tol2-0.5*(b-a) {
			break // converged
		}
		if math.Abs(deltax) <= tol1 {
			deltax = goldenStep(x, xmid, a, b)
			rat = brentCGold * deltax
		} else {
			// Parabola through (x, fx), (w, fw), (v, fv).
			tmp1 := (x - w) * (fx - fv)
			tmp2 := (x - v) * (fx - fw)
			p := (x-v)*tmp2 - (x-w)*tmp1
			tmp2 = 2.0 * (tmp2 - tmp1)
			if tmp2 > 0 {
				p = -p
			}
			tmp2 = math.Abs(tmp2)
			dxTemp := deltax
			deltax = rat
			if p > tmp2*(a-x) && p < tmp2*(b-x) && math.Abs(p) < math.Abs(0.5*tmp2*dxTemp) {
				rat = p * 1.0 / tmp2 // the parabolic step is useful
				u := x + rat
				if u-a < tol2 || b-u < tol2 {
					rat = -tol1
					if xmid-x >= 0 {
						rat = tol1
					}
				}
			} else {
				deltax = goldenStep(x, xmid, a, b)
				rat = brentCGold * deltax
			}
		}
		var u float64
		switch {
		case !(math.Abs(rat) < tol1): // written so that NaN takes this branch, as in scipy
			u = x + rat
		case rat >= 0: // move by at least tol1
			u = x + tol1
		default:
			u = x - tol1
		}
		fu := f(u)
		if fu > fx {
			if u < x {
				a = u
			} else {
				b = u
			}
			if fu <= fw || w == x {
				v, w = w, u
				fv, fw = fw, fu
			} else if fu <= fv || v == x || v == w {
				v = u
				fv = fu
			}
		} else {
			if u >= x {
				a = x
			} else {
				b = x
			}
			v, w, x = w, x, u
			fv, fw, fx = fw, fx, fu
		}
	}
	return x
}

// goldenStep returns the distance from x to the end of [a, b] on the
// larger side of the midpoint.
func goldenStep(x, xmid, a, b float64) float64 {
	if x >= xmid {
		return a - x
	}
	return b - x
}
