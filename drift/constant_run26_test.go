package drift

import (
	"testing"

	"github.com/normguard/normguard/profile"
	"github.com/normguard/normguard/table"
)

// TestSameConstantIsNoDriftRun26 (attack run 26 F1): a column holding one
// and the same value in both samples (a flag) made wasserstein_normed
// (0/0: the distance over the reference's std) and t_test (Welch's t,
// 0/0) an error, exit 2, since NaN statistics became errors. Two samples
// of the same constant do not differ: statistic 0, no drift; a constant
// current unlike the constant reference still drifts.
func TestSameConstantIsNoDriftRun26(t *testing.T) {
	col := func(n int, x float64) table.Column {
		c := table.Column{Name: "flag", Kind: table.Numeric}
		for range n {
			c.Num = append(c.Num, x)
		}
		return c
	}
	for _, method := range []string{"wasserstein_normed", "t_test"} {
		rep, err := Compare([]table.Column{col(200, 1)}, []table.Column{col(150, 1)}, Options{Method: method})
		if err != nil {
			t.Fatalf("%s: %v", method, err)
		}
		f := rep.Features[0]
		if f.Error != "" || f.Drift || f.Statistic != 0 {
			t.Errorf("%s of the same constant: statistic %v, drift %v, error %q; want 0, no drift, no error", method, f.Statistic, f.Drift, f.Error)
		}
		rep, err = Compare([]table.Column{col(200, 1)}, []table.Column{col(150, 2)}, Options{Method: method})
		if err != nil {
			t.Fatalf("%s: %v", method, err)
		}
		if f := rep.Features[0]; !f.Drift && f.Error == "" {
			t.Errorf("%s of two different constants: no drift and no error (%+v)", method, f)
		}
	}
	// Against a profile: wasserstein_normed of the same constant is 0.
	ref := col(300, 1)
	p := profile.Column(&ref)
	rep, err := CompareProfile([]profile.Feature{p}, []table.Column{col(150, 1)}, Options{Method: "wasserstein_normed"})
	if err != nil {
		t.Fatal(err)
	}
	if f := rep.Features[0]; f.Error != "" || f.Drift || f.Statistic != 0 {
		t.Errorf("wasserstein_normed against a constant profile: statistic %v, drift %v, error %q; want 0, no drift", f.Statistic, f.Drift, f.Error)
	}
}
