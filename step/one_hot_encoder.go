package step

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/normguard/normguard/table"
)

func init() {
	register(&Def{
		Name:      "one_hot_encoder",
		Role:      RoleEncoder,
		Accepts:   []table.Kind{table.String},
		NewParams: func() Params { return DefaultOneHotEncoderParams() },
		NewFitted: func() Fitted { return &OneHotEncoder{} },
	})
}

// infrequentCategoryName is scikit-learn's name for the grouped infrequent
// categories in output names.
const infrequentCategoryName = "infrequent_sklearn"

// handle_unknown values of OneHotEncoder.
const (
	unknownError              = "error"
	unknownIgnore             = "ignore"
	unknownInfrequentIfExists = "infrequent_if_exist"
)

// OneHotEncoderParams configures scikit-learn's OneHotEncoder. Field names,
// json tags and defaults are scikit-learn 1.2's.
type OneHotEncoderParams struct {
	// Categories is "auto" or one list of categories per input column.
	Categories CategoriesParam `json:"categories"`
	// Drop is null, "first", "if_binary" or one category per input column.
	Drop DropParam `json:"drop"`
	// Sparse is scikit-learn 1.2's deprecated alias of sparse_output
	// (absent, "deprecated" or a boolean). Accepted; output is dense.
	Sparse json.RawMessage `json:"sparse,omitempty"`
	// SparseOutput is accepted for compatibility; output is always dense.
	SparseOutput bool `json:"sparse_output"`
	// Dtype is accepted (float64, float32, int64, int32); output columns
	// are float64 holding 0 and 1.
	Dtype string `json:"dtype"`
	// HandleUnknown is "error", "ignore" or "infrequent_if_exist".
	HandleUnknown string `json:"handle_unknown"`
	// MinFrequency groups categories rarer than it as infrequent.
	MinFrequency MinFrequency `json:"min_frequency"`
	// MaxCategories bounds the output columns per input column, the
	// infrequent column included (null or an integer >= 1).
	MaxCategories *int `json:"max_categories"`
	// FeatureNameCombiner does not exist in scikit-learn 1.2 and is refused.
	FeatureNameCombiner json.RawMessage `json:"feature_name_combiner,omitempty"`
}

// DefaultOneHotEncoderParams returns scikit-learn 1.2's defaults:
// categories="auto", drop=None, sparse_output=True, dtype=float64,
// handle_unknown="error", no infrequent grouping.
func DefaultOneHotEncoderParams() *OneHotEncoderParams {
	return &OneHotEncoderParams{SparseOutput: true, Dtype: "float64", HandleUnknown: unknownError}
}

// Validate implements Params.
func (p *OneHotEncoderParams) Validate() error {
	const s = "one_hot_encoder"
	if err := p.Categories.validate(s); err != nil {
		return err
	}
	switch p.Drop.Rule {
	case "", "first", "if_binary":
	default:
		return &ParamError{Step: s, Param: "drop", Value: p.Drop.Rule,
			Msg: `must be null, "first", "if_binary" or a list with one category per input column`}
	}
	switch sp := string(bytes.TrimSpace(p.Sparse)); sp {
	case "", `"deprecated"`, "true", "false":
	default:
		return &ParamError{Step: s, Param: "sparse", Value: sp, Msg: "must be a boolean (output is dense either way)"}
	}
	if err := validateDtype(s, p.Dtype); err != nil {
		return err
	}
	switch p.HandleUnknown {
	case unknownError, unknownIgnore, unknownInfrequentIfExists:
	default:
		return &ParamError{Step: s, Param: "handle_unknown", Value: p.HandleUnknown,
			Msg: "must be error, ignore or infrequent_if_exist"}
	}
	if err := p.MinFrequency.validate(); err != nil {
		return err
	}
	if p.MaxCategories != nil && *p.MaxCategories < 1 {
		return &ParamError{Step: s, Param: "max_categories", Value: *p.MaxCategories, Msg: "must be null or an integer >= 1"}
	}
	return rejectParam(s, "feature_name_combiner", p.FeatureNameCombiner,
		"is not supported (it appeared in scikit-learn 1.3); output names are <column>_<category>")
}

