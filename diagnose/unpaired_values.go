package diagnose

import (
	"math"
	"slices"
)

// Small helpers over observed values.

func dropNaN(xs []float64) []float64 {
	out := make([]float64, 0, len(xs))
	for _, x := range xs {
		if !math.IsNaN(x) {
			out = append(out, x)
		}
	}
	return out
}

// meanStd returns the mean and population standard deviation (two-pass).
func meanStd(xs []float64) (mean, std float64) {
	if len(xs) == 0 {
		return math.NaN(), math.NaN()
	}
	for _, x := range xs {
		mean += x
	}
	mean /= float64(len(xs))
	for _, x := range xs {
		std += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(std / float64(len(xs)))
}

// countValue counts the values of xs equal to x within float32Tol of the
// column's magnitude (none for NaN x).
func countValue(xs []float64, x float64) int {
	if math.IsNaN(x) {
		return 0
	}
	lim := float32Tol * scale(xs) // see sharedMass
	n := 0
	for _, y := range xs {
		if math.Abs(y-x) <= lim {
			n++
		}
	}
	return n
}

// without returns xs without the values equal to x (within exactTol of
// the column's magnitude); xs itself when x is NaN.
func without(xs []float64, x float64) []float64 {
	if math.IsNaN(x) {
		return xs
	}
	lim := exactTol * scale(xs)
	out := make([]float64, 0, len(xs))
	for _, y := range xs {
		if !(math.Abs(y-x) <= lim) {
			out = append(out, y)
		}
	}
	return out
}

// percentileOf is numpy.percentile (linear interpolation) of xs at p.
func percentileOf(xs []float64, p float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	h := p * float64(len(s)-1)
	lo := int(math.Floor(h))
	hi := min(lo+1, len(s)-1)
	return s[lo] + (h-float64(lo))*(s[hi]-s[lo])
}
