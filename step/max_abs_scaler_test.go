package step

import (
	"math"
	"testing"

	"github.com/normguard/normguard/table"
)

func TestMaxAbsScalerPeerFitted(t *testing.T) {
	skCheckPeerFitted(t, "max_abs_scaler__default", "MaxAbsScaler", 0)
}

func TestMaxAbsScaler(t *testing.T) {
	// Values from scikit-learn 1.2.1:
	//   MaxAbsScaler().fit(pd.DataFrame({'a':[-4,nan,2.],'b':[0.,0,0],'c':[nan]*3}))
	//   .transform(pd.DataFrame({'a':[8,-2,nan],'b':[1.,0,-3],'c':[1.,nan,2]}))
	train := []table.Column{skNum("a", -4, skNaN, 2), skNum("b", 0, 0, 0), skNum("c", skNaN, skNaN, skNaN)}
	test := []table.Column{skNum("a", 8, -2, skNaN), skNum("b", 1, 0, -3), skNum("c", 1, skNaN, 2)}
	f, out := skFitTransform(t, "max_abs_scaler", `{}`, train, test)
	s := f.(*MaxAbsScaler)
	skWantFloats(t, "max_abs_", s.MaxAbs, []float64{4, 0, skNaN})
	skWantFloats(t, "scale_", s.Scale, []float64{4, 1, skNaN})
	if s.NSamplesSeen != 3 {
		t.Errorf("n_samples_seen_: got %d, want 3", s.NSamplesSeen)
	}
	skWantNames(t, f, []string{"a", "b", "c"})
	tests := []struct {
		col  int
		want []float64
	}{
		{0, []float64{2, -0.5, skNaN}}, // outside the training range: |y| > 1
		{1, []float64{1, 0, -3}},       // all-zero column: scale 1
		{2, []float64{skNaN, skNaN, skNaN}},
	}
	for _, tt := range tests {
		skWantFloats(t, out[tt.col].Name, out[tt.col].Num, tt.want)
	}
}

func TestMaxAbsScalerErrors(t *testing.T) {
	if _, err := skFit(t, "max_abs_scaler", `{}`, []table.Column{skNum("a", 1, math.Inf(-1))}); err == nil {
		t.Errorf("fit with -Inf: got nil, want an error")
	} else {
		skWantErr(t, err, "")
	}
	f, err := skFit(t, "max_abs_scaler", `{}`, []table.Column{skNum("a", 1, 2)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = apply(f, []table.Column{skNum("a", math.Inf(1))})
	skWantErr(t, err, "")
	if err := f.Check(2); err == nil {
		t.Errorf("Check(2) on 1 fitted column: got nil, want an error")
	}
}
