package step

import (
	"encoding/json"
	"errors"
	"math"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/normguard/normguard/table"
)

// skNaN is a NaN for test tables.
var skNaN = math.NaN()

// skNum returns a numeric column.
func skNum(name string, xs ...float64) table.Column {
	return table.Column{Name: name, Kind: table.Numeric, Num: xs}
}

// skStr returns a string column; "<NA>" marks a missing value.
func skStr(name string, xs ...string) table.Column {
	c := table.Column{Name: name, Kind: table.String, Str: make([]string, len(xs)), Null: make([]bool, len(xs))}
	for i, s := range xs {
		if s == "<NA>" {
			c.Null[i] = true
			continue
		}
		c.Str[i] = s
	}
	return c
}

// skCloneAll deep-copies columns so a test can check its input is untouched.
func skCloneAll(cols []table.Column) []table.Column {
	out := make([]table.Column, len(cols))
	for i := range cols {
		out[i] = cols[i].Clone()
	}
	return out
}

// skFit decodes params (JSON) for the named step, validates them and fits
// on train.
func skFit(t *testing.T, name, params string, train []table.Column) (Fitted, error) {
	t.Helper()
	def, ok := Lookup(name)
	if !ok {
		t.Fatalf("step %s is not registered", name)
	}
	p := def.NewParams()
	if err := json.Unmarshal([]byte(params), p); err != nil {
		t.Fatalf("decode %s params %s: %v", name, params, err)
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return p.Fit(&FitContext{ChunkSize: 2, Workers: 2}, skCloneAll(train))
}

// skFitTransform fits on train and transforms test; it fails the test on
// any error.
func skFitTransform(t *testing.T, name, params string, train, test []table.Column) (Fitted, []table.Column) {
	t.Helper()
	f, err := skFit(t, name, params, train)
	if err != nil {
		t.Fatalf("fit %s %s: %v", name, params, err)
	}
	f = skRoundTrip(t, name, f, len(train))
	out, err := apply(f, skCloneAll(test))
	if err != nil {
		t.Fatalf("transform %s %s: %v", name, params, err)
	}
	return f, out
}

// skRoundTrip encodes a fitted step to JSON and decodes it back, as an
// artifact does, checking it with Check.
func skRoundTrip(t *testing.T, name string, f Fitted, nIn int) Fitted {
	t.Helper()
	b, err := json.Marshal(f)
	if err != nil {
		t.Fatalf("encode %s: %v", name, err)
	}
	def, _ := Lookup(name)
	g := def.NewFitted()
	if err := strictUnmarshal(b, g); err != nil {
		t.Fatalf("decode %s %s: %v", name, b, err)
	}
	if err := g.Check(nIn); err != nil {
		t.Fatalf("check %s %s: %v", name, b, err)
	}
	return g
}

// sameFloat reports whether got and want are the same number (NaN equal
// to NaN).
func sameFloat(got, want float64) bool {
	return got == want || math.IsNaN(got) && math.IsNaN(want)
}

// skWantFloats checks got equals want exactly (NaN matches NaN).
func skWantFloats(t *testing.T, label string, got, want []float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: got %d values %v, want %d %v", label, len(got), got, len(want), want)
	}
	for i := range want {
		if !sameFloat(got[i], want[i]) {
			t.Errorf("%s[%d]: got %v, want %v", label, i, got[i], want[i])
		}
	}
}

// skWantNames checks the output column names.
func skWantNames(t *testing.T, f Fitted, want []string) {
	t.Helper()
	outs := f.Outputs()
	if len(outs) != len(want) {
		t.Fatalf("outputs: got %v, want %v", outs, want)
	}
	for i, o := range outs {
		if o.Name != want[i] {
			t.Errorf("output %d: got %q, want %q", i, o.Name, want[i])
		}
	}
}

// skWantErr checks err is a *ParamError (param != "") or a *ValueError
// wrapping ErrBadValue.
func skWantErr(t *testing.T, err error, param string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want one")
	}
	if param != "" {
		var pe *ParamError
		if !errors.As(err, &pe) || pe.Param != param {
			t.Fatalf("got %v, want a *ParamError on %s", err, param)
		}
		return
	}
	var ve *ValueError
	if !errors.As(err, &ve) || !errors.Is(err, ErrBadValue) {
		t.Fatalf("got %v (%T), want a *ValueError wrapping ErrBadValue", err, err)
	}
}

