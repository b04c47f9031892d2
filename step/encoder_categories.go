package step

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"

	"github.com/normguard/normguard/table"
)

// This file holds what one_hot_encoder and ordinal_encoder share: the
// categories of a column, their JSON forms, and the fit-time counting.
//
// Category order. categories="auto" sorts the distinct training values the
// way scikit-learn sorts them: numerically when every value is a decimal
// number (a pandas int64/float64 column; see sortedCategories), else as a
// Python set of str: by code point. Go compares
// strings byte-wise, which for valid UTF-8 is the same order (UTF-8
// preserves code point order), so the two agree on every text a CSV or
// Parquet reader yields. The missing value (a Null cell, scikit-learn's
// np.nan in an object column) is a category of its own, placed last and
// named "nan" in output names, as scikit-learn 1.2 does.

// missingCategoryName is how scikit-learn 1.2 prints np.nan in output
// names (str(np.nan)).
const missingCategoryName = "nan"

// CategoryList is one input column's categories in encoding order, as
// scikit-learn's categories_[i]. A nil entry is the missing-value category
// (scikit-learn's np.nan); JSON writes it as null.
type CategoryList []*string

// label returns the text scikit-learn puts in output names for category k.
func (c CategoryList) label(k int) string {
	if c[k] == nil {
		return missingCategoryName
	}
	return *c[k]
}

// categoryIndex maps a column's categories to their positions.
type categoryIndex struct {
	pos     map[string]int
	missing int // position of the missing category, -1 when absent
}

// lookup returns the position of row i's value, or -1 when it is not a
// category.
func (x *categoryIndex) lookup(c *table.Column, i int) int {
	if c.Null != nil && c.Null[i] {
		return x.missing
	}
	if k, ok := x.pos[c.Str[i]]; ok {
		return k
	}
	return -1
}

// index validates the list (not empty, no duplicates, at most one missing
// category) and returns its lookup map.
func (c CategoryList) index() (categoryIndex, error) {
	x := categoryIndex{pos: make(map[string]int, len(c)), missing: -1}
	if len(c) == 0 {
		return x, errors.New("is empty")
	}
	for k, v := range c {
		if v == nil {
			if x.missing >= 0 {
				return x, fmt.Errorf("entry %d: the missing category (null) appears twice", k)
			}
			x.missing = k
			continue
		}
		if _, dup := x.pos[*v]; dup {
			return x, fmt.Errorf("entry %d: duplicate category %q", k, *v)
		}
		x.pos[*v] = k
	}
	return x, nil
}

// findCategory returns the position of want (nil: the missing category) in
// cats, or -1.
func findCategory(cats CategoryList, want *string) int {
	for k, c := range cats {
		if (c == nil) == (want == nil) && (c == nil || *c == *want) {
			return k
		}
	}
	return -1
}

// unknownCategoryError describes row i of c, a value not seen in fit.
func unknownCategoryError(stepName string, c *table.Column, i int, hint string) error {
	if c.Null != nil && c.Null[i] {
		return &ValueError{Step: stepName, Column: c.Name, Row: i, Err: ErrUnknownCategory,
			Hint: "a missing value, and the training data had none: put a simple_imputer first, " + hint}
	}
	return &ValueError{Step: stepName, Column: c.Name, Row: i, Value: c.Str[i], Err: ErrUnknownCategory, Hint: hint}
}

// CategoriesParam is the encoders' categories parameter: "auto" (the zero
// value: the sorted distinct training values) or one CategoryList per input
// column, used in the given order.
//
// Unlike scikit-learn 1.2, which silently keeps them, duplicate entries in a
// list are refused: they would give two output columns for one value.
type CategoriesParam struct {
	Lists []CategoryList // nil means "auto"
}

// MarshalJSON implements json.Marshaler.
func (p CategoriesParam) MarshalJSON() ([]byte, error) {
	if p.Lists == nil {
		return []byte(`"auto"`), nil
	}
	return json.Marshal(p.Lists)
}

// UnmarshalJSON implements json.Unmarshaler.
func (p *CategoriesParam) UnmarshalJSON(b []byte) error {
	if string(bytes.TrimSpace(b)) == `"auto"` {
		p.Lists = nil
		return nil
	}
	var lists []CategoryList
	if err := json.Unmarshal(b, &lists); err != nil || lists == nil {
		return errors.New(`categories must be "auto" or a list with one list of strings per input column (quote numbers; null for the missing value)`)
	}
	p.Lists = lists
	return nil
}

