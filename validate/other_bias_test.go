package validate

import (
	"math/rand/v2"
	"testing"

	"github.com/normguard/normguard/internal/synth"
	"github.com/normguard/normguard/profile"
)

// otherFlagged profiles a training sample of wTrain and says whether the
// current sample of wCur raises other_categories.
func otherFlagged(t *testing.T, r *rand.Rand, wTrain, wCur []float64, n int) bool {
	t.Helper()
	train, cur := synth.Categories(r, wTrain, n), synth.Categories(r, wCur, n)
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
	uniform, zipf := synth.Uniform, synth.Zipf
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
