package step

import (
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/normguard/normguard/table"
)

// Reference values from scikit-learn 1.2.1, produced for each case by
//
//	est = OneHotEncoder(<params as commented>, sparse_output=False)
//	est.fit(train); est.get_feature_names_out(cols); est.transform(test)
//	est.drop_idx_; est.infrequent_categories_
//
// on object arrays where a missing cell is np.nan.
var oneHotCases = []encoderCase{
	// OneHotEncoder()
	{
		name:   "missing_is_a_category_named_nan",
		params: `{}`,
		cols:   []string{"c"},
		train:  [][]string{{"b", "a", encNA, "a"}},
		test:   [][]string{{"a", encNA, "b"}},
		names:  []string{"c_a", "c_b", "c_nan"},
		want:   [][]float64{{1.0, 0.0, 0.0}, {0.0, 0.0, 1.0}, {0.0, 1.0, 0.0}},
	},
	// OneHotEncoder(drop='first')
	{
		name:    "drop_first",
		params:  `{"drop": "first"}`,
		cols:    []string{"c0", "c1"},
		train:   [][]string{{"b", "a", "c", "a"}, {"x", "y", "x", "x"}},
		test:    [][]string{{"a", "b", "c"}, {"y", "x", "y"}},
		names:   []string{"c0_b", "c0_c", "c1_y"},
		dropIdx: []int{0, 0},
		want:    [][]float64{{0.0, 0.0, 1.0}, {1.0, 0.0, 0.0}, {0.0, 1.0, 1.0}},
	},
	// OneHotEncoder(drop='first')
	{
		name:    "drop_first_single_category_drops_column",
		params:  `{"drop": "first"}`,
		cols:    []string{"c0", "c1"},
		train:   [][]string{{"a", "a"}, {"x", "y"}},
		test:    [][]string{{"a"}, {"y"}},
		names:   []string{"c1_y"},
		dropIdx: []int{0, 0},
		want:    [][]float64{{1.0}},
	},
	// OneHotEncoder(drop='if_binary')
	{
		name:    "drop_if_binary",
		params:  `{"drop": "if_binary"}`,
		cols:    []string{"c0", "c1"},
		train:   [][]string{{"b", "a", "c", "a"}, {"x", "y", "x", "x"}},
		test:    [][]string{{"a", "b", "c"}, {"y", "x", "y"}},
		names:   []string{"c0_a", "c0_b", "c0_c", "c1_y"},
		dropIdx: []int{-1, 0},
		want:    [][]float64{{1.0, 0.0, 0.0, 1.0}, {0.0, 1.0, 0.0, 0.0}, {0.0, 0.0, 1.0, 1.0}},
	},
	// OneHotEncoder(drop=[nan, 'y'])
	{
		name:    "drop_list_with_missing",
		params:  `{"drop": [null, "y"]}`,
		cols:    []string{"c0", "c1"},
		train:   [][]string{{"a", encNA, "b"}, {"x", "y", "x"}},
		test:    [][]string{{encNA, "a", "b"}, {"x", "y", "x"}},
		names:   []string{"c0_a", "c0_b", "c1_x"},
		dropIdx: []int{2, 1},
		want:    [][]float64{{0.0, 0.0, 1.0}, {1.0, 0.0, 0.0}, {0.0, 1.0, 1.0}},
	},
	// OneHotEncoder(min_frequency=6)
	{
		name:       "min_frequency_int",
		params:     `{"min_frequency": 6}`,
		cols:       []string{"c"},
		train:      [][]string{encCat(encRep("a", 5), encRep("b", 20), encRep("c", 10), encRep("d", 3))},
		test:       [][]string{{"a", "b", "c", "d"}},
		names:      []string{"c_b", "c_c", "c_infrequent_sklearn"},
		infrequent: [][]string{{"a", "d"}},
		want:       [][]float64{{0.0, 0.0, 1.0}, {1.0, 0.0, 0.0}, {0.0, 1.0, 0.0}, {0.0, 0.0, 1.0}},
	},
	// OneHotEncoder(min_frequency=6)
	{
		name:       "min_frequency_int_infrequent_in_middle",
		params:     `{"min_frequency": 6}`,
		cols:       []string{"c"},
		train:      [][]string{encCat(encRep("a", 7), encRep("b", 2), encRep("c", 7))},
		test:       [][]string{{"a", "b", "c"}},
		names:      []string{"c_a", "c_c", "c_infrequent_sklearn"},
		infrequent: [][]string{{"b"}},
		want:       [][]float64{{1.0, 0.0, 0.0}, {0.0, 0.0, 1.0}, {0.0, 1.0, 0.0}},
	},
	// OneHotEncoder(min_frequency=0.3)
	{
		name:       "min_frequency_float",
		params:     `{"min_frequency": 0.3}`,
		cols:       []string{"c"},
		train:      [][]string{encCat(encRep("a", 5), encRep("b", 20), encRep("c", 10), encRep("d", 3))},
		test:       [][]string{{"a", "b", "c", "d"}},
		names:      []string{"c_b", "c_infrequent_sklearn"},
		infrequent: [][]string{{"a", "c", "d"}},
		want:       [][]float64{{0.0, 1.0}, {1.0, 0.0}, {0.0, 1.0}, {0.0, 1.0}},
	},
	// OneHotEncoder(min_frequency=0.2631578947368421)
	{
		name:       "min_frequency_float_boundary_is_frequent",
		params:     `{"min_frequency": 0.2631578947368421}`,
		cols:       []string{"c"},
		train:      [][]string{encCat(encRep("a", 5), encRep("b", 20), encRep("c", 10), encRep("d", 3))},
		test:       [][]string{{"a", "b", "c", "d"}},
		names:      []string{"c_b", "c_c", "c_infrequent_sklearn"},
		infrequent: [][]string{{"a", "d"}},
		want:       [][]float64{{0.0, 0.0, 1.0}, {1.0, 0.0, 0.0}, {0.0, 1.0, 0.0}, {0.0, 0.0, 1.0}},
	},
	// OneHotEncoder(min_frequency=2)
	{
		name:       "min_frequency_missing_is_infrequent",
		params:     `{"min_frequency": 2}`,
		cols:       []string{"c"},
		train:      [][]string{{"a", "a", "b", "b", encNA}},
		test:       [][]string{{"a", "b", encNA}},
		names:      []string{"c_a", "c_b", "c_infrequent_sklearn"},
		infrequent: [][]string{{encNA}},
		want:       [][]float64{{1.0, 0.0, 0.0}, {0.0, 1.0, 0.0}, {0.0, 0.0, 1.0}},
	},
	// OneHotEncoder(max_categories=2)
	{
		name:       "max_categories_2",
		params:     `{"max_categories": 2}`,
		cols:       []string{"c"},
		train:      [][]string{encCat(encRep("a", 5), encRep("b", 20), encRep("c", 10), encRep("d", 3))},
		test:       [][]string{{"a", "b", "c", "d"}},
		names:      []string{"c_b", "c_infrequent_sklearn"},
		infrequent: [][]string{{"a", "c", "d"}},
		want:       [][]float64{{0.0, 1.0}, {1.0, 0.0}, {0.0, 1.0}, {0.0, 1.0}},
	},
	// OneHotEncoder(max_categories=1)
	{
		name:       "max_categories_1_marks_nothing",
		params:     `{"max_categories": 1}`,
		cols:       []string{"c"},
		train:      [][]string{encCat(encRep("a", 5), encRep("b", 20), encRep("c", 10), encRep("d", 3))},
		test:       [][]string{{"a", "b", "c", "d"}},
		names:      []string{"c_a", "c_b", "c_c", "c_d"},
		infrequent: [][]string{nil},
		want:       [][]float64{{1.0, 0.0, 0.0, 0.0}, {0.0, 1.0, 0.0, 0.0}, {0.0, 0.0, 1.0, 0.0}, {0.0, 0.0, 0.0, 1.0}},
	},
	// OneHotEncoder(max_categories=3)
	{
		name:       "max_categories_ties_keep_category_order",
		params:     `{"max_categories": 3}`,
		cols:       []string{"c"},
		train:      [][]string{encCat(encRep("a", 3), encRep("b", 3), encRep("c", 3), encRep("d", 3))},
		test:       [][]string{{"a", "b", "c", "d"}},
		names:      []string{"c_c", "c_d", "c_infrequent_sklearn"},
		infrequent: [][]string{{"a", "b"}},
		want:       [][]float64{{0.0, 0.0, 1.0}, {0.0, 0.0, 1.0}, {1.0, 0.0, 0.0}, {0.0, 1.0, 0.0}},
	},
	// OneHotEncoder(max_categories=3, min_frequency=4)
	{
		name:       "max_categories_with_min_frequency",
		params:     `{"max_categories": 3, "min_frequency": 4}`,
		cols:       []string{"c"},
		train:      [][]string{encCat(encRep("a", 5), encRep("b", 20), encRep("c", 10), encRep("d", 3))},
		test:       [][]string{{"a", "b", "c", "d"}},
		names:      []string{"c_b", "c_c", "c_infrequent_sklearn"},
		infrequent: [][]string{{"a", "d"}},
		want:       [][]float64{{0.0, 0.0, 1.0}, {1.0, 0.0, 0.0}, {0.0, 1.0, 0.0}, {0.0, 0.0, 1.0}},
	},
	// OneHotEncoder(min_frequency=6, drop='first')
	{
		name:       "infrequent_drop_first_drops_first_frequent",
		params:     `{"min_frequency": 6, "drop": "first"}`,
		cols:       []string{"c"},
		train:      [][]string{encCat(encRep("a", 5), encRep("b", 20), encRep("c", 10), encRep("d", 3))},
		test:       [][]string{{"a", "b", "c", "d"}},
		names:      []string{"c_c", "c_infrequent_sklearn"},
		dropIdx:    []int{0},
		infrequent: [][]string{{"a", "d"}},
		want:       [][]float64{{0.0, 1.0}, {0.0, 0.0}, {1.0, 0.0}, {0.0, 1.0}},
	},
	// OneHotEncoder(min_frequency=100, drop='first', handle_unknown='infrequent_if_exist')
	{
		name:       "infrequent_drop_first_all_infrequent",
		params:     `{"min_frequency": 100, "drop": "first", "handle_unknown": "infrequent_if_exist"}`,
		cols:       []string{"c"},
		train:      [][]string{encCat(encRep("a", 5), encRep("b", 20), encRep("c", 10), encRep("d", 3))},
		test:       [][]string{{"a", "zz"}},
		names:      []string{},
		dropIdx:    []int{0},
		infrequent: [][]string{{"a", "b", "c", "d"}},
		want:       [][]float64{{}, {}},
	},
	// OneHotEncoder(min_frequency=6, drop=['c'])
	{
		name:       "infrequent_drop_list_maps_to_grouped_position",
		params:     `{"min_frequency": 6, "drop": ["c"]}`,
		cols:       []string{"c"},
		train:      [][]string{encCat(encRep("a", 5), encRep("b", 20), encRep("c", 10), encRep("d", 3))},
		test:       [][]string{{"a", "b", "c", "d"}},
		names:      []string{"c_b", "c_infrequent_sklearn"},
		dropIdx:    []int{1},
		infrequent: [][]string{{"a", "d"}},
		want:       [][]float64{{0.0, 1.0}, {1.0, 0.0}, {0.0, 0.0}, {0.0, 1.0}},
	},
	// OneHotEncoder(min_frequency=6, drop=['a'])
	{
		name:   "infrequent_drop_list_infrequent_is_error",
		params: `{"min_frequency": 6, "drop": ["a"]}`,
		cols:   []string{"c"},
		train:  [][]string{encCat(encRep("a", 5), encRep("b", 20), encRep("c", 10), encRep("d", 3))},
		test:   [][]string{{"a"}},
		fitErr: true, // scikit-learn: ValueError: Unable to drop category 'a' from feature 0 because it is infrequent
	},
	// OneHotEncoder(min_frequency=6, drop='if_binary')
	{
		name:       "infrequent_drop_if_binary",
		params:     `{"min_frequency": 6, "drop": "if_binary"}`,
		cols:       []string{"c"},
		train:      [][]string{encCat(encRep("a", 5), encRep("b", 20), encRep("d", 3))},
		test:       [][]string{{"a", "b", "d"}},
		names:      []string{"c_infrequent_sklearn"},
		dropIdx:    []int{0},
		infrequent: [][]string{{"a", "d"}},
		want:       [][]float64{{1.0}, {0.0}, {1.0}},
	},
	// OneHotEncoder()
	{
		name:         "unknown_error",
		params:       `{}`,
		cols:         []string{"c"},
		train:        [][]string{{"a", "b"}},
		test:         [][]string{{"a", "zz"}},
		transformErr: true, // scikit-learn: ValueError: Found unknown categories ['zz'] in column 0 during transform
	},
	// OneHotEncoder()
	{
		name:         "unknown_error_unseen_missing",
		params:       `{}`,
		cols:         []string{"c"},
		train:        [][]string{{"a", "b"}},
		test:         [][]string{{"a", encNA}},
		transformErr: true, // scikit-learn: ValueError: Found unknown categories [nan] in column 0 during transform
	},
	// OneHotEncoder(handle_unknown='ignore')
	{
		name:   "unknown_ignore",
		params: `{"handle_unknown": "ignore"}`,
		cols:   []string{"c"},
		train:  [][]string{{"a", "b"}},
		test:   [][]string{{"zz", "b", encNA}},
		names:  []string{"c_a", "c_b"},
		want:   [][]float64{{0.0, 0.0}, {0.0, 1.0}, {0.0, 0.0}},
	},
	// OneHotEncoder(handle_unknown='ignore', drop='first')
	{
		name:    "unknown_ignore_with_drop_first",
		params:  `{"handle_unknown": "ignore", "drop": "first"}`,
		cols:    []string{"c"},
		train:   [][]string{{"a", "b", "c"}},
		test:    [][]string{{"zz", "a", "c"}},
		names:   []string{"c_b", "c_c"},
		dropIdx: []int{0},
		want:    [][]float64{{0.0, 0.0}, {0.0, 0.0}, {0.0, 1.0}},
	},
	// OneHotEncoder(handle_unknown='ignore', max_categories=2)
	{
		name:       "unknown_ignore_with_infrequent_is_zeros",
		params:     `{"handle_unknown": "ignore", "max_categories": 2}`,
		cols:       []string{"c"},
		train:      [][]string{encCat(encRep("a", 5), encRep("b", 20), encRep("c", 10), encRep("d", 3))},
		test:       [][]string{{"zz", "a", "b"}},
		names:      []string{"c_b", "c_infrequent_sklearn"},
		infrequent: [][]string{{"a", "c", "d"}},
		want:       [][]float64{{0.0, 0.0}, {0.0, 1.0}, {1.0, 0.0}},
	},
	// OneHotEncoder(handle_unknown='infrequent_if_exist', max_categories=2)
	{
		name:       "unknown_infrequent_if_exist_with_infrequent",
		params:     `{"handle_unknown": "infrequent_if_exist", "max_categories": 2}`,
		cols:       []string{"c0", "c1"},
		train:      [][]string{encCat(encRep("a", 5), encRep("b", 20), encRep("c", 10), encRep("d", 3)), encCat(encRep("p", 38))},
		test:       [][]string{{"zz", "a", "b"}, {"p", "q", encNA}},
		names:      []string{"c0_b", "c0_infrequent_sklearn", "c1_p"},
		infrequent: [][]string{{"a", "c", "d"}, nil},
		want:       [][]float64{{0.0, 1.0, 1.0}, {0.0, 1.0, 0.0}, {1.0, 0.0, 0.0}},
	},
	// OneHotEncoder(handle_unknown='infrequent_if_exist')
	{
		name:   "unknown_infrequent_if_exist_without_infrequent",
		params: `{"handle_unknown": "infrequent_if_exist"}`,
		cols:   []string{"c"},
		train:  [][]string{{"a", "b"}},
		test:   [][]string{{"zz", "a"}},
		names:  []string{"c_a", "c_b"},
		want:   [][]float64{{0.0, 0.0}, {1.0, 0.0}},
	},
	// OneHotEncoder(categories=[['b', 'a']], handle_unknown='ignore')
	{
		name:   "categories_explicit_order",
		params: `{"categories": [["b", "a"]], "handle_unknown": "ignore"}`,
		cols:   []string{"c"},
		train:  [][]string{{"a", "c"}},
		test:   [][]string{{"a", "b", "c"}},
		names:  []string{"c_b", "c_a"},
		want:   [][]float64{{0.0, 1.0}, {1.0, 0.0}, {0.0, 0.0}},
	},
	// OneHotEncoder(categories=[['b', nan, 'a']])
	{
		name:   "categories_explicit_with_missing",
		params: `{"categories": [["b", null, "a"]]}`,
		cols:   []string{"c"},
		train:  [][]string{{"a", encNA}},
		test:   [][]string{{encNA, "b"}},
		names:  []string{"c_b", "c_nan", "c_a"},
		want:   [][]float64{{0.0, 1.0, 0.0}, {1.0, 0.0, 0.0}},
	},
	// OneHotEncoder(categories=[['a', 'b']])
	{
		name:   "categories_explicit_unknown_in_fit",
		params: `{"categories": [["a", "b"]]}`,
		cols:   []string{"c"},
		train:  [][]string{{"a", "c"}},
		test:   [][]string{{"a"}},
		fitErr: true, // scikit-learn: ValueError: Found unknown categories ['c'] in column 0 during fit
	},
	// OneHotEncoder(categories=[['b', 'a', 'z']], handle_unknown='infrequent_if_exist', min_frequency=1)
	{
		name:       "categories_explicit_counts_only_listed",
		params:     `{"categories": [["b", "a", "z"]], "handle_unknown": "infrequent_if_exist", "min_frequency": 1}`,
		cols:       []string{"c"},
		train:      [][]string{{"a", "c"}},
		test:       [][]string{{"a", "b", "z", "c"}},
		names:      []string{"c_a", "c_infrequent_sklearn"},
		infrequent: [][]string{{"b", "z"}},
		want:       [][]float64{{1.0, 0.0}, {0.0, 1.0}, {0.0, 1.0}, {0.0, 1.0}},
	},
}

