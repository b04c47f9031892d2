package drift

import (
	"fmt"
	"math"
	"sort"
)

// Kind says how a method's Result is turned into a drift verdict.
type Kind uint8

const (
	// Test methods report drift when the p-value is below the threshold.
	Test Kind = iota + 1
	// Distance methods report drift when the statistic is above the
	// threshold.
	Distance
)

// Method is a named drift method as `normguard drift --method` spells it.
type Method struct {
	// Name is the method's name: ks, wasserstein, psi, ...
	Name string
	// Kind is Test (p < Threshold) or Distance (statistic > Threshold).
	Kind Kind
	// Threshold is the default threshold.
	Threshold float64
	// RelativeToStd makes the threshold a multiple of the reference's
	// population standard deviation (wasserstein, energy), so that the
	// default is scale-free.
	RelativeToStd bool
	// Numeric compares two numeric samples (NaN dropped); nil if the
	// method does not apply to numbers.
	Numeric func(ref, cur []float64) (Result, error)
	// Counts compares category (or bin) counts aligned by index; nil if
	// the method does not apply to counts.
	Counts func(ref, cur []int64) (Result, error)
}

// Verdict is a method's result with the threshold applied.
type Verdict struct {
	Result
	// Threshold is the threshold that was applied, after scaling by the
	// reference std for RelativeToStd methods.
	Threshold float64
	// Drift reports whether the threshold was crossed.
	Drift bool
}

// Decide applies threshold (NaN means the method's default) to r. For
// RelativeToStd methods the threshold is multiplied by refStd. A NaN
// statistic or p-value never reports drift.
func (m *Method) Decide(r Result, threshold, refStd float64) Verdict {
	if math.IsNaN(threshold) {
		threshold = m.Threshold
	}
	if m.RelativeToStd {
		threshold *= refStd
	}
	v := Verdict{Result: r, Threshold: threshold}
	if m.Kind == Test {
		v.Drift = r.PValue < threshold
	} else {
		v.Drift = r.Statistic > threshold
	}
	return v
}

// CompareNumeric runs the method on two numeric samples and applies
// threshold (NaN: the default). Binned methods bin both samples on the
// reference deciles (QuantileEdges(ref, DefaultBins)).
func (m *Method) CompareNumeric(ref, cur []float64, threshold float64) (Verdict, error) {
	if m.Numeric == nil {
		return Verdict{}, fmt.Errorf("drift %s: the method does not apply to numeric columns; use one of %v", m.Name, numericNames())
	}
	r, err := m.Numeric(ref, cur)
	if err != nil {
		return Verdict{}, err
	}
	std := math.NaN()
	if m.RelativeToStd {
		_, v := meanVar(DropNaN(ref))
		std = math.Sqrt(v)
	}
	return m.Decide(r, threshold, std), nil
}

// CompareCounts runs the method on aligned category counts and applies
// threshold (NaN: the default).
func (m *Method) CompareCounts(ref, cur []int64, threshold float64) (Verdict, error) {
	if m.Counts == nil {
		return Verdict{}, fmt.Errorf("drift %s: the method does not apply to categorical columns; use one of chisquare, psi, jensenshannon, hellinger, kl_div, l_infinity", m.Name)
	}
	r, err := m.Counts(ref, cur)
	if err != nil {
		return Verdict{}, err
	}
	return m.Decide(r, threshold, math.NaN()), nil
}

// binnedNumeric adapts a counts method to numeric samples binned on the
// reference deciles.
func binnedNumeric(name string, f func(ref, cur []int64) (Result, error)) func(ref, cur []float64) (Result, error) {
	return func(ref, cur []float64) (Result, error) {
		b, err := BinNumeric(name, ref, cur, DefaultBins)
		if err != nil {
			return Result{}, err
		}
		return f(b.RefCounts, b.CurCounts)
	}
}

var methods = map[string]*Method{}

func init() {
	for _, m := range []*Method{
		{Name: "ks", Kind: Test, Threshold: 0.05, Numeric: KS},
		{Name: "cramer_von_mises", Kind: Test, Threshold: 0.05, Numeric: CramerVonMises},
		{Name: "anderson", Kind: Test, Threshold: 0.05, Numeric: AndersonKSamp},
		{Name: "mann_whitney", Kind: Test, Threshold: 0.05, Numeric: MannWhitneyU},
		{Name: "t_test", Kind: Test, Threshold: 0.05, Numeric: TTestWelch},
		{Name: "chisquare", Kind: Test, Threshold: 0.05, Numeric: binnedNumeric("chisquare", Chi2Contingency), Counts: Chi2Contingency},
		{Name: "wasserstein", Kind: Distance, Threshold: 0.1, RelativeToStd: true, Numeric: Wasserstein},
		{Name: "energy", Kind: Distance, Threshold: 0.1, RelativeToStd: true, Numeric: Energy},
		{Name: "wasserstein_normed", Kind: Distance, Threshold: 0.1, Numeric: WassersteinNormed},
		{Name: "psi", Kind: Distance, Threshold: 0.2, Numeric: binnedNumeric("psi", PSI), Counts: PSI},
		{Name: "jensenshannon", Kind: Distance, Threshold: 0.1, Numeric: binnedNumeric("jensenshannon", JensenShannon), Counts: JensenShannon},
		{Name: "hellinger", Kind: Distance, Threshold: 0.1, Numeric: binnedNumeric("hellinger", Hellinger), Counts: Hellinger},
		{Name: "kl_div", Kind: Distance, Threshold: 0.1, Numeric: binnedNumeric("kl_div", KLDivergence), Counts: KLDivergence},
		{Name: "l_infinity", Kind: Distance, Threshold: 0.1, Numeric: binnedNumeric("l_infinity", LInfinity), Counts: LInfinity},
	} {
		methods[m.Name] = m
	}
}

// Lookup returns the named method.
func Lookup(name string) (*Method, bool) {
	m, ok := methods[name]
	return m, ok
}

// Names returns every method name, sorted.
func Names() []string {
	out := make([]string, 0, len(methods))
	for n := range methods {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func numericNames() []string {
	var out []string
	for _, n := range Names() {
		if methods[n].Numeric != nil {
			out = append(out, n)
		}
	}
	return out
}