// skCheckPeerFitted fits the first step of a parity case on its training
// data and compares every fitted attribute scikit-learn reported (under
// case.json's fitted[class]) with ours of the same name, within rtol.
func skCheckPeerFitted(t *testing.T, caseName, class string, rtol float64) {
	t.Helper()
	dir := filepath.Join(peerDir, caseName)
	var pc struct {
		Fitted map[string]map[string]any `json:"fitted"`
	}
	var sp peerSpec
	mustJSON(t, filepath.Join(dir, "case.json"), &pc)
	mustJSON(t, filepath.Join(dir, "spec.json"), &sp)
	g := sp.Columns[0]
	kinds := map[string]table.Kind{}
	for _, n := range g.Names {
		kinds[n] = table.Numeric
		if g.Type == "categorical" {
			kinds[n] = table.String
		}
	}
	data := readCSV(t, filepath.Join(dir, "train.csv"), kinds)
	var train []table.Column
	for _, n := range g.Names {
		train = append(train, data[n])
	}
	var name string
	var params json.RawMessage
	for k, v := range g.Steps[0] {
		name, params = k, v
	}
	f, err := skFit(t, name, string(params), train)
	if err != nil {
		t.Fatalf("fit: %v", err)
	}
	b, _ := json.Marshal(f)
	var ours map[string]any
	if err := json.Unmarshal(b, &ours); err != nil {
		t.Fatal(err)
	}
	want := pc.Fitted[class]
	if len(want) == 0 {
		t.Fatalf("case %s has no fitted %s", caseName, class)
	}
	for attr, w := range want {
		got, ok := ours[attr]
		if attr == "statistics_" && got == nil {
			got, ok = ours["statistics_str_"]
		}
		if !ok {
			t.Errorf("%s: not in our fitted parameters %s", attr, b)
			continue
		}
		skCompareJSON(t, attr, got, w, rtol)
	}
}

// skCompareJSON compares decoded JSON values: numbers within rtol (our
// "NaN"/"Infinity" strings stand for the numbers), arrays element-wise.
func skCompareJSON(t *testing.T, path string, got, want any, rtol float64) {
	t.Helper()
	switch w := want.(type) {
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			t.Errorf("%s: got %v, want %v", path, got, want)
			return
		}
		for i := range w {
			skCompareJSON(t, path+"["+strconv.Itoa(i)+"]", g[i], w[i], rtol)
		}
	case float64:
		var g float64
		switch v := got.(type) {
		case float64:
			g = v
		case string:
			g, _ = parseFloatJSON([]byte(`"` + v + `"`))
		}
		if !(g == w || math.Abs(g-w) <= rtol*math.Abs(w)) {
			t.Errorf("%s: got %v, want %v", path, got, w)
		}
	default:
		if got != want {
			t.Errorf("%s: got %v, want %v", path, got, want)
		}
	}
}

func TestMinMaxScalerPeerFitted(t *testing.T) {
	skCheckPeerFitted(t, "min_max_scaler__default", "MinMaxScaler", 0)
	skCheckPeerFitted(t, "min_max_scaler__range_clip", "MinMaxScaler", 0)
}

// Training data: a has a NaN, b is constant, c has no value, d has a range
// (1e-16) below 10*eps, which scikit-learn treats as zero.
var minMaxTrain = []table.Column{
	skNum("a", 1, skNaN, 3, 5),
	skNum("b", 2, 2, 2, 2),
	skNum("c", skNaN, skNaN, skNaN, skNaN),
	skNum("d", 0, 1e-16, 0, 0),
}

var minMaxTest = []table.Column{
	skNum("a", -1, skNaN, 7, 3),
	skNum("b", 2, 0, 5, skNaN),
	skNum("c", 1, skNaN, 0, 2),
	skNum("d", 1e-16, 1, 0, -1),
}

