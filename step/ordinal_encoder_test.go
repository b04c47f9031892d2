package step

import (
	"fmt"
	"testing"

	"github.com/normguard/normguard/table"
)

// Reference values from scikit-learn 1.2.1, produced for each case by
//
//	est = OrdinalEncoder(<params as commented>)
//	est.fit(train); est.get_feature_names_out(cols); est.transform(test)
//
// on object arrays where a missing cell is np.nan.
var ordinalCases = []encoderCase{
	// OrdinalEncoder()
	{
		name:   "missing_is_nan_by_default",
		params: `{}`,
		cols:   []string{"c"},
		train:  [][]string{{"b", "a", encNA, "a"}},
		test:   [][]string{{"a", encNA, "b"}},
		names:  []string{"c"},
		want:   [][]float64{{0.0}, {encNaN}, {1.0}},
	},
	// OrdinalEncoder(encoded_missing_value=-1)
	{
		name:   "encoded_missing_value",
		params: `{"encoded_missing_value": -1}`,
		cols:   []string{"c"},
		train:  [][]string{{"a", "b", encNA}},
		test:   [][]string{{encNA, "a", "b"}},
		names:  []string{"c"},
		want:   [][]float64{{-1.0}, {0.0}, {1.0}},
	},
	// OrdinalEncoder(handle_unknown='use_encoded_value', unknown_value=-1)
	{
		name:   "unknown_value_int",
		params: `{"handle_unknown": "use_encoded_value", "unknown_value": -1}`,
		cols:   []string{"c0", "c1"},
		train:  [][]string{{"a", "b"}, {"x", "y"}},
		test:   [][]string{{encNA, "c", "b"}, {"y", "x", "z"}},
		names:  []string{"c0", "c1"},
		want:   [][]float64{{-1.0, 1.0}, {-1.0, 0.0}, {1.0, -1.0}},
	},
	// OrdinalEncoder(handle_unknown='use_encoded_value', unknown_value=nan)
	{
		name:   "unknown_value_nan",
		params: `{"handle_unknown": "use_encoded_value", "unknown_value": "NaN"}`,
		cols:   []string{"c"},
		train:  [][]string{{"a", "b"}},
		test:   [][]string{{"c", "b"}},
		names:  []string{"c"},
		want:   [][]float64{{encNaN}, {1.0}},
	},
	// OrdinalEncoder(handle_unknown='use_encoded_value', unknown_value=1)
	{
		name:   "unknown_value_above_codes",
		params: `{"handle_unknown": "use_encoded_value", "unknown_value": 1}`,
		cols:   []string{"c"},
		train:  [][]string{{"a"}},
		test:   [][]string{{"z", "a"}},
		names:  []string{"c"},
		want:   [][]float64{{1.0}, {0.0}},
	},
	// OrdinalEncoder(handle_unknown='use_encoded_value', unknown_value=1)
	{
		name:   "unknown_value_used_code_is_error",
		params: `{"handle_unknown": "use_encoded_value", "unknown_value": 1}`,
		cols:   []string{"c"},
		train:  [][]string{{"a", "b"}},
		test:   [][]string{{"a"}},
		fitErr: true, // scikit-learn: ValueError: The used value for unknown_value 1 is one of the values already used for encoding the seen categories.
	},
	// OrdinalEncoder(encoded_missing_value=1)
	{
		name:   "encoded_missing_value_used_code_is_error",
		params: `{"encoded_missing_value": 1}`,
		cols:   []string{"c"},
		train:  [][]string{{"a", "b", encNA}},
		test:   [][]string{{"a"}},
		fitErr: true, // scikit-learn: ValueError: encoded_missing_value (1) is already used to encode a known category in features: [0]
	},
	// OrdinalEncoder(encoded_missing_value=1)
	{
		name:   "encoded_missing_value_without_missing_is_fine",
		params: `{"encoded_missing_value": 1}`,
		cols:   []string{"c"},
		train:  [][]string{{"a", "b"}},
		test:   [][]string{{"b"}},
		names:  []string{"c"},
		want:   [][]float64{{1.0}},
	},
	// OrdinalEncoder()
	{
		name:         "unknown_error",
		params:       `{}`,
		cols:         []string{"c"},
		train:        [][]string{{"a", "b"}},
		test:         [][]string{{"a", "zz"}},
		transformErr: true, // scikit-learn: ValueError: Found unknown categories ['zz'] in column 0 during transform
	},
	// OrdinalEncoder()
	{
		name:         "unknown_error_unseen_missing",
		params:       `{}`,
		cols:         []string{"c"},
		train:        [][]string{{"a", "b"}},
		test:         [][]string{{"a", encNA}},
		transformErr: true, // scikit-learn: ValueError: Found unknown categories [nan] in column 0 during transform
	},
	// OrdinalEncoder(handle_unknown='use_encoded_value', unknown_value=-2, encoded_missing_value=-1)
	{
		name:   "unknown_value_missing_unseen_gets_unknown_value",
		params: `{"handle_unknown": "use_encoded_value", "unknown_value": -2, "encoded_missing_value": -1}`,
		cols:   []string{"c"},
		train:  [][]string{{"a", "b"}},
		test:   [][]string{{encNA, "a"}},
		names:  []string{"c"},
		want:   [][]float64{{-2.0}, {0.0}},
	},
	// OrdinalEncoder(categories=[['z', 'b', 'a']])
	{
		name:   "categories_explicit",
		params: `{"categories": [["z", "b", "a"]]}`,
		cols:   []string{"c"},
		train:  [][]string{{"a", "b"}},
		test:   [][]string{{"a", "z", "b"}},
		names:  []string{"c"},
		want:   [][]float64{{2.0}, {0.0}, {1.0}},
	},
	// OrdinalEncoder(categories=[[nan, 'a']], handle_unknown='use_encoded_value', unknown_value=-1, encoded_missing_value=-2)
	{
		name:   "categories_explicit_missing_first_unknown_value_wins",
		params: `{"categories": [[null, "a"]], "handle_unknown": "use_encoded_value", "unknown_value": -1, "encoded_missing_value": -2}`,
		cols:   []string{"c"},
		train:  [][]string{{"a", encNA, "q"}},
		test:   [][]string{{"zz", encNA, "a"}},
		names:  []string{"c"},
		want:   [][]float64{{-1.0}, {-2.0}, {1.0}},
	},
	// OrdinalEncoder(categories=[['a']])
	{
		name:   "categories_explicit_unknown_in_fit",
		params: `{"categories": [["a"]]}`,
		cols:   []string{"c"},
		train:  [][]string{{"a", "b"}},
		test:   [][]string{{"a"}},
		fitErr: true, // scikit-learn: ValueError: Found unknown categories ['b'] in column 0 during fit
	},
	// OrdinalEncoder(dtype=numpy.int64)
	{
		name:   "nan_code_needs_float_dtype",
		params: `{"dtype": "int64"}`,
		cols:   []string{"c"},
		train:  [][]string{{"a", encNA}},
		test:   [][]string{{"a"}},
		fitErr: true, // scikit-learn: ValueError: There are missing values in features [0]. For OrdinalEncoder to encode missing values with dtype: int64, set encoded_missing_value to a non-nan value, or set dtype to a float
	},
	// OrdinalEncoder(dtype=numpy.int64, encoded_missing_value=-1)
	{
		name:   "int_dtype_with_integer_missing_code",
		params: `{"dtype": "int64", "encoded_missing_value": -1}`,
		cols:   []string{"c"},
		train:  [][]string{{"a", encNA}},
		test:   [][]string{{"a", encNA}},
		names:  []string{"c"},
		want:   [][]float64{{0.0}, {-1.0}},
	},
}

