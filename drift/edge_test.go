package drift

import (
	"math"
	"testing"
)

// modSeq returns n values ((i*mul + off) mod mod) / mod * scale + shift,
// i = 0..n-1: a reproducible, well-mixed sample built from exact
// arithmetic, computed identically by the Python script that produced the
// reference values below.
func modSeq(n, mul, mod, off int, scale, shift float64) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = float64((i*mul+off)%mod)/float64(mod)*scale + shift
	}
	return out
}

// sp is a scipy (statistic, p-value) pair; err marks a case where scipy
// raises ValueError.
type sp struct {
	stat, p float64
	err     bool
}

var nan = math.NaN()

// edgeCases pin edge cases against scipy: ties, identical samples, a
// constant sample, a single value, very unequal sizes, both sides of the
// exact / asymptotic KS switch at 10,000 values, equal sizes (the
// two-diagonal exact formula) and a tiny effective n in the asymptotic
// branch. The values come from /usr/bin/python3 with scipy 1.10.1, for
// x = ref and y = cur (the literal lists, or modSeq with the same
// arguments): scipy.stats.ks_2samp(x, y), wasserstein_distance(x, y),
// energy_distance(x, y), cramervonmises_2samp(x, y),
// mannwhitneyu(x, y, alternative='two-sided'),
// ttest_ind(x, y, equal_var=False), anderson_ksamp([x, y]) (statistic,
// significance_level). err marks a ValueError; a missing mwu entry is a
// case where scipy's exact Mann-Whitney recursion (one sample <= 8 values,
// the other > 500) is too slow to run.
var edgeCases = []struct {
	name                              string
	ref, cur                          []float64
	ks, wasserstein, energy, cvm, mwu sp
	t, ad                             sp
}{
	{name: "ties",
		ref:         []float64{1.0, 2.0, 2.0, 3.0, 3.0, 3.0, 4.0},
		cur:         []float64{2.0, 3.0, 3.0, 4.0, 4.0, 5.0},
		ks:          sp{stat: 0.35714285714285715, p: 0.7115384615384616},
		wasserstein: sp{stat: 0.9285714285714285, p: nan},
		energy:      sp{stat: 0.6990437264715808, p: nan},
		cvm:         sp{stat: 0.22344322344322354, p: 0.25932400932400934},
		mwu:         sp{stat: 11.0, p: 0.15778541051796502},
		t:           sp{stat: -1.6430704522880653, p: 0.13021943479282122},
		ad:          sp{stat: 0.9667133261487871, p: 0.1306243561288132},
	},
	{name: "identical",
		ref:         []float64{1.5, 2.0, 3.0, 4.0, 5.0},
		cur:         []float64{1.5, 2.0, 3.0, 4.0, 5.0},
		ks:          sp{stat: 0.0, p: 1.0},
		wasserstein: sp{stat: 0.0, p: nan},
		energy:      sp{stat: 0.0, p: nan},
		cvm:         sp{stat: 0.0, p: 1.0},
		mwu:         sp{stat: 12.5, p: 1.0},
		t:           sp{stat: 0.0, p: 1.0},
		ad:          sp{stat: -1.567750170851398, p: 0.25},
	},
	{name: "ref_constant",
		ref:         []float64{5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0},
		cur:         []float64{1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0},
		ks:          sp{stat: 0.5, p: 0.16782134274394334},
		wasserstein: sp{stat: 2.5000000000000004, p: nan},
		energy:      sp{stat: 1.30384048104053, p: nan},
		cvm:         sp{stat: 0.7249999999999996, p: 0.010348784342592392},
		mwu:         sp{stat: 45.0, p: 0.7096281512133291},
		t:           sp{stat: -0.5222329678670935, p: 0.614117254808394},
		ad:          sp{stat: 0.5617302282614038, p: 0.19429466591652023},
	},
	{name: "ref_single",
		ref:         []float64{0.5},
		cur:         []float64{0.1, 0.2, 0.9, 1.5},
		ks:          sp{stat: 0.5, p: 1.0},
		wasserstein: sp{stat: 0.525, p: nan},
		energy:      sp{stat: 0.6614378277661478, p: nan},
		cvm:         sp{err: true},
		mwu:         sp{stat: 2.0, p: 1.0},
		t:           sp{stat: nan, p: nan},
		ad:          sp{stat: -1.352349871230083, p: 0.25},
	},
	{name: "small_exact",
		ref:         []float64{0.1, 0.4, 0.35, 0.8, 0.95, 0.05, 0.6},
		cur:         []float64{0.3, 0.7, 0.65, 0.9, 0.99, 0.2, 0.55, 0.75, 0.85},
		ks:          sp{stat: 0.38095238095238093, p: 0.4987762237762238},
		wasserstein: sp{stat: 0.19333333333333333, p: nan},
		energy:      sp{stat: 0.3182213101242328, p: nan},
		cvm:         sp{stat: 0.16220238095238093, p: 0.39632867132867133},
		mwu:         sp{stat: 21.0, p: 0.29912587412587416},
		t:           sp{stat: -1.2211850891018103, p: 0.24710461592006336},
		ad:          sp{stat: -0.12851901098241073, p: 0.25},
	},
	{name: "unequal_10000_vs_7",
		ref:         modSeq(10000, 7919, 10007, 0, 1.0, 0.0),
		cur:         modSeq(7, 104729, 10009, 13, 1.0, 0.2),
		ks:          sp{stat: 0.41077142857142857, p: 0.13963583917185762},
		wasserstein: sp{stat: 0.23458880121083223, p: nan},
		energy:      sp{stat: 0.3429857907534119, p: nan},
		cvm:         sp{stat: 0.36947967565561246, p: 0.08100682831010353},
		t:           sp{stat: -1.849464135260351, p: 0.11382388362376457},
		ad:          sp{stat: 6.899779364485286, p: 0.001},
	},
	{name: "unequal_10001_vs_3",
		ref:         modSeq(10001, 7919, 10007, 0, 1.0, 0.0),
		cur:         modSeq(3, 104729, 10009, 13, 1.0, 0.2),
		ks:          sp{stat: 0.33333333333333337, p: 0.7777777777777778},
		wasserstein: sp{stat: 0.18221879989531298, p: nan},
		energy:      sp{stat: 0.2905863798342147, p: nan},
		cvm:         sp{stat: 0.08388919704590925, p: 0.7450098834855601},
		t:           sp{stat: -0.6157146335628658, p: 0.6008036021961948},
		ad:          sp{stat: 2.3951453011022803, p: 0.03376866401720571},
	},
	{name: "switch_10000_vs_9000",
		ref:         modSeq(10000, 7919, 10007, 0, 1.0, 0.0),
		cur:         modSeq(9000, 104729, 10009, 13, 1.1, 0.0),
		ks:          sp{stat: 0.09101111111111111, p: 1.3960616474784735e-34},
		wasserstein: sp{stat: 0.049870169323830794, p: nan},
		energy:      sp{stat: 0.07771628732586604, p: nan},
		cvm:         sp{stat: 13.004969736695784, p: 4.321354274416933e-09},
		mwu:         sp{stat: 40919676.5, p: 3.1288673764058312e-27},
		t:           sp{stat: -11.281061467707588, p: 2.0365188290182614e-29},
		ad:          sp{stat: 147.74476329869148, p: 0.001},
	},
	{name: "switch_10001_vs_9000",
		ref:         modSeq(10001, 7919, 10007, 0, 1.0, 0.0),
		cur:         modSeq(9000, 104729, 10009, 13, 1.1, 0.0),
		ks:          sp{stat: 0.09101112111011123, p: 1.3572353152366393e-34},
		wasserstein: sp{stat: 0.04987411292180431, p: nan},
		energy:      sp{stat: 0.07773043752022878, p: nan},
		cvm:         sp{stat: 13.010321996696803, p: 4.350355853333099e-09},
		mwu:         sp{stat: 40923445.5, p: 3.0911887303508617e-27},
		t:           sp{stat: -11.28243018588743, p: 2.0052915676458212e-29},
		ad:          sp{stat: 147.7851571888945, p: 0.001},
	},
	{name: "unequal_300_vs_7",
		ref:         modSeq(300, 7919, 10007, 0, 1.0, 0.0),
		cur:         modSeq(7, 104729, 10009, 13, 1.0, 0.2),
		ks:          sp{stat: 0.4119047619047619, p: 0.14401433545066164},
		wasserstein: sp{stat: 0.23503560178376454, p: nan},
		energy:      sp{stat: 0.34322706298169153, p: nan},
		cvm:         sp{stat: 0.3617961842717543, p: 0.08567254550009462},
		mwu:         sp{stat: 612.0, p: 0.058427204575040186},
		t:           sp{stat: -1.8375583302614475, p: 0.11410414948735106},
		ad:          sp{stat: 4.16420871546436, p: 0.00700823337195056},
	},
	{name: "square_3000",
		ref:         modSeq(3000, 7919, 10007, 0, 1.0, 0.0),
		cur:         modSeq(3000, 104729, 10009, 13, 1.0, 0.03),
		ks:          sp{stat: 0.031, p: 0.11191580439613852},
		wasserstein: sp{stat: 0.029108586216976866, p: nan},
		energy:      sp{stat: 0.04097218787124318, p: nan},
		cvm:         sp{stat: 1.2462397777777596, p: 0.0006587483739628475},
		mwu:         sp{stat: 4241911.0, p: 0.00011955558915590127},
		t:           sp{stat: -3.904061669454216, p: 9.562915225438477e-05},
		ad:          sp{stat: 14.487828510003125, p: 0.001},
	},
	{name: "asymp_small_en_20000_vs_40",
		ref:         modSeq(20000, 7919, 10007, 0, 1.0, 0.0),
		cur:         modSeq(40, 104729, 10009, 13, 1.0, 0.1),
		ks:          sp{stat: 0.11365000000000003, p: 0.6384375107423453},
		wasserstein: sp{stat: 0.08926013996067474, p: nan},
		energy:      sp{stat: 0.12507787007649315, p: nan},
		cvm:         sp{stat: 0.30800085495675233, p: 0.12726074793805842},
		mwu:         sp{stat: 331922.0, p: 0.06253671932519576},
		t:           sp{stat: -1.9068011223739887, p: 0.06390447298295565},
		ad:          sp{stat: 4.240817612653959, p: 0.006563764388400694},
	},
	// A large pair (the "huge samples" case; modSeq(i*mul mod m) with
	// m prime gives distinct values): asymptotic KS with en ~ 85715
	// (Pelz-Good branch), asymptotic Cramér–von Mises, tie-free normal
	// Mann-Whitney, Anderson floored at 0.001.
	{name: "huge_200003_vs_150001",
		ref:         modSeq(200003, 7919, 1000003, 0, 1.0, 0.0),
		cur:         modSeq(150001, 104729, 1000033, 13, 1.0, 0.004),
		ks:          sp{stat: 0.004106504558657242, p: 0.11073084823597934},
		wasserstein: sp{stat: 0.0040373497046728175, p: nan},
		energy:      sp{stat: 0.005706083617876666, p: nan},
		cvm:         sp{stat: 1.3935981133690802, p: 0.0003022254820643777},
		mwu:         sp{stat: 14879441060.0, p: 4.378358760891697e-05},
		t:           sp{stat: -4.0947331093175015, p: 4.2275768206483646e-05},
		ad:          sp{stat: 23.075927489295236, p: 0.001},
	},
}