// validate checks every explicit list.
func (p *CategoriesParam) validate(stepName string) error {
	for i, l := range p.Lists {
		if _, err := l.index(); err != nil {
			return &ParamError{Step: stepName, Param: "categories", Value: fmt.Sprintf("list %d", i), Msg: err.Error()}
		}
	}
	return nil
}

// encoderDtypes are the dtype values the encoders accept, mapped to whether
// they are float types. Outputs are float64 columns whatever the dtype: the
// codes and 0/1 indicators are integers, exact in every listed type.
var encoderDtypes = map[string]bool{
	"float64": true, "float32": true, "float": true,
	"int64": false, "int32": false, "int": false,
}

// validateDtype returns a *ParamError for a dtype the encoders do not take.
func validateDtype(stepName, dtype string) error {
	if _, ok := encoderDtypes[dtype]; !ok {
		return &ParamError{Step: stepName, Param: "dtype", Value: dtype,
			Msg: "must be one of float64, float32, int64, int32 (outputs are float64 columns either way)"}
	}
	return nil
}

// requireStrings returns a *ValueError for a column that is not a String
// column or holds fewer than n rows.
func requireStrings(stepName string, cols []table.Column, n int) error {
	for j := range cols {
		c := &cols[j]
		if c.Kind != table.String {
			return &ValueError{Step: stepName, Column: c.Name, Row: -1, Err: ErrBadValue,
				Hint: "encoders take categorical columns: declare the group with type: categorical"}
		}
		if len(c.Str) < n || (c.Null != nil && len(c.Null) < n) {
			return &ValueError{Step: stepName, Column: c.Name, Row: -1, Err: ErrBadValue,
				Hint: fmt.Sprintf("column holds %d values for %d rows", len(c.Str), n)}
		}
	}
	return nil
}

// fittedCategories is the result of fitCategories.
type fittedCategories struct {
	cats   []CategoryList
	counts [][]int // counts[j][k]: training rows of column j equal to cats[j][k]
	rows   int
}

// CategoryCounts is what an encoder's fit reads of its training columns:
// the row count and, per column, the occurrences of each present value and
// the missing cells. A distributed fit merges them (stats.StringCounts).
type CategoryCounts struct {
	Names   []string
	Rows    int
	Counts  []map[string]int
	Missing []int
}

// countCategories checks an encoder's training columns as
// scikit-learn's _BaseEncoder._fit does (strings, at least one row, one
// list per column, with rejectUnknown no value outside a given list, the
// first one in row order reported) and counts their values.
func countCategories(stepName string, p *CategoriesParam, cols []table.Column, rejectUnknown bool) (*CategoryCounts, error) {
	rows := 0
	if len(cols) > 0 {
		rows = cols[0].Len()
	}
	if err := requireStrings(stepName, cols, rows); err != nil {
		return nil, err
	}
	if len(cols) == 0 {
		return nil, noColumnError(stepName)
	}
	if rows == 0 {
		return nil, &ValueError{Step: stepName, Column: cols[0].Name, Row: -1, Err: ErrBadValue,
			Hint: "fit needs at least one row of training data"}
	}
	if err := p.checkLists(stepName, len(cols)); err != nil {
		return nil, err
	}
	cc := &CategoryCounts{Names: names(cols), Rows: rows, Counts: make([]map[string]int, len(cols)), Missing: make([]int, len(cols))}
	for j := range cols {
		if p.Lists != nil && rejectUnknown {
			if err := firstUnknownInFit(stepName, &cols[j], p.Lists[j], rows); err != nil {
				return nil, err
			}
		}
		cc.Counts[j], cc.Missing[j] = countValues(&cols[j], rows)
	}
	return cc, nil
}

// noColumnError is an encoder's fit given no column: an imputer before it
// dropped every one (attack run 29 F4: named column "" and "no row of
// training data").
func noColumnError(stepName string) error {
	return &ParamError{Step: stepName, Param: "input", Value: "no column",
		Msg: "no column reaches this step: the imputer before it drops every column that holds no value in the training data (as scikit-learn's SimpleImputer does); check that the group's columns have values, or give the imputer keep_empty_features: true"}
}

