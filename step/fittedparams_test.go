package step

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/normguard/normguard/table"
)

// paramsFor decodes a step's parameters over its defaults and validates
// them.
func paramsFor(t *testing.T, name, js string) Params {
	t.Helper()
	def, ok := Lookup(name)
	if !ok {
		t.Fatalf("no step %q", name)
	}
	p := def.NewParams()
	if js != "" {
		if err := json.Unmarshal([]byte(js), p); err != nil {
			t.Fatalf("%s params %s: %v", name, js, err)
		}
	}
	if err := p.Validate(); err != nil {
		t.Fatalf("%s params %s: %v", name, js, err)
	}
	return p
}

func numCol(name string, xs ...float64) table.Column {
	return table.Column{Name: name, Kind: table.Numeric, Num: xs}
}

// strCol is a categorical column; "" is a missing value.
func strCol(name string, xs ...string) table.Column {
	c := table.Column{Name: name, Kind: table.String, Str: xs, Null: make([]bool, len(xs))}
	for i, x := range xs {
		c.Null[i] = x == ""
	}
	return c
}

// streamedVerdict checks f as a streamed reading does, its streamed fields
// fed from memory (StreamedCheck.Check), or with CheckStep when it has
// none.
func streamedVerdict(p Params, f Fitted, nIn int) error {
	c := NewStreamedCheck(p, f)
	if c == nil {
		return CheckStep(p, f, nIn)
	}
	c.f.feed(c)
	return c.Check(nIn)
}

// TestFitAgreesWithItsParams fits every step with parameters that change
// what it writes and requires the fitted step to pass CheckStep against
// them: fit never writes what the rules of fitted_params_check.go refuse.
func TestFitAgreesWithItsParams(t *testing.T) {
	num := []table.Column{numCol("a", 1, 2, 3, 4, 10, math.NaN()), numCol("b", 5, 5, 5, 5, 5, 5)}
	pos := []table.Column{numCol("a", 1, 2, 3, 4, 10, 7), numCol("b", 0.5, 5, 6, 5, 8, 5)}
	noNaN := []table.Column{numCol("a", 1, 2, 3, 4, 10, 11), numCol("b", 5, 5, 5, 5, 5, 5)}
	empty := []table.Column{numCol("a", 1, 2, math.NaN()), numCol("b", math.NaN(), math.NaN(), math.NaN())}
	cat := []table.Column{strCol("c", "x", "y", "y", "z", "", "y", "w", "w"), strCol("d", "p", "q", "p", "p", "q", "p", "p", "q")}
	cases := []struct {
		step, params string
		cols         []table.Column
	}{
		{"standard_scaler", "", num},
		{"standard_scaler", `{"with_mean":false}`, num},
		{"standard_scaler", `{"with_std":false}`, num},
		{"standard_scaler", `{"with_mean":false,"with_std":false}`, num},
		{"min_max_scaler", "", num},
		{"min_max_scaler", `{"feature_range":[-3,0.7],"clip":true}`, num},
		{"min_max_scaler", `{"feature_range":[0.1,0.3]}`, empty},
		{"max_abs_scaler", "", num},
		{"robust_scaler", "", num},
		{"robust_scaler", `{"with_centering":false}`, num},
		{"robust_scaler", `{"with_scaling":false,"quantile_range":[10,90]}`, num},
		{"quantile_transformer", `{"n_quantiles":3}`, num},
		{"quantile_transformer", `{"n_quantiles":1000,"output_distribution":"normal"}`, num},
		{"normalizer", "", noNaN},
		{"normalizer", `{"norm":"l1"}`, noNaN},
		{"normalizer", `{"norm":"max"}`, noNaN},
		{"power_transformer", "", num},
		{"power_transformer", `{"method":"box-cox","standardize":false}`, pos},
		{"kbins_discretizer", "", noNaN},
		{"kbins_discretizer", `{"n_bins":3,"encode":"ordinal","strategy":"quantile","dtype":"float32"}`, noNaN},
		{"kbins_discretizer", `{"n_bins":4,"encode":"onehot-dense","strategy":"uniform"}`, noNaN},
		{"kbins_discretizer", `{"n_bins":2,"encode":"onehot","strategy":"kmeans"}`, noNaN},
		{"binarizer", `{"threshold":2.5}`, noNaN},
		{"log1p", "", noNaN},
		{"simple_imputer", "", num},
		{"simple_imputer", `{"strategy":"median","add_indicator":true}`, num},
		{"simple_imputer", `{"strategy":"constant","fill_value":-7}`, empty},
		{"simple_imputer", `{"strategy":"constant"}`, empty},
		{"simple_imputer", `{"keep_empty_features":true}`, empty},
		{"simple_imputer", `{"strategy":"most_frequent"}`, empty},
		{"simple_imputer", `{"missing_values":5,"strategy":"mean"}`, noNaN},
		{"simple_imputer", `{"strategy":"most_frequent","add_indicator":true}`, cat},
		{"simple_imputer", `{"strategy":"constant","fill_value":"gone"}`, cat},
		{"simple_imputer", `{"strategy":"constant"}`, cat},
		{"simple_imputer", `{"missing_values":"w","strategy":"most_frequent"}`, []table.Column{strCol("c", "x", "w", "y")}},
		{"one_hot_encoder", "", cat},
		{"one_hot_encoder", `{"handle_unknown":"error","drop":"first"}`, cat},
		{"one_hot_encoder", `{"drop":"if_binary"}`, cat},
		{"one_hot_encoder", `{"drop":["y","q"]}`, cat},
		{"one_hot_encoder", `{"max_categories":2,"handle_unknown":"infrequent_if_exist"}`, cat},
		{"one_hot_encoder", `{"max_categories":3,"drop":"if_binary"}`, cat},
		{"one_hot_encoder", `{"min_frequency":2,"drop":"first"}`, cat},
		{"one_hot_encoder", `{"min_frequency":0.3}`, cat},
		{"one_hot_encoder", `{"categories":[["x","y","z","w",null],["p","q","r"]]}`, cat},
		{"ordinal_encoder", "", cat},
		{"ordinal_encoder", `{"handle_unknown":"use_encoded_value","unknown_value":-1,"encoded_missing_value":-2}`, cat},
		{"ordinal_encoder", `{"handle_unknown":"use_encoded_value","unknown_value":"NaN"}`, cat},
	}
	for _, c := range cases {
		p := paramsFor(t, c.step, c.params)
		f, err := p.Fit(&FitContext{}, c.cols)
		if err != nil {
			t.Errorf("%s %s: fit: %v", c.step, c.params, err)
			continue
		}
		if err := CheckStep(p, f, len(c.cols)); err != nil {
			t.Errorf("%s %s: CheckStep refuses what fit wrote: %v", c.step, c.params, err)
		}
		if err := streamedVerdict(p, f, len(c.cols)); err != nil {
			t.Errorf("%s %s: the streamed check refuses what fit wrote: %v", c.step, c.params, err)
		}
	}
}

