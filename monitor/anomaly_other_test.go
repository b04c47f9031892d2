package monitor

import (
	"fmt"
	"testing"

	"github.com/normguard/normguard/drift"
	"github.com/normguard/normguard/profile"
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
