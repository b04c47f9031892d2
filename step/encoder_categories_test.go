package step

import (
	"encoding/json"
	"errors"
	"math"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/normguard/normguard/table"
)

// encNA marks a missing cell in the test columns below.
const encNA = "\x00<missing>"

// encNaN is a NaN for want tables.
var encNaN = math.NaN()

// encRep returns n copies of v.
func encRep(v string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = v
	}
	return out
}

// encCat concatenates the parts.
func encCat(parts ...[]string) []string {
	var out []string
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// encStrCols builds String columns; encNA cells are missing.
func encStrCols(names []string, vals [][]string) []table.Column {
	out := make([]table.Column, len(names))
	for j, n := range names {
		c := table.Column{Name: n, Kind: table.String, Str: make([]string, len(vals[j]))}
		for i, v := range vals[j] {
			if v == encNA {
				c.SetNull(i)
				continue
			}
			c.Str[i] = v
		}
		out[j] = c
	}
	return out
}

// encoderCase is a fit on train and a transform of test with reference
// names and values from scikit-learn 1.2.1 (the comment above each case
// names the estimator; names are get_feature_names_out(cols), want is
// transform(test) with rows as rows).
type encoderCase struct {
	name         string
	params       string
	cols         []string
	train, test  [][]string
	names        []string
	want         [][]float64
	dropIdx      []int      // one-hot drop_idx_, -1 for None; nil for None
	infrequent   [][]string // one-hot infrequent_categories_; nil when not enabled
	fitErr       bool       // scikit-learn's fit raises
	transformErr bool       // scikit-learn's transform raises (unknown category)
}

// encFit decodes params strictly, validates them and fits the step.
func encFit(t *testing.T, stepName, params string, train []table.Column) (Params, Fitted, error) {
	t.Helper()
	def, ok := Lookup(stepName)
	if !ok {
		t.Fatalf("step %s not registered", stepName)
	}
	p := def.NewParams()
	if err := strictUnmarshal([]byte(params), p); err != nil {
		return p, nil, err
	}
	if err := p.Validate(); err != nil {
		return p, nil, err
	}
	f, err := p.Fit(&FitContext{}, train)
	return p, f, err
}

// encFirstUnknown returns the first column and row of test whose value does
// not occur in the same train column.
func encFirstUnknown(train, test [][]string) (int, int) {
	for j := range test {
		seen := map[string]bool{}
		for _, v := range train[j] {
			seen[v] = true
		}
		for i, v := range test[j] {
			if !seen[v] {
				return j, i
			}
		}
	}
	return -1, -1
}

// encCheckOutputs compares transformed columns with reference names and rows.
func encCheckOutputs(t *testing.T, got []table.Column, names []string, want [][]float64) {
	t.Helper()
	if gn := colNames(got); !reflect.DeepEqual(gn, names) && !(len(gn) == 0 && len(names) == 0) {
		t.Fatalf("got names %q, want %q", gn, names)
	}
	for i, row := range want {
		for k, w := range row {
			g := got[k].Num[i]
			if g != w && !(math.IsNaN(g) && math.IsNaN(w)) {
				t.Fatalf("row %d column %s: got %v, want %v", i, names[k], g, w)
			}
		}
	}
}

// runEncoderCases fits, transforms and round-trips every case.
func runEncoderCases(t *testing.T, stepName string, cases []encoderCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			train := encStrCols(c.cols, c.train)
			test := encStrCols(c.cols, c.test)
			p, f, err := encFit(t, stepName, c.params, train)
			if c.fitErr {
				var pe *ParamError
				var ve *ValueError
				if !errors.As(err, &pe) && !errors.As(err, &ve) {
					t.Fatalf("fit: got error %v, want a *ParamError or *ValueError", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("fit: %v", err)
			}
			if e, ok := f.(*OneHotEncoder); ok {
				checkOneHotAttributes(t, e, c.dropIdx, c.infrequent)
			}
			got, err := apply(f, test)
			if c.transformErr {
				checkUnknownError(t, err, stepName, c)
				return
			}
			if err != nil {
				t.Fatalf("transform: %v", err)
			}
			encCheckOutputs(t, got, c.names, c.want)

			// The fitted step survives the artifact's JSON round trip.
			b, err := json.Marshal(FittedStep{Name: stepName, Params: p, Inputs: c.cols, Fitted: f})
			if err != nil {
				t.Fatalf("marshal: %v", err)
			}
			var back FittedStep
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatalf("unmarshal %s: %v", b, err)
			}
			got, err = apply(back.Fitted, encStrCols(c.cols, c.test))
			if err != nil {
				t.Fatalf("transform after round trip: %v", err)
			}
			encCheckOutputs(t, got, c.names, c.want)
			b2, err := json.Marshal(back)
			if err != nil || string(b2) != string(b) {
				t.Fatalf("second marshal: got %s (%v), want %s", b2, err, b)
			}
		})
	}
}