// infrequentEnabled reports whether min_frequency or max_categories asks
// for infrequent grouping (scikit-learn's _infrequent_enabled).
func (p *OneHotEncoderParams) infrequentEnabled() bool {
	return p.MinFrequency.Set || p.MaxCategories != nil
}

// Fit implements Params. It determines each column's categories (see
// CategoriesParam), its infrequent categories and the dropped output, as
// scikit-learn 1.2's OneHotEncoder.fit.
func (p *OneHotEncoderParams) Fit(_ *FitContext, cols []table.Column) (Fitted, error) {
	cc, err := countCategories("one_hot_encoder", &p.Categories, cols, p.HandleUnknown == unknownError)
	if err != nil {
		return nil, err
	}
	return p.FitCounts(cc)
}

// FitCounts builds the fitted OneHotEncoder from its training columns'
// category counts: the fit of those columns.
func (p *OneHotEncoderParams) FitCounts(cc *CategoryCounts) (Fitted, error) {
	fc, err := fitCategories("one_hot_encoder", &p.Categories, cc, p.HandleUnknown == unknownError)
	if err != nil {
		return nil, err
	}
	cols := cc.Names
	e := &OneHotEncoder{Names: cc.Names, Categories: fc.cats, HandleUnknown: p.HandleUnknown}
	if p.Categories.Lists == nil {
		e.CategoriesDtype = categoriesDtype(fc.cats)
	}
	var infrequent [][]int
	if p.infrequentEnabled() {
		infrequent = make([][]int, len(cols))
		e.InfrequentCategories = make([]CategoryList, len(cols))
		for j := range cols {
			infrequent[j] = p.identifyInfrequent(fc.counts[j], fc.rows)
			for _, k := range infrequent[j] {
				e.InfrequentCategories[j] = append(e.InfrequentCategories[j], fc.cats[j][k])
			}
		}
	}
	if e.DropIdx, err = p.dropIdx(e.Names, fc.cats, infrequent); err != nil {
		return nil, err
	}
	if _, err := e.kernel(); err != nil {
		return nil, err
	}
	return e, nil
}

// identifyInfrequent returns the positions of a column's infrequent
// categories in ascending order, or nil, as scikit-learn 1.2's
// _identify_infrequent:
//
//	infrequent(k) = counts[k] < min_frequency               (integer)
//	infrequent(k) = counts[k] < min_frequency * rows        (fraction)
//
// then, when max_categories < (non-infrequent categories + 1), the
// len(counts) - max_categories + 1 smallest counts (stable sort: ties keep
// category order) are made infrequent too. As in scikit-learn 1.2,
// max_categories=1 marks nothing (its slice [:-1+1] is empty).
func (p *OneHotEncoderParams) identifyInfrequent(counts []int, rows int) []int {
	mask := make([]bool, len(counts))
	nInfrequent := 0
	if p.MinFrequency.Set {
		limit := float64(p.MinFrequency.Count)
		if p.MinFrequency.IsFraction {
			limit = float64(rows) * p.MinFrequency.Fraction
		}
		for k, c := range counts {
			if float64(c) < limit {
				mask[k] = true
				nInfrequent++
			}
		}
	}
	if m := p.MaxCategories; m != nil && *m < len(counts)-nInfrequent+1 && *m > 1 {
		order := make([]int, len(counts))
		for k := range order {
			order[k] = k
		}
		sort.SliceStable(order, func(a, b int) bool { return counts[order[a]] < counts[order[b]] })
		for _, k := range order[:len(counts)-*m+1] {
			mask[k] = true
		}
	}
	var out []int
	for k, inf := range mask {
		if inf {
			out = append(out, k)
		}
	}
	return out
}

