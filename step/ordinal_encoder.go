package step

import (
	"encoding/json"
	"fmt"
	"math"
	"sync"

	"github.com/normguard/normguard/table"
)

func init() {
	register(&Def{
		Name:      "ordinal_encoder",
		Role:      RoleEncoder,
		Accepts:   []table.Kind{table.String},
		NewParams: func() Params { return DefaultOrdinalEncoderParams() },
		NewFitted: func() Fitted { return &OrdinalEncoder{} },
	})
}

// handle_unknown value of OrdinalEncoder besides "error".
const unknownUseEncodedValue = "use_encoded_value"

// OrdinalEncoderParams configures scikit-learn's OrdinalEncoder. Field
// names, json tags and defaults are scikit-learn 1.2's.
type OrdinalEncoderParams struct {
	// Categories is "auto" or one list of categories per input column.
	Categories CategoriesParam `json:"categories"`
	// Dtype is accepted (float64, float32, int64, int32); output columns
	// are float64. An integer dtype refuses NaN codes, as scikit-learn does.
	Dtype string `json:"dtype"`
	// HandleUnknown is "error" or "use_encoded_value".
	HandleUnknown string `json:"handle_unknown"`
	// UnknownValue is the code of unknown values: required (an integer or
	// NaN) with use_encoded_value, null otherwise.
	UnknownValue EncodedValue `json:"unknown_value"`
	// EncodedMissingValue is the code of a missing value (default NaN).
	EncodedMissingValue EncodedValue `json:"encoded_missing_value"`
	// MinFrequency and MaxCategories do not exist in scikit-learn 1.2's
	// OrdinalEncoder (they appeared in 1.3) and are refused.
	MinFrequency  json.RawMessage `json:"min_frequency,omitempty"`
	MaxCategories json.RawMessage `json:"max_categories,omitempty"`
}

// DefaultOrdinalEncoderParams returns scikit-learn 1.2's defaults:
// categories="auto", dtype=float64, handle_unknown="error",
// unknown_value=None, encoded_missing_value=NaN.
func DefaultOrdinalEncoderParams() *OrdinalEncoderParams {
	return &OrdinalEncoderParams{Dtype: "float64", HandleUnknown: unknownError,
		EncodedMissingValue: EncodedValue{Valid: true, Value: math.NaN()}}
}

// Validate implements Params.
func (p *OrdinalEncoderParams) Validate() error {
	const s = "ordinal_encoder"
	if err := p.Categories.validate(s); err != nil {
		return err
	}
	if err := validateDtype(s, p.Dtype); err != nil {
		return err
	}
	for _, r := range []struct {
		name string
		raw  json.RawMessage
	}{{"min_frequency", p.MinFrequency}, {"max_categories", p.MaxCategories}} {
		if err := rejectParam(s, r.name, r.raw,
			"does not exist in scikit-learn 1.2's OrdinalEncoder (it appeared in 1.3): remove it, or use one_hot_encoder"); err != nil {
			return err
		}
	}
	if !p.EncodedMissingValue.Valid {
		return &ParamError{Step: s, Param: "encoded_missing_value", Value: p.EncodedMissingValue, Msg: `must be an integer or "NaN"`}
	}
	isFloat := encoderDtypes[p.Dtype]
	switch p.HandleUnknown {
	case unknownUseEncodedValue:
		if !p.UnknownValue.Valid {
			return &ParamError{Step: s, Param: "unknown_value", Value: p.UnknownValue,
				Msg: `is required with handle_unknown: use_encoded_value (an integer such as -1, or "NaN")`}
		}
		if math.IsNaN(p.UnknownValue.Value) && !isFloat {
			return &ParamError{Step: s, Param: "unknown_value", Value: p.UnknownValue,
				Msg: fmt.Sprintf("is NaN, which needs a float dtype (got %s)", p.Dtype)}
		}
	case unknownError:
		if p.UnknownValue.Valid {
			return &ParamError{Step: s, Param: "unknown_value", Value: p.UnknownValue,
				Msg: "may only be set with handle_unknown: use_encoded_value"}
		}
	default:
		return &ParamError{Step: s, Param: "handle_unknown", Value: p.HandleUnknown, Msg: "must be error or use_encoded_value"}
	}
	return nil
}

// Fit implements Params. It determines each column's categories (see
// CategoriesParam) and checks, as scikit-learn 1.2's OrdinalEncoder.fit,
// that unknown_value and encoded_missing_value are not codes of seen
// categories.
func (p *OrdinalEncoderParams) Fit(_ *FitContext, cols []table.Column) (Fitted, error) {
	const s = "ordinal_encoder"
	cc, err := countCategories(s, &p.Categories, cols, p.HandleUnknown == unknownError)
	if err != nil {
		return nil, err
	}
	return p.FitCounts(cc)
}