func TestMinMaxScaler(t *testing.T) {
	// Values from scikit-learn 1.2.1:
	//   MinMaxScaler(**params).fit(pd.DataFrame(train)); .transform(test)
	tests := []struct {
		name, params     string
		scale, min       []float64
		wantA, wantB     []float64
		wantC, wantD     []float64
		dataMin, dataMax []float64
		dataRange        []float64
	}{
		{
			name: "default", params: `{}`,
			dataMin: []float64{1, 2, skNaN, 0}, dataMax: []float64{5, 2, skNaN, 1e-16},
			dataRange: []float64{4, 0, skNaN, 1e-16},
			scale:     []float64{0.25, 1, skNaN, 1}, min: []float64{-0.25, -2, skNaN, 0},
			wantA: []float64{-0.5, skNaN, 1.5, 0.5}, wantB: []float64{0, -2, 3, skNaN},
			wantC: []float64{skNaN, skNaN, skNaN, skNaN}, wantD: []float64{1e-16, 1, 0, -1},
		},
		{
			name: "range_clip", params: `{"feature_range": [-1, 1], "clip": true}`,
			dataMin: []float64{1, 2, skNaN, 0}, dataMax: []float64{5, 2, skNaN, 1e-16},
			dataRange: []float64{4, 0, skNaN, 1e-16},
			scale:     []float64{0.5, 2, skNaN, 2}, min: []float64{-1.5, -5, skNaN, -1},
			wantA: []float64{-1, skNaN, 1, 0}, wantB: []float64{-1, -1, 1, skNaN},
			wantC: []float64{skNaN, skNaN, skNaN, skNaN}, wantD: []float64{-0.9999999999999998, 1, -1, -1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, out := skFitTransform(t, "min_max_scaler", tt.params, minMaxTrain, minMaxTest)
			s := f.(*MinMaxScaler)
			skWantFloats(t, "data_min_", s.DataMin, tt.dataMin)
			skWantFloats(t, "data_max_", s.DataMax, tt.dataMax)
			skWantFloats(t, "data_range_", s.DataRange, tt.dataRange)
			skWantFloats(t, "scale_", s.Scale, tt.scale)
			skWantFloats(t, "min_", s.Min, tt.min)
			skWantNames(t, f, []string{"a", "b", "c", "d"})
			skWantFloats(t, "a", out[0].Num, tt.wantA)
			skWantFloats(t, "b", out[1].Num, tt.wantB)
			skWantFloats(t, "c", out[2].Num, tt.wantC)
			skWantFloats(t, "d", out[3].Num, tt.wantD)
		})
	}
}

func TestMinMaxScalerErrors(t *testing.T) {
	tests := []struct {
		name, params string
		train, test  []table.Column
		param        string // "" for a *ValueError
	}{
		{"range reversed", `{"feature_range": [1, 0]}`, []table.Column{skNum("a", 1, 2)}, nil, "feature_range"},
		{"range equal", `{"feature_range": [1, 1]}`, []table.Column{skNum("a", 1, 2)}, nil, "feature_range"},
		{"range length", `{"feature_range": [0, 1, 2]}`, []table.Column{skNum("a", 1, 2)}, nil, "feature_range"},
		{"inf in fit", `{}`, []table.Column{skNum("a", 1, math.Inf(1))}, nil, ""},
		{"inf in transform", `{}`, []table.Column{skNum("a", 1, 2)}, []table.Column{skNum("a", math.Inf(-1))}, ""},
		{"no rows", `{}`, []table.Column{skNum("a")}, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := skFit(t, "min_max_scaler", tt.params, tt.train)
			if err == nil && tt.test != nil {
				_, err = apply(f, tt.test)
			}
			skWantErr(t, err, tt.param)
		})
	}
}

func TestMinMaxScalerCheck(t *testing.T) {
	f, _ := skFitTransform(t, "min_max_scaler", `{}`, minMaxTrain, minMaxTest)
	if err := f.Check(3); err == nil {
		t.Errorf("Check(3) on 4 fitted columns: got nil, want an error")
	}
	s := *f.(*MinMaxScaler)
	s.Min = s.Min[:2]
	if err := s.Check(4); err == nil {
		t.Errorf("Check with 2 min_ entries: got nil, want an error")
	}
}