func TestEdgeCasesMatchScipy(t *testing.T) {
	type method struct {
		name string
		f    func(ref, cur []float64) (Result, error)
		want func(i int) sp
		test bool
	}
	ms := []method{
		{"ks", KS, func(i int) sp { return edgeCases[i].ks }, true},
		{"wasserstein", Wasserstein, func(i int) sp { return edgeCases[i].wasserstein }, false},
		{"energy", Energy, func(i int) sp { return edgeCases[i].energy }, false},
		{"cramer_von_mises", CramerVonMises, func(i int) sp { return edgeCases[i].cvm }, true},
		{"mann_whitney", MannWhitneyU, func(i int) sp { return edgeCases[i].mwu }, true},
		{"t_test", TTestWelch, func(i int) sp { return edgeCases[i].t }, true},
		{"anderson", AndersonKSamp, func(i int) sp { return edgeCases[i].ad }, true},
	}
	for i, c := range edgeCases {
		for _, m := range ms {
			want := m.want(i)
			if want == (sp{}) {
				continue // not computed by scipy (too slow there)
			}
			got, err := m.f(c.ref, c.cur)
			if want.err {
				if err == nil {
					t.Errorf("%s %s: got %+v, want an error", c.name, m.name, got)
				}
				continue
			}
			if err != nil {
				t.Errorf("%s %s: %v", c.name, m.name, err)
				continue
			}
			if !closeRel(got.Statistic, want.stat, statTol) && math.Abs(got.Statistic-want.stat) > 1e-15 {
				t.Errorf("%s %s statistic: got %v, want %v", c.name, m.name, got.Statistic, want.stat)
			}
			if m.test && !closeP(got.PValue, want.p, pTol) {
				t.Errorf("%s %s p-value: got %v, want %v", c.name, m.name, got.PValue, want.p)
			}
		}
	}
}

// TestKSExactSwitch pins scipy's method="auto" rule: exact while
// max(n, m) <= 10000, asymptotic above (ks_2samp(...).method is not
// exposed by scipy 1.10; the rule is MAX_AUTO_N = 10000 in its source).
func TestKSExactSwitch(t *testing.T) {
	for _, tt := range []struct {
		n     int
		exact bool
	}{{10000, true}, {10001, false}} {
		r, err := KS(modSeq(tt.n, 7919, 10007, 0, 1, 0), modSeq(9000, 104729, 10009, 13, 1.1, 0))
		if err != nil {
			t.Fatal(err)
		}
		if r.Exact != tt.exact {
			t.Errorf("KS with %d vs 9000 values: got Exact %v, want %v", tt.n, r.Exact, tt.exact)
		}
	}
}
