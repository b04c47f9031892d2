// Package step implements the fit and transform of every normalization
// step normguard knows: scikit-learn's imputers, scalers and encoders with
// scikit-learn 1.2's semantics, parameter names and defaults.
//
// Each step lives in its own file and registers a Def. A step is fitted on
// the whole group of columns it applies to (Pipeline semantics: the output
// of the previous step) and yields a Fitted value that holds every fitted
// parameter, exactly as the transform kernel uses it, and serializes to the
// artifact under scikit-learn's attribute names (mean_, scale_, ...).
package step

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"

	"github.com/normguard/normguard/internal/errtext"
	"github.com/normguard/normguard/stats"
	"github.com/normguard/normguard/table"
)

// Role classifies a step for the impute-then-transform ordering rule.
type Role uint8

const (
	// RoleImputer fills missing values.
	RoleImputer Role = iota + 1
	// RoleTransform maps values (scalers, discretizers, functions).
	RoleTransform
	// RoleEncoder turns categories into numbers.
	RoleEncoder
)

// Def describes one kind of step.
type Def struct {
	// Name is scikit-learn's class name in snake_case, as the spec spells it.
	Name string
	// Role places the step in the impute -> transform order.
	Role Role
	// Accepts lists the input column kinds the step takes.
	Accepts []table.Kind
	// NewParams returns a pointer to the step's parameter struct filled with
	// scikit-learn's defaults. Its json tags are scikit-learn's names.
	NewParams func() Params
	// NewFitted returns an empty fitted value to decode an artifact into.
	NewFitted func() Fitted
}

// Params is a step's configuration.
type Params interface {
	// Validate checks the parameters; errors name the parameter.
	Validate() error
	// Fit fits the step on the group's columns (all rows of training data).
	Fit(ctx *FitContext, cols []table.Column) (Fitted, error)
}

// Fitted is a fitted step: its parameters and its transform kernel.
type Fitted interface {
	// Outputs returns the output columns' names and kinds, in order.
	Outputs() []table.Field
	// Transform writes the step's output for the n rows of in to out, which
	// has one column per output field with Name and Kind set. Buffers in
	// out may be reused; the step resizes them to n rows. For one-to-one
	// steps out[i] may share storage with in[i]; kernels must then be
	// element-wise safe. Errors about a value are *ValueError.
	Transform(in, out []table.Column, n int) error
	// Check validates the fitted parameters against the number of input
	// columns, so that a decoded artifact can never make a kernel index out
	// of range. Errors name the inconsistent attribute.
	Check(nIn int) error
}

// FitContext carries options that affect how fits are computed but never
// what they compute: results are identical for every chunk size and
// worker count.
type FitContext struct {
	// ChunkSize is the number of rows accumulated per chunk before merging
	// (0 means a default).
	ChunkSize int
	// Workers bounds the goroutines a fit may use (0 means 1).
	Workers int
	// Sort bounds the memory of order statistics (medians, percentiles,
	// quantiles): above Sort.MaxInMemory values a column is sorted
	// externally, in runs on disk. The result is the same.
	Sort stats.SortOptions
}

// sorted prepares ordered access to a column's non-NaN values within the
// context's memory bound.
func (c *FitContext) sorted(xs []float64) (*stats.Sorted, error) {
	var opt stats.SortOptions
	if c != nil {
		opt = c.Sort
	}
	return stats.Sort(xs, opt)
}

// Chunk returns the effective chunk size.
func (c *FitContext) Chunk() int {
	if c == nil || c.ChunkSize <= 0 {
		return 65536
	}
	return c.ChunkSize
}

// NumWorkers returns the effective worker count.
func (c *FitContext) NumWorkers() int {
	if c == nil || c.Workers <= 0 {
		return 1
	}
	return c.Workers
}

var registry = map[string]*Def{}

// register adds a step definition; it is called from each step's init.
func register(d *Def) {
	if _, dup := registry[d.Name]; dup {
		panic("step: duplicate registration of " + d.Name)
	}
	registry[d.Name] = d
}

// Lookup returns the definition of the named step.
func Lookup(name string) (*Def, bool) {
	d, ok := registry[name]
	return d, ok
}

