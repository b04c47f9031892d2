package embed

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// wantField checks that err is a *FieldError on field.
func wantField(t *testing.T, err error, field string) {
	t.Helper()
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Field != field {
		t.Fatalf("got %v, want a *FieldError on %s", err, field)
	}
}

// TestContractSamplesRefused is attack run 18 finding 3: a contract whose
// components, total_variance and component_share contradict what Fit
// writes for its count, or each other, loaded. The expected fields follow
// from how Fit samples (see checkSamples), not from any output.
func TestContractSamplesRefused(t *testing.T) {
	g := glove(t)
	unit := mapRows(g, unitRow)
	fit := func(m Matrix) *Contract {
		t.Helper()
		c, err := Fit(m, FitOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	u, raw := fit(unit), fit(g)
	small, one, two, five := fit(rows(unit, 0, 99, 1)), fit(rows(unit, 0, 1, 1)), fit(rows(unit, 0, 2, 1)), fit(rows(unit, 0, 5, 1))
	mid := fit(rows(unit, 0, 101, 1)) // 51 rows sampled, 50 held out: a share
	if u.Profile.ComponentShare == 0 || len(u.Profile.Components) == 0 {
		t.Fatalf("2,000 unit GloVe vectors: share %v, %d components; want both", u.Profile.ComponentShare, len(u.Profile.Components))
	}
	if small.Profile.ComponentShare != 0 || five.Profile.ComponentShare != 0 || mid.Profile.ComponentShare == 0 {
		t.Fatalf("shares: 99 vectors %v, 5 vectors %v, want 0; 101 vectors %v, want one", small.Profile.ComponentShare, five.Profile.ComponentShare, mid.Profile.ComponentShare)
	}
	var sumVar float64
	for _, s := range raw.Profile.Std {
		sumVar += s * s
	}
	// edit copies a contract's profile deeply enough for the edits below.
	edit := func(c *Contract, f func(p *Profile)) *Contract {
		e := *c
		e.Profile.Components = nil
		for _, cp := range c.Profile.Components {
			e.Profile.Components = append(e.Profile.Components, Component{Direction: append([]float64(nil), cp.Direction...), Variance: cp.Variance})
		}
		f(&e.Profile)
		return &e
	}
	dir := make([]float64, 100)
	dir[0] = 1
	tests := []struct {
		name, field string
		c           *Contract
	}{
		// The attack's edit: total_variance 0 and no components, the
		// held-out share kept (model_swapped was off). A share along no
		// direction is 0.
		{"no components, share kept", "profile.component_share", edit(u, func(p *Profile) { p.TotalVariance, p.Components = 0, nil })},
		// Components of a covariance without variance.
		{"components, total_variance 0", "profile.total_variance", edit(u, func(p *Profile) {
			p.TotalVariance = 0
			for i := range p.Components {
				p.Components[i].Variance = 0
			}
		})},
		// total_variance above count/m·Σstd² (m = 1,000 of 2,000 sampled):
		// on raw GloVe, whose norms reach past 8, still below max² (the
		// earlier check).
		{"total_variance above count/m·Σstd²", "profile.total_variance", edit(raw, func(p *Profile) { p.TotalVariance = 2.001 * sumVar })},
		// 99 vectors hold out 49, fewer than minHeldOut: share 0.
		{"share with 49 held out", "profile.component_share", edit(small, func(p *Profile) { p.ComponentShare = 0.3 })},
		// 1 vector: no covariance, also for a contract fitted before the
		// held-out share (one sample of every row).
		{"covariance of one row", "profile.total_variance", edit(one, func(p *Profile) {
			p.Components = []Component{{Direction: dir, Variance: 1e-3}}
			p.TotalVariance = 1e-3
		})},
		// 5 vectors: at most 4 directions, also for such a contract.
		{"5 components of 5 rows", "profile.components", edit(five, func(p *Profile) {
			for len(p.Components) < 5 {
				p.Components = append(p.Components, Component{Direction: dir, Variance: 0})
			}
		})},
		// 101 vectors with a held-out share: 51 sampled rows span at most
		// 50 directions.
		{"51 components of 51 rows", "profile.components", edit(mid, func(p *Profile) {
			for len(p.Components) < 51 {
				p.Components = append(p.Components, Component{Direction: dir, Variance: 0})
			}
		})},
	}
	if mx := raw.Profile.Norms.Max; !(2.001*sumVar < mx*mx) {
		t.Fatalf("test premise: %v not below max² %v", 2.001*sumVar, mx*mx)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { wantField(t, tt.c.Check(), tt.field) })
	}
	// What loads: the same with share 0 too (a fit of 1,000 identical
	// sampled vectors writes that; documented as not cross-checked), and
	// total_variance within the bound.
	for name, c := range map[string]*Contract{
		"total_variance 0, no components, share 0": edit(u, func(p *Profile) { p.TotalVariance, p.Components, p.ComponentShare = 0, nil, 0 }),
		// A contract fitted before the held-out share (no component_share:
		// 0) found its components on every row of a small fit: 2 rows, one
		// direction; 5 rows, 4.
		"legacy: 2 vectors, 1 component": edit(two, func(p *Profile) {
			p.Components = []Component{{Direction: dir, Variance: 1e-3}}
			p.TotalVariance = 2e-3
		}),
		"legacy: 5 vectors, 4 components": edit(five, func(p *Profile) {
			for len(p.Components) < 4 {
				p.Components = append(p.Components, Component{Direction: dir, Variance: 0})
			}
		}),
		"total_variance 1.999·Σstd², count/m = 2": edit(raw, func(p *Profile) {
			p.TotalVariance = 1.999 * sumVar
			for i := range p.Components {
				p.Components[i].Variance = 0
			}
		}),
	} {
		if err := c.Check(); err != nil {
			t.Errorf("%s: %v, want it loaded", name, err)
		}
	}
}

// TestContractSamplesRealFitsLoad fits GloVe subsets of many sizes,
// scales and shapes (tiny sets, zero-heavy, interleaved zero vectors,
// float16 values, an offset, a first row far from the rest, 1% strays,
// more rows than the samples hold) and requires every contract to pass
// Check: Fit runs it on what it writes, and refuses with "fails its own
// check" otherwise. A fit refused as too large to compare is skipped.
func TestContractSamplesRealFitsLoad(t *testing.T) {
	g := glove(t)
	type shape struct {
		name string
		f    func(i int, r []float64) []float64
	}
	shapes := []shape{
		{"raw", func(_ int, r []float64) []float64 { return r }},
		{"unit", unitRow},
		{"zero90", func(i int, r []float64) []float64 {
			if i%10 != 3 {
				clear(r)
			}
			return r
		}},
		{"zero-odd", func(i int, r []float64) []float64 {
			if i%2 == 1 {
				clear(r)
			}
			return r
		}},
		{"float16", func(_ int, r []float64) []float64 {
			for a := range r {
				r[a] = roundTo(r[a], 11)
			}
			return r
		}},
		{"offset", func(_ int, r []float64) []float64 {
			for a := range r {
				r[a] = 50 + r[a]*1e-3
			}
			return r
		}},
		{"first-far", func(i int, r []float64) []float64 {
			if i == 0 {
				for a := range r {
					r[a] *= 1e6
				}
			}
			return r
		}},
		{"strays", func(i int, r []float64) []float64 {
			if i%100 == 7 {
				for a := range r {
					r[a] *= 1e4
				}
			}
			return r
		}},
	}
	scales := []float64{1e-170, 1e-100, 1e-20, 1, 1e20, 1e100, 1e150}
	sizes := []int{1, 2, 3, 4, 5, 7, 50, 99, 100, 101, 199, 2000}
	if testing.Short() {
		sizes = []int{1, 2, 3, 5, 101, 2000}
	}
	fits, skipped := 0, 0
	for _, sh := range shapes {
		for _, sc := range scales {
			for _, n := range sizes {
				m := mapRows(rows(g, 0, n, 1), func(i int, r []float64) []float64 {
					r = sh.f(i, r)
					for a := range r {
						r[a] *= sc
					}
					return r
				})
				name := fmt.Sprintf("%s scale %g n %d", sh.name, sc, n)
				c, err := Fit(m, FitOptions{})
				if err != nil {
					if strings.Contains(err.Error(), "fails its own check") {
						t.Errorf("%s: %v", name, err)
					}
					skipped++
					continue
				}
				fits++
				if err := c.Check(); err != nil {
					t.Errorf("%s: %v", name, err)
				}
			}
		}
	}
	// More rows than the two samples hold (count/m up to 6): 12,000
	// vectors, GloVe with seeded noise, unit and with strays.
	rng := rand.New(rand.NewPCG(3, 4))
	big := Matrix{Dim: g.Dim}
	for i := 0; i < 12000; i++ {
		for _, x := range g.Row(i % g.Rows) {
			big.Data = append(big.Data, x+0.05*rng.NormFloat64())
		}
		big.Rows++
	}
	for _, sh := range []shape{shapes[0], shapes[1], shapes[2], shapes[7]} {
		for _, sc := range []float64{1e-150, 1, 1e140} {
			m := mapRows(big, func(i int, r []float64) []float64 {
				r = sh.f(i, r)
				for a := range r {
					r[a] *= sc
				}
				return r
			})
			if _, err := Fit(m, FitOptions{}); err != nil && strings.Contains(err.Error(), "fails its own check") {
				t.Errorf("12,000 %s scale %g: %v", sh.name, sc, err)
			}
			fits++
		}
	}
	t.Logf("%d fits load; %d refused by fit (too large to compare)", fits, skipped)
	if fits < 100 {
		t.Errorf("only %d fits ran", fits)
	}
}