// checkLists refuses given category lists that are not one per column.
func (p *CategoriesParam) checkLists(stepName string, n int) error {
	if p.Lists != nil && len(p.Lists) != n {
		return &ParamError{Step: stepName, Param: "categories", Value: fmt.Sprintf("%d lists", len(p.Lists)),
			Msg: fmt.Sprintf("needs one list per input column (%d)", n)}
	}
	return nil
}

// fitCategories determines each column's categories from their counts as
// scikit-learn's _BaseEncoder._fit does: the sorted distinct values
// (missing last) for "auto", else the given lists. With rejectUnknown
// (handle_unknown="error") a training value outside a given list is a
// *ValueError naming it (the smallest such value).
func fitCategories(stepName string, p *CategoriesParam, cc *CategoryCounts, rejectUnknown bool) (*fittedCategories, error) {
	if len(cc.Names) == 0 {
		return nil, noColumnError(stepName)
	}
	if cc.Rows == 0 {
		return nil, &ValueError{Step: stepName, Row: -1, Err: ErrBadValue, Hint: "fit needs at least one row of training data"}
	}
	if err := p.checkLists(stepName, len(cc.Names)); err != nil {
		return nil, err
	}
	fc := &fittedCategories{cats: make([]CategoryList, len(cc.Names)), counts: make([][]int, len(cc.Names)), rows: cc.Rows}
	for j := range cc.Names {
		counts, missing := cc.Counts[j], cc.Missing[j]
		if p.Lists == nil {
			fc.cats[j], fc.counts[j] = sortedCategories(counts, missing)
			continue
		}
		cats := p.Lists[j]
		if rejectUnknown {
			if err := unknownInCounts(stepName, cc.Names[j], cats, counts, missing); err != nil {
				return nil, err
			}
		}
		fc.cats[j] = append(CategoryList(nil), cats...)
		fc.counts[j] = make([]int, len(cats))
		for k, v := range cats {
			if v == nil {
				fc.counts[j][k] = missing
			} else {
				fc.counts[j][k] = counts[*v]
			}
		}
	}
	return fc, nil
}

