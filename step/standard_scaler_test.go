package step

import (
	"encoding/json"
	"math"
	"path/filepath"
	"testing"

	"github.com/normguard/normguard/table"
)

// Helpers shared by the standard_scaler, robust_scaler,
// quantile_transformer and power_transformer tests (prefix ns).

// nsTol is the relative tolerance for values scikit-learn computes with
// an iterative optimizer or libm functions that may differ in the last bit.
const nsTol = 1e-6

func nsCol(name string, xs ...float64) table.Column {
	return table.Column{Name: name, Kind: table.Numeric, Num: xs}
}

// nsFit decodes params (JSON) for the named step, validates and fits it.
func nsFit(t *testing.T, stepName, params string, fc *FitContext, cols ...table.Column) (Fitted, error) {
	t.Helper()
	def, ok := Lookup(stepName)
	if !ok {
		t.Fatalf("step %s not registered", stepName)
	}
	p := def.NewParams()
	if err := json.Unmarshal([]byte(params), p); err != nil {
		t.Fatalf("params %s: %v", params, err)
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return p.Fit(fc, cols)
}

// nsMustFit is nsFit that fails the test on an error.
func nsMustFit(t *testing.T, stepName, params string, cols ...table.Column) Fitted {
	t.Helper()
	f, err := nsFit(t, stepName, params, nil, cols...)
	if err != nil {
		t.Fatalf("fit: %v", err)
	}
	return f
}

// nsTransform applies f to cols and returns the outputs.
func nsTransform(t *testing.T, f Fitted, cols ...table.Column) []table.Column {
	t.Helper()
	out, err := apply(f, cols)
	if err != nil {
		t.Fatalf("transform: %v", err)
	}
	return out
}

// nsWant compares got with want: NaN must match NaN, and values agree when
// |got-want| <= rtol*|want| (rtol 0: same value).
func nsWant(t *testing.T, label string, got, want []float64, rtol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: got %d values %v, want %d %v", label, len(got), got, len(want), want)
	}
	for i := range want {
		g, w := got[i], want[i]
		if math.IsNaN(w) != math.IsNaN(g) || !math.IsNaN(w) && g != w && math.Abs(g-w) > rtol*math.Abs(w) {
			t.Errorf("%s[%d]: got %v, want %v", label, i, g, w)
		}
	}
}

// nsPeerFit fits the first step of a peer case on its training data and
// returns it with the case's scikit-learn fitted attributes for class.
func nsPeerFit(t *testing.T, caseName, class string) (Fitted, map[string]json.RawMessage) {
	t.Helper()
	dir := filepath.Join(peerDir, caseName)
	var pc struct {
		Fitted map[string]map[string]json.RawMessage `json:"fitted"`
	}
	var sp peerSpec
	mustJSON(t, filepath.Join(dir, "case.json"), &pc)
	mustJSON(t, filepath.Join(dir, "spec.json"), &sp)
	g := sp.Columns[0]
	data := readCSV(t, filepath.Join(dir, "train.csv"), nil)
	var train []table.Column
	for _, n := range g.Names {
		train = append(train, data[n])
	}
	for name, params := range g.Steps[0] {
		return nsMustFit(t, name, string(params), train...), pc.Fitted[class]
	}
	t.Fatal("no step")
	return nil, nil
}

// nsAttr decodes one scikit-learn attribute: a list of numbers, or of
// lists (quantiles_, transposed to per-column lists).
func nsAttr(t *testing.T, attrs map[string]json.RawMessage, name string) []float64 {
	t.Helper()
	var v []float64
	if err := json.Unmarshal(attrs[name], &v); err != nil {
		t.Fatalf("attribute %s: %v", name, err)
	}
	return v
}

// nsRoundTrip encodes f as an artifact step and decodes it back.
func nsRoundTrip(t *testing.T, stepName string, f Fitted, inputs []string) Fitted {
	t.Helper()
	def, _ := Lookup(stepName)
	b, err := json.Marshal(FittedStep{Name: stepName, Params: def.NewParams(), Inputs: inputs, Fitted: f})
	if err != nil {
		t.Fatal(err)
	}
	var back FittedStep
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return back.Fitted
}

