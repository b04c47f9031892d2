package step

import (
	"math"
	"testing"

	"github.com/normguard/normguard/table"
)

func TestSimpleImputerPeerFitted(t *testing.T) {
	// The mean is exact here and numpy.ma.mean is not: allow an ulp or so.
	skCheckPeerFitted(t, "simple_imputer__mean", "SimpleImputer", 1e-15)
	skCheckPeerFitted(t, "simple_imputer__median", "SimpleImputer", 0)
	skCheckPeerFitted(t, "simple_imputer__most_frequent", "SimpleImputer", 0)
	skCheckPeerFitted(t, "simple_imputer__constant_indicator", "SimpleImputer", 0)
	skCheckPeerFitted(t, "pipeline__most_frequent_then_one_hot", "SimpleImputer", 0)
	skCheckPeerFitted(t, "pipeline__constant_then_one_hot", "SimpleImputer", 0)
}

// Numeric training data: a has tied most frequent values (1 and 3), b has
// no value at all, c has a huge value that makes a naive mean inexact.
var imputerTrain = []table.Column{
	skNum("a", 3, 1, 3, 1, skNaN, 2),
	skNum("b", skNaN, skNaN, skNaN, skNaN, skNaN, skNaN),
	skNum("c", 0.1, 0.2, 0.3, skNaN, 0.7, 1e16),
}

var imputerTest = []table.Column{
	skNum("a", skNaN, 5),
	skNum("b", skNaN, 4),
	skNum("c", skNaN, skNaN),
}

func TestSimpleImputerNumeric(t *testing.T) {
	// Values from scikit-learn 1.2.1:
	//   s = SimpleImputer(**params).fit(pd.DataFrame(train))
	//   s.statistics_, s.get_feature_names_out(), s.transform(pd.DataFrame(test))
	tests := []struct {
		name, params string
		stats        []float64
		names        []string
		want         [][]float64 // output columns
	}{
		{
			name: "mean drops the empty column", params: `{}`,
			stats: []float64{2, skNaN, 2000000000000000.5},
			names: []string{"a", "c"},
			want:  [][]float64{{2, 5}, {2000000000000000.5, 2000000000000000.5}},
		},
		{
			name: "median", params: `{"strategy": "median"}`,
			stats: []float64{2, skNaN, 0.3},
			names: []string{"a", "c"},
			want:  [][]float64{{2, 5}, {0.3, 0.3}},
		},
		{
			name: "most_frequent takes the smallest of ties", params: `{"strategy": "most_frequent"}`,
			stats: []float64{1, skNaN, 0.1},
			names: []string{"a", "c"},
			want:  [][]float64{{1, 5}, {0.1, 0.1}},
		},
		{
			name: "constant keeps the empty column", params: `{"strategy": "constant", "fill_value": -1.5, "add_indicator": true}`,
			stats: []float64{-1.5, -1.5, -1.5},
			names: []string{"a", "b", "c", "missingindicator_a", "missingindicator_b", "missingindicator_c"},
			want:  [][]float64{{-1.5, 5}, {-1.5, 4}, {-1.5, -1.5}, {1, 0}, {1, 0}, {1, 1}},
		},
		{
			name: "keep_empty_features", params: `{"keep_empty_features": true, "add_indicator": true}`,
			stats: []float64{2, 0, 2000000000000000.5},
			names: []string{"a", "b", "c", "missingindicator_a", "missingindicator_b", "missingindicator_c"},
			want:  [][]float64{{2, 5}, {0, 4}, {2000000000000000.5, 2000000000000000.5}, {1, 0}, {1, 0}, {1, 1}},
		},
		{
			name: "constant defaults to 0", params: `{"strategy": "constant", "missing_values": "NaN"}`,
			stats: []float64{0, 0, 0},
			names: []string{"a", "b", "c"},
			want:  [][]float64{{0, 5}, {0, 4}, {0, 0}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, out := skFitTransform(t, "simple_imputer", tt.params, imputerTrain, imputerTest)
			skWantFloats(t, "statistics_", f.(*SimpleImputer).Statistics, tt.stats)
			skWantNames(t, f, tt.names)
			for j := range tt.want {
				skWantFloats(t, out[j].Name, out[j].Num, tt.want[j])
			}
		})
	}
}

