package drift

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/normguard/normguard/profile"
	"github.com/normguard/normguard/table"
)

// boundSlack absorbs the rounding of the two statistics (each a difference
// of shares of up to a few hundred thousand values).
const boundSlack = 1e-12

// TestProfileKSWithinBound checks the promise of refCDF on distributions
// built in many ways — continuous, heavy-tailed, discrete with masses on
// either side of the grid's 0.5% step, heavy ties, mixtures, tiny and
// sampled (> 65,536 values) columns — and current samples drawn from the
// same, shifted or other distributions: ks against the profile is within
// the reported statistic_error_bound of the exact two-sample statistic
// (KS, checked against scipy.stats.ks_2samp elsewhere).
func TestProfileKSWithinBound(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	gens := []struct {
		name string
		gen  func(shift float64) float64
	}{
		{"normal", func(s float64) float64 { return rng.NormFloat64() + s }},
		{"cauchy", func(s float64) float64 { return math.Tan(math.Pi*(rng.Float64()-0.5)) + s }},
		{"pareto", func(s float64) float64 { return math.Pow(rng.Float64(), -1/1.1) * (1 + s) }},
		{"integers 0-299 (masses under the grid step)", func(s float64) float64 { return float64(rng.IntN(300) + int(s*30)) }},
		{"integers 0-149 (masses over the grid step)", func(s float64) float64 { return float64(rng.IntN(150) + int(s*15)) }},
		{"geometric counts", func(s float64) float64 { return math.Floor(rng.ExpFloat64() * (20 + 20*s)) }},
		{"half zeros", func(s float64) float64 {
			if rng.Float64() < 0.5-s/4 {
				return 0
			}
			return rng.ExpFloat64()
		}},
		{"spike in a bimodal mixture", func(s float64) float64 {
			switch u := rng.Float64(); {
			case u < 0.004:
				return 1.5 + s
			case u < 0.5:
				return rng.NormFloat64()*0.3 - 2
			default:
				return rng.NormFloat64()*0.3 + 2 + s
			}
		}},
		{"rounded to 0.1", func(s float64) float64 { return math.Round((rng.NormFloat64()+s)*10) / 10 }},
		{"many small spikes", func(s float64) float64 {
			if rng.Float64() < 0.6 {
				return float64(rng.IntN(400)) / 40
			}
			return rng.Float64()*10 + s
		}},
	}
	worst := 0.0
	for _, g := range gens {
		for _, n := range []int{60, 3000, 150000} {
			ref := make([]float64, n)
			for i := range ref {
				ref[i] = g.gen(0)
			}
			p := profile.Column(&table.Column{Name: "x", Kind: table.Numeric, Num: ref})
			for _, tc := range []struct {
				shift float64
				m     int
			}{{0, 500}, {0.1, 20000}, {0.5, 2000}, {0, 100000}} {
				cur := make([]float64, tc.m)
				for i := range cur {
					cur[i] = g.gen(tc.shift)
				}
				name := fmt.Sprintf("%s n=%d m=%d shift %v", g.name, n, tc.m, tc.shift)
				exact, err := KS(ref, cur)
				if err != nil {
					t.Fatal(err)
				}
				rep, err := CompareProfile([]profile.Feature{p}, []table.Column{{Name: "x", Kind: table.Numeric, Num: cur}}, Options{Method: "ks"})
				if err != nil {
					t.Fatal(err)
				}
				f := rep.Features[0]
				if f.StatisticErrorBound == nil {
					t.Fatalf("%s: no statistic_error_bound", name)
				}
				bound := float64(*f.StatisticErrorBound)
				diff := math.Abs(float64(f.Statistic) - exact.Statistic)
				if diff > bound+boundSlack {
					t.Errorf("%s: ks from the profile %v, exact %v: off by %v, beyond the bound %v",
						name, float64(f.Statistic), exact.Statistic, diff, bound)
				}
				if bound > 0.02 {
					t.Errorf("%s: bound %v is loose (max_cdf_gap %v)", name, bound, p.MaxCDFGap)
				}
				worst = math.Max(worst, diff)
			}
		}
	}
	t.Logf("largest |ks from the profile - exact ks|: %v", worst)
}

// TestProfileKSExactForTwoValues checks that a column of at most two
// values (its counts are the profile) gives the exact statistic and a
// bound of 0.
func TestProfileKSExactForTwoValues(t *testing.T) {
	ref := []float64{0, 0, 0, 1, 1, 0, 1, 0}
	cur := []float64{1, 1, 1, 0, 1}
	p := profile.Column(&table.Column{Name: "x", Kind: table.Numeric, Num: ref})
	exact, _ := KS(ref, cur)
	rep, err := CompareProfile([]profile.Feature{p}, []table.Column{{Name: "x", Kind: table.Numeric, Num: cur}}, Options{Method: "ks"})
	if err != nil {
		t.Fatal(err)
	}
	f := rep.Features[0]
	if got := float64(f.Statistic); math.Abs(got-exact.Statistic) > boundSlack || f.StatisticErrorBound == nil || *f.StatisticErrorBound != 0 {
		t.Errorf("got ks %v bound %v, want %v and 0", got, f.StatisticErrorBound, exact.Statistic)
	}
}