// dropIdx computes scikit-learn 1.2's drop_idx_: per column, the position
// of the dropped output among the column's outputs after infrequent
// grouping (frequent categories in order, then the infrequent group), or
// nil when nothing is dropped.
//
//   - "first" drops output 0: the first frequent category, or the
//     infrequent group when every category is infrequent.
//   - "if_binary" drops output 0 of columns with exactly two outputs after
//     grouping.
//   - a list names the category to drop; naming an infrequent category is
//     an error, as in scikit-learn.
func (p *OneHotEncoderParams) dropIdx(colNames []string, cats []CategoryList, infrequent [][]int) ([]*int, error) {
	const s = "one_hot_encoder"
	nInf := func(j int) int {
		if infrequent == nil {
			return 0
		}
		return len(infrequent[j])
	}
	out := make([]*int, len(cats))
	switch {
	case p.Drop.PerColumn != nil:
		if len(p.Drop.PerColumn) != len(cats) {
			return nil, &ParamError{Step: s, Param: "drop", Value: fmt.Sprintf("%d categories", len(p.Drop.PerColumn)),
				Msg: fmt.Sprintf("needs one category per input column (%d)", len(cats))}
		}
		var notFound []string
		for j, want := range p.Drop.PerColumn {
			k := findCategory(cats[j], want)
			if k < 0 {
				notFound = append(notFound, fmt.Sprintf("%q in column %q", CategoryList{want}.label(0), colNames[j]))
				continue
			}
			mapped := k
			if nInf(j) > 0 {
				below := sort.SearchInts(infrequent[j], k)
				if below < len(infrequent[j]) && infrequent[j][below] == k {
					return nil, &ParamError{Step: s, Param: "drop", Value: cats[j].label(k),
						Msg: fmt.Sprintf("cannot drop category %q from column %q because it is infrequent", cats[j].label(k), colNames[j])}
				}
				mapped = k - below
			}
			out[j] = &mapped
		}
		if notFound != nil {
			return nil, &ParamError{Step: s, Param: "drop", Value: "list",
				Msg: "categories to drop were not found in the training data: " + strings.Join(notFound, ", ")}
		}
	case p.Drop.Rule == "first":
		for j := range out {
			out[j] = new(int)
		}
	case p.Drop.Rule == "if_binary":
		for j := range out {
			n := len(cats[j])
			if nInf(j) > 0 {
				n -= nInf(j) - 1
			}
			if n == 2 {
				out[j] = new(int)
			}
		}
	default:
		return nil, nil
	}
	return out, nil
}

// The dtypes of categories_dtype_.
const (
	dtypeObject  = "object"
	dtypeFloat64 = "float64"
)

// categoriesDtype returns categories_dtype_ for categories="auto": per
// column "float64" when floatCategories holds, else "object"; nil when no
// column is float64.
func categoriesDtype(cats []CategoryList) []string {
	var out []string
	for j, c := range cats {
		if floatCategories(c) {
			if out == nil {
				out = make([]string, len(cats))
				for i := range out {
					out[i] = dtypeObject
				}
			}
			out[j] = dtypeFloat64
		}
	}
	return out
}

// floatCategories reports whether pandas would read a column with these
// categories as float64: every present category is a decimal number
// (see isDecimal) and the column has a missing value (NaN forces floats
// on integers) or a number written with a fraction or an exponent.
// Integer text without missing values is int64, whose names are the text.
func floatCategories(cats CategoryList) bool {
	var f floatness
	for _, c := range cats {
		f.add(c)
	}
	return f.holds()
}

// floatRepr returns Python's str() of the float a decimal category text
// parses to, as scikit-learn prints a float64 category in output names:
// integral values below 1e16 gain ".0" (1 -> "1.0"), others are the
// shortest repr (0.5, 1e+20, 1e-05).
func floatRepr(text string) string {
	v, err := strconv.ParseFloat(text, 64)
	if err != nil {
		return text
	}
	s := string(table.AppendFloat(nil, v))
	if !strings.ContainsAny(s, ".e") {
		s += ".0"
	}
	return s
}

