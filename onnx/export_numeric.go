package onnx

import (
	"math"

	pb "github.com/normguard/normguard/onnx/onnxpb"
	"github.com/normguard/normguard/step"
)

// scaleEpsilon is step's zero-norm threshold (10 * float64 machine
// epsilon): a row norm below it divides by 1.
const scaleEpsilon = 10 * 2.220446049250313e-16

// standardScaler: (x - mean_) / scale_, or the part with_mean / with_std
// keep, as step.StandardScaler.
func (x *exporter) standardScaler(f *step.StandardScaler, in []string) []string {
	b := x.b
	out := make([]string, len(in))
	for j, c := range in {
		switch {
		case f.WithMean && f.WithStd:
			out[j] = b.div(b.sub(c, b.scalar(f.Mean[j])), b.scalar(f.Scale[j]))
		case f.WithMean:
			out[j] = b.sub(c, b.scalar(f.Mean[j]))
		case f.WithStd:
			out[j] = b.div(c, b.scalar(f.Scale[j]))
		default:
			out[j] = c
		}
	}
	return out
}

// minMaxScaler: x * scale_ + min_ (two roundings), then clip to
// feature_range when clip is set; NaN stays NaN.
func (x *exporter) minMaxScaler(f *step.MinMaxScaler, in []string) []string {
	b := x.b
	lo, hi := f.FeatureRange[0], f.FeatureRange[1]
	out := make([]string, len(in))
	for j, c := range in {
		y := b.add(b.mul(c, b.scalar(f.Scale[j])), b.scalar(f.Min[j]))
		if f.Clip {
			y = b.whereConst(b.less(y, b.scalar(lo)), lo, b.whereConst(b.greater(y, b.scalar(hi)), hi, y))
		}
		out[j] = y
	}
	return out
}

// maxAbsScaler: x / scale_.
func (x *exporter) maxAbsScaler(f *step.MaxAbsScaler, in []string) []string {
	out := make([]string, len(in))
	for j, c := range in {
		out[j] = x.b.div(c, x.b.scalar(f.Scale[j]))
	}
	return out
}

// robustScaler: (x - center_) / scale_, or the part that is fitted.
func (x *exporter) robustScaler(f *step.RobustScaler, in []string) []string {
	b := x.b
	out := make([]string, len(in))
	for j, c := range in {
		y := c
		if f.Center != nil {
			y = b.sub(y, b.scalar(f.Center[j]))
		}
		if f.Scale != nil {
			y = b.div(y, b.scalar(f.Scale[j]))
		}
		out[j] = y
	}
	return out
}

// binarizer: 1 where x > threshold, else 0; NaN (which normguard
// transform refuses) gives NaN.
func (x *exporter) binarizer(f *step.Binarizer, in []string) []string {
	b := x.b
	t := b.scalar(float64(f.Threshold))
	out := make([]string, len(in))
	for j, c := range in {
		out[j] = b.nanIf(b.isNaN(c), b.cast(b.greater(c, t), pb.TensorProto_DOUBLE))
	}
	return out
}

// log1pStep: log1p of each input; x <= -1 (refused by normguard
// transform, where log1p gives -Inf or NaN) gives NaN.
func (x *exporter) log1pStep(in []string) []string {
	b := x.b
	out := make([]string, len(in))
	for j, c := range in {
		out[j] = b.nanIf(b.lessEq(c, b.scalar(-1)), b.log1p(c))
	}
	return out
}

// log1p returns log(1+x) without ONNX's missing Log1p operator, by
// Kahan's correction of the rounding of u = 1 + x:
//
//	log1p(x) = x                      if u == 1
//	         = log(u) * (x / (u - 1)) otherwise
//
// (+Inf at +Inf, -Inf at -1, NaN below -1 and for NaN). The relative
// error is a few units in the last place of Log's (W. Kahan, HP-15C
// Advanced Functions Handbook, 1982; Goldberg, "What every computer
// scientist should know about floating-point arithmetic", Theorem 4).
func (b *builder) log1p(x string) string {
	one := b.scalar(1)
	u := b.add(one, x)
	y := b.mul(b.log(u), b.div(x, b.sub(u, one)))
	// x, which may be -0, goes in Where's second branch (see where).
	y = b.where(b.unequal(u, one), y, x)
	return b.where(b.op("IsInf", []string{x}, attrInt("detect_negative", 0)), x, y)
}

