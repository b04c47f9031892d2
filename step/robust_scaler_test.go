package step

import (
	"errors"
	"math"
	"testing"

	"github.com/normguard/normguard/table"
)

func TestRobustScalerMatchesSklearnFitted(t *testing.T) {
	for _, c := range []string{"robust_scaler__default", "robust_scaler__range_unit_variance"} {
		t.Run(c, func(t *testing.T) {
			f, want := nsPeerFit(t, c, "RobustScaler")
			s := f.(*RobustScaler)
			nsWant(t, "center_", s.Center, nsAttr(t, want, "center_"), 0)
			nsWant(t, "scale_", s.Scale, nsAttr(t, want, "scale_"), 1e-15)
		})
	}
}

// TestRobustScalerOddInputs pins ties, values outside the training range,
// NaN, a constant column and an all-NaN column.
func TestRobustScalerOddInputs(t *testing.T) {
	nan := math.NaN()
	t.Run("ties and range", func(t *testing.T) {
		// scikit-learn 1.2.1: RobustScaler(quantile_range=(10, 90),
		// unit_variance=True).fit([[1],[2],[2],[2],[3],[10],[nan]]):
		// center_ [2.0], scale_ [1.9507603651809478], and transform of
		// [-5, 1, 2, 2.5, 3, 10, 11, nan]:
		f := nsMustFit(t, "robust_scaler", `{"quantile_range": [10, 90], "unit_variance": true}`,
			nsCol("x", 1, 2, 2, 2, 3, 10, nan))
		s := f.(*RobustScaler)
		nsWant(t, "center_", s.Center, []float64{2}, 0)
		nsWant(t, "scale_", s.Scale, []float64{1.9507603651809478}, 1e-15)
		got := nsTransform(t, f, nsCol("x", -5, 1, 2, 2.5, 3, 10, 11, nan))[0].Num
		nsWant(t, "output", got, []float64{-3.588344383524881, -0.5126206262178402, 0.0,
			0.2563103131089201, 0.5126206262178402, 4.100965009742722, 4.613585635960561, nan}, 1e-15)
	})
	t.Run("constant and all NaN", func(t *testing.T) {
		// scikit-learn 1.2.1: RobustScaler() on columns [nan,nan,nan],
		// [1,2,nan], [5,5,5]: center_ [nan,1.5,5], scale_ [nan,0.5,1].
		f := nsMustFit(t, "robust_scaler", `{}`, nsCol("a", nan, nan, nan), nsCol("b", 1, 2, nan), nsCol("c", 5, 5, 5))
		f = nsRoundTrip(t, "robust_scaler", f, []string{"a", "b", "c"})
		s := f.(*RobustScaler)
		nsWant(t, "center_", s.Center, []float64{nan, 1.5, 5}, 0)
		nsWant(t, "scale_", s.Scale, []float64{nan, 0.5, 1}, 0)
		out := nsTransform(t, f, nsCol("a", 1, nan), nsCol("b", 3, -1), nsCol("c", 6, 5))
		nsWant(t, "a", out[0].Num, []float64{nan, nan}, 0)
		nsWant(t, "b", out[1].Num, []float64{3, -5}, 0)
		nsWant(t, "c", out[2].Num, []float64{1, 0}, 0)
	})
	t.Run("no centering no scaling", func(t *testing.T) {
		f := nsMustFit(t, "robust_scaler", `{"with_centering": false, "with_scaling": false}`, nsCol("x", 1, 2, 9))
		f = nsRoundTrip(t, "robust_scaler", f, []string{"x"})
		if s := f.(*RobustScaler); s.Center != nil || s.Scale != nil {
			t.Errorf("got center_ %v scale_ %v, want both null", s.Center, s.Scale)
		}
		nsWant(t, "output", nsTransform(t, f, nsCol("x", 7))[0].Num, []float64{7}, 0)
	})
}

func TestRobustScalerParamErrors(t *testing.T) {
	for _, params := range []string{
		`{"quantile_range": [75, 25]}`,
		`{"quantile_range": [-1, 50]}`,
		`{"quantile_range": [25, 101]}`,
		`{"quantile_range": [25]}`,
		`{"quantile_range": [25, "NaN"]}`,
	} {
		_, err := nsFit(t, "robust_scaler", params, nil, nsCol("x", 1, 2))
		var pe *ParamError
		if !errors.As(err, &pe) || pe.Param != "quantile_range" {
			t.Errorf("%s: got %v, want a ParamError on quantile_range", params, err)
		}
	}
}

func TestRobustScalerRejectsNoRows(t *testing.T) {
	_, err := nsFit(t, "robust_scaler", `{}`, nil, table.Column{Name: "x", Kind: table.Numeric})
	var ve *ValueError
	if !errors.As(err, &ve) {
		t.Errorf("got %v, want a ValueError", err)
	}
}
