package validate

import (
	"math/rand/v2"
	"testing"

	"github.com/normguard/normguard/internal/synth"
	"github.com/normguard/normguard/profile"
)

// otherFlagged profiles a training sample of nTrain values of wTrain and
// says whether the current sample of nCur values of wCur raises
// other_categories, and whether the profile left some categories out
// (truncated; only then is other_categories tested).
func otherFlagged(t *testing.T, r *rand.Rand, wTrain, wCur []float64, nTrain, nCur int) (flagged, truncated bool) {
	t.Helper()
	train, cur := synth.Categories(r, wTrain, nTrain), synth.Categories(r, wCur, nCur)
	p := profile.Column(&train)
	p.Type = "categorical"
	if p.Categories == nil || p.Categories.Other == 0 {
		return false, false
	}
	s, err := Summarize(&p, &cur, nil)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := CheckSummaries(&Schema{Features: []profile.Feature{p}}, int64(nCur), []Summary{s}, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range rep.Anomalies {
		if a.Code == OtherCategories {
			return true, true
		}
	}
	return false, true
}

// TestOtherCategoriesUnbiased: a sample of the training distribution of
// more categories than a profile keeps is not flagged other_categories
// (the share outside every kept category rose by selection: attack run
// 27 F1, gapminder random halves flagged 8 of 10), sparse columns too
// (attack run 32 F6: 120 equally likely categories, 300 training rows and
// 200 current ones flagged 17 of 20, the few categories that drew 5 or 6
// rows by luck being taken for settled), and a real move of mass to the
// tail still is.
func TestOtherCategoriesUnbiased(t *testing.T) {
	uniform, zipf := synth.Uniform, synth.Zipf
	r := rand.New(rand.NewPCG(27, 1))
	const pairs = 20
	for _, c := range []struct {
		name         string
		w            []float64
		nTrain, nCur int
	}{
		{"uniform 150", uniform(150), 2000, 2000},
		{"uniform 400", uniform(400), 5000, 5000},
		{"uniform 2000", uniform(2000), 5000, 5000},
		{"zipf 400", zipf(400, 1), 5000, 5000},
		{"zipf 2000", zipf(2000, 1.1), 20000, 20000},
		// the sparse shapes of attack run 32 F6
		{"uniform 120, 300 and 200 rows", uniform(120), 300, 200},
		{"uniform 150, 300 rows", uniform(150), 300, 300},
		{"uniform 110, 250 rows", uniform(110), 250, 250},
		{"uniform 200, 500 rows", uniform(200), 500, 500},
	} {
		// pairs whose profile left categories out (where the rule is
		// tested): most of them, a fifth of those of 110 categories in
		// 250 rows
		flagged, truncated := 0, 0
		for i := 0; i < 20*pairs && truncated < pairs; i++ {
			f, tr := otherFlagged(t, r, c.w, c.w, c.nTrain, c.nCur)
			if f {
				flagged++
			}
			if tr {
				truncated++
			}
		}
		if truncated < pairs {
			t.Errorf("%s: the profile left categories out in %d pairs, want %d", c.name, truncated, pairs)
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
		if f, _ := otherFlagged(t, r, train, cur, 5000, 5000); f {
			flagged++
		}
	}
	if flagged < pairs {
		t.Errorf("mass moved to the tail: %d of %d pairs flagged other_categories, want all", flagged, pairs)
	}
}