func TestOneHotEncoder(t *testing.T) { runEncoderCases(t, "one_hot_encoder", oneHotCases) }

// checkOneHotAttributes compares drop_idx_ and infrequent_categories_ with
// scikit-learn's.
func checkOneHotAttributes(t *testing.T, e *OneHotEncoder, dropIdx []int, infrequent [][]string) {
	t.Helper()
	var gotDrop []int
	for _, d := range e.DropIdx {
		if d == nil {
			gotDrop = append(gotDrop, -1)
		} else {
			gotDrop = append(gotDrop, *d)
		}
	}
	if !reflect.DeepEqual(gotDrop, dropIdx) {
		t.Fatalf("got drop_idx_ %v, want %v", gotDrop, dropIdx)
	}
	var gotInf [][]string
	if e.InfrequentCategories != nil {
		gotInf = make([][]string, len(e.InfrequentCategories))
		for j, l := range e.InfrequentCategories {
			for _, v := range l {
				if v == nil {
					gotInf[j] = append(gotInf[j], encNA)
				} else {
					gotInf[j] = append(gotInf[j], *v)
				}
			}
		}
	}
	if !reflect.DeepEqual(gotInf, infrequent) {
		t.Fatalf("got infrequent_categories_ %q, want %q", gotInf, infrequent)
	}
}

