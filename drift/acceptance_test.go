package drift

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/normguard/normguard/table"
)

// Acceptance tests: the promises of `normguard drift`, checked through
// Compare on table columns as the CLI calls it.

// acceptanceRows is the size of each sample in the no-false-alarm test.
const acceptanceRows = 1_000_000

// sampler draws one value; each distribution of the acceptance tests is
// one of these.
type sampler func(r *rand.Rand) float64

func normal(r *rand.Rand) float64    { return r.NormFloat64() }
func lognormal(r *rand.Rand) float64 { return math.Exp(r.NormFloat64()) }

// poisson4 draws a Poisson(4) count by inversion: integer counts with many
// ties (nine values hold 98% of the mass).
func poisson4(r *rand.Rand) float64 {
	u := r.Float64()
	p := math.Exp(-4.0)
	k, cdf := 0, p
	for u > cdf && k < 100 {
		k++
		p *= 4 / float64(k)
		cdf += p
	}
	return float64(k)
}

func numericColumn(name string, r *rand.Rand, n int, f sampler, shift float64) table.Column {
	xs := make([]float64, n)
	for i := range xs {
		xs[i] = f(r) + shift
	}
	return table.Column{Name: name, Kind: table.Numeric, Num: xs}
}

// zipfColumn draws n categories c01..c50 with P(c_k) ∝ 1/k.
func zipfColumn(name string, r *rand.Rand, n int) table.Column {
	const k = 50
	cdf := make([]float64, k)
	total := 0.0
	for i := range cdf {
		total += 1 / float64(i+1)
		cdf[i] = total
	}
	labels := make([]string, k)
	for i := range labels {
		labels[i] = fmt.Sprintf("c%02d", i+1)
	}
	out := make([]string, n)
	for i := range out {
		u := r.Float64() * total
		out[i] = labels[min(sort.SearchFloat64s(cdf, u), k-1)]
	}
	return table.Column{Name: name, Kind: table.String, Str: out}
}

// TestAcceptanceNoFalseAlarm: two samples of 1,000,000 rows from the same
// distribution are not flagged by method auto, for normal, lognormal,
// Poisson counts (many ties) and a 50-category Zipf column, over several
// seeds. With a million rows the tests alone reject harmless sampling
// noise about 5% of the time; the effect-size floors (wasserstein_normed
// > 0.1, Jensen–Shannon > 0.1) are what keep auto quiet: between two
// samples of one distribution they are about 1e-3.
func TestAcceptanceNoFalseAlarm(t *testing.T) {
	if testing.Short() {
		t.Skip("1,000,000-row samples; skipped with -short")
	}
	for _, seed := range []uint64{1, 2, 3} {
		t.Run(fmt.Sprintf("seed%d", seed), func(t *testing.T) {
			r := rand.New(rand.NewPCG(seed, 0xacce))
			var ref, cur []table.Column
			for _, side := range []*[]table.Column{&ref, &cur} {
				*side = []table.Column{
					numericColumn("normal", r, acceptanceRows, normal, 0),
					numericColumn("lognormal", r, acceptanceRows, lognormal, 0),
					numericColumn("counts", r, acceptanceRows, poisson4, 0),
					zipfColumn("zipf", r, acceptanceRows),
				}
			}
			rep, err := Compare(ref, cur, Options{})
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range rep.Features {
				t.Logf("%s %s: statistic %.4g, p %.3g, %s %.3g", f.Name, f.Method, float64(f.Statistic), float64(f.PValue), f.Effect.Name, float64(f.Effect.Value))
				if f.Error != "" || f.Drift {
					t.Errorf("%s: got drift %v (error %q), want no drift", f.Name, f.Drift, f.Error)
				}
			}
			if rep.DatasetDrift {
				t.Errorf("dataset drift: got true, want false")
			}
		})
	}
}