// unknownInCounts is firstUnknownInFit on counts: it reports the missing
// cells when cats has no null entry, else the smallest value not in cats.
func unknownInCounts(stepName, col string, cats CategoryList, counts map[string]int, missing int) error {
	if _, err := cats.index(); err != nil {
		return &ParamError{Step: stepName, Param: "categories", Value: col, Msg: err.Error()}
	}
	if missing > 0 && findCategory(cats, nil) < 0 {
		return &ValueError{Step: stepName, Column: col, Row: -1, Err: ErrUnknownCategory,
			Hint: "the training data has missing values but categories has no null entry: add null to the list, put a simple_imputer first, or set handle_unknown to accept unknowns"}
	}
	var unknown []string
	for v := range counts {
		if findCategory(cats, &v) < 0 {
			unknown = append(unknown, v)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	sort.Strings(unknown)
	return &ValueError{Step: stepName, Column: col, Row: -1, Value: unknown[0], Err: ErrUnknownCategory,
		Hint: "the training data has a value missing from categories: add it to the list or set handle_unknown to accept unknowns"}
}

// countValues counts each distinct present value and the missing cells.
func countValues(c *table.Column, rows int) (map[string]int, int) {
	counts := make(map[string]int)
	missing := 0
	for i, v := range c.Str[:rows] {
		if c.Null != nil && c.Null[i] {
			missing++
			continue
		}
		counts[v]++
	}
	return counts, missing
}

// sortedCategories returns the distinct values in scikit-learn's order,
// the missing category last, with their counts. When every value is a
// decimal number (what pandas reads as an int64 or float64 column: store
// ids, codes) they sort by numeric value, as np.unique sorts a numeric
// array, so 1, 2, 12 rather than 1, 12, 2; otherwise in byte (= code
// point) order, as Python sorts str. Two texts of one number ("1" and
// "1.0") stay two categories, ordered by text.
func sortedCategories(counts map[string]int, missing int) (CategoryList, []int) {
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if vals, ok := decimalValues(keys); ok {
		order := make([]int, len(keys))
		for i := range order {
			order[i] = i
		}
		// Stable on the byte order above, so equal numbers keep text order.
		sort.SliceStable(order, func(a, b int) bool { return vals[order[a]] < vals[order[b]] })
		sorted := make([]string, len(keys))
		for i, k := range order {
			sorted[i] = keys[k]
		}
		keys = sorted
	}
	cats := make(CategoryList, 0, len(keys)+1)
	n := make([]int, 0, len(keys)+1)
	for i := range keys {
		cats = append(cats, &keys[i])
		n = append(n, counts[keys[i]])
	}
	if missing > 0 {
		cats = append(cats, nil)
		n = append(n, missing)
	}
	return cats, n
}

// decimalValues parses every key as a plain decimal number (an optional
// minus sign, digits, an optional fraction and exponent: no spaces, no
// "+", "inf" or "nan", no hexadecimal) and reports whether all of them are.
func decimalValues(keys []string) ([]float64, bool) {
	if len(keys) == 0 {
		return nil, false
	}
	vals := make([]float64, len(keys))
	for i, k := range keys {
		if !isDecimal(k) {
			return nil, false
		}
		v, err := strconv.ParseFloat(k, 64)
		if err != nil || math.IsInf(v, 0) {
			return nil, false
		}
		vals[i] = v
	}
	return vals, true
}

// isDecimal reports whether s matches -?D+(.D+)?([eE][+-]?D+)? with D a
// digit 0-9.
func isDecimal(s string) bool {
	i := 0
	digits := func() bool {
		start := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		return i > start
	}
	if i < len(s) && s[i] == '-' {
		i++
	}
	if !digits() {
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if !digits() {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if !digits() {
			return false
		}
	}
	return i == len(s)
}

// firstUnknownInFit reports the first training value not in cats, as
// scikit-learn's "Found unknown categories ... during fit".
func firstUnknownInFit(stepName string, c *table.Column, cats CategoryList, rows int) error {
	x, err := cats.index()
	if err != nil {
		return &ParamError{Step: stepName, Param: "categories", Value: c.Name, Msg: err.Error()}
	}
	for i := 0; i < rows; i++ {
		if x.lookup(c, i) >= 0 {
			continue
		}
		if c.Null != nil && c.Null[i] {
			return &ValueError{Step: stepName, Column: c.Name, Row: -1, Err: ErrUnknownCategory,
				Hint: "the training data has missing values but categories has no null entry: add null to the list, put a simple_imputer first, or set handle_unknown to accept unknowns"}
		}
		return &ValueError{Step: stepName, Column: c.Name, Row: -1, Value: c.Str[i], Err: ErrUnknownCategory,
			Hint: "the training data has a value missing from categories: add it to the list or set handle_unknown to accept unknowns"}
	}
	return nil
}

// EncodedValue is an integer or NaN, the type of OrdinalEncoder's
// unknown_value and encoded_missing_value. JSON: null (not set), an integer
// literal, or the string "NaN". Like scikit-learn, a non-integral number
// such as -1.5 or 2.0 is refused.
type EncodedValue struct {
	Valid bool    // false for null (scikit-learn's None)
	Value float64 // NaN or an integer
}

// maxExactInt is the largest integer magnitude float64 holds exactly.
const maxExactInt = 1 << 53

// MarshalJSON implements json.Marshaler.
func (v EncodedValue) MarshalJSON() ([]byte, error) {
	switch {
	case !v.Valid:
		return []byte("null"), nil
	case math.IsNaN(v.Value):
		return []byte(`"NaN"`), nil
	}
	return strconv.AppendInt(nil, int64(v.Value), 10), nil
}

// UnmarshalJSON implements json.Unmarshaler.
func (v *EncodedValue) UnmarshalJSON(b []byte) error {
	s := string(bytes.TrimSpace(b))
	switch s {
	case "null":
		*v = EncodedValue{}
		return nil
	case `"NaN"`, `"nan"`:
		*v = EncodedValue{Valid: true, Value: math.NaN()}
		return nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n > maxExactInt || n < -maxExactInt {
		return fmt.Errorf(`must be an integer or "NaN", got %s`, s)
	}
	*v = EncodedValue{Valid: true, Value: float64(n)}
	return nil
}

// String returns the value as scikit-learn prints it.
func (v EncodedValue) String() string {
	switch {
	case !v.Valid:
		return "None"
	case math.IsNaN(v.Value):
		return "nan"
	}
	return strconv.FormatInt(int64(v.Value), 10)
}

// rejectParam returns a *ParamError when a parameter that scikit-learn 1.2
// does not have was given (raw is its JSON, empty or null when absent).
func rejectParam(stepName, param string, raw json.RawMessage, msg string) error {
	if len(raw) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		return nil
	}
	return &ParamError{Step: stepName, Param: param, Value: string(raw), Msg: msg}
}
