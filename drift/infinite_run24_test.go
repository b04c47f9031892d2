package drift

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/normguard/normguard/profile"
	"github.com/normguard/normguard/table"
)

// run24Column returns n values of N(mu, 1), those at the indexes of inf
// replaced by their value (±Inf).
func run24Column(seed uint64, n int, mu float64, inf map[int]float64) table.Column {
	r := rand.New(rand.NewPCG(seed, 24))
	c := table.Column{Name: "x", Kind: table.Numeric}
	for i := range n {
		v := mu + r.NormFloat64()
		if x, ok := inf[i]; ok {
			v = x
		}
		c.Num = append(c.Num, v)
	}
	return c
}

// TestInfinityEveryMethodRun24 checks attack run 24 finding 1: with an
// infinity in the reference (or in both samples), wasserstein,
// wasserstein_normed, energy and t_test gave a statistic or threshold
// that is not a number and said "ok"; with a current of only infinities
// they said "ok" too. By definition:
//   - infinities only in the current data: ∫|F - G|^p dx diverges (the
//     current's share at ±Inf differs from the reference's 0 on a
//     half-line), so the Wasserstein and energy distances are +Inf, past
//     any finite threshold: drift, as CompareProfile (--artifact) says;
//   - infinities in the reference: the reference's standard deviation
//     (wasserstein's and energy's threshold scale, wasserstein_normed's
//     divisor) is not a number: an error naming the reference;
//   - Welch's t of a sample holding an infinity is inf/inf: an error.
//
// Rank and binned methods are defined with infinities (an infinity ranks
// above or below every number, and falls in the end bin): never an error,
// never a NaN statistic. No method says "ok" with a NaN number.
func TestInfinityEveryMethodRun24(t *testing.T) {
	inf := math.Inf(1)
	allInf, mixed := map[int]float64{}, map[int]float64{}
	for i := range 20 {
		allInf[i] = inf
		mixed[i] = inf
		if i%2 == 0 {
			mixed[i] = -inf
		}
	}
	cases := []struct {
		name     string
		ref, cur table.Column
		which    string
	}{
		{"reference", run24Column(1, 400, 5, map[int]float64{7: inf}), run24Column(2, 168, 7, nil), InfiniteReference},
		{"both", run24Column(1, 400, 5, map[int]float64{7: inf}), run24Column(3, 168, 5, map[int]float64{5: inf}), InfiniteBoth},
		{"current", run24Column(1, 400, 5, nil), run24Column(3, 168, 5, map[int]float64{5: inf}), InfiniteCurrent},
		{"current all inf", run24Column(1, 400, 5, nil), run24Column(4, 20, 5, allInf), InfiniteCurrent},
		{"current inf and -inf", run24Column(1, 400, 5, nil), run24Column(4, 20, 5, mixed), InfiniteCurrent},
	}
	for _, c := range cases {
		for _, method := range append([]string{"auto"}, numericNames()...) {
			rep, err := Compare([]table.Column{c.ref}, []table.Column{c.cur}, Options{Method: method})
			if err != nil {
				t.Fatal(err)
			}
			f := rep.Features[0]
			if f.InfiniteValues != c.which {
				t.Errorf("%s %s: infinite_values %q, want %q", c.name, method, f.InfiniteValues, c.which)
			}
			stat, thr := float64(f.Statistic), float64(f.Threshold)
			if f.Error == "" && (math.IsNaN(stat) || math.IsNaN(thr)) {
				t.Errorf("%s %s: statistic %v threshold %v with no error (drift %v): a number that is not a number decides nothing", c.name, method, stat, thr, f.Drift)
			}
			if f.Error != "" && f.Drift {
				t.Errorf("%s %s: error and drift", c.name, method)
			}
			scaled := method == "wasserstein" || method == "energy" || method == "wasserstein_normed"
			switch {
			case method == "t_test":
				if f.Error == "" || !strings.Contains(f.Error, "infinite values") {
					t.Errorf("%s t_test: error %q, want one naming the infinite values", c.name, f.Error)
				}
			case scaled && c.which == InfiniteCurrent:
				if f.Error != "" || !math.IsInf(stat, 1) || !f.Drift {
					t.Errorf("%s %s: statistic %v drift %v error %q, want +Inf, drift", c.name, method, stat, f.Drift, f.Error)
				}
			case scaled:
				if !strings.Contains(f.Error, "the reference") || !strings.Contains(f.Error, "standard deviation") {
					t.Errorf("%s %s: error %q, want one naming the reference's infinite values and its standard deviation", c.name, method, f.Error)
				}
			case method == "auto":
				// auto drifts on an infinite effect when only the current
				// data holds infinities (attack run 22 F7)
				if c.which == InfiniteCurrent && !f.Drift {
					t.Errorf("%s auto: no drift", c.name)
				}
			default:
				if f.Error != "" {
					t.Errorf("%s %s: error %q; the method ranks or bins the values, which infinities do not stop", c.name, method, f.Error)
				}
			}
			if c.which != InfiniteCurrent || !profileMethods[method] && method != "auto" {
				continue
			}
			p := profile.Column(&c.ref)
			a, err := CompareProfile([]profile.Feature{p}, []table.Column{c.cur}, Options{Method: method})
			if err != nil {
				t.Fatal(err)
			}
			if g := a.Features[0]; g.Drift != f.Drift || (g.Error == "") != (f.Error == "") {
				t.Errorf("%s %s: --artifact says drift %v (error %q), --reference drift %v (error %q)", c.name, method, g.Drift, g.Error, f.Drift, f.Error)
			}
		}
	}
}

// TestNaNStatisticIsAnErrorRun24: a statistic that is not a number for
// finite samples (Welch's t of a current of one value: its sample
// variance divides by n - 1 = 0) is an error, not "ok".
func TestNaNStatisticIsAnErrorRun24(t *testing.T) {
	ref := run24Column(1, 50, 5, nil)
	cur := table.Column{Name: "x", Kind: table.Numeric, Num: []float64{9}}
	rep, err := Compare([]table.Column{ref}, []table.Column{cur}, Options{Method: "t_test"})
	if err != nil {
		t.Fatal(err)
	}
	if f := rep.Features[0]; f.Error == "" || f.Drift || !strings.Contains(f.Error, "not a number") {
		t.Errorf("t_test of one current value: drift %v error %q, want an error", f.Drift, f.Error)
	}
}