// TestSimpleImputerIndicatorMissingOnly checks that indicators are added
// only for columns with missing values in training (scikit-learn 1.2.1:
// SimpleImputer(add_indicator=True).fit(pd.DataFrame({'a':[1.,2],'b':[nan,1.]}))
// .get_feature_names_out() == ['a', 'b', 'missingindicator_b'];
// transform({'a':[nan],'b':[nan]}) == [[1.5, 1.0, 1.0]]).
func TestSimpleImputerIndicatorMissingOnly(t *testing.T) {
	train := []table.Column{skNum("a", 1, 2), skNum("b", skNaN, 1)}
	test := []table.Column{skNum("a", skNaN), skNum("b", skNaN)}
	f, out := skFitTransform(t, "simple_imputer", `{"add_indicator": true}`, train, test)
	skWantNames(t, f, []string{"a", "b", "missingindicator_b"})
	for j, want := range []float64{1.5, 1, 1} {
		skWantFloats(t, out[j].Name, out[j].Num, []float64{want})
	}
}

// TestSimpleImputerMeanChunking checks the mean does not depend on how the
// rows are chunked.
func TestSimpleImputerMeanChunking(t *testing.T) {
	xs := make([]float64, 1001)
	for i := range xs {
		xs[i] = math.Pow(-1.1, float64(i%50)) * float64(i)
		if i%7 == 0 {
			xs[i] = skNaN
		}
	}
	p := &SimpleImputerParams{Strategy: "mean"}
	var first float64
	for i, fc := range []*FitContext{nil, {ChunkSize: 1}, {ChunkSize: 7, Workers: 3}, {ChunkSize: 1000, Workers: 2}} {
		f, err := p.Fit(fc, []table.Column{skNum("x", xs...)})
		if err != nil {
			t.Fatal(err)
		}
		got := f.(*SimpleImputer).Statistics[0]
		if i == 0 {
			first = got
		} else if math.Float64bits(got) != math.Float64bits(first) {
			t.Errorf("chunking %+v: got %v, want %v", fc, got, first)
		}
	}
}