// OneHotEncoder turns each input column into one 0/1 column per category:
//
//	y[<col>_<category>] = 1 if x == category else 0
//
// Matches scikit-learn 1.2 OneHotEncoder with sparse_output=False and
// get_feature_names_out names (verbose_feature_names_out=False):
//
//   - A missing value (Null) is the category "nan" when it was seen in
//     fit (or listed as null in categories); otherwise it is unknown.
//   - Infrequent categories share the column <col>_infrequent_sklearn,
//     placed after the column's frequent categories.
//   - The output at drop_idx_[i] (counted after infrequent grouping) is
//     left out; a value of the dropped category gives all zeros.
//   - Unknown values: handle_unknown "error" returns a *ValueError
//     wrapping ErrUnknownCategory; "ignore" gives all zeros; and
//     "infrequent_if_exist" sets the infrequent column when the column has
//     one, else gives all zeros.
//
// Transform may run concurrently; the fields must not change once the
// encoder has been used.
type OneHotEncoder struct {
	Names      []string       `json:"feature_names_in_"`
	Categories []CategoryList `json:"categories_"`
	// DropIdx is scikit-learn 1.2's drop_idx_: per column, the position of
	// the dropped output after infrequent grouping, or nil; nil when
	// nothing is dropped.
	DropIdx []*int `json:"drop_idx_"`
	// InfrequentCategories is infrequent_categories_: per column, its
	// infrequent categories or nil. It is nil when min_frequency and
	// max_categories are both unset.
	InfrequentCategories []CategoryList `json:"infrequent_categories_,omitempty"`
	HandleUnknown        string         `json:"handle_unknown"`
	// CategoriesDtype is, per column, the dtype pandas gives the column as
	// scikit-learn sees it: "float64" for numbers pandas reads as floats
	// (see floatCategories), whose output names are the float's repr
	// (store_1.0, store_nan), else "object". It is nil, and left out of the
	// artifact, when no column is float64.
	CategoriesDtype []string `json:"categories_dtype_,omitempty"`

	once    sync.Once
	plan    *oneHotPlan
	planErr error
	// source, when set, reads the lists again for the outputs, which the
	// plan does not keep (checkStreamed).
	source *oneHotSource
}

// Sentinel output positions in a oneHotColumn.
const (
	noOutput      = -1 // all zeros
	unknownIsFail = -2 // *ValueError: unknown category
)

// oneHotPlan is the transform kernel's view of a OneHotEncoder: for each
// input column, the output position of every value.
type oneHotPlan struct {
	cols   []oneHotColumn
	fields []table.Field
}

// oneHotColumn maps one input column's values to output positions (indices
// into the step's outputs), noOutput or unknownIsFail.
type oneHotColumn struct {
	pos     map[string]int32
	missing int32 // position for a missing value
	unknown int32 // position for a value not in pos
}

// position returns the output a value (missing or not) sets to 1, or
// pc.unknown's code when none does: Transform and CountOnes alike.
func (pc *oneHotColumn) position(v string, missing bool) int32 {
	if missing {
		return pc.missing
	}
	if q, ok := pc.pos[v]; ok {
		return q
	}
	return pc.unknown
}

// kernel returns the transform plan, building and validating it once.
func (e *OneHotEncoder) kernel() (*oneHotPlan, error) {
	e.once.Do(func() { e.plan, e.planErr = e.buildPlan() })
	return e.plan, e.planErr
}

