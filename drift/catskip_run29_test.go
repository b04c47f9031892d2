package drift

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/normguard/normguard/internal/synth"
	"github.com/normguard/normguard/profile"
	"github.com/normguard/normguard/table"
)

// TestCategoriesAllNearCutSkipped (attack run 29 F1): against a profile
// whose kept categories all lie near its cut (400 about equally frequent
// categories), every one folds into "other", and the one-cell table read
// "chisquare 0, p 1, ok" even with every row moved onto 10 categories. The
// feature is skipped saying why and what to do; with the training data
// (--reference) the move is drift.
func TestCategoriesAllNearCutSkipped(t *testing.T) {
	r := rand.New(rand.NewPCG(29, 1))
	ref := synth.Categories(r, synth.Uniform(400), 5000)
	cur := synth.Categories(r, synth.Uniform(10), 5000) // its values are c000…c009 of the 400
	prof := profile.Columns([]table.Column{ref}, 1)
	rep, err := CompareProfile(prof, []table.Column{cur}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	f := rep.Features[0]
	if f.Drift || !strings.Contains(f.Skipped, "lies near its cut") || !strings.Contains(f.Skipped, "drift --reference") {
		t.Errorf("against the profile: drift %v, skipped %q; want it skipped, naming --reference", f.Drift, f.Skipped)
	}
	rep, err = Compare([]table.Column{ref}, []table.Column{cur}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if f := rep.Features[0]; !f.Drift || f.Skipped != "" {
		t.Errorf("with the training data: drift %v, skipped %q; want drift", f.Drift, f.Skipped)
	}
}