// expm1 returns exp(y) - 1 without an Expm1 operator, by Kahan's
// correction of u = exp(y):
//
//	expm1(y) = y                      if u == 1
//	         = -1                     if u - 1 == -1
//	         = (u - 1) * (y / log(u)) otherwise
//
// (+Inf where exp overflows, NaN for NaN).
func (b *builder) expm1(y string) string {
	one := b.scalar(1)
	u := b.exp(y)
	um1 := b.sub(u, one)
	r := b.mul(um1, b.div(y, b.log(u)))
	r = b.where(b.unequal(u, one), r, y) // y may be -0: second branch
	r = b.where(b.equal(um1, b.scalar(-1)), b.scalar(-1), r)
	return b.where(b.op("IsInf", []string{u}, attrInt("detect_negative", 0)), u, r)
}

// normalizer divides each row of the group by its l1, l2 or max norm
// (1 below 10*eps), summing in the order step.Normalizer does, so that
// the norm is the same bits. A row holding NaN, or whose l2 or l1 norm
// overflows to +Inf (both refused by normguard transform; scikit-learn
// writes zeros for the latter), gives NaN in every column of the group.
func (x *exporter) normalizer(f *step.Normalizer, in []string) []string {
	b := x.b
	zero := b.scalar(0)
	var norm string
	switch f.Norm {
	case "l1":
		abs := make([]string, len(in))
		for j, c := range in {
			abs[j] = b.abs(c)
		}
		norm = b.add(zero, b.pairwiseSum(abs))
	case "max":
		terms := []string{zero}
		for _, c := range in {
			terms = append(terms, b.abs(c))
		}
		norm = b.op("Max", terms)
	default:
		// Two lanes over the even and odd columns; each block of eight
		// columns adds columns 6..7, 4..5, 2..3, 0..1 in that order.
		a := [2]string{zero, zero}
		sq := func(c string) string { return b.mul(c, c) }
		i, m := 0, len(in)
		for ; m-i >= 8; i += 8 {
			for k := 6; k >= 0; k -= 2 {
				a[0] = b.add(sq(in[i+k]), a[0])
				a[1] = b.add(sq(in[i+k+1]), a[1])
			}
		}
		for ; i < m; i += 2 {
			a[0] = b.add(sq(in[i]), a[0])
			if i+1 < m {
				a[1] = b.add(sq(in[i+1]), a[1])
			}
		}
		norm = b.sqrt(b.add(zero, b.add(a[0], a[1])))
	}
	norm = b.where(b.less(norm, b.scalar(scaleEpsilon)), b.scalar(1), norm)
	anyNaN := b.isNaN(in[0])
	if f.Norm != "max" {
		anyNaN = b.or(anyNaN, b.greater(norm, b.scalar(math.MaxFloat64)))
	}
	for _, c := range in[1:] {
		anyNaN = b.or(anyNaN, b.isNaN(c))
	}
	out := make([]string, len(in))
	for j, c := range in {
		out[j] = b.nanIf(anyNaN, b.div(c, norm))
	}
	return out
}

// pairwiseSum adds xs in the order of numpy 1.24's pairwise summation
// (step's pairwiseSum): a plain loop below 8 terms, eight accumulators up
// to 128, a split at a multiple of 8 below the half above.
func (b *builder) pairwiseSum(xs []string) string {
	n := len(xs)
	switch {
	case n < 8:
		s := b.scalar(0)
		for _, x := range xs {
			s = b.add(s, x)
		}
		return s
	case n <= 128:
		var r [8]string
		copy(r[:], xs[:8])
		i := 8
		for ; i < n-n%8; i += 8 {
			for k := range r {
				r[k] = b.add(r[k], xs[i+k])
			}
		}
		s := b.add(b.add(b.add(r[0], r[1]), b.add(r[2], r[3])), b.add(b.add(r[4], r[5]), b.add(r[6], r[7])))
		for ; i < n; i++ {
			s = b.add(s, xs[i])
		}
		return s
	default:
		h := n / 2
		h -= h % 8
		return b.add(b.pairwiseSum(xs[:h]), b.pairwiseSum(xs[h:]))
	}
}

