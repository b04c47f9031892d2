package onnx

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/step"
	"github.com/normguard/normguard/table"
	"github.com/normguard/normguard/transform"
)

// Bounds, in units in the last place, of the steps ONNX has no exact
// operator for, measured with ONNX Runtime 1.31 (CPU) against normguard's
// kernels on the wide value ranges of TestExportInexactBounds.
const (
	// log1pMaxULP bounds log1p (Log and Kahan's correction) against Go's
	// math.Log1p.
	log1pMaxULP = 4
	// powerMaxRel bounds power_transformer without standardize (Exp and
	// Log, log1p and expm1 by Kahan's correction) relative to the value:
	// the error of the exponent λ·l is multiplied by |λ·l|.
	powerMaxRel = 2.5e-13
	// normalMaxULP bounds quantile_transformer's normal output (the Log
	// and Sqrt of AS 241's tails) against stats.NormPPF.
	normalMaxULP = 16
)

// oneStep returns an in-memory artifact applying one fitted step to
// numeric columns.
func oneStep(name string, cols []string, f step.Fitted) *artifact.Artifact {
	a := &artifact.Artifact{Digest: "sha256:test", Groups: []artifact.Group{{Columns: cols, Type: "numeric",
		Steps: []step.FittedStep{{Name: name, Inputs: cols, Fitted: f}}}}}
	for _, c := range cols {
		a.Inputs = append(a.Inputs, artifact.Field{Name: c, Type: "numeric"})
	}
	for _, o := range f.Outputs() {
		a.Outputs = append(a.Outputs, artifact.FieldOf(o))
	}
	return a
}

// wideValues returns signed values spread over the float64 range, from
// subnormal to huge, with the special points of log1p.
func wideValues(rng *rand.Rand) []float64 {
	xs := []float64{0, math.Copysign(0, -1), 5e-324, -5e-324, 1e-300, -1, -1 + 0x1p-53, -0.5, 1, 0x1p-53, -0x1p-53, 1e308, math.MaxFloat64}
	for e := -320.0; e <= 308; e += 0.37 {
		m := math.Pow(10, e) * (1 + rng.Float64())
		xs = append(xs, m, -m)
	}
	for range 2000 {
		xs = append(xs, rng.NormFloat64()*math.Pow(10, rng.Float64()*6-3))
	}
	return xs
}

// runStep runs a one-step artifact through normguard's kernel and through
// ONNX Runtime on the same column of values.
func runStep(t *testing.T, a *artifact.Artifact, xs []float64) (want, got []float64) {
	t.Helper()
	tr, err := transform.New(a)
	if err != nil {
		t.Fatal(err)
	}
	in := &table.Batch{Rows: len(xs), Cols: []table.Column{{Name: a.Inputs[0].Name, Kind: table.Numeric, Num: xs}}}
	out := tr.NewOutput()
	// The kernel directly, value by value where it refuses some (box-cox
	// of x <= 0, which the graph turns into NaN): those are NaN here.
	f := a.Groups[0].Steps[0].Fitted
	want = make([]float64, len(xs))
	if err := f.Transform(in.Cols, out.Cols, len(xs)); err == nil {
		copy(want, out.Cols[0].Num)
	} else {
		for i, x := range xs {
			one := []table.Column{{Name: in.Cols[0].Name, Kind: table.Numeric, Num: []float64{x}}}
			o := table.NewColumns(f.Outputs())
			want[i] = math.NaN()
			if f.Transform(one, o, 1) == nil {
				want[i] = o[0].Num[0]
			}
		}
	}
	ex, rows, _ := exportRun(t, a, in, tr, ExportOptions{})
	if len(ex.Features) != 1 {
		t.Fatalf("%d features, want 1", len(ex.Features))
	}
	got = make([]float64, len(xs))
	for i := range rows {
		got[i] = rows[i][0]
	}
	return want, got
}