// TestFittedFieldsAgreeWithParams edits, in a fitted step, a field that
// repeats or follows from a parameter (or edits the parameter, as an
// artifact edited in its params and spec together would), and requires
// CheckStep and the streamed check to refuse it alike, naming the fitted
// field.
func TestFittedFieldsAgreeWithParams(t *testing.T) {
	num := []table.Column{numCol("a", 1, 2, 3, 4, 10, math.NaN()), numCol("b", 5, 5, 5, 5, 5, 5)}
	noNaN := []table.Column{numCol("a", 1, 2, 3, 4, 10, 11), numCol("b", 5, 6, 5, 5, 5, 5)}
	empty := []table.Column{numCol("a", 1, 2, math.NaN()), numCol("b", math.NaN(), math.NaN(), math.NaN())}
	cat := []table.Column{strCol("c", "x", "y", "y", "z", "", "y", "w", "w"), strCol("d", "p", "q", "p", "p", "q", "p", "p", "q")}
	cases := []struct {
		step, params string
		cols         []table.Column
		// checkParams, when set, are the parameters checked instead of
		// the fitted ones (params and spec edited together).
		checkParams string
		edit        func(f Fitted)
		path, msg   string
	}{
		{"standard_scaler", "", num, "", func(f Fitted) { f.(*StandardScaler).WithMean = false },
			"with_mean", "false disagrees with params.with_mean true"},
		{"standard_scaler", "", num, `{"with_std":false}`, nil,
			"with_std", "true disagrees with params.with_std false"},
		{"standard_scaler", `{"with_std":false}`, num, "", func(f Fitted) { f.(*StandardScaler).Scale = Floats{1, 1} },
			"scale_", "is set, but params.with_std is false"},
		{"standard_scaler", `{"with_std":false,"with_mean":false}`, num, "", func(f Fitted) { f.(*StandardScaler).Mean = Floats{1, 1} },
			"mean_", "is set, but params.with_mean and params.with_std are false"},
		{"min_max_scaler", "", num, "", func(f Fitted) { f.(*MinMaxScaler).Clip = true },
			"clip", "true disagrees with params.clip false"},
		{"min_max_scaler", "", num, `{"clip":true}`, nil,
			"clip", "false disagrees with params.clip true"},
		{"min_max_scaler", "", num, `{"feature_range":[0,2]}`, nil,
			"feature_range", "[0,1] disagrees with params.feature_range [0,2]"},
		{"min_max_scaler", "", num, `{"feature_range":[0,2]}`, func(f Fitted) { f.(*MinMaxScaler).FeatureRange = Floats{0, 2} },
			"scale_[0]", "params.feature_range [0,2] and data_range_ give"},
		{"min_max_scaler", "", num, "", func(f Fitted) { f.(*MinMaxScaler).Min[1] = 0.25 },
			"min_[1]", "is 0.25"},
		{"quantile_transformer", `{"n_quantiles":4}`, num, "", func(f Fitted) { f.(*QuantileTransformer).OutputDistribution = "normal" },
			"output_distribution", `"normal" disagrees with params.output_distribution "uniform"`},
		{"quantile_transformer", `{"n_quantiles":4}`, num, `{"n_quantiles":3}`, nil,
			"n_quantiles_", "4 is above params.n_quantiles 3"},
		{"normalizer", "", noNaN, "", func(f Fitted) { f.(*Normalizer).Norm = "l1" },
			"norm", `"l1" disagrees with params.norm "l2"`},
		{"normalizer", "", noNaN, `{"norm":"max"}`, nil,
			"norm", `"l2" disagrees with params.norm "max"`},
		{"power_transformer", "", noNaN, "", func(f Fitted) { f.(*PowerTransformer).Method = "box-cox" },
			"method", `"box-cox" disagrees with params.method "yeo-johnson"`},
		{"power_transformer", "", noNaN, `{"standardize":false}`, nil,
			"standardize", "true disagrees with params.standardize false"},
		{"kbins_discretizer", "", noNaN, "", func(f Fitted) { f.(*KBinsDiscretizer).Encode = "ordinal" },
			"encode", `"ordinal" disagrees with params.encode "onehot"`},
		{"kbins_discretizer", `{"encode":"ordinal"}`, noNaN, `{"encode":"onehot"}`, nil,
			"encode", `"ordinal" disagrees with params.encode "onehot"`},
		{"kbins_discretizer", "", noNaN, "", func(f Fitted) { f.(*KBinsDiscretizer).Float32 = true },
			"float32", "true disagrees with params.dtype null"},
		{"kbins_discretizer", `{"n_bins":4,"strategy":"uniform"}`, noNaN, `{"n_bins":3,"strategy":"uniform"}`, nil,
			"n_bins_[0]", "4 is above params.n_bins 3"},
		{"binarizer", `{"threshold":2}`, noNaN, "", func(f Fitted) { f.(*Binarizer).Threshold = 3 },
			"threshold", "3 disagrees with params.threshold 2"},
		{"robust_scaler", "", num, `{"with_centering":false}`, nil,
			"center_", "is set, but params.with_centering is false"},
		{"robust_scaler", `{"with_scaling":false}`, num, "", nil, "", ""}, // control: no edit
		{"robust_scaler", `{"with_scaling":false}`, num, `{"with_scaling":true}`, nil,
			"scale_", "is null, but params.with_scaling is true"},
		{"simple_imputer", `{"strategy":"constant","fill_value":3}`, num, "", func(f Fitted) { f.(*SimpleImputer).Statistics[1] = 4 },
			"statistics_[1]", "4 disagrees with params.fill_value 3 (strategy constant)"},
		{"simple_imputer", "", num, `{"strategy":"constant","fill_value":3}`, nil,
			"statistics_[0]", "disagrees with params.fill_value 3 (strategy constant)"},
		{"simple_imputer", `{"strategy":"constant"}`, cat, "", func(f Fitted) { v := "x"; f.(*SimpleImputer).StatisticsStr[0] = &v },
			"statistics_str_[0]", `"x" disagrees with params.fill_value "missing_value" (strategy constant)`},
		{"simple_imputer", `{"strategy":"most_frequent"}`, cat, `{"strategy":"mean"}`, nil,
			"statistics_str_", `params.strategy "mean" takes numbers only`},
		{"simple_imputer", `{"keep_empty_features":true}`, empty, "", func(f Fitted) { f.(*SimpleImputer).Statistics[1] = math.NaN() },
			"statistics_[1]", "is NaN (the column is dropped), but params.keep_empty_features true keeps every column"},
		{"simple_imputer", "", empty, `{"keep_empty_features":true}`, nil,
			"statistics_[1]", "is NaN (the column is dropped)"},
		{"simple_imputer", "", num, `{"add_indicator":true}`, nil,
			"indicator_features_", "is null, but params.add_indicator is true"},
		{"simple_imputer", `{"add_indicator":true}`, num, `{"add_indicator":false}`, nil,
			"indicator_features_", "is set, but params.add_indicator is false"},
		{"simple_imputer", "", num, `{"missing_values":0}`, nil,
			"missing_values_number_", "null disagrees with params.missing_values 0"},
		{"ordinal_encoder", "", cat, "", func(f Fitted) {
			f.(*OrdinalEncoder).HandleUnknown = "use_encoded_value"
			u := Float(-1)
			f.(*OrdinalEncoder).UnknownValue = &u
		},
			"handle_unknown", `"use_encoded_value" disagrees with params.handle_unknown "error"`},
		{"ordinal_encoder", `{"handle_unknown":"use_encoded_value","unknown_value":-1}`, cat, `{"handle_unknown":"use_encoded_value","unknown_value":-5}`, nil,
			"unknown_value", "-1 disagrees with params.unknown_value -5"},
		{"ordinal_encoder", `{"handle_unknown":"use_encoded_value","unknown_value":-1}`, cat, `{"handle_unknown":"use_encoded_value","unknown_value":-1,"encoded_missing_value":-3}`, nil,
			"encoded_missing_value", `"NaN" disagrees with params.encoded_missing_value -3`},
		{"one_hot_encoder", "", cat, "", func(f Fitted) { f.(*OneHotEncoder).HandleUnknown = "ignore" },
			"handle_unknown", `"ignore" disagrees with params.handle_unknown "error"`},
		{"one_hot_encoder", `{"handle_unknown":"ignore"}`, cat, `{"handle_unknown":"error"}`, nil,
			"handle_unknown", `"ignore" disagrees with params.handle_unknown "error"`},
		{"one_hot_encoder", "", cat, `{"min_frequency":2}`, nil,
			"infrequent_categories_", "is missing, but params.min_frequency 2 and params.max_categories null ask for infrequent categories"},
		{"one_hot_encoder", `{"max_categories":3}`, cat, "", nil, "", ""}, // control
		{"one_hot_encoder", `{"max_categories":3}`, cat, `{"max_categories":2}`, nil,
			"categories_[0]", "gives 3 outputs (infrequent_categories_ grouped), more than params.max_categories 2"},
		{"one_hot_encoder", `{"min_frequency":2}`, cat, "", func(f Fitted) { f.(*OneHotEncoder).InfrequentCategories = nil },
			"infrequent_categories_", "is missing"},
		{"one_hot_encoder", "", cat, `{"drop":"first"}`, nil,
			"drop_idx_", `is null, but params.drop is "first"`},
		{"one_hot_encoder", `{"drop":"first"}`, cat, "", func(f Fitted) { f.(*OneHotEncoder).DropIdx[1] = nil },
			"drop_idx_[1]", `null disagrees with params.drop "first"`},
		{"one_hot_encoder", `{"drop":"first"}`, cat, `{"drop":"if_binary"}`, nil,
			"drop_idx_[0]", `0 disagrees with params.drop "if_binary"`},
		{"one_hot_encoder", `{"drop":"first"}`, cat, `{"drop":null}`, nil,
			"drop_idx_", "is set, but params.drop is null"},
		{"one_hot_encoder", "", []table.Column{strCol("n", "1.5", "2", "", "2")}, `{"categories":[["1.5","2",null]]}`, nil,
			"categories_dtype_", "is set, but params.categories are given lists"},
	}
	for i, c := range cases {
		p := paramsFor(t, c.step, c.params)
		f, err := p.Fit(&FitContext{}, c.cols)
		if err != nil {
			t.Fatalf("case %d %s %s: fit: %v", i, c.step, c.params, err)
		}
		if c.edit != nil {
			c.edit(f)
		}
		check := p
		if c.checkParams != "" {
			check = paramsFor(t, c.step, c.checkParams)
		}
		for _, v := range []struct {
			how string
			err error
		}{{"CheckStep", CheckStep(check, f, len(c.cols))}, {"streamed", streamedVerdict(check, f, len(c.cols))}} {
			if c.path == "" {
				if v.err != nil {
					t.Errorf("case %d %s %s: %s refuses: %v", i, c.step, c.params, v.how, v.err)
				}
				continue
			}
			var pe *PathError
			if !errors.As(v.err, &pe) || pe.Path != c.path || !strings.Contains(pe.Msg, c.msg) {
				t.Errorf("case %d %s %s: %s gives %v, want %s: ...%s", i, c.step, c.params, v.how, v.err, c.path, c.msg)
			}
		}
	}
	// Fitted.Check alone has no parameters to compare with.
	p := paramsFor(t, "quantile_transformer", `{"n_quantiles":4}`)
	f, err := p.Fit(&FitContext{}, num)
	if err != nil {
		t.Fatal(err)
	}
	f.(*QuantileTransformer).OutputDistribution = "normal"
	if err := f.Check(2); err != nil {
		t.Errorf("Fitted.Check compares with parameters it does not have: %v", err)
	}
	// Parameters of another step are an error, not a pass.
	if err := CheckStep(paramsFor(t, "normalizer", ""), f, 2); err == nil || !strings.Contains(err.Error(), "not quantile_transformer's") {
		t.Errorf("another step's parameters: got %v", err)
	}
}
