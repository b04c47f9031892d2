package monitor

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/normguard/normguard/drift"
	"github.com/normguard/normguard/internal/synth"
	"github.com/normguard/normguard/profile"
	"github.com/normguard/normguard/validate"
)

// TestWindowOtherOutsideSettled: a window counts for other_categories the
// values outside the profile's settled top categories, from its drift
// summary and from its sample alike: the values outside every kept
// category and those of kept categories near the cut (as validate does).
func TestWindowOtherOutsideSettled(t *testing.T) {
	// k0..k9 500 rows each (settled), k10..k99 10 each (at the cut), 1,000
	// rows of 200 other categories.
	p := profile.Feature{Name: "c", Type: "categorical", Count: 6900,
		Categories: &profile.Counts{Other: 1000, Distinct: 300}}
	for i := range 100 {
		p.Categories.Values = append(p.Categories.Values, fmt.Sprintf("k%d", i))
		p.Categories.Counts = append(p.Categories.Counts, map[bool]int64{true: 500, false: 10}[i < 10])
	}
	if n := p.Categories.SettledCategories(); n != 10 {
		t.Fatalf("%d settled categories, want 10", n)
	}
	// 30 rows of k0 (settled), 20 of k50 (at the cut), 10 of "new".
	var vals []string
	for i, n := range map[string]int{"k0": 30, "k50": 20, "new": 10} {
		for range n {
			vals = append(vals, i)
		}
	}
	const wantOther = 30 // k50's 20 and "new"'s 10
	rf := &refFeature{name: "c"}
	pl := drift.NewSummaryPlan(&p, 10)
	ds := pl.NewSummary()
	ds.AddStrings(vals, nil)
	c := featureCounts{rows: int64(len(vals))}
	s := featureValidation(int64(len(vals)), c, ds, rf, &p)
	if !s.OtherCounted || s.Other != wantOther {
		t.Errorf("from the summary: other %d (counted %v), want %d", s.Other, s.OtherCounted, wantOther)
	}
	fs := &featureState{str: vals, seen: int64(len(vals))}
	s = featureValidation(int64(len(vals)), c, nil, rf, &p)
	sampleSummary(&s, fs, rf, &p)
	if !s.OtherCounted || s.Other != wantOther {
		t.Errorf("from the sample: other %d (counted %v), want %d", s.Other, s.OtherCounted, wantOther)
	}
}

// TestWindowOtherSparse: a window of a sparse column's training
// distribution is not flagged other_categories (attack run 32 F6: 120
// equally likely categories, 300 training rows, one observation of 200
// rows, listed for 4 of 5 seeds), from its drift summary and from its
// sample alike, and a window whose Zipf head lost 80% of its weight is.
func TestWindowOtherSparse(t *testing.T) {
	r := rand.New(rand.NewPCG(32, 6))
	// flagged profiles nTrain values of wTrain and says whether a window of
	// nCur values of wCur is flagged, from the summary and from the sample,
	// and whether the profile left categories out.
	flagged := func(wTrain, wCur []float64, nTrain, nCur int) (summary, sample, truncated bool) {
		t.Helper()
		train, cur := synth.Categories(r, wTrain, nTrain), synth.Categories(r, wCur, nCur)
		p := profile.Column(&train)
		p.Type = "categorical"
		if p.Categories == nil || p.Categories.Other == 0 {
			return false, false, false
		}
		sc := &validate.Schema{Features: []profile.Feature{p}}
		rows := int64(nCur)
		rf := &refFeature{name: "c"}
		c := featureCounts{rows: rows}
		has := func(s validate.Summary) bool {
			t.Helper()
			as, err := anomalies(sc, rows, []validate.Summary{s})
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range as {
				if a.Code == validate.OtherCategories {
					return true
				}
			}
			return false
		}
		ds := drift.NewSummaryPlan(&p, 10).NewSummary()
		ds.AddStrings(cur.Str, nil)
		summary = has(featureValidation(rows, c, ds, rf, &p))
		s := featureValidation(rows, c, nil, rf, &p)
		sampleSummary(&s, &featureState{str: cur.Str, seen: rows}, rf, &p)
		return summary, has(s), true
	}
	const pairs = 20
	same, tested := 0, 0
	for i := 0; i < 10*pairs && tested < pairs; i++ {
		a, b, tr := flagged(synth.Uniform(120), synth.Uniform(120), 300, 200)
		if a || b {
			same++
		}
		if tr {
			tested++
		}
	}
	if tested < pairs || same > 0 {
		t.Errorf("120 equally likely categories, 300 and 200 rows: %d of %d windows flagged other_categories, want 0 of %d", same, tested, pairs)
	}
	train := synth.Zipf(400, 1)
	cur := append([]float64(nil), train...)
	for i := range 20 {
		cur[i] *= 0.2
	}
	for i := range 5 {
		if a, b, _ := flagged(train, cur, 2000, 1000); !a || !b {
			t.Errorf("pair %d: the Zipf head lost 80%% of its weight: flagged from the summary %v, from the sample %v, want both", i, a, b)
		}
	}
}
