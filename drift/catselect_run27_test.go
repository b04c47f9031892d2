package drift

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/normguard/normguard/internal/synth"
	"github.com/normguard/normguard/profile"
	"github.com/normguard/normguard/table"
)

// catFlags compares pairs of samples of wref and wcur (n rows each) in
// both modes and returns how many pairs drift with --reference and
// --artifact (auto).
func catFlags(t *testing.T, seed uint64, wref, wcur []float64, n, pairs int) (ref, art int) {
	ref, art, _, _ = catStudy(t, seed, wref, wcur, n, pairs)
	return ref, art
}

// catStudy is catFlags, also counting the pairs whose chi-square p-value
// is below AutoAlpha in each mode.
func catStudy(t *testing.T, seed uint64, wref, wcur []float64, n, pairs int) (ref, art, refP, artP int) {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 27))
	for p := 0; p < pairs; p++ {
		a, b := synth.Categories(r, wref, n), synth.Categories(r, wcur, n)
		rep, err := Compare([]table.Column{a}, []table.Column{b}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if f := rep.Features[0]; f.Error != "" || f.Skipped != "" {
			t.Fatalf("reference: %+v", f)
		} else if f.Drift {
			ref++
		}
		if rep.Features[0].PValue < AutoAlpha {
			refP++
		}
		prof := profile.Columns([]table.Column{a}, 1)
		rep, err = CompareProfile(prof, []table.Column{b}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		// Against a profile whose kept categories all lie near its cut
		// the feature is skipped, saying why (attack run 29 F1): no
		// drift, and no p-value.
		if f := rep.Features[0]; f.Error != "" || (f.Skipped != "" && !strings.Contains(f.Skipped, "lies near its cut")) {
			t.Fatalf("artifact: %+v", f)
		} else if f.Drift {
			art++
		}
		if rep.Features[0].PValue < AutoAlpha {
			artP++
		}
	}
	return ref, art, refP, artP
}

func TestCatStudyPrint(t *testing.T) {
	if os.Getenv("CATSTUDY") == "" {
		t.Skip("CATSTUDY")
	}
	pairs := 100
	for _, k := range []int{60, 185, 400, 2000} {
		for _, d := range []struct {
			name string
			w    []float64
		}{{"uniform", synth.Uniform(k)}, {"zipf1", synth.Zipf(k, 1)}, {"zipf0.7", synth.Zipf(k, 0.7)}} {
			for _, n := range []int{2000, 5000, 50000} {
				rf, af, rp, ap := catStudy(t, uint64(k*7+n), d.w, d.w, n, pairs)
				fmt.Printf("K=%d %s n=%d: DRIFT reference %d artifact %d; p<0.05 reference %d artifact %d (of %d)\n", k, d.name, n, rf, af, rp, ap, pairs)
			}
		}
	}
}

// shifted moves about 10% of the mass of w: the first categories holding
// 20% of it lose half their weight, which goes to the as many categories
// after them.
func shifted(w []float64) []float64 {
	total := 0.0
	for _, x := range w {
		total += x
	}
	out := append([]float64(nil), w...)
	h, cum := 0, 0.0
	for h < len(w) && cum < 0.2*total {
		cum += w[h]
		h++
	}
	moved := 0.0
	for i := 0; i < h; i++ {
		moved += out[i] / 2
		out[i] /= 2
	}
	sub := 0.0
	for i := h; i < min(2*h, len(w)); i++ {
		sub += w[i]
	}
	for i := h; i < min(2*h, len(w)); i++ {
		out[i] += moved * w[i] / sub
	}
	return out
}

func TestCatPowerPrint(t *testing.T) {
	if os.Getenv("CATSTUDY") == "" {
		t.Skip("CATSTUDY")
	}
	pairs := 50
	for _, k := range []int{60, 185, 400, 2000} {
		for _, d := range []struct {
			name string
			w    []float64
		}{{"uniform", synth.Uniform(k)}, {"zipf1", synth.Zipf(k, 1)}, {"zipf0.7", synth.Zipf(k, 0.7)}} {
			for _, n := range []int{2000, 5000, 50000} {
				rf, af, rp, ap := catStudy(t, uint64(k*7+n), d.w, shifted(d.w), n, pairs)
				fmt.Printf("shift K=%d %s n=%d: DRIFT reference %d artifact %d; p<0.05 reference %d artifact %d (of %d)\n", k, d.name, n, rf, af, rp, ap, pairs)
			}
		}
	}
}

// TestCategoriesBeyondTopNoFalseAlarm is attack run 27 F1: two samples of
// one distribution over more than profile.TopCategories categories drifted
// (97 of 100 pairs at 400 uniform categories of 5,000 rows, either mode),
// because the categories tested were the reference's top 100, chosen
// where they were lucky. The seeds are fixed, so the counts below are the
// same on every run: the bound (5 of 40, where the nominal 5% expects 2)
// leaves room for a change of the generator's stream, not for chance.
func TestCategoriesBeyondTopNoFalseAlarm(t *testing.T) {
	const pairs, n = 40, 5000
	for _, k := range []int{60, 185, 400, 2000} {
		for _, d := range []struct {
			name string
			w    []float64
		}{{"uniform", synth.Uniform(k)}, {"zipf", synth.Zipf(k, 1)}} {
			rf, af, rp, ap := catStudy(t, uint64(1000+k), d.w, d.w, n, pairs)
			t.Logf("K=%d %s: DRIFT reference %d artifact %d; p<0.05 reference %d artifact %d (of %d)", k, d.name, rf, af, rp, ap, pairs)
			if rf > 5 || af > 5 {
				t.Errorf("K=%d %s, same distribution: DRIFT in %d (--reference) and %d (--artifact) of %d pairs, want at most 5", k, d.name, rf, af, pairs)
			}
			// The chi-square p-value itself (what --method chisquare
			// decides on) is at its level with both samples known.
			if rp > 6 {
				t.Errorf("K=%d %s, same distribution: chi-square p < 0.05 in %d of %d pairs with --reference, want at most 6", k, d.name, rp, pairs)
			}
			if d.name == "uniform" && ap > 6 {
				t.Errorf("K=%d %s, same distribution: chi-square p < 0.05 in %d of %d pairs with --artifact, want at most 6", k, d.name, ap, pairs)
			}
		}
	}
}

// TestCategoriesBeyondTopShiftDetected checks that the comparison of
// TestCategoriesBeyondTopNoFalseAlarm still finds a real change: about 10%
// of the mass moved between categories (shifted).
func TestCategoriesBeyondTopShiftDetected(t *testing.T) {
	const pairs, n = 10, 5000
	for _, k := range []int{60, 185, 400, 2000} {
		rf, af := catFlags(t, uint64(2000+k), synth.Zipf(k, 1), shifted(synth.Zipf(k, 1)), n, pairs)
		if rf < pairs || af < pairs {
			t.Errorf("K=%d zipf, 10%% of the mass moved: DRIFT in %d (--reference) and %d (--artifact) of %d pairs, want all", k, rf, af, pairs)
		}
		if k > 400 {
			continue // 2.5 rows a category: too few to see it in either mode
		}
		rf, af = catFlags(t, uint64(3000+k), synth.Uniform(k), shifted(synth.Uniform(k)), n, pairs)
		if rf < pairs-1 {
			t.Errorf("K=%d uniform, 10%% of the mass moved: DRIFT in %d of %d pairs with --reference, want at least %d", k, rf, pairs, pairs-1)
		}
		if k <= 100 && af < pairs {
			t.Errorf("K=%d uniform, 10%% of the mass moved: DRIFT in %d of %d pairs with --artifact, want all", k, af, pairs)
		}
	}
}