// FitCounts builds the fitted OrdinalEncoder from its training columns'
// category counts: the fit of those columns.
func (p *OrdinalEncoderParams) FitCounts(cc *CategoryCounts) (Fitted, error) {
	const s = "ordinal_encoder"
	fc, err := fitCategories(s, &p.Categories, cc, p.HandleUnknown == unknownError)
	if err != nil {
		return nil, err
	}
	e := &OrdinalEncoder{Names: cc.Names, Categories: fc.cats, HandleUnknown: p.HandleUnknown,
		EncodedMissingValue: Float(p.EncodedMissingValue.Value)}
	if p.HandleUnknown == unknownUseEncodedValue {
		u := Float(p.UnknownValue.Value)
		e.UnknownValue = &u
	}
	emv := p.EncodedMissingValue.Value
	for j, cats := range fc.cats {
		used := func(v float64) bool { return v >= 0 && v < float64(len(cats)) }
		if e.UnknownValue != nil && used(float64(*e.UnknownValue)) {
			return nil, &ParamError{Step: s, Param: "unknown_value", Value: p.UnknownValue,
				Msg: fmt.Sprintf("is already the code of a category of column %q (codes 0 to %d): use a negative value such as -1", e.Names[j], len(cats)-1)}
		}
		if findCategory(cats, nil) < 0 {
			continue
		}
		if math.IsNaN(emv) && !encoderDtypes[p.Dtype] {
			return nil, &ParamError{Step: s, Param: "encoded_missing_value", Value: p.EncodedMissingValue,
				Msg: fmt.Sprintf("column %q has missing values and dtype %s cannot hold NaN: set encoded_missing_value to an integer such as -1, or dtype to float64", e.Names[j], p.Dtype)}
		}
		if used(emv) {
			return nil, &ParamError{Step: s, Param: "encoded_missing_value", Value: p.EncodedMissingValue,
				Msg: fmt.Sprintf("is already the code of a category of column %q (codes 0 to %d): use a negative value such as -1", e.Names[j], len(cats)-1)}
		}
	}
	if _, err := e.kernel(); err != nil {
		return nil, err
	}
	return e, nil
}

// OrdinalEncoder replaces each value by its category's position:
//
//	y = k where categories_[i][k] == x
//
// Matches scikit-learn 1.2 OrdinalEncoder; output columns keep the input
// names and hold float64 codes:
//
//   - A missing value (Null) gives encoded_missing_value (default NaN)
//     when the missing category was seen in fit (or listed as null in
//     categories); otherwise it is unknown.
//   - An unknown value is a *ValueError wrapping ErrUnknownCategory with
//     handle_unknown "error", else unknown_value.
//
// Transform may run concurrently; the fields must not change once the
// encoder has been used.
type OrdinalEncoder struct {
	Names         []string       `json:"feature_names_in_"`
	Categories    []CategoryList `json:"categories_"`
	HandleUnknown string         `json:"handle_unknown"`
	// UnknownValue is the code of unknown values; nil with
	// handle_unknown "error".
	UnknownValue        *Float `json:"unknown_value"`
	EncodedMissingValue Float  `json:"encoded_missing_value"`

	once    sync.Once
	plan    *ordinalPlan
	planErr error
}

// ordinalPlan is the transform kernel's view of an OrdinalEncoder.
type ordinalPlan struct {
	cols        []ordinalColumn
	unknownFail bool
	unknown     float64
	missingCode float64 // encoded_missing_value
}

// ordinalColumn maps one input column's values to their codes.
type ordinalColumn struct {
	code        map[string]float64
	hasMissing  bool    // the missing value is a category
	missingCode float64 // its output (encoded_missing_value)
}

// kernel returns the transform plan, building and validating it once.
func (e *OrdinalEncoder) kernel() (*ordinalPlan, error) {
	e.once.Do(func() { e.plan, e.planErr = e.buildPlan() })
	return e.plan, e.planErr
}

// isEncodedValue reports whether v is an integer or NaN, the values scikit-learn
// takes for unknown_value and encoded_missing_value.
func isEncodedValue(v float64) bool {
	return math.IsNaN(v) || (math.Trunc(v) == v && math.Abs(v) <= maxExactInt)
}

// buildPlan validates the fitted attributes and derives the plan.
func (e *OrdinalEncoder) buildPlan() (*ordinalPlan, error) {
	if len(e.Names) != len(e.Categories) {
		return nil, e.listCountError(len(e.Categories))
	}
	p, err := e.codes()
	if err != nil {
		return nil, err
	}
	for j, cats := range e.Categories {
		x, err := cats.index()
		if err != nil {
			return nil, fmt.Errorf("categories_[%d] %v", j, err)
		}
		c, err := p.column(e.Names[j], len(cats), x.missing >= 0)
		if err != nil {
			return nil, err
		}
		c.code = make(map[string]float64, len(x.pos))
		for v, k := range x.pos {
			c.code[v] = float64(k)
		}
		p.cols = append(p.cols, c)
	}
	return p, nil
}