// kbins: the bin of x is the number of inner edges <= x (numpy's
// searchsorted, side right), as an ordinal code or a one-hot block; x is
// first rounded to float32 for dtype float32. NaN (refused by normguard
// transform) gives NaN codes.
func (x *exporter) kbins(f *step.KBinsDiscretizer, in []string) []string {
	b := x.b
	var out []string
	for j, c := range in {
		isNaN := b.isNaN(c)
		v := c
		if f.Float32 {
			v = b.cast(b.cast(c, pb.TensorProto_FLOAT), pb.TensorProto_DOUBLE)
		}
		edges := f.BinEdges[j]
		inner := edges[1 : len(edges)-1]
		nb := f.NBins[j]
		var code string // int64 [N,1]
		if len(inner) > 0 {
			code = b.countLessEq(v, inner)
		}
		if f.Encode == "ordinal" {
			if code == "" {
				out = append(out, b.nanIf(isNaN, b.scalar(0)))
				continue
			}
			out = append(out, b.nanIf(isNaN, b.cast(code, pb.TensorProto_DOUBLE)))
			continue
		}
		if code == "" {
			code = b.where(isNaN, b.int64s([]int64{0}), b.int64s([]int64{0}))
		}
		out = append(out, b.splitCols(b.nanIf(isNaN, b.oneHot(code, nb)), nb)...)
	}
	return out
}

// oneHot returns the double [N, width] indicator of code (int64 [N,1])
// against 0..width-1; codes outside give a row of zeros.
func (b *builder) oneHot(code string, width int) string {
	r := make([]int64, width)
	for i := range r {
		r[i] = int64(i)
	}
	return b.cast(b.equal(code, b.int64s(r, 1, int64(width))), pb.TensorProto_DOUBLE)
}

// powerTransformer: Yeo-Johnson or Box-Cox with the fitted lambdas, then
// (standardize) (t - mean_) / scale_, as step.PowerTransformer; Box-Cox of
// x <= 0 (refused by normguard transform) gives NaN.
func (x *exporter) powerTransformer(f *step.PowerTransformer, in []string) []string {
	b := x.b
	out := make([]string, len(in))
	for j, c := range in {
		lambda := f.Lambdas[j]
		var t string
		if f.Method == "box-cox" {
			t = b.boxCox(c, lambda)
		} else {
			t = b.yeoJohnson(c, lambda)
		}
		if f.Standardize {
			t = b.div(b.sub(t, b.scalar(f.Mean[j])), b.scalar(f.Scale[j]))
		}
		out[j] = t
	}
	return out
}

// boxCox is scipy.special.boxcox: log(x) when |λ| < 1e-19, else
// expm1(λ·log x) / λ; NaN for x <= 0.
func (b *builder) boxCox(x string, lambda float64) string {
	lx := b.log(x)
	y := lx
	if math.Abs(lambda) >= 1e-19 {
		l := b.scalar(lambda)
		y = b.div(b.expm1(b.mul(l, lx)), l)
	}
	return b.nanIf(b.lessEq(x, b.scalar(0)), y)
}

// yeoJohnson mirrors step's yeoJohnson: l = copysign(log1p(|x|), x), then
// (exp(λ·l) - 1)/λ for l >= 0 and -(exp(-(2-λ)·l) - 1)/(2-λ) for l < 0,
// l itself where λ is within eps of 0 (resp. 2).
func (b *builder) yeoJohnson(x string, lambda float64) string {
	const eps = 0x1p-52
	zero, one := b.scalar(0), b.scalar(1)
	mag := b.log1p(b.abs(x))
	// x >= 0 but not -0 (1/x = -Inf): the sign copysign gives.
	nonNegative := b.and(b.greaterEq(x, zero), b.greaterEq(b.div(one, x), zero))
	l := b.where(nonNegative, mag, b.neg(mag)) // -0 for x = -0: second branch
	pos, neg := l, l
	if !(math.Abs(lambda) < eps) {
		a := b.scalar(lambda)
		pos = b.div(b.sub(b.exp(b.mul(a, l)), one), a)
	}
	if !(math.Abs(lambda-2) <= eps) {
		bb := 2 - lambda
		neg = b.div(b.neg(b.sub(b.exp(b.mul(b.scalar(-bb), l)), one)), b.scalar(bb))
	}
	// Only NaN is neither >= 0 nor < 0; both branches may be -0.
	return b.whereSigned(b.greaterEq(l, zero), pos, b.where(b.isNaN(l), l, neg))
}