func TestOrdinalEncoder(t *testing.T) { runEncoderCases(t, "ordinal_encoder", ordinalCases) }

func TestOrdinalEncoderParamErrors(t *testing.T) {
	checkParamErrors(t, "ordinal_encoder", []struct{ params, param string }{
		{`{"handle_unknown": "use_encoded_value"}`, "unknown_value"},
		{`{"handle_unknown": "use_encoded_value", "unknown_value": null}`, "unknown_value"},
		{`{"unknown_value": -1}`, "unknown_value"},
		{`{"handle_unknown": "use_encoded_value", "unknown_value": 0}`, "unknown_value"},
		{`{"handle_unknown": "use_encoded_value", "unknown_value": "NaN", "dtype": "int64"}`, "unknown_value"},
		{`{"handle_unknown": "ignore"}`, "handle_unknown"},
		{`{"encoded_missing_value": null}`, "encoded_missing_value"},
		{`{"min_frequency": 5}`, "min_frequency"},
		{`{"max_categories": 3}`, "max_categories"},
		{`{"dtype": "object"}`, "dtype"},
		{`{"categories": [["a", "a"]]}`, "categories"},
		{`{"handle_unknown": "use_encoded_value", "unknown_value": -1.5}`, ""},
		{`{"handle_unknown": "use_encoded_value", "unknown_value": 2.0}`, ""},
		{`{"encoded_missing_value": "missing"}`, ""},
	})
}