// buildPlan validates the fitted attributes and derives the plan. The
// rules are in one_hot_encoder_check.go (checkShape, planColumn), shared
// with a streamed reading of the encoder.
func (e *OneHotEncoder) buildPlan() (*oneHotPlan, error) {
	n := len(e.Categories)
	err := e.checkShape(n, e.InfrequentCategories != nil, len(e.InfrequentCategories), func(j int) bool { return floatCategories(e.Categories[j]) })
	if err != nil {
		return nil, err
	}
	p := &oneHotPlan{cols: make([]oneHotColumn, n)}
	for j, cats := range e.Categories {
		x, err := cats.index()
		if err != nil {
			return nil, fmt.Errorf("categories_[%d] %v", j, err)
		}
		// mapped[k] is category k's output before dropping: its rank among
		// the frequent categories, or nFreq for the infrequent group.
		mapped := make([]int, len(cats))
		var inf CategoryList
		if e.InfrequentCategories != nil {
			inf = e.InfrequentCategories[j]
		}
		base := len(p.fields)
		col, err := e.planColumn(j, len(cats), listReader(cats), inf != nil, len(inf), listReader(inf), func(k, m int) { mapped[k] = m }, func(l string) {
			p.fields = append(p.fields, table.Field{Name: e.Names[j] + "_" + l, Kind: table.Numeric})
		})
		if err != nil {
			return nil, err
		}
		final := func(m int) int32 {
			switch {
			case m == col.drop:
				return noOutput
			case col.drop >= 0 && m > col.drop:
				m--
			}
			return int32(base + m)
		}
		c := oneHotColumn{pos: make(map[string]int32, len(x.pos))}
		switch {
		case e.HandleUnknown == unknownError:
			c.unknown = unknownIsFail
		case e.HandleUnknown == unknownInfrequentIfExists && col.nInf > 0:
			c.unknown = final(col.nFreq)
		default:
			c.unknown = noOutput
		}
		for v, k := range x.pos {
			c.pos[v] = final(mapped[k])
		}
		c.missing = c.unknown
		if x.missing >= 0 {
			c.missing = final(mapped[x.missing])
		}
		p.cols[j] = c
	}
	return p, nil
}

// Outputs implements Fitted. It returns nil when the fitted attributes are
// inconsistent (Check reports why).
func (e *OneHotEncoder) Outputs() []table.Field {
	if e.source != nil {
		var fs []table.Field
		if EachOutput(e, func(f table.Field) { fs = append(fs, f) }) != nil {
			return nil
		}
		return fs
	}
	p, err := e.kernel()
	if err != nil {
		return nil
	}
	return append([]table.Field(nil), p.fields...)
}

// Check implements Fitted.
func (e *OneHotEncoder) Check(nIn int) error {
	if err := checkLen("feature_names_in_", len(e.Names), nIn); err != nil {
		return err
	}
	if err := checkNames("feature_names_in_", e.Names); err != nil {
		return err
	}
	_, err := e.kernel()
	return err
}

// Transform implements Fitted.
func (e *OneHotEncoder) Transform(in, out []table.Column, n int) error {
	const s = "one_hot_encoder"
	p, err := e.kernel()
	if err != nil {
		return err
	}
	if len(in) != len(p.cols) || len(out) != len(p.fields) {
		return fmt.Errorf("%s: got %d input and %d output columns, fitted for %d and %d",
			s, len(in), len(out), len(p.cols), len(p.fields))
	}
	if err := requireStrings(s, in, n); err != nil {
		return err
	}
	for k := range out {
		out[k].Resize(n)
		clear(out[k].Num[:n])
	}
	for j := range in {
		c, pc := &in[j], &p.cols[j]
		null := c.Null
		for i, v := range c.Str[:n] {
			pos := pc.position(v, null != nil && null[i])
			if pos >= 0 {
				out[pos].Num[i] = 1
			} else if pos == unknownIsFail {
				return unknownCategoryError(s, c, i,
					"set handle_unknown: ignore or infrequent_if_exist in the spec, or refit on data that has it")
			}
		}
	}
	return nil
}

// DropParam is OneHotEncoder's drop parameter: null (the zero value),
// "first", "if_binary", or one category per input column (null for the
// missing category).
type DropParam struct {
	Rule      string       // "", "first" or "if_binary"
	PerColumn CategoryList // the category to drop in each column, when not nil
}