// The issue says "a 0.1-standard-deviation shift in 1000 rows is flagged
// by ks". Taken literally that is not a reliable statement, and no sample
// design with 1,000 current rows makes it one: the two-sided KS statistic
// of N(0,1) against N(0.1,1) is 2Φ(0.05) - 1 = 0.0399, below the 5%
// critical value 1.358/√1000 = 0.0429 of a 1,000-row sample against an
// unlimited reference, so detection rests on sampling noise. The power of
// ks at alpha 0.05, simulated with scipy 1.10.1 over 400 seeds
// (np.random.default_rng(seed), current ~ N(0.1, 1), reference ~ N(0, 1)):
//
//	design                                         flagged   median p
//	ref = exact N(0,1) CDF (kstest), cur 1,000     80%       0.0062
//	ref 100,000, cur 1,000 (ks_2samp)              76%       0.0063
//	ref 1,000, cur 1,000 independent               51%       0.048
//	ref 1,000, cur = the same draws + 0.1          5%        0.12
//	ref = exact CDF, cur 2,000                     97%       1.1e-4
//	ref = exact CDF, cur 5,000                     100%      3.1e-9 (largest p 4.7e-4)
//	ref = exact CDF, cur 10,000                    100%      9.5e-17 (largest p 4.2e-7)
//
// (The deterministic shift of the same draws is the weakest design: its D
// is the largest share of the sample in a window 0.1 wide, about 0.05,
// with no sampling noise to help.) So the acceptance tests pin two
// statements instead: a 0.1-sd shift of 1,000 rows is flagged about three
// times in four (TestAcceptanceShift1000Rows), and a 0.1-sd shift is
// flagged every time once the current sample has 10,000 rows
// (TestAcceptanceShiftDetected). Method auto, whose effect floor is a
// Wasserstein distance of 0.1 reference sd, flags a shift of exactly
// 0.1 sd only about half the time, by design; the tests use ks.

// TestAcceptanceShift1000Rows: over 100 seeds, a 100,000-row N(0,1)
// reference against 1,000 rows of N(0.1,1) is flagged by ks at a rate
// consistent with scipy's simulated power of 76% (the band is ±3.5
// binomial standard deviations).
func TestAcceptanceShift1000Rows(t *testing.T) {
	if testing.Short() {
		t.Skip("100 comparisons; skipped with -short")
	}
	const seeds = 100
	flagged := 0
	for seed := range uint64(seeds) {
		r := rand.New(rand.NewPCG(seed, 0x5417))
		ref := []table.Column{numericColumn("x", r, 100_000, normal, 0)}
		cur := []table.Column{numericColumn("x", r, 1_000, normal, 0.1)}
		rep, err := Compare(ref, cur, Options{Method: "ks"})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Features[0].Drift {
			flagged++
		}
	}
	rate := float64(flagged) / seeds
	if rate < 0.61 || rate > 0.91 {
		t.Errorf("ks flagged %d of %d shifted 1,000-row samples: got rate %.2f, want 0.76 ± 0.15", flagged, seeds, rate)
	}
	t.Logf("ks flagged %d of %d", flagged, seeds)
}

// TestAcceptanceShiftDetected: a 0.1-sd shift is flagged by ks, for every
// seed, when a 1,000,000-row reference meets 10,000 current rows (scipy's
// simulated power 100%, largest p-value over 400 seeds 4.2e-7; the test
// asks p < 1e-4).
func TestAcceptanceShiftDetected(t *testing.T) {
	if testing.Short() {
		t.Skip("1,000,000-row reference; skipped with -short")
	}
	for _, seed := range []uint64{1, 2, 3, 4, 5} {
		r := rand.New(rand.NewPCG(seed, 0xd7))
		ref := []table.Column{numericColumn("x", r, acceptanceRows, normal, 0)}
		cur := []table.Column{numericColumn("x", r, 10_000, normal, 0.1)}
		rep, err := Compare(ref, cur, Options{Method: "ks"})
		if err != nil {
			t.Fatal(err)
		}
		f := rep.Features[0]
		if !f.Drift || !(float64(f.PValue) < 1e-4) {
			t.Errorf("seed %d: got drift %v with D %.4g, p %.3g; want drift with p < 1e-4", seed, f.Drift, float64(f.Statistic), float64(f.PValue))
		}
	}
}

// peerExpectation is one method's expected statistic and p-value (NaN:
// not checked) for one column of a peer-vector case.
type peerExpectation struct {
	method    string
	statistic float64
	pValue    float64
}

