package step

import (
	"errors"
	"math"
	"testing"

	"github.com/normguard/normguard/table"
)

// TestLog1pRefusesMinusOneAndBelow checks that log1p refuses a value <= -1
// (numpy gives -Inf at -1 and NaN below it, attack run 15 finding 10), in
// fit and in transform, naming the step, column, row and value, and keeps
// NaN (missing) as NaN and every value above -1, however close.
func TestLog1pRefusesMinusOneAndBelow(t *testing.T) {
	above := math.Nextafter(-1, 0) // the largest float64 above -1
	for _, tc := range []struct {
		xs   []float64
		row  int
		want string
	}{
		{[]float64{0, -1}, 1, "-1"},
		{[]float64{3, math.NaN(), -5}, 2, "-5"},
		{[]float64{-1.5, 0}, 0, "-1.5"},
		{[]float64{1e300, -math.MaxFloat64}, 1, "-1.7976931348623157e+308"},
	} {
		col := table.Column{Name: "x", Kind: table.Numeric, Num: tc.xs}
		_, err := (&Log1pParams{}).Fit(nil, []table.Column{col})
		var ve *ValueError
		if !errors.As(err, &ve) || !errors.Is(err, ErrBadValue) || ve.Step != "log1p" || ve.Column != "x" || ve.Row != -1 || ve.Value != tc.want {
			t.Fatalf("fit %v: got %#v (%v), want a log1p ValueError for %s in fit", tc.xs, ve, err, tc.want)
		}
		out := table.NewColumns([]table.Field{{Name: "x", Kind: table.Numeric}})
		err = (&Log1p{Names: []string{"x"}}).Transform([]table.Column{col}, out, len(tc.xs))
		if !errors.As(err, &ve) || !errors.Is(err, ErrBadValue) || ve.Row != tc.row || ve.Value != tc.want {
			t.Fatalf("transform %v: got %#v (%v), want row %d value %s", tc.xs, ve, err, tc.row, tc.want)
		}
	}
	xs := []float64{0, math.NaN(), above, 1e300}
	col := table.Column{Name: "x", Kind: table.Numeric, Num: xs}
	if _, err := (&Log1pParams{}).Fit(nil, []table.Column{col}); err != nil {
		t.Fatalf("fit of values above -1 and NaN: %v", err)
	}
	out := table.NewColumns([]table.Field{{Name: "x", Kind: table.Numeric}})
	if err := (&Log1p{Names: []string{"x"}}).Transform([]table.Column{col}, out, len(xs)); err != nil {
		t.Fatalf("transform of values above -1 and NaN: %v", err)
	}
	got := out[0].Num
	// log1p(0) = 0 exactly; log1p(-1+2^-53) = log(2^-53) = -53 ln 2 (to
	// rounding: the argument 1+x = 2^-53 is exact); log(1e300) < 691.
	if got[0] != 0 || !math.IsNaN(got[1]) || math.Abs(got[2]-(-53*math.Ln2)) > 1e-12 || !(got[3] > 690 && got[3] < 691) {
		t.Fatalf("log1p of 0, NaN, -1+2^-53, 1e300 = %v", got)
	}
}

// TestScalersRefuseOverflow checks that the standard and robust scalers,
// whose kernel reports an infinite result, refuse a finite value whose
// output is past float64's range (1e300 / 1e-10 = 1e310), naming the row
// and value, and in place (the output over its input) the row only.
func TestScalersRefuseOverflow(t *testing.T) {
	steps := map[string]Fitted{
		"standard_scaler":                 &StandardScaler{WithMean: true, WithStd: true, Mean: Floats{0}, Scale: Floats{1e-10}, Names: []string{"x"}},
		"standard_scaler without mean":    &StandardScaler{WithStd: true, Scale: Floats{1e-10}, Names: []string{"x"}},
		"robust_scaler":                   &RobustScaler{Center: Floats{0}, Scale: Floats{1e-10}, Names: []string{"x"}},
		"robust_scaler without centering": &RobustScaler{Scale: Floats{1e-10}, Names: []string{"x"}},
	}
	for name, f := range steps {
		if oc, ok := f.(OutputChecker); !ok || !oc.ChecksOutput() {
			t.Fatalf("%s: not an OutputChecker", name)
		}
		for _, tc := range []struct {
			xs    []float64
			row   int
			value string
		}{
			{[]float64{3, 1e300, 5}, 1, "1e+300"},
			{[]float64{math.NaN(), 1, 2, 3, 4, 5, 6, 7, 8, -1e300}, 9, "-1e+300"}, // past the vector loop
		} {
			in := []table.Column{{Name: "x", Kind: table.Numeric, Num: append([]float64(nil), tc.xs...)}}
			out := table.NewColumns(f.Outputs())
			err := f.Transform(in, out, len(tc.xs))
			var ve *ValueError
			if !errors.As(err, &ve) || !errors.Is(err, ErrNotFinite) || !errors.Is(err, ErrBadValue) || ve.Row != tc.row || ve.Value != tc.value || ve.Column != "x" {
				t.Fatalf("%s of %v: got %#v (%v), want an overflow at row %d of %s", name, tc.xs, ve, err, tc.row, tc.value)
			}
			err = f.Transform(in, in, len(tc.xs)) // in place
			if !errors.As(err, &ve) || !errors.Is(err, ErrNotFinite) || ve.Row != tc.row || ve.Value != "" {
				t.Fatalf("%s in place of %v: got %#v (%v), want an overflow at row %d without a value", name, tc.xs, ve, err, tc.row)
			}
		}
		in := []table.Column{{Name: "x", Kind: table.Numeric, Num: []float64{1e298, -1e298, math.NaN()}}} // 1e308: finite
		if err := f.Transform(in, table.NewColumns(f.Outputs()), 3); err != nil {
			t.Fatalf("%s of values within range: %v", name, err)
		}
	}
}
