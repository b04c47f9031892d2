package step

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/normguard/normguard/table"
)

func TestPowerTransformerMatchesSklearnFitted(t *testing.T) {
	for _, c := range []string{"power_transformer__yeo_johnson", "power_transformer__yeo_johnson_raw", "power_transformer__box_cox"} {
		t.Run(c, func(t *testing.T) {
			f, want := nsPeerFit(t, c, "PowerTransformer")
			nsWant(t, "lambdas_", f.(*PowerTransformer).Lambdas, nsAttr(t, want, "lambdas_"), nsTol)
		})
	}
}

// TestPowerTransformerSmall checks lambdas_, the internal scaler and the
// output against scikit-learn 1.2.1 PowerTransformer(method=...) fitted on
// [[1],[2],[2],[2],[3],[10],[nan]] (values out of the training range and
// NaN in the test data).
func TestPowerTransformerSmall(t *testing.T) {
	nan := math.NaN()
	train := nsCol("x", 1, 2, 2, 2, 3, 10, nan)
	tests := []struct {
		method             string
		test               []float64
		lambda, mean, scal float64
		want               []float64
	}{
		{"yeo-johnson", []float64{-5, 1, 2, 2.5, 3, 10, 11, nan}, -1.1187786563898687, 0.6527103355959567, 0.10437837943684077,
			[]float64{-824.0741521990194, -1.6332242027429336, -0.19518503881483898, 0.20166879114760627,
				0.49424891479774785, 1.7245304043897014, 1.7788442472570223, nan}},
		{"box-cox", []float64{1, 2, 2.5, 3, 10, 11, nan}, -0.5626550136296402, 0.6386816503545437, 0.3826139056346347,
			[]float64{-1.669258855856726, -0.169140267245866, 0.20194124252127618, 0.47239242185424246,
				1.7042872357400816, 1.770681515340634, nan}},
	}
	for _, tt := range tests {
		t.Run(tt.method, func(t *testing.T) {
			f := nsMustFit(t, "power_transformer", `{"method": "`+tt.method+`"}`, train)
			f = nsRoundTrip(t, "power_transformer", f, []string{"x"})
			p := f.(*PowerTransformer)
			nsWant(t, "lambdas_", p.Lambdas, []float64{tt.lambda}, nsTol)
			nsWant(t, "mean_", p.Mean, []float64{tt.mean}, nsTol)
			nsWant(t, "scale_", p.Scale, []float64{tt.scal}, nsTol)
			nsWant(t, "output", nsTransform(t, f, nsCol("x", tt.test...))[0].Num, tt.want, nsTol)
		})
	}
}

// TestPowerTransformerAllNaN: scikit-learn 1.2.1 PowerTransformer() gives
// an all-NaN column lambda 8.472135811722177 (Brent on a NaN objective) and
// transforms it to NaN.
func TestPowerTransformerAllNaN(t *testing.T) {
	nan := math.NaN()
	f := nsMustFit(t, "power_transformer", `{}`, nsCol("x", nan, nan, nan))
	nsWant(t, "lambdas_", f.(*PowerTransformer).Lambdas, []float64{8.472135811722177}, 1e-12)
	nsWant(t, "output", nsTransform(t, f, nsCol("x", 1, nan))[0].Num, []float64{nan, nan}, 0)
}

func TestPowerTransformerBoxCoxRejectsNonPositive(t *testing.T) {
	const msg = "The Box-Cox transformation can only be applied to strictly positive data"
	_, err := nsFit(t, "power_transformer", `{"method": "box-cox"}`, nil, nsCol("a", 1, 2, 3), nsCol("b", 1, 0, 2))
	var ve *ValueError
	if !errors.As(err, &ve) || ve.Column != "b" || !errors.Is(err, ErrBadValue) || !strings.Contains(err.Error(), msg) {
		t.Fatalf("fit: got %v, want a ValueError on column b with %q", err, msg)
	}
	f := nsMustFit(t, "power_transformer", `{"method": "box-cox"}`, nsCol("a", 1, 2, 3))
	_, err = apply(f, []table.Column{nsCol("a", 2, -1)})
	if !errors.As(err, &ve) || ve.Row != 1 || !strings.Contains(err.Error(), msg) {
		t.Errorf("transform: got %v, want a ValueError on row 1 with %q", err, msg)
	}
	_, err = nsFit(t, "power_transformer", `{"method": "box-cox"}`, nil, nsCol("a", 2, 2, 2))
	if !errors.As(err, &ve) {
		t.Errorf("constant column: got %v, want a ValueError", err)
	}
}

func TestPowerTransformerParams(t *testing.T) {
	_, err := nsFit(t, "power_transformer", `{"method": "log"}`, nil, nsCol("x", 1, 2))
	var pe *ParamError
	if !errors.As(err, &pe) || pe.Param != "method" {
		t.Errorf("got %v, want a ParamError on method", err)
	}
	f := nsMustFit(t, "power_transformer", `{"standardize": false}`, nsCol("x", 1, 2, 5))
	f = nsRoundTrip(t, "power_transformer", f, []string{"x"})
	if p := f.(*PowerTransformer); p.Mean != nil || p.Scale != nil {
		t.Errorf("standardize false: got mean_ %v scale_ %v, want null", p.Mean, p.Scale)
	}
}