// TestOneHotEncoderPeerUnknownIsError checks that the parity case where
// scikit-learn raises "Found unknown categories ['c013', 'c012', 'c014'] in
// column 0 during transform" fails with our error, naming the column and
// the first test row holding a value absent from training.
func TestOneHotEncoderPeerUnknownIsError(t *testing.T) {
	dir := filepath.Join(peerDir, "one_hot_encoder__unknown_is_error")
	kinds := map[string]table.Kind{"color": table.String, "size": table.String}
	train := readCSV(t, filepath.Join(dir, "train.csv"), kinds)
	test := readCSV(t, filepath.Join(dir, "test.csv"), kinds)
	cols := []string{"color", "size"}
	_, f, err := encFit(t, "one_hot_encoder", `{"handle_unknown": "error"}`, []table.Column{train["color"], train["size"]})
	if err != nil {
		t.Fatal(err)
	}
	_, err = apply(f, []table.Column{test["color"], test["size"]})
	c := encoderCase{cols: cols,
		train: [][]string{train["color"].Str, train["size"].Str},
		test:  [][]string{test["color"].Str, test["size"].Str}}
	checkUnknownError(t, err, "one_hot_encoder", c)
	var ve *ValueError
	errors.As(err, &ve)
	if v := ve.Value; v != "c012" && v != "c013" && v != "c014" {
		t.Fatalf("got unknown value %q, want one of scikit-learn's c012, c013, c014", v)
	}
}

