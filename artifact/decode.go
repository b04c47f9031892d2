package artifact

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strings"

	"github.com/normguard/normguard/internal/errtext"
	"github.com/normguard/normguard/profile"
	"github.com/normguard/normguard/spec"
	"github.com/normguard/normguard/step"
)

// Decode reads the fitted steps through decodeStep rather than
// step.FittedStep's own UnmarshalJSON. That one is strict (it refuses
// unknown fields) and so decodes through json.Decoder, which copies its
// input: a step, its "fitted" object, and that object again, each in a
// buffer grown by doubling. A 300 MB artifact whose bulk is one encoder's
// categories took 2.5 GB to decode. decodeStep reads the step's bytes in
// place; what strictness gave — no unknown, misspelled or duplicate field —
// Decode's canonical comparison gives, since a re-encoding never holds
// such a field. The step's own checks (Params.Validate, Fitted.Check) run
// as they do in UnmarshalJSON, and a step that fails is decoded again the
// strict way (locateStepError) to name its field.

// decodeArtifact is an Artifact whose groups are read through decodeGroup;
// every other field, including ones added later, is the Artifact's own.
type decodeArtifact struct {
	*Artifact
	Groups     []decodeGroup  `json:"groups"`
	Outputs    []inPlace      `json:"outputs"`
	Embeddings []inPlace      `json:"embeddings"`
	Profile    *decodeProfile `json:"profile"`
}

// decodeProfile is a profile.Set whose columns are measured
// (MaxColumnBytes) before they are decoded.
type decodeProfile struct {
	Inputs  []inPlace `json:"inputs"`
	Outputs []inPlace `json:"outputs"`
}

// decodeGroup is a Group whose steps are read through decodeStep and
// whose columns are measured (MaxNamesBytes) before they are decoded.
type decodeGroup struct {
	*Group
	Columns inPlace      `json:"columns"`
	Steps   []decodeStep `json:"steps"`
}

// decodeStep is a step.FittedStep read in place.
type decodeStep struct {
	step.FittedStep
}

// inPlace is a JSON value kept as the bytes it was read from, without the
// copy json.RawMessage makes. It is valid only during the UnmarshalJSON
// call that reads it.
type inPlace []byte

// UnmarshalJSON implements json.Unmarshaler.
func (r *inPlace) UnmarshalJSON(b []byte) error {
	*r = b
	return nil
}

// UnmarshalJSON reads a step as step.FittedStep.UnmarshalJSON does,
// without its copies (see above), and checks it with stepRules.
func (d *decodeStep) UnmarshalJSON(data []byte) error {
	var j struct {
		Step   string  `json:"step"`
		Params inPlace `json:"params"`
		Inputs inPlace `json:"inputs"`
		Fitted inPlace `json:"fitted"`
	}
	if err := json.Unmarshal(data, &j); err != nil {
		return err
	}
	s, err := buildStep(j.Step, j.Params, j.Inputs, j.Fitted, json.Unmarshal)
	if err != nil {
		return err
	}
	d.FittedStep = s
	return nil
}

// buildStep decodes a step's parameters and fitted parameters with
// unmarshal and checks them with stepRules.
func buildStep(name string, params, rawInputs, fitted []byte, unmarshal func([]byte, any) error) (step.FittedStep, error) {
	def, ok := step.Lookup(name)
	if !ok {
		return step.FittedStep{}, fmt.Errorf("unknown step %q", name)
	}
	if int64(len(params)) > maxSpecBytes {
		return step.FittedStep{}, paramsTooLarge() // as Verify refuses them
	}
	p := def.NewParams()
	if err := unmarshal(params, p); err != nil {
		return step.FittedStep{}, fmt.Errorf("%s params: %w", name, err)
	}
	if int64(len(rawInputs)) > maxNamesBytes {
		return step.FittedStep{}, stepInputsTooLarge() // as Verify refuses them
	}
	var inputs []string
	if len(rawInputs) > 0 {
		if err := unmarshal(rawInputs, &inputs); err != nil {
			return step.FittedStep{}, fmt.Errorf("%s inputs: %w", name, err)
		}
	}
	f := def.NewFitted()
	if err := checkFittedLists(f, fitted); err != nil {
		return step.FittedStep{}, err // as Verify refuses them
	}
	if err := unmarshal(fitted, f); err != nil {
		return step.FittedStep{}, fmt.Errorf("%s fitted parameters: %w", name, err)
	}
	if err := checkFittedEntries(p, f); err != nil {
		return step.FittedStep{}, err // as Verify refuses them
	}
	err := stepRules(p, func() error { return step.CheckStep(p, f, len(inputs)) })
	if err != nil {
		return step.FittedStep{}, err
	}
	return step.FittedStep{Name: name, Params: p, Inputs: inputs, Fitted: f}, nil
}

