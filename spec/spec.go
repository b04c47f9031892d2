// Package spec parses and validates normguard specs: which columns to
// normalize, with which steps and parameters, in YAML or JSON.
//
// A spec is a list of column groups. Each group names its input columns,
// their type (numeric or categorical, inferred from the data when absent)
// and a chain of steps applied in order, as a scikit-learn Pipeline inside
// a ColumnTransformer with verbose_feature_names_out=False. Columns the spec
// does not name are dropped or passed through (remainder).
package spec

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"

	"github.com/normguard/normguard/step"
	"github.com/normguard/normguard/table"
)

// Version is the spec format version this package reads.
const Version = 1

// Remainder policies for columns the spec does not name.
const (
	RemainderDrop        = "drop"
	RemainderPassthrough = "passthrough"
)

// Column types as the spec spells them.
const (
	TypeNumeric     = "numeric"
	TypeCategorical = "categorical"
	// TypeVector is a column holding one embedding vector per row (see
	// vector.go).
	TypeVector = "vector"
)

// Spec is a parsed, validated spec.
type Spec struct {
	Version   int     `json:"version"`
	Remainder string  `json:"remainder"`
	Columns   []Group `json:"columns"`

	// file and lines say where a spec read by Parse came from: its name
	// and the line of each group and step by path ("columns[1]",
	// "columns[1].steps[0]"). Locate uses them.
	file  string
	lines map[string]int
}

// Locate returns err with the spec's file and the line of the group or
// step it names filled in, when err is an *Error naming a field of sp
// without them (an error found after parsing: validation, or fit once the
// data told the columns' types). Other errors come back as they are.
func (sp *Spec) Locate(err error) error {
	var se *Error
	if sp == nil || !errors.As(err, &se) {
		return err
	}
	if se.File == "" {
		se.File = sp.file
	}
	if se.Line > 0 || sp.lines == nil {
		return err
	}
	// The longest group or step path the field starts with:
	// columns[1].steps[0].standard_scaler.with_mean → columns[1].steps[0].
	for field := se.Field; field != ""; {
		if line, ok := sp.lines[field]; ok {
			se.Line = line
			break
		}
		i := strings.LastIndexAny(field, ".[")
		if i < 0 {
			break
		}
		field = field[:i]
	}
	return err
}

// Group is one entry of the spec's columns list.
type Group struct {
	// Names are the group's input columns, in order.
	Names []string `json:"names"`
	// Type is "numeric", "categorical" or "" (inferred from the data).
	Type string `json:"type,omitempty"`
	// Steps are applied in order.
	Steps []Step `json:"steps"`
	// Vector holds the options of a vector group (type vector), nil for
	// other groups.
	Vector *VectorOptions `json:"vector,omitempty"`
}

// Step is one step of a group's chain with its parameters (scikit-learn's
// defaults filled in).
type Step struct {
	Name   string
	Params step.Params
}

// MarshalJSON writes the step as {"<name>": {params}}.
func (s Step) MarshalJSON() ([]byte, error) {
	p, err := json.Marshal(s.Params)
	if err != nil {
		return nil, err
	}
	return json.Marshal(map[string]json.RawMessage{s.Name: p})
}

// UnmarshalJSON reads a step written by MarshalJSON.
func (s *Step) UnmarshalJSON(b []byte) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	if len(m) != 1 {
		return errors.New("a step is an object with exactly one key, the step name")
	}
	for name, raw := range m {
		p, err := decodeParams(name, raw)
		if err != nil {
			return err
		}
		*s = Step{Name: name, Params: p}
	}
	return nil
}

// Kind returns the table kind the group's type asks for (KindUnknown when
// the type is to be inferred).
func (g *Group) Kind() table.Kind {
	switch g.Type {
	case TypeNumeric:
		return table.Numeric
	case TypeCategorical:
		return table.String
	case TypeVector:
		return table.Vector
	}
	return table.KindUnknown
}

// TypeOf returns the spec type name for a table kind.
func TypeOf(k table.Kind) string {
	if k == table.String {
		return TypeCategorical
	}
	if k == table.Vector {
		return TypeVector
	}
	return TypeNumeric
}

// Error is a spec problem with where it is.
type Error struct {
	File  string // spec file name ("" when parsed from a reader without a name)
	Line  int    // 1-based line in the file, 0 when unknown
	Field string // path of the field, e.g. columns[1].steps[0].standard_scaler.with_mean
	Err   error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("spec")
	if e.File != "" {
		b.WriteString(" ")
		b.WriteString(e.File)
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	if e.Field != "" {
		b.WriteString(": ")
		b.WriteString(e.Field)
	}
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// ErrInvalid is wrapped by every spec validation error.
var ErrInvalid = errors.New("invalid spec")

// ErrImputeOrder is wrapped by the error for an imputer placed after a
// scaler or encoder.
var ErrImputeOrder = errors.New("imputer after a transforming step")

// decodeParams decodes a step's parameters strictly into the step's
// parameter struct (defaults for absent fields) and validates them.
func decodeParams(name string, raw json.RawMessage) (step.Params, error) {
	def, ok := step.Lookup(name)
	if !ok {
		return nil, fmt.Errorf("unknown step %q; known steps: %s", name, strings.Join(step.Names(), ", "))
	}
	p := def.NewParams()
	if len(raw) > 0 && string(raw) != "null" {
		dec := json.NewDecoder(strings.NewReader(string(raw)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(p); err != nil {
			return nil, paramDecodeError(name, p, err)
		}
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return p, nil
}

// paramDecodeError turns encoding/json's errors into ones that name the
// parameter and what it accepts.
func paramDecodeError(stepName string, p step.Params, err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Errorf("parameter %q: expected %s, got a JSON %s", te.Field, te.Type, te.Value)
	}
	msg := err.Error()
	if f, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		return fmt.Errorf("unknown parameter %s for %s; known parameters: %s", f, stepName, strings.Join(ParamNames(p), ", "))
	}
	return fmt.Errorf("parameters: %s", strings.TrimPrefix(msg, "json: "))
}

// ParamNames lists the JSON names of a step's parameters.
func ParamNames(p step.Params) []string {
	t := reflect.TypeOf(p)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var out []string
	if t.Kind() != reflect.Struct {
		return out
	}
	for i := 0; i < t.NumField(); i++ {
		tag := strings.Split(t.Field(i).Tag.Get("json"), ",")[0]
		if tag != "" && tag != "-" {
			out = append(out, tag)
		}
	}
	sort.Strings(out)
	return out
}