// TestOneHotEncoderUnknownErrorMessage pins the text a user sees.
func TestOneHotEncoderUnknownErrorMessage(t *testing.T) {
	_, f, err := encFit(t, "one_hot_encoder", `{}`, encStrCols([]string{"city"}, [][]string{{"Paris", "Oslo"}}))
	if err != nil {
		t.Fatal(err)
	}
	_, err = apply(f, encStrCols([]string{"city"}, [][]string{{"Oslo", "Lima"}}))
	want := `one_hot_encoder: column "city": unknown category "Lima"; set handle_unknown: ignore or infrequent_if_exist in the spec, or refit on data that has it`
	if err == nil || err.Error() != want {
		t.Fatalf("got error %v, want %s", err, want)
	}
}

func TestOneHotEncoderParamErrors(t *testing.T) {
	checkParamErrors(t, "one_hot_encoder", []struct{ params, param string }{
		{`{"handle_unknown": "use_encoded_value"}`, "handle_unknown"},
		{`{"drop": "last"}`, "drop"},
		{`{"drop": ["a", "b"]}`, "drop"},
		{`{"drop": ["zz"]}`, "drop"},
		{`{"min_frequency": 0}`, "min_frequency"},
		{`{"min_frequency": 1.0}`, "min_frequency"},
		{`{"min_frequency": 1.5}`, "min_frequency"},
		{`{"min_frequency": -0.5}`, "min_frequency"},
		{`{"max_categories": 0}`, "max_categories"},
		{`{"dtype": "str"}`, "dtype"},
		{`{"sparse": "yes"}`, "sparse"},
		{`{"feature_name_combiner": "concat"}`, "feature_name_combiner"},
		{`{"categories": [["a", "a", "b"]]}`, "categories"},
		{`{"categories": [[null, "a", null]]}`, "categories"},
		{`{"categories": [[]]}`, "categories"},
		{`{"categories": [["a", "b"], ["x"]]}`, "categories"},
		{`{"categories": "sorted"}`, ""},
		{`{"min_frequency": "5"}`, ""},
		{`{"max_categories": 2.5}`, ""},
		{`{"no_such_param": 1}`, ""},
	})
	// Accepted for compatibility although output is always dense float64.
	for _, params := range []string{`{"sparse_output": true}`, `{"sparse": false}`, `{"dtype": "int32"}`, `{"sparse": "deprecated"}`} {
		if _, _, err := encFit(t, "one_hot_encoder", params, encStrCols([]string{"c"}, [][]string{{"a"}})); err != nil {
			t.Errorf("%s: got error %v, want none", params, err)
		}
	}
}

