package validate

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/normguard/normguard/profile"
	"github.com/normguard/normguard/table"
)

// drawCategories draws n values from the category weights w (seeded).
func drawCategories(r *rand.Rand, w []float64, n int) table.Column {
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

// otherFlagged profiles a training sample of wTrain and says whether the
// current sample of wCur raises other_categories.
func otherFlagged(t *testing.T, r *rand.Rand, wTrain, wCur []float64, n int) bool {
	t.Helper()
	train, cur := drawCategories(r, wTrain, n), drawCategories(r, wCur, n)
	p := profile.Column(&train)
	p.Type = "categorical"
	if p.Categories == nil || p.Categories.Other == 0 {
		t.Fatalf("the profile keeps every one of %d categories; want a truncated one", len(wTrain))
	}
	s, err := Summarize(&p, &cur, nil)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := CheckSummaries(&Schema{Features: []profile.Feature{p}}, int64(n), []Summary{s}, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range rep.Anomalies {
		if a.Code == OtherCategories {
			return true
		}
	}
	return false
}

// TestOtherCategoriesUnbiased: a sample of the training distribution of
// more categories than a profile keeps is not flagged other_categories
// (the share outside every kept category rose by selection: attack run
// 27 F1, gapminder random halves flagged 8 of 10), and a real move of
// mass to the tail still is.
func TestOtherCategoriesUnbiased(t *testing.T) {
	uniform := func(k int) []float64 {
		w := make([]float64, k)
		for i := range w {
			w[i] = 1
		}
		return w
	}
	zipf := func(k int, s float64) []float64 {
		w := make([]float64, k)
		for i := range w {
			w[i] = 1 / math.Pow(float64(i+1), s)
		}
		return w
	}
	r := rand.New(rand.NewPCG(27, 1))
	const pairs = 20
	for _, c := range []struct {
		name string
		w    []float64
		n    int
	}{
		{"uniform 150", uniform(150), 2000},
		{"uniform 400", uniform(400), 5000},
		{"uniform 2000", uniform(2000), 5000},
		{"zipf 400", zipf(400, 1), 5000},
		{"zipf 2000", zipf(2000, 1.1), 20000},
	} {
		flagged := 0
		for i := 0; i < pairs; i++ {
			if otherFlagged(t, r, c.w, c.w, c.n) {
				flagged++
			}
		}
		if flagged > 0 {
			t.Errorf("%s: %d of %d pairs of samples of one distribution flagged other_categories, want 0", c.name, flagged, pairs)
		}
	}
	// The 20 most frequent categories of a Zipf training distribution lose
	// 80% of their weight: the mass moves outside them.
	train := zipf(400, 1)
	cur := append([]float64(nil), train...)
	for i := range 20 {
		cur[i] *= 0.2
	}
	flagged := 0
	for i := 0; i < pairs; i++ {
		if otherFlagged(t, r, train, cur, 5000) {
			flagged++
		}
	}
	if flagged < pairs {
		t.Errorf("mass moved to the tail: %d of %d pairs flagged other_categories, want all", flagged, pairs)
	}
}
