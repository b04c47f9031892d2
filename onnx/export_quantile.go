package onnx

import (
	"math"

	"github.com/normguard/normguard/stats"
	"github.com/normguard/normguard/step"
)

// quantileBoundsThreshold is scikit-learn's BOUNDS_THRESHOLD (step's
// constant of the same name).
const quantileBoundsThreshold = 1e-7

// quantileTransformer mirrors step.QuantileTransformer:
//
//	u = (interp(x, q, r) - interp(-x, -rev(q), -rev(r))) / 2
//
// (as 0.5 * (a - b)), u = 1 at the top quantile and 0 at the bottom one
// (within 1e-7 for the normal output), then for the normal output the
// normal quantile of u clipped to ±ppf(1e-7 - eps). NaN stays NaN.
func (x *exporter) quantileTransformer(f *step.QuantileTransformer, in []string) []string {
	b := x.b
	nq := f.NQuantiles
	negRefs := make([]float64, nq)
	for i, r := range f.References {
		negRefs[nq-1-i] = -r
	}
	normal := f.OutputDistribution == "normal"
	clipLo := stats.NormPPF(quantileBoundsThreshold - 0x1p-52)
	clipHi := stats.NormPPF(1 - (quantileBoundsThreshold - 0x1p-52))
	half := b.scalar(0.5)
	out := make([]string, len(in))
	for j, c := range in {
		qs := f.Quantiles[j]
		lo, hi := qs[0], qs[nq-1]
		if math.IsNaN(lo) {
			out[j] = b.fill(c, math.NaN())
			continue
		}
		negQs := make([]float64, nq)
		for i, v := range qs {
			negQs[nq-1-i] = -v
		}
		u := b.mul(half, b.sub(b.interp(c, qs, f.References), b.interp(b.neg(c), negQs, negRefs)))
		if normal {
			u = b.where(b.greater(b.add(c, b.scalar(quantileBoundsThreshold)), b.scalar(hi)), b.scalar(1), u)
			u = b.where(b.less(b.sub(c, b.scalar(quantileBoundsThreshold)), b.scalar(lo)), b.scalar(0), u)
			u = b.op("Min", []string{b.op("Max", []string{b.normPPF(u), b.scalar(clipLo)}), b.scalar(clipHi)})
		} else {
			u = b.where(b.equal(c, b.scalar(hi)), b.scalar(1), u)
			u = b.where(b.equal(c, b.scalar(lo)), b.scalar(0), u)
		}
		out[j] = b.nanIf(b.isNaN(c), u)
	}
	return out
}

// fill returns a [N,1] tensor shaped like x holding v.
func (b *builder) fill(x string, v float64) string {
	s := b.scalar(v)
	return b.where(b.isNaN(x), s, s)
}

// interp is numpy.interp(x, xp, fp) for x [N,1] and constant, increasing
// xp, as stats.Interp computes it: with j the last index where xp[j] <= x,
//
//	fp[0] below xp[0], fp[n-1] from xp[n-1] on, fp[j] at x == xp[j],
//	else s*(x - xp[j]) + fp[j] with s = (fp[j+1]-fp[j]) / (xp[j+1]-xp[j])
//
// (and numpy's fallback from the right end when that is NaN).
func (b *builder) interp(x string, xp, fp []float64) string {
	n := len(xp)
	if n == 1 {
		return b.fill(x, fp[0])
	}
	xpT, fpT := b.doubles(xp, int64(n)), b.doubles(fp, int64(n))
	c := b.countLessEq(x, xp)
	j := b.op("Min", []string{b.op("Max", []string{b.op("Sub", []string{c, b.int64s([]int64{1})}), b.int64s([]int64{0})}), b.int64s([]int64{int64(n - 2)})})
	j1 := b.op("Add", []string{j, b.int64s([]int64{1})})
	gather := func(t, idx string) string { return b.op("Gather", []string{t, idx}, attrInt("axis", 0)) }
	xj, xj1, fj, fj1 := gather(xpT, j), gather(xpT, j1), gather(fpT, j), gather(fpT, j1)
	s := b.div(b.sub(fj1, fj), b.sub(xj1, xj))
	y := b.add(b.mul(s, b.sub(x, xj)), fj)
	y2 := b.add(b.mul(s, b.sub(x, xj1)), fj1)
	y2 = b.where(b.and(b.isNaN(y2), b.equal(fj, fj1)), fj, y2)
	y = b.where(b.isNaN(y), y2, y)
	y = b.where(b.equal(x, xj), fj, y)
	y = b.where(b.greaterEq(x, b.scalar(xp[n-1])), b.scalar(fp[n-1]), y)
	return b.where(b.less(x, b.scalar(xp[0])), b.scalar(fp[0]), y)
}