func TestOneHotEncoderRejectsInconsistentFitted(t *testing.T) {
	const ok = `{"feature_names_in_":["c"],"categories_":[["a","b",null]],"drop_idx_":null,"handle_unknown":"error"}`
	var fs FittedStep
	doc := `{"step":"one_hot_encoder","params":{},"inputs":["c"],"fitted":` + ok + `}`
	if err := fs.UnmarshalJSON([]byte(doc)); err != nil {
		t.Fatalf("valid fitted step refused: %v", err)
	}
	checkBadFitted(t, "one_hot_encoder", `{}`, []struct{ name, fitted string }{
		{"names_length", `{"feature_names_in_":["c","d"],"categories_":[["a"],["b"]],"drop_idx_":null,"handle_unknown":"error"}`},
		{"categories_length", `{"feature_names_in_":["c"],"categories_":[["a"],["b"]],"drop_idx_":null,"handle_unknown":"error"}`},
		{"empty_categories", `{"feature_names_in_":["c"],"categories_":[[]],"drop_idx_":null,"handle_unknown":"error"}`},
		{"duplicate_category", `{"feature_names_in_":["c"],"categories_":[["a","a"]],"drop_idx_":null,"handle_unknown":"error"}`},
		{"two_missing", `{"feature_names_in_":["c"],"categories_":[[null,null]],"drop_idx_":null,"handle_unknown":"error"}`},
		{"drop_idx_length", `{"feature_names_in_":["c"],"categories_":[["a","b"]],"drop_idx_":[0,0],"handle_unknown":"error"}`},
		{"drop_idx_range", `{"feature_names_in_":["c"],"categories_":[["a","b"]],"drop_idx_":[2],"handle_unknown":"error"}`},
		{"drop_idx_negative", `{"feature_names_in_":["c"],"categories_":[["a","b"]],"drop_idx_":[-1],"handle_unknown":"error"}`},
		{"drop_idx_after_grouping", `{"feature_names_in_":["c"],"categories_":[["a","b","c"]],"drop_idx_":[2],"infrequent_categories_":[["a","b"]],"handle_unknown":"error"}`},
		{"infrequent_unknown", `{"feature_names_in_":["c"],"categories_":[["a","b"]],"drop_idx_":null,"infrequent_categories_":[["z"]],"handle_unknown":"error"}`},
		{"infrequent_twice", `{"feature_names_in_":["c"],"categories_":[["a","b"]],"drop_idx_":null,"infrequent_categories_":[["a","a"]],"handle_unknown":"error"}`},
		{"infrequent_empty", `{"feature_names_in_":["c"],"categories_":[["a","b"]],"drop_idx_":null,"infrequent_categories_":[[]],"handle_unknown":"error"}`},
		{"infrequent_length", `{"feature_names_in_":["c"],"categories_":[["a","b"]],"drop_idx_":null,"infrequent_categories_":[null,null],"handle_unknown":"error"}`},
		{"handle_unknown", `{"feature_names_in_":["c"],"categories_":[["a","b"]],"drop_idx_":null,"handle_unknown":"use_encoded_value"}`},
		{"unknown_field", `{"feature_names_in_":["c"],"categories_":[["a","b"]],"drop_idx_":null,"handle_unknown":"error","extra":1}`},
	})
}