func TestStandardScalerMatchesSklearnFitted(t *testing.T) {
	for _, c := range []string{"standard_scaler__default", "standard_scaler__nan_bigoffset_constant", "standard_scaler__no_mean"} {
		t.Run(c, func(t *testing.T) {
			f, want := nsPeerFit(t, c, "StandardScaler")
			s := f.(*StandardScaler)
			// Same summation order as numpy: mean_ agrees bit for bit.
			nsWant(t, "mean_", s.Mean, nsAttr(t, want, "mean_"), 0)
			nsWant(t, "var_", s.Var, nsAttr(t, want, "var_"), 1e-15)
			nsWant(t, "scale_", s.Scale, nsAttr(t, want, "scale_"), 1e-15)
		})
	}
}

// TestStandardScalerOddInputs pins the constant-column, all-NaN and
// out-of-range behaviour. Reference: scikit-learn 1.2.1
// StandardScaler().fit(X).transform(T) with X = [[nan,1,5],[nan,2,5],[nan,nan,5]],
// T = [[1,3,6],[nan,-1,5]]: n_samples_seen_ [0,2,3], mean_ [nan,1.5,5],
// var_ [nan,0.25,0], scale_ [nan,0.5,1], output [[nan,3,1],[nan,-5,0]].
func TestStandardScalerOddInputs(t *testing.T) {
	nan := math.NaN()
	train := []table.Column{nsCol("a", nan, nan, nan), nsCol("b", 1, 2, nan), nsCol("c", 5, 5, 5)}
	test := []table.Column{nsCol("a", 1, nan), nsCol("b", 3, -1), nsCol("c", 6, 5)}
	for _, fc := range []*FitContext{nil, {ChunkSize: 1, Workers: 1}, {ChunkSize: 2, Workers: 4}} {
		f, err := nsFit(t, "standard_scaler", `{}`, fc, train...)
		if err != nil {
			t.Fatal(err)
		}
		f = nsRoundTrip(t, "standard_scaler", f, []string{"a", "b", "c"})
		s := f.(*StandardScaler)
		if got := s.NSamplesSeen; got[0] != 0 || got[1] != 2 || got[2] != 3 {
			t.Errorf("n_samples_seen_: got %v, want [0 2 3]", got)
		}
		nsWant(t, "mean_", s.Mean, []float64{nan, 1.5, 5}, 0)
		nsWant(t, "var_", s.Var, []float64{nan, 0.25, 0}, 0)
		nsWant(t, "scale_", s.Scale, []float64{nan, 0.5, 1}, 0)
		out := nsTransform(t, f, test...)
		nsWant(t, "a", out[0].Num, []float64{nan, nan}, 0)
		nsWant(t, "b", out[1].Num, []float64{3, -5}, 0)
		nsWant(t, "c", out[2].Num, []float64{1, 0}, 0)
	}
}

func TestStandardScalerFlags(t *testing.T) {
	train := nsCol("x", 1, 2, 3, 4)
	tests := []struct {
		params        string
		want          []float64
		hasMean, hasV bool
	}{
		// mean 2.5, scale sqrt(1.25)
		{`{}`, []float64{(10 - 2.5) / math.Sqrt(1.25)}, true, true},
		{`{"with_mean": false}`, []float64{10 / math.Sqrt(1.25)}, true, true},
		{`{"with_std": false}`, []float64{7.5}, true, false},
		{`{"with_mean": false, "with_std": false}`, []float64{10}, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.params, func(t *testing.T) {
			f := nsRoundTrip(t, "standard_scaler", nsMustFit(t, "standard_scaler", tt.params, train), []string{"x"})
			s := f.(*StandardScaler)
			if (s.Mean != nil) != tt.hasMean || (s.Scale != nil) != tt.hasV || (s.Var != nil) != tt.hasV {
				t.Errorf("got mean_ %v var_ %v scale_ %v, want mean_ set %v, var_/scale_ set %v", s.Mean, s.Var, s.Scale, tt.hasMean, tt.hasV)
			}
			nsWant(t, "output", nsTransform(t, f, nsCol("x", 10))[0].Num, tt.want, 1e-15)
		})
	}
}

func TestStandardScalerCheck(t *testing.T) {
	f := nsMustFit(t, "standard_scaler", `{}`, nsCol("x", 1, 2), nsCol("y", 3, 5))
	if err := f.Check(2); err != nil {
		t.Errorf("Check(2): got %v, want nil", err)
	}
	if err := f.Check(3); err == nil {
		t.Error("Check(3): got nil, want an error")
	}
	s := f.(*StandardScaler)
	s.Scale = s.Scale[:1]
	if err := s.Check(2); err == nil {
		t.Error("short scale_: got nil, want an error")
	}
}