// checkUnknownError checks the error of a transform that meets a value not
// seen in fit.
func checkUnknownError(t *testing.T, err error, stepName string, c encoderCase) {
	t.Helper()
	var ve *ValueError
	if !errors.As(err, &ve) || !errors.Is(err, ErrUnknownCategory) {
		t.Fatalf("transform: got error %v, want a *ValueError wrapping ErrUnknownCategory", err)
	}
	j, i := encFirstUnknown(c.train, c.test)
	wantValue := c.test[j][i]
	if wantValue == encNA {
		wantValue = ""
	}
	if ve.Step != stepName || ve.Column != c.cols[j] || ve.Row != i || ve.Value != wantValue {
		t.Fatalf("got error at step %s column %q row %d value %q, want %s %q %d %q",
			ve.Step, ve.Column, ve.Row, ve.Value, stepName, c.cols[j], i, wantValue)
	}
	if !strings.Contains(ve.Hint, "handle_unknown") {
		t.Fatalf("got hint %q, want one that names handle_unknown", ve.Hint)
	}
}

// TestCategoriesSortByCodePoint pins that "auto" categories follow Python's
// code point order (Go's byte order on UTF-8) with missing last:
// sorted(["é", "z", "Z", "a", "\u00e9", "\U0001F600", "\uffff"]) in Python 3
// gives ['Z', 'a', 'z', 'é', 'é', '\uffff', '😀'].
func TestCategoriesSortByCodePoint(t *testing.T) {
	train := encStrCols([]string{"c"}, [][]string{{"é", "z", encNA, "Z", "a", "\u00e9", "\U0001F600", "\uffff"}})
	for _, name := range []string{"one_hot_encoder", "ordinal_encoder"} {
		_, f, err := encFit(t, name, `{}`, train)
		if err != nil {
			t.Fatal(err)
		}
		var cats []CategoryList
		switch e := f.(type) {
		case *OneHotEncoder:
			cats = e.Categories
		case *OrdinalEncoder:
			cats = e.Categories
		}
		var got []string
		for k := range cats[0] {
			got = append(got, cats[0].label(k))
		}
		want := []string{"Z", "a", "z", "é", "\uffff", "😀", "nan"}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: got categories_ %q, want %q", name, got, want)
		}
	}
}

// TestEncodersMatchPeerCategories compares categories_ with the fitted
// attributes scikit-learn stored in the parity cases.
func TestEncodersMatchPeerCategories(t *testing.T) {
	for _, tc := range []struct{ dir, step, attr string }{
		{"one_hot_encoder__ignore_unknown", "one_hot_encoder", "OneHotEncoder"},
		{"one_hot_encoder__min_frequency", "one_hot_encoder", "OneHotEncoder"},
		{"one_hot_encoder__drop_first", "one_hot_encoder", "OneHotEncoder"},
		{"ordinal_encoder__unknown_value", "ordinal_encoder", "OrdinalEncoder"},
	} {
		t.Run(tc.dir, func(t *testing.T) {
			dir := filepath.Join(peerDir, tc.dir)
			var pc struct {
				Fitted map[string]struct {
					Categories [][]string `json:"categories_"`
					DropIdx    []*int     `json:"drop_idx_"`
				} `json:"fitted"`
			}
			var sp peerSpec
			mustJSON(t, filepath.Join(dir, "case.json"), &pc)
			mustJSON(t, filepath.Join(dir, "spec.json"), &sp)
			g := sp.Columns[0]
			kinds := map[string]table.Kind{}
			for _, n := range g.Names {
				kinds[n] = table.String
			}
			train := readCSV(t, filepath.Join(dir, "train.csv"), kinds)
			var cols []table.Column
			for _, n := range g.Names {
				cols = append(cols, train[n])
			}
			_, f, err := encFit(t, tc.step, string(g.Steps[0][tc.step]), cols)
			if err != nil {
				t.Fatal(err)
			}
			b, err := json.Marshal(f)
			if err != nil {
				t.Fatal(err)
			}
			var got struct {
				Categories [][]string `json:"categories_"`
				DropIdx    []*int     `json:"drop_idx_"`
			}
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatal(err)
			}
			want := pc.Fitted[tc.attr]
			if !reflect.DeepEqual(got.Categories, want.Categories) {
				t.Fatalf("got categories_ %q, want %q", got.Categories, want.Categories)
			}
			if !reflect.DeepEqual(got.DropIdx, want.DropIdx) {
				t.Fatalf("got drop_idx_ %v, want %v", got.DropIdx, want.DropIdx)
			}
		})
	}
}

