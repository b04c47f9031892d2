package drift

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/normguard/normguard/profile"
	"github.com/normguard/normguard/table"
)

// TestProfileKSCloseToExact checks that ks and wasserstein against a
// stored profile land close to the exact two-sample statistics: within
// 0.01 for ks (the profile's CDF is exact at its grid points and linear
// between them).
func TestProfileKSCloseToExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	gens := map[string]func(shift float64) float64{
		"normal":    func(s float64) float64 { return rng.NormFloat64() + s },
		"lognormal": func(s float64) float64 { return math.Exp(rng.NormFloat64() + s) },
		"counts":    func(s float64) float64 { return math.Floor(rng.ExpFloat64()*3 + s) },
	}
	for name, gen := range gens {
		for _, shift := range []float64{0, 0.05, 0.3} {
			ref := make([]float64, 200000)
			for i := range ref {
				ref[i] = gen(0)
			}
			cur := make([]float64, 20000)
			for i := range cur {
				cur[i] = gen(shift)
			}
			p := profile.Column(&table.Column{Name: "x", Kind: table.Numeric, Num: ref})
			exact, err := KS(ref, cur)
			if err != nil {
				t.Fatal(err)
			}
			rep, err := CompareProfile([]profile.Feature{p}, []table.Column{{Name: "x", Kind: table.Numeric, Num: cur}}, Options{Method: "ks"})
			if err != nil {
				t.Fatal(err)
			}
			got := float64(rep.Features[0].Statistic)
			if math.Abs(got-exact.Statistic) > 0.01 {
				t.Errorf("%s shift %v: ks against the profile %v, exact %v", name, shift, got, exact.Statistic)
			}
			w, _ := Wasserstein(ref, cur)
			rep, _ = CompareProfile([]profile.Feature{p}, []table.Column{{Name: "x", Kind: table.Numeric, Num: cur}}, Options{Method: "wasserstein"})
			if gw := float64(rep.Features[0].Statistic); math.Abs(gw-w.Statistic) > 0.02*float64(*p.Std) {
				t.Errorf("%s shift %v: wasserstein against the profile %v, exact %v", name, shift, gw, w.Statistic)
			}
		}
	}
}
