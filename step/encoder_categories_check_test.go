package step

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// TestCheckStepCategories checks categories_ against the encoders'
// parameters as an artifact loader does (CheckStep): lists fitted with
// categories="auto" must be in scikit-learn's order (by value when every
// entry is a decimal number, ties by text, else by code point; null last),
// which proves them unique; fitted lists must equal given ones. Each
// refusal names the entry by its path.
func TestCheckStepCategories(t *testing.T) {
	long := strings.Repeat("é", 100)
	cases := []struct {
		name   string
		given  string // the categories parameter's JSON
		cats   string // categories_ of one column
		path   string // "" when accepted
		substr string // in the message
	}{
		{"sorted text with null", `"auto"`, `["a","b",null]`, "", ""},
		{"numbers by value", `"auto"`, `["-3","1","2","12"]`, "", ""},
		{"equal numbers by text", `"auto"`, `["1","1.0","2"]`, "", ""},
		{"text and numbers by code point", `"auto"`, `["10","9","NaN","a"]`, "", ""},
		{"empty string first", `"auto"`, `["","a"]`, "", ""},
		{"long entries", `"auto"`, `["` + long + `","` + long + `x"]`, "", ""},
		{"unsorted text", `"auto"`, `["b","a"]`, "categories_[0][1]", `"a" comes after "b"`},
		{"numbers by code point", `"auto"`, `["1","12","2"]`, "categories_[0][2]", "by value"},
		{"duplicate", `"auto"`, `["a","b","b"]`, "categories_[0][2]", `duplicate category "b"`},
		{"duplicate number", `"auto"`, `["1","1"]`, "categories_[0][1]", `duplicate category "1"`},
		{"duplicate long", `"auto"`, `["` + long + `","` + long + `"]`, "categories_[0][1]", "(200 bytes)"},
		{"null first", `"auto"`, `[null,"a"]`, "categories_[0][1]", "null"},
		{"null twice", `"auto"`, `["a",null,null]`, "categories_[0][2]", "appears twice"},
		{"empty", `"auto"`, `[]`, "categories_[0]", "is empty"},
		{"order break before a later null", `"auto"`, `["b","a",null,null]`, "categories_[0][1]", "comes after"},
		{"given in any order", `[["b","a",null]]`, `["b","a",null]`, "", ""},
		{"given, fitted reordered", `[["b","a"]]`, `["a","b"]`, "categories_[0][0]", `is "a"`},
		{"given, fitted shorter", `[["b","a"]]`, `["b"]`, "categories_[0]", "has 1 entries"},
		{"given, fitted longer", `[["b","a"]]`, `["b","a","a"]`, "categories_[0][2]", "past the end"},
		{"given, null for a value", `[["b","a"]]`, `["b",null]`, "categories_[0][1]", "is null"},
	}
	for _, enc := range []string{"ordinal_encoder", "one_hot_encoder"} {
		for _, c := range cases {
			def, _ := Lookup(enc)
			p := def.NewParams()
			if err := json.Unmarshal([]byte(`{"categories":`+c.given+`}`), p); err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			f := def.NewFitted()
			fitted := `{"feature_names_in_":["c"],"categories_":[` + c.cats + `],"handle_unknown":"error","encoded_missing_value":"NaN"}`
			if enc == "one_hot_encoder" {
				fitted = `{"feature_names_in_":["c"],"categories_":[` + c.cats + `],"drop_idx_":null,"handle_unknown":"error"}`
			}
			if err := json.Unmarshal([]byte(fitted), f); err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			err := CheckStep(p, f, 1)
			if c.path == "" {
				if err != nil {
					t.Errorf("%s %s: refused: %v", enc, c.name, err)
				}
				continue
			}
			var pe *PathError
			if !errors.As(err, &pe) || pe.Path != c.path || !strings.Contains(pe.Msg, c.substr) {
				t.Errorf("%s %s: got %v, want %s: ...%s...", enc, c.name, err, c.path, c.substr)
			}
		}
	}
}

// TestCategoriesCheckStreamedAgrees feeds categories_ entry by entry to a
// CategoriesCheck, as a streamed reading does, and checks that
// the StreamedCheck gives CheckStep's verdict on the decoded encoder.
func TestCategoriesCheckStreamedAgrees(t *testing.T) {
	for _, cats := range []string{`[["a","b",null],["2","10"]]`, `[["b","a"]]`, `[["a","a"]]`, `[["a"],[]]`, `[]`} {
		for _, names := range []string{`["c","d"]`, `["c"]`} {
			for _, unknown := range []string{`"handle_unknown":"error","unknown_value":null`, `"handle_unknown":"use_encoded_value","unknown_value":1`} {
				f := &OrdinalEncoder{}
				text := `{"feature_names_in_":` + names + `,"categories_":` + cats + `,` + unknown + `,"encoded_missing_value":"NaN"}`
				if err := json.Unmarshal([]byte(text), f); err != nil {
					t.Fatal(err)
				}
				p := DefaultOrdinalEncoderParams()
				want := CheckStep(p, f, 2)
				sc := NewStreamedCheck(p, f)
				c := sc.Categories("categories_")
				for _, l := range f.Categories {
					c.StartList()
					for _, v := range l {
						c.Add(v)
					}
					c.EndList()
				}
				f.Categories = nil
				got := sc.Check(2)
				if (got == nil) != (want == nil) || (got != nil && got.Error() != want.Error()) {
					t.Errorf("%s: streamed %v, whole %v", text, got, want)
				}
			}
		}
	}
}