// listCountError reports categories_ holding n lists for another number
// of names.
func (e *OrdinalEncoder) listCountError(n int) error {
	return fmt.Errorf("feature_names_in_ has %d entries for %d lists in categories_", len(e.Names), n)
}

// codes checks handle_unknown, unknown_value and encoded_missing_value
// and returns a plan without columns holding them.
func (e *OrdinalEncoder) codes() (*ordinalPlan, error) {
	p := &ordinalPlan{cols: make([]ordinalColumn, 0, len(e.Categories))}
	switch e.HandleUnknown {
	case unknownError:
		if e.UnknownValue != nil {
			return nil, fmt.Errorf("unknown_value is set but handle_unknown is error")
		}
		p.unknownFail = true
	case unknownUseEncodedValue:
		if e.UnknownValue == nil || !isEncodedValue(float64(*e.UnknownValue)) {
			return nil, fmt.Errorf("unknown_value must be an integer or NaN with handle_unknown use_encoded_value")
		}
		p.unknown = float64(*e.UnknownValue)
	default:
		return nil, fmt.Errorf("handle_unknown %q is not error or use_encoded_value", e.HandleUnknown)
	}
	p.missingCode = float64(e.EncodedMissingValue)
	if !isEncodedValue(p.missingCode) {
		return nil, fmt.Errorf("encoded_missing_value %v is not an integer or NaN", p.missingCode)
	}
	return p, nil
}

// column checks that the codes of unknown and missing values are not
// codes of the n categories of column name (hasMissing: the missing
// value is one of them) and returns the column's plan without its codes.
func (p *ordinalPlan) column(name string, n int, hasMissing bool) (ordinalColumn, error) {
	used := func(v float64) bool { return v >= 0 && v < float64(n) }
	if !p.unknownFail && used(p.unknown) {
		return ordinalColumn{}, fmt.Errorf("unknown_value %v is one of the codes of the seen categories of column %q (0 to %d)",
			p.unknown, name, n-1)
	}
	if hasMissing && used(p.missingCode) {
		return ordinalColumn{}, fmt.Errorf("encoded_missing_value %v is already the code of a category of column %q (0 to %d)",
			p.missingCode, name, n-1)
	}
	return ordinalColumn{hasMissing: hasMissing, missingCode: p.missingCode}, nil
}

// checkWith applies the encoder's rules, its categories_ having been fed
// to c (from memory by CheckStep, or entry by entry from a file, in which
// case e.Categories is nil): c's rules instead of a map of every category,
// so that memory does not grow with the lists.
func (e *OrdinalEncoder) checkWith(nIn int, c *CategoriesCheck) error {
	if err := checkLen("feature_names_in_", len(e.Names), nIn); err != nil {
		return err
	}
	if err := checkNames("feature_names_in_", e.Names); err != nil {
		return err
	}
	if len(e.Names) != c.Len() {
		return e.listCountError(c.Len())
	}
	if err := c.Err(); err != nil {
		return err
	}
	p, err := e.codes()
	if err != nil {
		return err
	}
	for j, l := range c.lists {
		if _, err := p.column(e.Names[j], l.n, l.missing >= 0); err != nil {
			return err
		}
	}
	return nil
}

// Outputs implements Fitted.
func (e *OrdinalEncoder) Outputs() []table.Field { return numericFields(e.Names) }

// Check implements Fitted.
func (e *OrdinalEncoder) Check(nIn int) error {
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
func (e *OrdinalEncoder) Transform(in, out []table.Column, n int) error {
	const s = "ordinal_encoder"
	p, err := e.kernel()
	if err != nil {
		return err
	}
	if len(in) != len(p.cols) || len(out) != len(p.cols) {
		return fmt.Errorf("%s: got %d input and %d output columns, fitted for %d", s, len(in), len(out), len(p.cols))
	}
	if err := requireStrings(s, in, n); err != nil {
		return err
	}
	for j := range in {
		c, pc := in[j], &p.cols[j] // c is a copy: out[j] may be in[j]'s storage
		out[j].Resize(n)
		dst := out[j].Num[:n]
		for i, v := range c.Str[:n] {
			if c.Null != nil && c.Null[i] {
				if pc.hasMissing {
					dst[i] = pc.missingCode
					continue
				}
			} else if code, ok := pc.code[v]; ok {
				dst[i] = code
				continue
			}
			if p.unknownFail {
				return unknownCategoryError(s, &c, i,
					"set handle_unknown: use_encoded_value with an unknown_value in the spec, or refit on data that has it")
			}
			dst[i] = p.unknown
		}
	}
	return nil
}

// ChecksOutput implements OutputChecker: no finite input gives a
// non-finite output (its outputs are codes and the finite unknown and missing values).
func (e *OrdinalEncoder) ChecksOutput() bool { return true }