// stepRules runs a decoded step's own rules, in the order every reading
// of an artifact runs them: the parameters' Validate, then check (the
// fitted parameters' rules: step.CheckStep, or step.CheckStreamed when
// they were read entry by entry). The error is placed under "params" or
// "fitted".
func stepRules(p step.Params, check func() error) error {
	if err := p.Validate(); err != nil {
		return step.Under("params", err)
	}
	if err := check(); err != nil {
		return step.Under("fitted", err)
	}
	return nil
}

// strictUnmarshal decodes data into v refusing unknown fields and
// trailing data, as step.FittedStep.UnmarshalJSON does.
func strictUnmarshal(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data")
	}
	return nil
}

// decodeStrict decodes a step the strict way (no unknown field) and
// checks it with stepRules: how a step that refused itself is located.
func decodeStrict(raw []byte) error {
	var j struct {
		Step   string          `json:"step"`
		Params json.RawMessage `json:"params"`
		Inputs json.RawMessage `json:"inputs"`
		Fitted json.RawMessage `json:"fitted"`
	}
	if err := strictUnmarshal(raw, &j); err != nil {
		return err
	}
	_, err := buildStep(j.Step, j.Params, j.Inputs, j.Fitted, strictUnmarshal)
	return err
}

// unmarshalInPlace decodes data into a, reading the steps in place.
func unmarshalInPlace(data []byte, a *Artifact) (err error) {
	d := decodeArtifact{Artifact: a}
	if err := json.Unmarshal(data, &d); err != nil {
		return err
	}
	a.Groups = nil
	if d.Groups != nil {
		a.Groups = make([]Group, len(d.Groups))
	}
	for i, g := range d.Groups {
		if int64(len(g.Columns)) > maxNamesBytes {
			return &overBound{namesTooLarge(fmt.Sprintf("groups[%d].columns", i))}
		}
		if a.Groups[i], err = g.group(); err != nil {
			return err
		}
	}
	a.Outputs = nil
	if d.Outputs != nil {
		a.Outputs = make([]Field, len(d.Outputs))
	}
	for i, raw := range d.Outputs {
		if int64(len(raw)) > maxColumnBytes {
			return &overBound{columnTooLarge(fmt.Sprintf("outputs[%d]", i))}
		}
		if err := json.Unmarshal(raw, &a.Outputs[i]); err != nil {
			return err
		}
	}
	a.Embeddings = nil
	if d.Embeddings != nil {
		a.Embeddings = make([]Embedding, len(d.Embeddings))
	}
	for i, raw := range d.Embeddings {
		if int64(len(raw)) > embeddingLimit() {
			return &overBound{embeddingTooLarge(i)}
		}
		if err := json.Unmarshal(raw, &a.Embeddings[i]); err != nil {
			return err
		}
	}
	a.Profile = nil
	if d.Profile != nil {
		a.Profile = &profile.Set{}
		for side, raws := range [2][]inPlace{d.Profile.Inputs, d.Profile.Outputs} {
			var feats []profile.Feature
			if raws != nil {
				feats = make([]profile.Feature, len(raws))
			}
			for i, raw := range raws {
				if int64(len(raw)) > maxColumnBytes {
					return &overBound{columnTooLarge(fmt.Sprintf("profile.%s[%d]", [2]string{"inputs", "outputs"}[side], i))}
				}
				if err := json.Unmarshal(raw, &feats[i]); err != nil {
					return err
				}
			}
			if side == 0 {
				a.Profile.Inputs = feats
			} else {
				a.Profile.Outputs = feats
			}
		}
	}
	return nil
}

// group returns the Group read.
func (d decodeGroup) group() (Group, error) {
	var g Group
	if d.Group != nil {
		g = *d.Group
	}
	g.Columns = nil
	if len(d.Columns) > 0 {
		if err := json.Unmarshal(d.Columns, &g.Columns); err != nil {
			return Group{}, err
		}
	}
	g.Steps = nil
	if d.Steps != nil {
		g.Steps = make([]step.FittedStep, len(d.Steps))
		for k, s := range d.Steps {
			g.Steps[k] = s.FittedStep
		}
	}
	return g, nil
}