func TestOrdinalEncoderRejectsInconsistentFitted(t *testing.T) {
	const ok = `{"feature_names_in_":["c"],"categories_":[["a",null]],"handle_unknown":"use_encoded_value","unknown_value":-1,"encoded_missing_value":"NaN"}`
	var fs FittedStep
	doc := `{"step":"ordinal_encoder","params":{"handle_unknown":"use_encoded_value","unknown_value":-1},"inputs":["c"],"fitted":` + ok + `}`
	if err := fs.UnmarshalJSON([]byte(doc)); err != nil {
		t.Fatalf("valid fitted step refused: %v", err)
	}
	checkBadFitted(t, "ordinal_encoder", `{}`, []struct{ name, fitted string }{
		{"names_length", `{"feature_names_in_":["c","d"],"categories_":[["a"],["b"]],"handle_unknown":"error","unknown_value":null,"encoded_missing_value":"NaN"}`},
		{"categories_length", `{"feature_names_in_":["c"],"categories_":[["a"],["b"]],"handle_unknown":"error","unknown_value":null,"encoded_missing_value":"NaN"}`},
		{"duplicate_category", `{"feature_names_in_":["c"],"categories_":[["a","a"]],"handle_unknown":"error","unknown_value":null,"encoded_missing_value":"NaN"}`},
		{"empty_categories", `{"feature_names_in_":["c"],"categories_":[[]],"handle_unknown":"error","unknown_value":null,"encoded_missing_value":"NaN"}`},
		{"unknown_value_with_error", `{"feature_names_in_":["c"],"categories_":[["a"]],"handle_unknown":"error","unknown_value":-1,"encoded_missing_value":"NaN"}`},
		{"unknown_value_missing", `{"feature_names_in_":["c"],"categories_":[["a"]],"handle_unknown":"use_encoded_value","unknown_value":null,"encoded_missing_value":"NaN"}`},
		{"unknown_value_used", `{"feature_names_in_":["c"],"categories_":[["a","b"]],"handle_unknown":"use_encoded_value","unknown_value":1,"encoded_missing_value":"NaN"}`},
		{"unknown_value_fraction", `{"feature_names_in_":["c"],"categories_":[["a","b"]],"handle_unknown":"use_encoded_value","unknown_value":-0.5,"encoded_missing_value":"NaN"}`},
		{"encoded_missing_value_used", `{"feature_names_in_":["c"],"categories_":[["a",null]],"handle_unknown":"error","unknown_value":null,"encoded_missing_value":0}`},
		{"encoded_missing_value_fraction", `{"feature_names_in_":["c"],"categories_":[["a"]],"handle_unknown":"error","unknown_value":null,"encoded_missing_value":0.5}`},
		{"handle_unknown", `{"feature_names_in_":["c"],"categories_":[["a"]],"handle_unknown":"ignore","unknown_value":null,"encoded_missing_value":"NaN"}`},
	})
}

func BenchmarkOrdinalEncoderTransform(b *testing.B) {
	for _, bc := range []struct{ rows, cats int }{{1000, 50}, {100_000, 50}, {100_000, 5000}} {
		b.Run(fmt.Sprintf("rows=%d/cats=%d", bc.rows, bc.cats), func(b *testing.B) {
			cats := make([]string, bc.cats)
			for k := range cats {
				cats[k] = fmt.Sprintf("category-%05d", k)
			}
			vals := make([]string, bc.rows)
			for i := range vals {
				vals[i] = cats[(i*7919)%bc.cats]
			}
			in := encStrCols([]string{"c"}, [][]string{vals})
			f, err := DefaultOrdinalEncoderParams().Fit(nil, in)
			if err != nil {
				b.Fatal(err)
			}
			out := []table.Column{{Name: "c", Kind: table.Numeric, Num: make([]float64, bc.rows)}}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if err := f.Transform(in, out, bc.rows); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