// TestOneHotEncoderDecodedWithoutCheck pins that a fitted encoder decoded
// directly (no Check) still builds its lookup before transforming.
func TestOneHotEncoderDecodedWithoutCheck(t *testing.T) {
	def, _ := Lookup("one_hot_encoder")
	f := def.NewFitted()
	doc := `{"feature_names_in_":["c"],"categories_":[["a","b",null]],"drop_idx_":[null],"infrequent_categories_":[["a",null]],"handle_unknown":"infrequent_if_exist"}`
	if err := strictUnmarshal([]byte(doc), f); err != nil {
		t.Fatal(err)
	}
	got, err := apply(f, encStrCols([]string{"c"}, [][]string{{"a", "b", encNA, "z"}}))
	if err != nil {
		t.Fatal(err)
	}
	// The same state as scikit-learn 1.2.1's
	// OneHotEncoder(min_frequency=2, handle_unknown="infrequent_if_exist",
	// sparse_output=False).fit([["a"], ["b"], ["b"], [nan]]), whose
	// transform([["a"], ["b"], [nan], ["z"]]) is [[0, 1], [1, 0], [0, 1], [0, 1]]
	// with names c_b, c_infrequent_sklearn.
	encCheckOutputs(t, got, []string{"c_b", "c_infrequent_sklearn"}, [][]float64{{0, 1}, {1, 0}, {0, 1}, {0, 1}})
}

