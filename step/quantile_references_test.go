package step

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestQuantileReferencesAreLinspace holds a quantile transformer's
// references_ to numpy.linspace(0, 1, n_quantiles_), bit for bit, in
// CheckStep and in a streamed check fed entry by entry alike. The
// accepted grids are numpy 1.24's own output (np.linspace(0, 1, n)); the
// refusals name the first entry a fit does not write.
func TestQuantileReferencesAreLinspace(t *testing.T) {
	// numpy.linspace(0, 1, 10) and numpy.linspace(0, 1, 7), as numpy 1.24.2 prints them.
	np10 := Floats{0, 0.1111111111111111, 0.2222222222222222, 0.3333333333333333, 0.4444444444444444,
		0.5555555555555556, 0.6666666666666666, 0.7777777777777777, 0.8888888888888888, 1}
	np7 := Floats{0, 0.16666666666666666, 0.3333333333333333, 0.5, 0.6666666666666666, 0.8333333333333333, 1}
	with := func(xs Floats, i int, x float64) Floats {
		out := append(Floats(nil), xs...)
		out[i] = x
		return out
	}
	for _, tc := range []struct {
		name string
		refs Floats
		want string // the path refused, "" for none
	}{
		{"n=1", Floats{0}, ""},
		{"n=2", Floats{0, 1}, ""},
		{"numpy n=7", np7, ""},
		{"numpy n=10", np10, ""},
		{"n=1 not 0", Floats{0.5}, "references_[0]"},
		{"n=2 last not 1", Floats{0, 0.75}, "references_[1]"},
		{"first not 0", with(np7, 0, 1e-9), "references_[0]"},
		{"squashed to 0 but the last", Floats{0, 0, 0, 0, 0, 0, 1}, "references_[1]"},
		{"one entry moved", with(np10, 4, 0.45), "references_[4]"},
		// i/(n-1) rounds entry 7 up by an ulp: not what numpy writes.
		{"divided, not multiplied", with(np10, 7, 0.7777777777777778), "references_[7]"},
		{"last below 1", with(np7, 6, 0.9), "references_[6]"},
		{"every step of 1/(n-1) but entry 1", with(np7, 1, 0.1), "references_[1]"},
		{"grid of another n", Floats{0, 0.25, 0.5, 0.75, 1, 1, 1}, "references_[1]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := len(tc.refs)
			qs := make(Floats, n)
			for i := range qs {
				qs[i] = float64(i)
			}
			q := &QuantileTransformer{OutputDistribution: "uniform", NQuantiles: n, References: tc.refs,
				Quantiles: []Floats{qs}, Names: []string{"a"}}
			whole := CheckStep(nil, q, 1)
			c := NewStreamedCheck(nil, q)
			feedFloats(c.Floats("references_"), []Floats{q.References}, false)
			feedFloats(c.Floats("quantiles_"), q.Quantiles, true)
			q.References, q.Quantiles = nil, nil
			streamed := c.Check(1)
			for reading, err := range map[string]error{"CheckStep": whole, "streamed": streamed} {
				if tc.want == "" {
					if err != nil {
						t.Errorf("%s: got %v, want accepted", reading, err)
					}
					continue
				}
				var pe *PathError
				if !errors.As(err, &pe) || pe.Path != tc.want {
					t.Errorf("%s: got %v, want a refusal of %s", reading, err, tc.want)
				}
			}
			if (whole == nil) != (streamed == nil) || (whole != nil && whole.Error() != streamed.Error()) {
				t.Errorf("CheckStep %v, streamed %v: want the same verdict", whole, streamed)
			}
		})
	}
}

// TestLinspaceAtIsReferenceGrid holds linspaceAt, with which the check
// words what a fit writes, to referenceGrid, which the fit writes.
func TestLinspaceAtIsReferenceGrid(t *testing.T) {
	for _, n := range []int{1, 2, 3, 10, 999, 1000} {
		for i, want := range referenceGrid(n) {
			if got := linspaceAt(i, n); got != want {
				t.Fatalf("linspaceAt(%d, %d) = %v, want %v", i, n, got, want)
			}
		}
	}
}

// TestQuantileReferencesOfScikitLearnAccepted reads the references_ and
// n_quantiles_ scikit-learn 1.2.1 fitted in the parity vectors: the grid
// rule accepts them (3000 entries among them: n_quantiles 4000 on 3000 rows).
func TestQuantileReferencesOfScikitLearnAccepted(t *testing.T) {
	paths, _ := filepath.Glob(filepath.Join(peerDir, "*", "case.json"))
	seen := 0
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var c struct {
			Fitted struct {
				QuantileTransformer *struct {
					NQuantiles int       `json:"n_quantiles_"`
					References []float64 `json:"references_"`
				}
			} `json:"fitted"`
		}
		if err := json.Unmarshal(data, &c); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		sk := c.Fitted.QuantileTransformer
		if sk == nil {
			continue
		}
		seen++
		qs := make(Floats, sk.NQuantiles)
		for i := range qs {
			qs[i] = float64(i)
		}
		q := &QuantileTransformer{OutputDistribution: "uniform", NQuantiles: sk.NQuantiles, References: sk.References,
			Quantiles: []Floats{qs}, Names: []string{"a"}}
		if err := CheckStep(nil, q, 1); err != nil {
			t.Errorf("%s: scikit-learn's references_ refused: %v", path, err)
		}
	}
	if seen < 4 {
		t.Fatalf("%d parity cases with a quantile transformer, want 4", seen)
	}
}
