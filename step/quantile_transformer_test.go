package step

import (
	"encoding/json"
	"errors"
	"math"
	"testing"
)

func TestQuantileTransformerMatchesSklearnFitted(t *testing.T) {
	for _, c := range []string{"quantile_transformer__1000_normal", "quantile_transformer__100_uniform", "quantile_transformer__4000_uniform"} {
		t.Run(c, func(t *testing.T) {
			f, want := nsPeerFit(t, c, "QuantileTransformer")
			q := f.(*QuantileTransformer)
			var nq int
			if err := json.Unmarshal(want["n_quantiles_"], &nq); err != nil || q.NQuantiles != nq {
				t.Errorf("n_quantiles_: got %d, want %d (%v)", q.NQuantiles, nq, err)
			}
			// references_ is numpy.linspace bit for bit.
			nsWant(t, "references_", q.References, nsAttr(t, want, "references_"), 0)
			var rows [][]float64
			if err := json.Unmarshal(want["quantiles_"], &rows); err != nil {
				t.Fatal(err)
			}
			for j := range q.Quantiles {
				col := make([]float64, len(rows))
				for i := range rows {
					col[i] = rows[i][j]
				}
				nsWant(t, "quantiles_", q.Quantiles[j], col, 0)
			}
		})
	}
}

// TestQuantileTransformerOddInputs pins ties, out-of-range values and NaN.
// Reference: scikit-learn 1.2.1 QuantileTransformer(n_quantiles=5,
// output_distribution=...).fit([[1],[2],[2],[2],[3],[10],[nan]]) gives
// quantiles_ [1, 2, 2, 2.75, 10] and transforms
// [-5, 1, 2, 2.5, 3, 10, 11, nan] to the values below.
func TestQuantileTransformerOddInputs(t *testing.T) {
	nan := math.NaN()
	train := nsCol("x", 1, 2, 2, 2, 3, 10, nan)
	test := nsCol("x", -5, 1, 2, 2.5, 3, 10, 11, nan)
	tests := []struct {
		dist string
		want []float64
	}{
		{"uniform", []float64{0, 0, 0.375, 0.6666666666666666, 0.7586206896551724, 1, 1, nan}},
		{"normal", []float64{-5.199337582605575, -5.199337582605575, -0.31863936396437514, 0.43072729929545744,
			0.7018725954219602, 5.19933758270342, 5.19933758270342, nan}},
	}
	for _, tt := range tests {
		t.Run(tt.dist, func(t *testing.T) {
			f := nsMustFit(t, "quantile_transformer", `{"n_quantiles": 5, "output_distribution": "`+tt.dist+`"}`, train)
			f = nsRoundTrip(t, "quantile_transformer", f, []string{"x"})
			q := f.(*QuantileTransformer)
			nsWant(t, "quantiles_", q.Quantiles[0], []float64{1, 2, 2, 2.75, 10}, 0)
			nsWant(t, "references_", q.References, []float64{0, 0.25, 0.5, 0.75, 1}, 0)
			nsWant(t, "output", nsTransform(t, f, test)[0].Num, tt.want, 1e-14)
		})
	}
}

// TestQuantileTransformerConstantAndAllNaN: scikit-learn 1.2.1
// QuantileTransformer(n_quantiles=3) on columns [nan,nan,nan], [1,2,nan],
// [5,5,5] transforms [[1,3,6],[nan,-1,5]] to [[nan,1,1],[nan,0,0]].
func TestQuantileTransformerConstantAndAllNaN(t *testing.T) {
	nan := math.NaN()
	f := nsMustFit(t, "quantile_transformer", `{"n_quantiles": 3}`, nsCol("a", nan, nan, nan), nsCol("b", 1, 2, nan), nsCol("c", 5, 5, 5))
	out := nsTransform(t, f, nsCol("a", 1, nan), nsCol("b", 3, -1), nsCol("c", 6, 5))
	nsWant(t, "a", out[0].Num, []float64{nan, nan}, 0)
	nsWant(t, "b", out[1].Num, []float64{1, 0}, 0)
	nsWant(t, "c", out[2].Num, []float64{1, 0}, 0)
	// n_quantiles is capped at the number of rows (3), NaN rows included.
	if q := f.(*QuantileTransformer); q.NQuantiles != 3 {
		t.Errorf("n_quantiles_: got %d, want 3", q.NQuantiles)
	}
}

func TestQuantileTransformerParamErrors(t *testing.T) {
	tests := []struct{ params, param string }{
		{`{"n_quantiles": 0}`, "n_quantiles"},
		{`{"subsample": 0}`, "subsample"},
		{`{"n_quantiles": 10, "subsample": 5}`, "n_quantiles"},
		{`{"output_distribution": "lognormal"}`, "output_distribution"},
		{`{"random_state": "seed"}`, "random_state"},
	}
	for _, tt := range tests {
		_, err := nsFit(t, "quantile_transformer", tt.params, nil, nsCol("x", 1, 2))
		var pe *ParamError
		if !errors.As(err, &pe) || pe.Param != tt.param {
			t.Errorf("%s: got %v, want a ParamError on %s", tt.params, err, tt.param)
		}
	}
	if _, err := nsFit(t, "quantile_transformer", `{"random_state": 42}`, nil, nsCol("x", 1, 2)); err != nil {
		t.Errorf("random_state 42: got %v, want nil", err)
	}
}

func TestQuantileTransformerCheck(t *testing.T) {
	f := nsMustFit(t, "quantile_transformer", `{"n_quantiles": 2}`, nsCol("x", 1, 2, 3))
	q := f.(*QuantileTransformer)
	if err := q.Check(1); err != nil {
		t.Errorf("Check(1): got %v, want nil", err)
	}
	q.Quantiles[0] = q.Quantiles[0][:1]
	if err := q.Check(1); err == nil {
		t.Error("short quantiles_: got nil, want an error")
	}
}
