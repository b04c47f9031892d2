package stats

// numpy's float64 summation: np.sum of a contiguous array is accumulated
// from 0 over blocks of 8192 elements (the ufunc buffer size), each block
// summed pairwise: below 8 elements in a loop, up to 128 with eight
// interleaved partial sums, above that split in two halves at a multiple
// of 8.
const (
	npBlock        = 8192
	npPairwiseBase = 128
	npUnroll       = 8
)

// PairwiseSum returns the float64 sum of xs exactly as numpy 1.24's np.sum
// computes it for a contiguous 1-D array (blocked pairwise summation), so
// statistics built on it round like scikit-learn's. NaN and ±Inf propagate
// as in IEEE arithmetic; an empty slice sums to 0. Unlike Sum, the result
// depends on the order of xs.
func PairwiseSum(xs []float64) float64 {
	s := 0.0
	for len(xs) > 0 {
		k := min(len(xs), npBlock)
		s += pairwise(xs[:k])
		xs = xs[k:]
	}
	return s
}

// pairwise is numpy's pairwise_sum for one block.
func pairwise(a []float64) float64 {
	n := len(a)
	switch {
	case n < npUnroll:
		res := 0.0
		for _, x := range a {
			res += x
		}
		return res
	case n <= npPairwiseBase:
		var r [npUnroll]float64
		copy(r[:], a[:npUnroll])
		i := npUnroll
		for ; i < n-n%npUnroll; i += npUnroll {
			for j := range r {
				r[j] += a[i+j]
			}
		}
		res := ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
		for ; i < n; i++ {
			res += a[i]
		}
		return res
	}
	n2 := n / 2
	n2 -= n2 % npUnroll
	return pairwise(a[:n2]) + pairwise(a[n2:])
}

// NanShiftedSums returns numpy's np.nansum(x - shift) and
// np.nansum((x - shift)**2) over xs, with NaN counted as 0 as np.nansum
// does, summed in numpy's blocked pairwise order. With shift = 0 the first
// result is np.nansum(xs). scikit-learn's StandardScaler builds its mean
// and variance from these sums.
func NanShiftedSums(xs []float64, shift float64) (sum, sumSq float64) {
	for len(xs) > 0 {
		k := min(len(xs), npBlock)
		s, q, _ := pairwiseShifted(xs[:k], shift)
		sum += s
		sumSq += q
		xs = xs[k:]
	}
	return sum, sumSq
}

// pairwiseShifted returns pairwise(d) and pairwise(d2) for the terms
// d[i] = nanShifted(xs[i], shift) and d2[i] = d[i]*d[i] of one block,
// adding exactly as pairwise does (same tree, same leaves) without
// writing the terms out, and the number of values of xs that are not
// NaN.
func pairwiseShifted(xs []float64, shift float64) (sum, sumSq float64, present int) {
	n := len(xs)
	switch {
	case n < npUnroll:
		for _, x := range xs {
			v := nanShifted(x, shift)
			sum += v
			sumSq += float64(v * v)
			present += b2i(x == x)
		}
		return sum, sumSq, present
	case n <= npPairwiseBase:
		var r [2 * npUnroll]float64
		m := n - n%npUnroll
		present = leafShifted(xs[:m], shift, &r)
		sum = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
		sumSq = ((r[8] + r[9]) + (r[10] + r[11])) + ((r[12] + r[13]) + (r[14] + r[15]))
		for _, x := range xs[m:] {
			v := nanShifted(x, shift)
			sum += v
			sumSq += float64(v * v)
			present += b2i(x == x)
		}
		return sum, sumSq, present
	}
	n2 := n / 2
	n2 -= n2 % npUnroll
	s1, q1, p1 := pairwiseShifted(xs[:n2], shift)
	s2, q2, p2 := pairwiseShifted(xs[n2:], shift)
	return s1 + s2, q1 + q2, p1 + p2
}

// leafShiftedGeneric is leafShifted in Go: pairwise's leaf loop over the
// terms of pairwiseShifted, the eight partial sums of d in r[0:8] and of
// d*d in r[8:16].
func leafShiftedGeneric(xs []float64, shift float64, r *[2 * npUnroll]float64) int {
	present := 0
	for i := 0; i < len(xs); i += npUnroll {
		w := xs[i : i+npUnroll : i+npUnroll]
		for j, x := range w {
			v := nanShifted(x, shift)
			if i == 0 {
				r[j], r[npUnroll+j] = v, float64(v*v)
			} else {
				r[j] += v
				r[npUnroll+j] += float64(v * v)
			}
			present += b2i(x == x)
		}
	}
	return present
}

// b2i is 1 for true and 0 for false.
func b2i(b bool) int {
	var n int
	if b {
		n = 1
	}
	return n
}

// nanShifted is the term NanShiftedSums adds for x: x - shift, or 0 when
// that is NaN (np.nansum's treatment of missing values).
func nanShifted(x, shift float64) float64 {
	v := x - shift
	if v != v {
		return 0
	}
	return v
}

// NanSum returns numpy's np.nansum(xs) (NaN counted as 0) in numpy's
// blocked pairwise order, and the number of non-NaN values.
func NanSum(xs []float64) (sum float64, n int) {
	var d [npBlock]float64
	for len(xs) > 0 {
		k := min(len(xs), npBlock)
		for i, x := range xs[:k] {
			if x != x {
				x = 0
			} else {
				n++
			}
			d[i] = x
		}
		sum += pairwise(d[:k])
		xs = xs[k:]
	}
	return sum, n
}