// benchmarkOneHot transforms rows values drawn from nCats categories in
// batches of batch rows, reusing the output buffers.
func benchmarkOneHot(b *testing.B, rows, nCats, batch int) {
	cats := make([]string, nCats)
	for k := range cats {
		cats[k] = fmt.Sprintf("category-%05d", k)
	}
	vals := make([]string, rows)
	for i := range vals {
		vals[i] = cats[(i*7919)%nCats]
	}
	in := encStrCols([]string{"c"}, [][]string{vals})
	p := DefaultOneHotEncoderParams()
	f, err := p.Fit(nil, in)
	if err != nil {
		b.Fatal(err)
	}
	outs := f.Outputs()
	out := make([]table.Column, len(outs))
	for k, o := range outs {
		out[k] = table.Column{Name: o.Name, Kind: o.Kind, Num: make([]float64, batch)}
	}
	b.ReportAllocs()
	b.ResetTimer()
	chunk := make([]table.Column, 1)
	for b.Loop() {
		for lo := 0; lo < rows; lo += batch {
			hi := min(lo+batch, rows)
			chunk[0] = in[0].Slice(lo, hi)
			if err := f.Transform(chunk, out, hi-lo); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func BenchmarkOneHotEncoderTransform(b *testing.B) {
	for _, bc := range []struct{ rows, cats, batch int }{
		{100_000, 50, 100_000},
		{100_000, 5000, 1024},
		{100_000, 5000, 4096},
	} {
		b.Run(fmt.Sprintf("rows=%d/cats=%d/batch=%d", bc.rows, bc.cats, bc.batch), func(b *testing.B) {
			benchmarkOneHot(b, bc.rows, bc.cats, bc.batch)
		})
	}
}