// peerExpectations lists what expected.json gives for each method name
// that applies to the column. l_infinity on numeric columns is not in the
// file; its value comes from the file's bin counts, max_i |r_i/R - c_i/C|.
func peerExpectations(c peerColumn) []peerExpectation {
	p := func(s statP) float64 {
		if s.PValue == nil {
			return math.NaN()
		}
		return float64(*s.PValue)
	}
	nan := math.NaN()
	if c.Categories != nil {
		return []peerExpectation{
			{"auto", float64(c.Chi2.Statistic), p(c.Chi2)},
			{"chisquare", float64(c.Chi2.Statistic), p(c.Chi2)},
			{"l_infinity", float64(c.LInf), nan},
			{"jensenshannon", float64(c.JS), nan},
			{"psi", float64(c.PSI), nan},
		}
	}
	b := c.Binned
	var rt, ct float64
	for i := range b.RefCounts {
		rt += float64(b.RefCounts[i])
		ct += float64(b.CurCounts[i])
	}
	linf := 0.0
	for i := range b.RefCounts {
		linf = math.Max(linf, math.Abs(float64(b.RefCounts[i])/rt-float64(b.CurCounts[i])/ct))
	}
	return []peerExpectation{
		{"auto", float64(c.KS.Statistic), p(c.KS)},
		{"ks", float64(c.KS.Statistic), p(c.KS)},
		{"cramer_von_mises", float64(c.CVM.Statistic), p(c.CVM)},
		{"anderson", float64(c.Anderson.Statistic), nan},
		{"mann_whitney", float64(c.MWU.Statistic), p(c.MWU)},
		{"t_test", float64(c.TTest.Statistic), p(c.TTest)},
		{"chisquare", float64(b.Chi2.Statistic), p(b.Chi2)},
		{"wasserstein", float64(c.Wasserstein.Statistic), nan},
		{"energy", float64(c.Energy.Statistic), nan},
		{"wasserstein_normed", float64(c.WassersteinNorm.Statistic), nan},
		{"psi", float64(b.PSI), nan},
		{"jensenshannon", float64(b.JS), nan},
		{"hellinger", float64(b.Hellinger), nan},
		{"kl_div", float64(b.KL), nan},
		{"l_infinity", linf, nan},
	}
}

// TestAcceptancePeerVectorsThroughCompare runs every peer-vector case
// through Compare with every method that has an expected value, and
// checks Feature.Statistic within statTol (1e-7 relative) and
// Feature.PValue within pTol (1e-5) of scipy 1.10.1. Binned methods use
// the default 10 bins; categorical columns are String columns with empty
// cells missing.
func TestAcceptancePeerVectorsThroughCompare(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(peerDir, "*", "expected.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no peer vectors under %s (%v)", peerDir, err)
	}
	for _, exp := range files {
		dir := filepath.Dir(exp)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			raw, err := os.ReadFile(exp)
			if err != nil {
				t.Fatal(err)
			}
			var e struct {
				Columns map[string]peerColumn `json:"columns"`
			}
			if err := json.Unmarshal(raw, &e); err != nil {
				t.Fatal(err)
			}
			refNames, refCells := readColumns(t, filepath.Join(dir, "reference.csv"))
			curNames, curCells := readColumns(t, filepath.Join(dir, "current.csv"))
			for name, want := range e.Columns {
				ri, ci := index(refNames, name), index(curNames, name)
				if ri < 0 || ci < 0 {
					t.Fatalf("column %q missing from the CSV files", name)
				}
				ref := peerTableColumn(t, name, refCells[ri], want.Categories != nil)
				cur := peerTableColumn(t, name, curCells[ci], want.Categories != nil)
				for _, x := range peerExpectations(want) {
					rep, err := Compare([]table.Column{ref}, []table.Column{cur}, Options{Method: x.method})
					if err != nil {
						t.Fatalf("%s %s: %v", name, x.method, err)
					}
					f := rep.Features[0]
					what := name + " " + x.method
					if f.Error != "" {
						t.Errorf("%s: %s", what, f.Error)
						continue
					}
					checkStat(t, what+" statistic", float64(f.Statistic), x.statistic)
					if !math.IsNaN(x.pValue) {
						checkP(t, what+" p-value", float64(f.PValue), x.pValue)
					}
				}
			}
		})
	}
}

// peerTableColumn builds a Numeric column (empty cell: NaN) or a String
// column (empty cell: missing) from CSV cells.
func peerTableColumn(t *testing.T, name string, cells []string, categorical bool) table.Column {
	t.Helper()
	if !categorical {
		return table.Column{Name: name, Kind: table.Numeric, Num: floats(t, cells)}
	}
	c := table.Column{Name: name, Kind: table.String, Str: cells, Null: make([]bool, len(cells))}
	for i, s := range cells {
		c.Null[i] = s == ""
	}
	return c
}
