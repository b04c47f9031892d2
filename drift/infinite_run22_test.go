package drift

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/normguard/normguard/profile"
	"github.com/normguard/normguard/table"
)

// infSamples returns a reference of 400 values of N(5, 1) and a current
// sample of 168 values of the same distribution, one of which is +Inf.
func infSamples() (ref, cur table.Column) {
	r := rand.New(rand.NewPCG(5, 22))
	ref = table.Column{Name: "x", Kind: table.Numeric}
	for range 400 {
		ref.Num = append(ref.Num, 5+r.NormFloat64())
	}
	cur = table.Column{Name: "x", Kind: table.Numeric}
	for i := range 168 {
		x := 5 + r.NormFloat64()
		if i == 54 {
			x = math.Inf(1)
		}
		cur.Num = append(cur.Num, x)
	}
	return ref, cur
}

// TestInfinityOnlyInCurrentDrifts checks attack run 22 finding 7: one
// inf among the current values passed auto as "wasserstein_normed +Inf
// (> 0.1) ok" with the effect written null. By definition the
// Wasserstein distance to a sample holding +Inf is infinite, past any
// floor: auto says drift in both modes, the JSON flags the infinite
// effect ("infinite": "+Inf" beside its null value) and says which
// sample holds infinities. ks, a rank statistic, equals ks with the inf
// replaced by any value above every other (a rank test cannot tell them
// apart), so it may stay below its threshold; the feature still says the
// current data holds infinite values.
func TestInfinityOnlyInCurrentDrifts(t *testing.T) {
	ref, cur := infSamples()
	p := profile.Column(&ref)
	big := table.Column{Name: "x", Kind: table.Numeric, Num: append([]float64(nil), cur.Num...)}
	big.Num[54] = 1e300
	for _, method := range []string{"auto", "ks", "psi", "wasserstein_normed"} {
		a, err := CompareProfile([]profile.Feature{p}, []table.Column{cur}, Options{Method: method})
		if err != nil {
			t.Fatal(err)
		}
		r, err := Compare([]table.Column{ref}, []table.Column{cur}, Options{Method: method})
		if err != nil {
			t.Fatal(err)
		}
		for mode, rep := range map[string]*Report{"artifact": a, "reference": r} {
			f := rep.Features[0]
			if f.Error != "" {
				t.Fatalf("%s %s: error %s", method, mode, f.Error)
			}
			if f.InfiniteValues != InfiniteCurrent {
				t.Errorf("%s %s: infinite_values %q, want %q", method, mode, f.InfiniteValues, InfiniteCurrent)
			}
			b, err := json.Marshal(f)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(b), `"infinite_values":"current"`) {
				t.Errorf("%s %s: JSON does not say the current data holds infinities: %s", method, mode, b)
			}
			switch method {
			case "auto":
				if !f.Drift || f.Effect == nil || !math.IsInf(float64(f.Effect.Value), 1) || f.Effect.Infinite != "+Inf" {
					t.Errorf("%s %s: drift %v effect %+v, want drift on an infinite effect flagged +Inf", method, mode, f.Drift, f.Effect)
				}
				if !strings.Contains(string(b), `"value":null,"threshold":0.1,"infinite":"+Inf"`) {
					t.Errorf("%s %s: effect JSON %s", method, mode, b)
				}
			case "wasserstein_normed":
				if !f.Drift || !math.IsInf(float64(f.Statistic), 1) || f.StatisticInfinite != "+Inf" || !strings.Contains(string(b), `"statistic":null`) {
					t.Errorf("%s %s: drift %v statistic %v (%q), want drift on +Inf", method, mode, f.Drift, float64(f.Statistic), f.StatisticInfinite)
				}
			}
		}
		if method == "ks" {
			// exact two-sample ks: the inf ranks as any value above the rest
			rb, err := Compare([]table.Column{ref}, []table.Column{big}, Options{Method: "ks"})
			if err != nil {
				t.Fatal(err)
			}
			if g, w := r.Features[0], rb.Features[0]; g.Statistic != w.Statistic || g.PValue != w.PValue || g.Drift != w.Drift {
				t.Errorf("ks with inf: %v p %v drift %v; with 1e300 instead: %v p %v drift %v", g.Statistic, g.PValue, g.Drift, w.Statistic, w.PValue, w.Drift)
			}
			if rb.Features[0].InfiniteValues != "" {
				t.Errorf("1e300 is finite, got infinite_values %q", rb.Features[0].InfiniteValues)
			}
		}
	}
	// Infinities in both samples: no infinite effect from the current
	// alone (scipy: inf - inf is NaN), the feature says both hold them.
	both := table.Column{Name: "x", Kind: table.Numeric, Num: append(append([]float64(nil), ref.Num...), math.Inf(1))}
	r, err := Compare([]table.Column{both}, []table.Column{cur}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if f := r.Features[0]; f.InfiniteValues != InfiniteBoth || f.Drift {
		t.Errorf("infinities in both: infinite_values %q drift %v, want both, no drift", f.InfiniteValues, f.Drift)
	}
}

// TestConstantReferenceInfiniteEffect checks that an infinite effect
// from a reference without spread (wasserstein / 0) is not taken for the
// infinities of the current data: the test decides, as before.
func TestConstantReferenceInfiniteEffect(t *testing.T) {
	ref := table.Column{Name: "x", Kind: table.Numeric}
	cur := table.Column{Name: "x", Kind: table.Numeric}
	for i := range 500 {
		ref.Num = append(ref.Num, 1)
		x := 1.0
		if i == 7 {
			x = 2
		}
		cur.Num = append(cur.Num, x)
	}
	r, err := Compare([]table.Column{ref}, []table.Column{cur}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	f := r.Features[0]
	// ks D = 1/500; p close to 1: no drift, whatever the effect.
	if f.Drift || f.InfiniteValues != "" || f.Effect == nil || !math.IsInf(float64(f.Effect.Value), 1) || f.Effect.Infinite != "+Inf" {
		t.Errorf("constant reference: drift %v infinite_values %q effect %+v", f.Drift, f.InfiniteValues, f.Effect)
	}
}
