// Package synth draws seeded categorical samples for the tests of several
// packages (drift's and validate's selection-bias studies).
package synth

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/normguard/normguard/table"
)

// Categories draws n values named k0, k1, ... from the category weights w,
// as a string column "c".
func Categories(r *rand.Rand, w []float64, n int) table.Column {
	cum := make([]float64, len(w))
	s := 0.0
	for i, x := range w {
		s += x
		cum[i] = s
	}
	c := table.Column{Name: "c", Kind: table.String, Str: make([]string, n)}
	for i := range c.Str {
		u := r.Float64() * s
		lo, hi := 0, len(cum)-1
		for lo < hi {
			m := (lo + hi) / 2
			if cum[m] < u {
				lo = m + 1
			} else {
				hi = m
			}
		}
		c.Str[i] = fmt.Sprintf("k%d", lo)
	}
	return c
}

// Uniform is k equal weights.
func Uniform(k int) []float64 {
	w := make([]float64, k)
	for i := range w {
		w[i] = 1
	}
	return w
}

// Zipf is k weights 1/i^s, i from 1.
func Zipf(k int, s float64) []float64 {
	w := make([]float64, k)
	for i := range w {
		w[i] = 1 / math.Pow(float64(i+1), s)
	}
	return w
}