// Names returns the registered step names, sorted.
func Names() []string {
	out := make([]string, 0, len(registry))
	for n := range registry {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// ErrUnknownCategory is wrapped by errors about categories not seen in fit.
var ErrUnknownCategory = errors.New("unknown category")

// ErrBadValue is wrapped by errors about values a step cannot take
// (NaN where none is allowed, non-positive data for box-cox, ...).
var ErrBadValue = errors.New("bad value")

// ErrNotFinite is wrapped by the error for a step's output that is not a
// finite number for a finite input (past float64's range): normguard never
// writes one.
var ErrNotFinite = errors.New("output not finite")

// OutputChecker is implemented by a fitted step whose Transform never
// writes ±Inf for finite input: it cannot (a bounded or log output, a bin,
// a code, an imputed statistic), or it checks its outputs itself, in its
// kernel, and returns an OverflowError. The transform engine checks the
// outputs of every other step for ±Inf.
type OutputChecker interface {
	// ChecksOutput reports that Transform's outputs are finite or refused.
	ChecksOutput() bool
}

// OverflowError is the *ValueError for the ±Inf output y on row of the
// step named name, given the finite value x of column. after tells that x
// is the group's input, which reached the step through the steps before.
func OverflowError(name, column string, row int, x, y float64, after bool) *ValueError {
	via := ""
	if after {
		via = " after the steps before it"
	}
	return &ValueError{Step: name, Column: column, Row: row, Value: strconv.FormatFloat(x, 'g', -1, 64),
		Err:  fmt.Errorf("%w: %w: the step gives %s (past float64's range)%s for the value", ErrBadValue, ErrNotFinite, strconv.FormatFloat(y, 'g', -1, 64), via),
		Hint: "the value lies far outside the data the artifact was fitted on; check it, or refit on data that covers it (normguard never writes a non-finite feature)"}
}

// OverflowErrorAt is OverflowError where the input value is not known
// (gone, or not one-to-one with the output): the error names the output
// y and says where it is (where: "on this row", "for output ...").
func OverflowErrorAt(name, column string, row int, y float64, where string) *ValueError {
	ve := OverflowError(name, column, row, 0, y, false)
	ve.Value = ""
	ve.Err = fmt.Errorf("%w: %w: the step gives %s (past float64's range) %s", ErrBadValue, ErrNotFinite, strconv.FormatFloat(y, 'g', -1, 64), where)
	return ve
}

// firstOverflow returns the OverflowError of the first ±Inf in ys, the
// step's output column for the input column in, or nil. When ys took in's
// storage (a transform in place) the value is gone: the error says so.
func firstOverflow(name string, in *table.Column, ys []float64) error {
	for i, y := range ys {
		if !math.IsInf(y, 0) {
			continue
		}
		if &in.Num[0] != &ys[0] {
			return OverflowError(name, in.Name, i, in.Num[i], y, false)
		}
		return OverflowErrorAt(name, in.Name, i, y, "on this row")
	}
	return nil
}

// ValueError reports a value a step cannot handle, with where it is.
type ValueError struct {
	Step   string // step name, e.g. "one_hot_encoder"
	Column string // input column name
	Row    int    // row index within the batch passed to Transform (-1 in fit)
	Value  string // the offending value, as text
	Err    error  // ErrUnknownCategory, ErrBadValue, ...
	Hint   string // what to do about it
}

func (e *ValueError) Error() string {
	msg := fmt.Sprintf("%s: column %s: %v", e.Step, errtext.Quote(e.Column), e.Err)
	if e.Value != "" {
		msg += " " + errtext.Quote(e.Value) // a value may be megabytes long
	}
	if e.Hint != "" {
		msg += "; " + e.Hint
	}
	return msg
}

func (e *ValueError) Unwrap() error { return e.Err }

// ParamError reports an invalid step parameter.
type ParamError struct {
	Step  string
	Param string
	Value any
	Msg   string
}

func (e *ParamError) Error() string {
	return fmt.Sprintf("%s: parameter %s=%v: %s", e.Step, e.Param, e.Value, e.Msg)
}

// FittedStep bundles a fitted step with its name and parameters, the unit
// stored in an artifact.
type FittedStep struct {
	Name   string
	Params Params
	Inputs []string
	Fitted Fitted
}

// stepJSON is the artifact form of a FittedStep.
type stepJSON struct {
	Step   string          `json:"step"`
	Params json.RawMessage `json:"params"`
	Inputs []string        `json:"inputs"`
	Fitted json.RawMessage `json:"fitted"`
}

// MarshalJSON encodes the step as {"step", "params", "inputs", "fitted"}.
func (s FittedStep) MarshalJSON() ([]byte, error) {
	p, err := json.Marshal(s.Params)
	if err != nil {
		return nil, fmt.Errorf("encode %s params: %w", s.Name, err)
	}
	f, err := json.Marshal(s.Fitted)
	if err != nil {
		return nil, fmt.Errorf("encode %s fitted parameters: %w", s.Name, err)
	}
	return json.Marshal(stepJSON{Step: s.Name, Params: p, Inputs: s.Inputs, Fitted: f})
}

// UnmarshalJSON decodes a step written by MarshalJSON, refusing unknown
// steps and fields.
func (s *FittedStep) UnmarshalJSON(data []byte) error {
	var j stepJSON
	if err := strictUnmarshal(data, &j); err != nil {
		return err
	}
	def, ok := Lookup(j.Step)
	if !ok {
		return fmt.Errorf("unknown step %q", j.Step)
	}
	params := def.NewParams()
	if err := strictUnmarshal(j.Params, params); err != nil {
		return fmt.Errorf("%s params: %w", j.Step, err)
	}
	fitted := def.NewFitted()
	if err := strictUnmarshal(j.Fitted, fitted); err != nil {
		return fmt.Errorf("%s fitted parameters: %w", j.Step, err)
	}
	if err := params.Validate(); err != nil {
		return Under("params", err)
	}
	if err := fitted.Check(len(j.Inputs)); err != nil {
		return Under("fitted", err)
	}
	*s = FittedStep{Name: j.Step, Params: params, Inputs: j.Inputs, Fitted: fitted}
	return nil
}

func strictUnmarshal(data []byte, v any) error {
	dec := json.NewDecoder(bytesReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data")
	}
	return nil
}