func TestSimpleImputerStrings(t *testing.T) {
	// Values from scikit-learn 1.2.1 on object columns (missing = np.nan):
	//   s = SimpleImputer(**params).fit(pd.DataFrame({'s':['b','a','b','a',nan,'c'],
	//       't':[nan]*6, 'u':['z','é','é','z','y',nan]}, dtype=object))
	//   s.transform(pd.DataFrame({'s':[nan,'q'],'t':[nan,'k'],'u':[nan,'w']}, dtype=object))
	train := []table.Column{
		skStr("s", "b", "a", "b", "a", "<NA>", "c"),
		skStr("t", "<NA>", "<NA>", "<NA>", "<NA>", "<NA>", "<NA>"),
		skStr("u", "z", "é", "é", "z", "y", "<NA>"),
	}
	test := []table.Column{skStr("s", "<NA>", "q"), skStr("t", "<NA>", "k"), skStr("u", "<NA>", "w")}
	tests := []struct {
		name, params string
		stats        []string // "<NA>" for no statistic
		names        []string
		want         [][]string
		indicators   [][]float64
	}{
		{
			name: "most_frequent ties and indicator", params: `{"strategy": "most_frequent", "add_indicator": true}`,
			stats: []string{"a", "<NA>", "z"},
			names: []string{"s", "u", "missingindicator_s", "missingindicator_t", "missingindicator_u"},
			want:  [][]string{{"a", "q"}, {"z", "w"}}, indicators: [][]float64{{1, 0}, {1, 0}, {1, 0}},
		},
		{
			name: "constant", params: `{"strategy": "constant", "fill_value": "?"}`,
			stats: []string{"?", "?", "?"},
			names: []string{"s", "t", "u"},
			want:  [][]string{{"?", "q"}, {"?", "k"}, {"?", "w"}},
		},
		{
			name: "constant default", params: `{"strategy": "constant", "missing_values": null}`,
			stats: []string{"missing_value", "missing_value", "missing_value"},
			names: []string{"s", "t", "u"},
			want:  [][]string{{"missing_value", "q"}, {"missing_value", "k"}, {"missing_value", "w"}},
		},
		{
			// scikit-learn fills the empty column with the integer 0.
			name: "keep_empty_features", params: `{"strategy": "most_frequent", "keep_empty_features": true}`,
			stats: []string{"a", "0", "z"},
			names: []string{"s", "t", "u"},
			want:  [][]string{{"a", "q"}, {"0", "k"}, {"z", "w"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, out := skFitTransform(t, "simple_imputer", tt.params, train, test)
			s := f.(*SimpleImputer)
			if s.Statistics != nil {
				t.Errorf("statistics_: got %v, want null for categorical data", s.Statistics)
			}
			for j, w := range tt.stats {
				got := "<NA>"
				if s.StatisticsStr[j] != nil {
					got = *s.StatisticsStr[j]
				}
				if got != w {
					t.Errorf("statistics_str_[%d]: got %q, want %q", j, got, w)
				}
			}
			skWantNames(t, f, tt.names)
			for j, w := range tt.want {
				if out[j].Kind != table.String || out[j].Null != nil {
					t.Errorf("%s: got kind %v with null mask %v, want a complete string column", out[j].Name, out[j].Kind, out[j].Null)
				}
				for i := range w {
					if out[j].Str[i] != w[i] {
						t.Errorf("%s[%d]: got %q, want %q", out[j].Name, i, out[j].Str[i], w[i])
					}
				}
			}
			for k, w := range tt.indicators {
				c := out[len(tt.want)+k]
				skWantFloats(t, c.Name, c.Num, w)
			}
		})
	}
}

// TestSimpleImputerInPlace checks the kernel when out shares storage with
// in (numeric and string), including the indicator.
func TestSimpleImputerInPlace(t *testing.T) {
	num := []table.Column{skNum("a", 1, skNaN, 3)}
	f, err := skFit(t, "simple_imputer", `{}`, num)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Transform(num, num, 3); err != nil {
		t.Fatal(err)
	}
	skWantFloats(t, "a", num[0].Num, []float64{1, 2, 3})

	str := []table.Column{skStr("s", "x", "<NA>", "x")}
	f, err = skFit(t, "simple_imputer", `{"strategy": "most_frequent", "add_indicator": true}`, str)
	if err != nil {
		t.Fatal(err)
	}
	out := []table.Column{str[0], {Name: "missingindicator_s", Kind: table.Numeric}}
	if err := f.Transform(str, out, 3); err != nil {
		t.Fatal(err)
	}
	if got := out[0].Str; got[0] != "x" || got[1] != "x" || got[2] != "x" {
		t.Errorf("s: got %q, want [x x x]", got)
	}
	skWantFloats(t, "missingindicator_s", out[1].Num, []float64{0, 1, 0})
}

func TestSimpleImputerErrors(t *testing.T) {
	num := []table.Column{skNum("a", 1, skNaN)}
	str := []table.Column{skStr("city", "x", "<NA>")}
	tests := []struct {
		name, params string
		train        []table.Column
		param        string
	}{
		// scikit-learn: "Cannot use mean strategy with non-numeric data"
		{"mean on strings", `{}`, str, "strategy"},
		{"median on strings", `{"strategy": "median"}`, str, "strategy"},
		// scikit-learn: "'fill_value'=z is invalid. Expected a numerical value"
		{"string fill on numbers", `{"strategy": "constant", "fill_value": "z"}`, num, "fill_value"},
		{"number fill on strings", `{"strategy": "constant", "fill_value": 0}`, str, "fill_value"},
		// scikit-learn: "'X' and 'missing_values' types are expected to be both numerical"
		{"missing_values number on strings", `{"strategy": "most_frequent", "missing_values": 0}`, str, "missing_values"},
		{"missing_values string on numbers", `{"missing_values": "?"}`, num, "missing_values"},
		// scikit-learn: "Input contains NaN" when missing_values is a placeholder.
		{"NaN with a placeholder", `{"missing_values": 0}`, num, ""},
		{"empty cell with a placeholder", `{"strategy": "most_frequent", "missing_values": "?"}`, str, ""},
		{"strategy", `{"strategy": "mode"}`, num, "strategy"},
		{"fill_value bool", `{"fill_value": true}`, num, "fill_value"},
		{"inf", `{}`, []table.Column{skNum("a", math.Inf(1))}, ""},
		{"mixed kinds", `{"strategy": "most_frequent"}`, []table.Column{num[0], str[0]}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := skFit(t, "simple_imputer", tt.params, tt.train)
			skWantErr(t, err, tt.param)
		})
	}
	f, err := skFit(t, "simple_imputer", `{}`, num)
	if err != nil {
		t.Fatal(err)
	}
	_, err = apply(f, []table.Column{skNum("a", math.Inf(-1))})
	skWantErr(t, err, "")

	checks := []struct {
		name string
		s    SimpleImputer
	}{
		{"both statistics", SimpleImputer{Statistics: Floats{1}, StatisticsStr: []*string{nil}, Names: []string{"a"}}},
		{"no statistics", SimpleImputer{Names: []string{"a"}}},
		{"statistics length", SimpleImputer{Statistics: Floats{1, 2}, Names: []string{"a"}}},
		{"indicator range", SimpleImputer{Statistics: Floats{1}, IndicatorFeatures: []int{1}, Names: []string{"a"}}},
	}
	for _, c := range checks {
		if err := c.s.Check(1); err == nil {
			t.Errorf("Check %s: got nil, want an error", c.name)
		}
	}
}