// locateDecodeError finds, after the decoder refused data with an error
// that names no JSON path (a value of another type, "cannot unmarshal bool
// into Go struct field Feature.missing", or a field's own decoder, "not a
// number", a spec step's parameters), the deepest field of the artifact
// that refuses its value on its own, and returns its error under its JSON
// path: profile.inputs[3].missing, spec.columns[1].steps[0].simple_imputer.strategy
// (attack run 27 F5). nil when no field refuses on its own.
func locateDecodeError(data []byte) error {
	if fe := locateIn(data, reflect.TypeOf(Artifact{}), "", 0); fe != nil {
		return fe
	}
	return nil
}

var (
	specStepType = reflect.TypeOf(spec.Step{})
	unmarshaler  = reflect.TypeOf((*json.Unmarshaler)(nil)).Elem()
	elementRe    = regexp.MustCompile(`^(?:json: )?(?:parameters: )?element (\d+): (.*)$`)
)

// locateIn returns the error of the deepest value of raw, read as a t at
// path, that fails on its own, or nil when raw decodes as a t.
func locateIn(raw []byte, t reflect.Type, path string, depth int) *FieldError {
	err := json.Unmarshal(raw, reflect.New(t).Interface())
	if err == nil {
		return nil
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == specStepType {
		if se := spec.StepJSONError(raw); se != nil {
			return &FieldError{Path: joinPath(path, se.Field), Msg: se.Err.Error()}
		}
	}
	if depth < 32 && !reflect.PointerTo(t).Implements(unmarshaler) {
		switch t.Kind() {
		case reflect.Struct:
			var m map[string]json.RawMessage
			if json.Unmarshal(raw, &m) == nil {
				if fe := locateFields(m, t, path, depth); fe != nil {
					return fe
				}
			}
		case reflect.Slice, reflect.Array:
			var xs []json.RawMessage
			if t.Elem().Kind() != reflect.Uint8 && json.Unmarshal(raw, &xs) == nil {
				for i, x := range xs {
					if fe := locateIn(x, t.Elem(), fmt.Sprintf("%s[%d]", path, i), depth+1); fe != nil {
						return fe
					}
				}
			}
		case reflect.Map:
			var m map[string]json.RawMessage
			if json.Unmarshal(raw, &m) == nil {
				keys := make([]string, 0, len(m))
				for k := range m {
					keys = append(keys, k)
				}
				sort.Strings(keys)
				for _, k := range keys {
					if fe := locateIn(m[k], t.Elem(), joinPath(path, k), depth+1); fe != nil {
						return fe
					}
				}
			}
		}
	}
	if path == "" {
		return nil
	}
	return &FieldError{Path: path, Msg: leafMessage(err, &path)}
}

// locateFields is locateIn for the fields of struct type t present in m
// (embedded structs' fields inline, as the decoder reads them).
func locateFields(m map[string]json.RawMessage, t reflect.Type, path string, depth int) *FieldError {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := strings.Split(f.Tag.Get("json"), ",")[0]
		if tag == "-" || (!f.IsExported() && !f.Anonymous) {
			continue
		}
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if f.Anonymous && tag == "" && ft.Kind() == reflect.Struct {
			if fe := locateFields(m, ft, path, depth); fe != nil {
				return fe
			}
			continue
		}
		if tag == "" {
			tag = f.Name
		}
		v, ok := m[tag]
		if !ok {
			for k, x := range m {
				if strings.EqualFold(k, tag) {
					v, ok = x, true
					break
				}
			}
		}
		if !ok {
			continue
		}
		if fe := locateIn(v, f.Type, joinPath(path, tag), depth+1); fe != nil {
			return fe
		}
	}
	return nil
}

// leafMessage words the decoder's refusal of one value, moving an element
// index it names into path.
func leafMessage(err error, path *string) string {
	if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
		kind := errtext.JSONKind(te.Type)
		switch te.Type.Kind() {
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			kind = "a whole number (of its range)"
		}
		return fmt.Sprintf("a JSON %s where an artifact holds %s", te.Value, kind)
	}
	msg := strings.Join(strings.Fields(err.Error()), " ")
	if m := elementRe.FindStringSubmatch(msg); m != nil {
		*path += "[" + m[1] + "]"
		msg = m[2]
	}
	return strings.TrimPrefix(msg, "json: ")
}

// joinPath appends a field name to a JSON path.
func joinPath(path, name string) string {
	switch {
	case name == "":
		return path
	case path == "":
		return name
	}
	return path + "." + name
}
