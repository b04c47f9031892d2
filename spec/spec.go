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
	"regexp"
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
		return fmt.Errorf("parameter %q: expected %s, got %s", te.Field, jsonTypeName(te.Type), jsonValueWords(te.Value))
	}
	msg := err.Error()
	if f, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		return unknownParam(f, stepName, p)
	}
	return fmt.Errorf("parameters: %s", strings.TrimPrefix(msg, "json: "))
}

// unknownParam says that f (quoted) is not a parameter of stepName and
// which are, or that it takes none (attack run 35 F5: "known parameters: "
// with nothing after it).
func unknownParam(f, stepName string, p step.Params) error {
	names := ParamNames(p)
	if len(names) == 0 {
		return fmt.Errorf("unknown parameter %s: %s takes no parameters", f, stepName)
	}
	return fmt.Errorf("unknown parameter %s for %s; known parameters: %s", f, stepName, strings.Join(names, ", "))
}

// jsonValueWords names the kind of JSON value encoding/json found (its
// UnmarshalTypeError.Value: "string", "number", "array", "object",
// "bool", or "number 1.5" for a number that does not fit).
func jsonValueWords(v string) string {
	switch v {
	case "string":
		return "a string"
	case "array":
		return "a list"
	case "object":
		return "a mapping"
	case "bool":
		return "true or false"
	case "number":
		return "a number"
	}
	return v
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

// StepJSONError returns why raw, a step as an artifact's spec section
// holds it ({"<name>": {params}}), does not decode, as an *Error whose
// Field is the path below the step: "" for the step itself, the step's
// name for its parameters as a whole, "<name>.<param>" for one parameter
// (attack run 27 F5: Step.UnmarshalJSON's errors name no field, and the
// JSON decoder reports them without a path). nil when raw decodes.
func StepJSONError(raw []byte) *Error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || len(m) != 1 {
		return &Error{Err: errors.New("a step is an object with exactly one key, the step name")}
	}
	for name, params := range m {
		def, ok := step.Lookup(name)
		if !ok {
			return &Error{Err: fmt.Errorf("unknown step %q; known steps: %s", name, strings.Join(step.Names(), ", "))}
		}
		p := def.NewParams()
		if len(params) > 0 && string(params) != "null" {
			dec := json.NewDecoder(strings.NewReader(string(params)))
			dec.DisallowUnknownFields()
			if err := dec.Decode(p); err != nil {
				var te *json.UnmarshalTypeError
				switch {
				case errors.As(err, &te) && te.Field == "":
					return &Error{Field: name, Err: fmt.Errorf("parameters must be an object, got a JSON %s", te.Value)}
				case errors.As(err, &te):
					return &Error{Field: name + "." + te.Field, Err: fmt.Errorf("expected %s, got %s", jsonTypeName(te.Type), jsonValueWords(te.Value))}
				}
				if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
					if len(ParamNames(p)) == 0 {
						return &Error{Field: name + "." + strings.Trim(f, `"`), Err: fmt.Errorf("unknown parameter: %s takes no parameters", name)}
					}
					return &Error{Field: name + "." + strings.Trim(f, `"`), Err: fmt.Errorf("unknown parameter for %s; known parameters: %s", name, strings.Join(ParamNames(p), ", "))}
				}
				// A parameter's own decoder (feature_range, categories):
				// name it when the parameters parse as an object.
				field := name
				if pn := failingParam(p, params); pn != "" {
					field += "." + pn
				}
				msg := strings.Join(strings.Fields(strings.TrimPrefix(err.Error(), "json: ")), " ")
				if m := elementMsg.FindStringSubmatch(msg); m != nil && field != name {
					field, msg = field+"["+m[1]+"]", m[2]
				}
				return &Error{Field: field, Err: errors.New(msg)}
			}
		}
		if err := p.Validate(); err != nil {
			var pe *step.ParamError
			if errors.As(err, &pe) {
				return &Error{Field: name + "." + pe.Param, Err: fmt.Errorf("%s (got %s)", pe.Msg, valueWords(pe.Value))}
			}
			return &Error{Field: name, Err: err}
		}
	}
	return nil
}

// elementMsg is a parameter decoder's refusal of one element of a list.
var elementMsg = regexp.MustCompile(`^(?:parameters: )?element (\d+): (.*)$`)

// failingParam returns the JSON name of the first parameter of raw (an
// object) that p's field of that name refuses on its own, or "".
func failingParam(p step.Params, raw []byte) string {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return ""
	}
	t := reflect.TypeOf(p)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return ""
	}
	for i := 0; i < t.NumField(); i++ {
		tag := strings.Split(t.Field(i).Tag.Get("json"), ",")[0]
		v, ok := m[tag]
		if tag == "" || tag == "-" || !ok {
			continue
		}
		if json.Unmarshal(v, reflect.New(t.Field(i).Type).Interface()) != nil {
			return tag
		}
	}
	return ""
}

// jsonTypeName names the JSON value a Go type decodes from.
func jsonTypeName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "an integer"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a non-negative integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	}
	return t.String()
}