// TestEncodersRefuseNumericColumns pins the error for a numeric input.
func TestEncodersRefuseNumericColumns(t *testing.T) {
	num := []table.Column{{Name: "x", Kind: table.Numeric, Num: []float64{1, 2}}}
	for _, name := range []string{"one_hot_encoder", "ordinal_encoder"} {
		_, _, err := encFit(t, name, `{}`, num)
		var ve *ValueError
		if !errors.As(err, &ve) || ve.Column != "x" || !strings.Contains(ve.Hint, "categorical") {
			t.Fatalf("%s: got error %v, want a *ValueError on column x saying categorical", name, err)
		}
	}
}

// TestEncodersRefuseEmptyTrainingData pins scikit-learn's refusal to fit
// on zero rows.
func TestEncodersRefuseEmptyTrainingData(t *testing.T) {
	empty := encStrCols([]string{"c"}, [][]string{{}})
	for _, name := range []string{"one_hot_encoder", "ordinal_encoder"} {
		_, _, err := encFit(t, name, `{}`, empty)
		var ve *ValueError
		if !errors.As(err, &ve) {
			t.Fatalf("%s: got error %v, want a *ValueError", name, err)
		}
	}
}

// checkParamErrors runs params that must be refused and checks the
// *ParamError names the parameter (or that JSON decoding fails when param
// is "").
func checkParamErrors(t *testing.T, stepName string, cases []struct{ params, param string }) {
	t.Helper()
	train := encStrCols([]string{"c"}, [][]string{{"a", "b"}})
	for _, c := range cases {
		_, _, err := encFit(t, stepName, c.params, train)
		if err == nil {
			t.Errorf("%s: got no error, want one about %q", c.params, c.param)
			continue
		}
		if c.param == "" {
			continue
		}
		var pe *ParamError
		if !errors.As(err, &pe) || pe.Param != c.param || pe.Step != stepName {
			t.Errorf("%s: got error %v, want a *ParamError on %s", c.params, err, c.param)
		}
	}
}

// checkBadFitted decodes FittedStep JSON that must be refused.
func checkBadFitted(t *testing.T, stepName, params string, cases []struct{ name, fitted string }) {
	t.Helper()
	for _, c := range cases {
		doc := `{"step":"` + stepName + `","params":` + params + `,"inputs":["c"],"fitted":` + c.fitted + `}`
		var fs FittedStep
		err := json.Unmarshal([]byte(doc), &fs)
		if err == nil {
			t.Errorf("%s: got no error decoding %s", c.name, c.fitted)
			continue
		}
		t.Logf("%s: %v", c.name, err)
	}
}

// TestEncodersConcurrentFirstUse runs Transform from several goroutines on
// freshly decoded encoders (run with -race): the lookup is built once.
func TestEncodersConcurrentFirstUse(t *testing.T) {
	for _, tc := range []struct{ step, fitted string }{
		{"one_hot_encoder", `{"feature_names_in_":["c"],"categories_":[["a","b"]],"drop_idx_":null,"handle_unknown":"ignore"}`},
		{"ordinal_encoder", `{"feature_names_in_":["c"],"categories_":[["a","b"]],"handle_unknown":"use_encoded_value","unknown_value":-1,"encoded_missing_value":"NaN"}`},
	} {
		def, _ := Lookup(tc.step)
		f := def.NewFitted()
		if err := strictUnmarshal([]byte(tc.fitted), f); err != nil {
			t.Fatal(err)
		}
		errs := make(chan error, 4)
		for range 4 {
			go func() {
				_, err := apply(f, encStrCols([]string{"c"}, [][]string{{"b", "z", "a"}}))
				errs <- err
			}()
		}
		for range 4 {
			if err := <-errs; err != nil {
				t.Fatalf("%s: %v", tc.step, err)
			}
		}
	}
}

// Decimal-valued categories sort numerically (np.unique on a numeric
// array); any other text keeps code point order.
func TestSortedCategoriesNumericOrder(t *testing.T) {
	for _, tc := range []struct {
		keys []string
		want string
	}{
		{[]string{"1", "12", "2", "-4", "100"}, "-4 1 2 12 100"},
		{[]string{"1.5", "10.25", "-3.75", "2e1"}, "-3.75 1.5 10.25 2e1"},
		{[]string{"1", "1.0", "0.5"}, "0.5 1 1.0"},
		{[]string{"1", "12", "2", "a"}, "1 12 2 a"},
		{[]string{"1", "12", "+2"}, "+2 1 12"},
		{[]string{"1", "12", "inf"}, "1 12 inf"},
		{[]string{"1", "12", "2."}, "1 12 2."},
	} {
		counts := map[string]int{}
		for _, k := range tc.keys {
			counts[k] = 1
		}
		cats, _ := sortedCategories(counts, 2)
		var got []string
		for k := range cats[:len(cats)-1] {
			got = append(got, *cats[k])
		}
		if g := strings.Join(got, " "); g != tc.want || cats[len(cats)-1] != nil {
			t.Errorf("%v: got %q (missing last: %v), want %q", tc.keys, g, cats[len(cats)-1] == nil, tc.want)
		}
	}
}