// MarshalJSON implements json.Marshaler.
func (d DropParam) MarshalJSON() ([]byte, error) {
	switch {
	case d.PerColumn != nil:
		return json.Marshal(d.PerColumn)
	case d.Rule != "":
		return json.Marshal(d.Rule)
	}
	return []byte("null"), nil
}

// UnmarshalJSON implements json.Unmarshaler.
func (d *DropParam) UnmarshalJSON(b []byte) error {
	*d = DropParam{}
	switch t := bytes.TrimSpace(b); {
	case string(t) == "null":
		return nil
	case len(t) > 0 && t[0] == '"':
		return json.Unmarshal(t, &d.Rule)
	case len(t) > 0 && t[0] == '[':
		var l CategoryList
		if err := json.Unmarshal(t, &l); err == nil {
			d.PerColumn = append(CategoryList{}, l...)
			return nil
		}
	}
	return errors.New(`drop must be null, "first", "if_binary" or a list with one category (string or null) per input column`)
}

// MinFrequency is OneHotEncoder's min_frequency: unset (null), an absolute
// count (an integer >= 1) or a fraction of the training rows (a float in
// (0, 1)). As in Python, JSON tells them apart by the literal: an integer
// literal is a count, one with a fraction or exponent is a float.
type MinFrequency struct {
	Set        bool
	IsFraction bool
	Count      int
	Fraction   float64
}

// MarshalJSON implements json.Marshaler.
func (m MinFrequency) MarshalJSON() ([]byte, error) {
	switch {
	case !m.Set:
		return []byte("null"), nil
	case !m.IsFraction:
		return strconv.AppendInt(nil, int64(m.Count), 10), nil
	}
	b := strconv.AppendFloat(nil, m.Fraction, 'g', -1, 64)
	if !bytes.ContainsAny(b, ".eEn") {
		b = append(b, ".0"...)
	}
	return b, nil
}

// UnmarshalJSON implements json.Unmarshaler.
func (m *MinFrequency) UnmarshalJSON(b []byte) error {
	t := string(bytes.TrimSpace(b))
	*m = MinFrequency{}
	if t == "null" {
		return nil
	}
	if !strings.ContainsAny(t, ".eE") {
		n, err := strconv.Atoi(t)
		if err != nil {
			return fmt.Errorf("min_frequency must be null, an integer or a float, got %s", t)
		}
		*m = MinFrequency{Set: true, Count: n}
		return nil
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil {
		return fmt.Errorf("min_frequency must be null, an integer or a float, got %s", t)
	}
	*m = MinFrequency{Set: true, IsFraction: true, Fraction: f}
	return nil
}

// validate checks the ranges scikit-learn 1.2 allows.
func (m MinFrequency) validate() error {
	switch {
	case !m.Set:
	case !m.IsFraction && m.Count < 1:
		return &ParamError{Step: "one_hot_encoder", Param: "min_frequency", Value: m.Count,
			Msg: "an integer must be >= 1 (a count of training rows)"}
	case m.IsFraction && !(m.Fraction > 0 && m.Fraction < 1):
		return &ParamError{Step: "one_hot_encoder", Param: "min_frequency", Value: m.Fraction,
			Msg: "a float must be in (0, 1) (a fraction of the training rows)"}
	}
	return nil
}

// checkWith is Check with categories_ also checked by c, which they were
// fed to (CheckStep).
func (e *OneHotEncoder) checkWith(nIn int, c *CategoriesCheck) error {
	if err := checkLen("feature_names_in_", len(e.Names), nIn); err != nil {
		return err
	}
	if err := checkNames("feature_names_in_", e.Names); err != nil {
		return err
	}
	if err := c.Err(); err != nil {
		return err
	}
	_, err := e.kernel()
	return err
}

// ChecksOutput implements OutputChecker: no finite input gives a
// non-finite output (its outputs are 0 and 1).
func (e *OneHotEncoder) ChecksOutput() bool { return true }