// as241 holds the coefficients of Wichura's AS 241 (PPND16), highest
// power first, as stats.NormPPF uses them.
var as241 = struct{ a, b, c, d, e, f []float64 }{
	a: []float64{2.5090809287301226727e+3, 3.3430575583588128105e+4, 6.7265770927008700853e+4, 4.5921953931549871457e+4,
		1.3731693765509461125e+4, 1.9715909503065514427e+3, 1.3314166789178437745e+2, 3.3871328727963666080e+0},
	b: []float64{5.2264952788528545610e+3, 2.8729085735721942674e+4, 3.9307895800092710610e+4, 2.1213794301586595867e+4,
		5.3941960214247511077e+3, 6.8718700749205790830e+2, 4.2313330701600911252e+1, 1.0},
	c: []float64{7.74545014278341407640e-4, 2.27238449892691845833e-2, 2.41780725177450611770e-1, 1.27045825245236838258e+0,
		3.64784832476320460504e+0, 5.76949722146069140550e+0, 4.63033784615654529590e+0, 1.42343711074968357734e+0},
	d: []float64{1.05075007164441684324e-9, 5.47593808499534494600e-4, 1.51986665636164571966e-2, 1.48103976427480074590e-1,
		6.89767334985100004550e-1, 1.67638483018380384940e+0, 2.05319162663775882187e+0, 1.0},
	e: []float64{2.01033439929228813265e-7, 2.71155556874348757815e-5, 1.24266094738807843860e-3, 2.65321895265761230930e-2,
		2.96560571828504891230e-1, 1.78482653991729133580e+0, 5.46378491116411436990e+0, 6.65790464350110377720e+0},
	f: []float64{2.04426310338993978564e-15, 1.42151175831644588870e-7, 1.84631831751005468180e-5, 7.86869131145613259100e-4,
		1.48753612908506148525e-2, 1.36929880922735805310e-1, 5.99832206555887937690e-1, 1.0},
}

// horner evaluates (((c0*r + c1)*r + c2)... )*r + c7 as stats.NormPPF
// writes it: every product and sum rounded on its own.
func (b *builder) horner(r string, cs []float64) string {
	t := b.mul(b.scalar(cs[0]), r)
	for i, c := range cs[1:] {
		t = b.add(t, b.scalar(c))
		if i < len(cs)-2 {
			t = b.mul(t, r)
		}
	}
	return t
}

// normPPF mirrors stats.NormPPF (Wichura's AS 241) for p in [0, 1]: the
// central rational function in q = p - 0.5 for |q| <= 0.425, the tail
// ones in r = sqrt(-log(min(p, 1-p))), -Inf at 0 and +Inf at 1.
func (b *builder) normPPF(p string) string {
	zero := b.scalar(0)
	q := b.sub(p, b.scalar(0.5))
	rc := b.sub(b.scalar(0.180625), b.mul(q, q))
	central := b.div(b.mul(b.horner(rc, as241.a), q), b.horner(rc, as241.b))

	r := b.where(b.greater(q, zero), b.sub(b.scalar(1), p), p)
	r = b.sqrt(b.neg(b.log(r)))
	r1, r2 := b.sub(r, b.scalar(1.6)), b.sub(r, b.scalar(5))
	near := b.div(b.horner(r1, as241.c), b.horner(r1, as241.d))
	far := b.div(b.horner(r2, as241.e), b.horner(r2, as241.f))
	tail := b.where(b.lessEq(r, b.scalar(5)), near, far)
	tail = b.where(b.less(q, zero), b.neg(tail), tail)

	y := b.where(b.lessEq(b.abs(q), b.scalar(0.425)), central, tail)
	y = b.where(b.equal(p, zero), b.scalar(math.Inf(-1)), y)
	return b.where(b.equal(p, b.scalar(1)), b.scalar(math.Inf(1)), y)
}