// TestExportInexactBounds measures the steps without an exact ONNX
// operator on values over the whole float64 range and checks the stated
// bounds; special values (±0, -1, overflow, NaN) must agree exactly.
func TestExportInexactBounds(t *testing.T) {
	ortScript(t)
	rng := rand.New(rand.NewPCG(13, 1))
	xs := wideValues(rng)
	sameSpecial := func(t *testing.T, x, g, w float64) bool {
		t.Helper()
		if math.IsNaN(w) || math.IsInf(w, 0) || w == 0 {
			if !(math.IsNaN(g) && math.IsNaN(w)) && math.Float64bits(g) != math.Float64bits(w) {
				t.Errorf("x=%v: got %v, want %v", x, g, w)
			}
			return true
		}
		return false
	}

	t.Run("log1p", func(t *testing.T) {
		want, got := runStep(t, oneStep("log1p", []string{"x"}, &step.Log1p{Names: []string{"x"}}), xs)
		var worst uint64
		for i, x := range xs {
			if sameSpecial(t, x, got[i], want[i]) {
				continue
			}
			worst = max(worst, ulps(got[i], want[i]))
		}
		t.Logf("log1p: at most %d ulps from math.Log1p over %d values", worst, len(xs))
		if worst > log1pMaxULP {
			t.Errorf("log1p: %d ulps, bound %d", worst, log1pMaxULP)
		}
	})

	for _, tc := range []struct {
		method string
		lambda float64
	}{
		{"yeo-johnson", 0}, {"yeo-johnson", 2}, {"yeo-johnson", 0.7}, {"yeo-johnson", -1.3}, {"yeo-johnson", 2.9},
		{"box-cox", 0}, {"box-cox", 0.25}, {"box-cox", -0.8}, {"box-cox", 1.9},
	} {
		t.Run(tc.method, func(t *testing.T) {
			f := &step.PowerTransformer{Method: tc.method, Lambdas: step.Floats{tc.lambda}, Names: []string{"x"}}
			var vals []float64
			for _, x := range xs {
				switch {
				case tc.method == "yeo-johnson" && math.Abs(x) >= 1e30:
					// Keep yeo-johnson's powers finite, where the error
					// is relative.
				case tc.method == "box-cox" && x > 0 && x < 0x1p-1022:
					// Go's math.Log on amd64 returns log(2^-1022) for
					// subnormal x (-709.09 at 5e-324, not -744.44);
					// ONNX Runtime's Log is right there.
				default:
					vals = append(vals, x)
				}
			}
			want, got := runStep(t, oneStep("power_transformer", []string{"x"}, f), vals)
			worst, worstX := 0.0, 0.0
			for i, x := range vals {
				if tc.method == "box-cox" && x <= 0 {
					if !math.IsNaN(got[i]) {
						t.Errorf("box-cox of %v: got %v, want NaN (normguard transform refuses it)", x, got[i])
					}
					continue
				}
				if sameSpecial(t, x, got[i], want[i]) {
					continue
				}
				if r := math.Abs(got[i]-want[i]) / math.Abs(want[i]); r > worst {
					worst, worstX = r, x
				}
			}
			t.Logf("%s λ=%v: relative difference at most %.3g (at x = %v) over %d values", tc.method, tc.lambda, worst, worstX, len(vals))
			if worst > powerMaxRel {
				t.Errorf("relative difference %.3g, bound %.3g", worst, powerMaxRel)
			}
		})
	}

	t.Run("quantile_normal", func(t *testing.T) {
		// Quantiles of a skewed sample; inputs cover the tails finely.
		const nq = 1000
		sample := make([]float64, 5000)
		for i := range sample {
			sample[i] = math.Exp(rng.NormFloat64())
		}
		col := table.Column{Name: "x", Kind: table.Numeric, Num: sample}
		p := &step.QuantileTransformerParams{NQuantiles: nq, OutputDistribution: "normal", Subsample: 100000}
		f, err := p.Fit(nil, []table.Column{col})
		if err != nil {
			t.Fatal(err)
		}
		var vals []float64
		qs := f.(*step.QuantileTransformer).Quantiles[0]
		for k := 0; k+1 < len(qs); k++ {
			for _, s := range []float64{0, 1e-9, 0.25, 0.5, 0.999999} {
				vals = append(vals, qs[k]+s*(qs[k+1]-qs[k]))
			}
		}
		vals = append(vals, qs[0]-1, qs[nq-1]+1, qs[0]+1e-8, qs[nq-1]-1e-8, math.NaN())
		want, got := runStep(t, oneStep("quantile_transformer", []string{"x"}, f), vals)
		var worst uint64
		for i, x := range vals {
			if sameSpecial(t, x, got[i], want[i]) {
				continue
			}
			worst = max(worst, ulps(got[i], want[i]))
		}
		t.Logf("quantile normal: at most %d ulps over %d values", worst, len(vals))
		if worst > normalMaxULP {
			t.Errorf("%d ulps, bound %d", worst, normalMaxULP)
		}
	})
}

// TestExportNormalizerOverflow: a row whose l2 norm overflows is refused
// by normguard transform (attack run 18 F9); the graph, which cannot
// refuse, gives NaN there as for the other refused values, not the zeros
// scikit-learn writes. Every other row gives transform's bits.
func TestExportNormalizerOverflow(t *testing.T) {
	ortScript(t)
	xs := []float64{2e154, -3e200, math.MaxFloat64, 1.3e154, -1.3e154, 1, -0.5, 1e-200, 0, math.Copysign(0, -1)}
	want, got := runStep(t, oneStep("normalizer", []string{"x"}, &step.Normalizer{Norm: "l2", Names: []string{"x"}}), xs)
	for i, x := range xs {
		overflows := math.Abs(x) > 1.35e154
		if overflows != math.IsNaN(want[i]) {
			t.Fatalf("x=%v: transform gave %v; want it refused exactly when x² overflows", x, want[i])
		}
		if overflows {
			if !math.IsNaN(got[i]) {
				t.Errorf("x=%v: graph gave %v, want NaN where transform refuses", x, got[i])
			}
			continue
		}
		if math.Float64bits(got[i]) != math.Float64bits(want[i]) {
			t.Errorf("x=%v: graph gave %v, transform %v", x, got[i], want[i])
		}
	}
}
