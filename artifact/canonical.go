package artifact

import (
	"bytes"
	"encoding"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
	"sync"

	"github.com/normguard/normguard/embed"
	"github.com/normguard/normguard/step"
)

// The canonical encoding is json.MarshalIndent(a, "", "  ") plus a
// newline. json.Indent is lexical, so the encoding of a value nested d
// levels deep is json.MarshalIndent(value, d×"  ", "  "): streamCanonical
// writes the artifact piece by piece that way, walking structs, slices and
// pointers itself and marshaling only the leaves (numbers, strings, and
// types with their own MarshalJSON) and whatever it does not walk. Its
// memory is that of the largest leaf, not of the whole encoding; a test
// holds its bytes equal to MarshalIndent's on every artifact in testdata.

const indentUnit = "  "

// streamCanonical writes a's canonical encoding to w. digest, if not
// nil, receives the same bytes except the digest field's value, written
// as "" (the bytes the digest is computed over).
func streamCanonical(w, digest io.Writer, a *Artifact) error {
	if _, ok := structFields(reflect.TypeFor[Artifact]()); !ok {
		return wholeCanonical(w, digest, a)
	}
	e := &canonicalEncoder{w: w, digest: digest}
	e.value(reflect.ValueOf(a).Elem(), 0)
	e.write("\n")
	return e.err
}

// wholeCanonical is streamCanonical for an Artifact struct the walk does
// not reproduce (a field without a JSON name): both encodings are built
// whole.
func wholeCanonical(w, digest io.Writer, a *Artifact) error {
	want := a.Digest
	a.Digest = ""
	body, err := canonical(a)
	a.Digest = want
	if err != nil {
		return err
	}
	if digest != nil {
		if _, err := digest.Write(body); err != nil {
			return err
		}
	}
	full, err := canonical(a)
	if err != nil {
		return err
	}
	_, err = w.Write(full)
	return err
}

// canonicalEncoder writes one canonical encoding; the first error sticks.
type canonicalEncoder struct {
	w, digest io.Writer
	// skipDigest is set while the digest field's value is written: digest
	// gets `""` instead.
	skipDigest bool
	buf        bytes.Buffer
	err        error
}

func (e *canonicalEncoder) write(s string) {
	if e.err != nil {
		return
	}
	if _, err := io.WriteString(e.w, s); err != nil {
		e.err = err
		return
	}
	if e.digest != nil && !e.skipDigest {
		if _, err := io.WriteString(e.digest, s); err != nil {
			e.err = err
		}
	}
}

func (e *canonicalEncoder) writeBytes(b []byte) {
	if e.err != nil {
		return
	}
	if _, err := e.w.Write(b); err != nil {
		e.err = err
		return
	}
	if e.digest != nil && !e.skipDigest {
		if _, err := e.digest.Write(b); err != nil {
			e.err = err
		}
	}
}

// newline starts a line at depth.
func (e *canonicalEncoder) newline(depth int) {
	e.write("\n")
	e.write(strings.Repeat(indentUnit, depth))
}

var (
	marshalerType     = reflect.TypeFor[json.Marshaler]()
	textMarshalerType = reflect.TypeFor[encoding.TextMarshaler]()
	fittedStepType    = reflect.TypeFor[step.FittedStep]()
	embedProfileType  = reflect.TypeFor[embed.Profile]()
	vectorsType       = reflect.TypeFor[embed.Vectors]()
)

// value writes v, nested depth levels deep.
func (e *canonicalEncoder) value(v reflect.Value, depth int) {
	if e.err != nil {
		return
	}
	t := v.Type()
	switch t {
	case fittedStepType:
		e.fittedStep(v.Interface().(step.FittedStep), depth)
		return
	case embedProfileType:
		// Its MarshalJSON is encoding/json's, but for a sample read in
		// the array form: walked, so that its sample is written a piece
		// at a time.
		p := v.Interface().(embed.Profile)
		if fields, ok := structFields(t); ok && !p.LegacySample() {
			e.fields(v, fields, depth)
			return
		}
	case vectorsType:
		if e.vectors(v.Interface().(embed.Vectors), depth) {
			return
		}
	}
	if ownEncoding(t) {
		e.leaf(v, depth)
		return
	}
	switch t.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			e.write("null")
			return
		}
		e.value(v.Elem(), depth)
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 { // base64
			e.leaf(v, depth)
			return
		}
		if v.IsNil() {
			e.write("null")
			return
		}
		if v.Len() == 0 {
			e.write("[]")
			return
		}
		e.write("[")
		for i := 0; i < v.Len(); i++ {
			if i > 0 {
				e.write(",")
			}
			e.newline(depth + 1)
			e.value(v.Index(i), depth+1)
		}
		e.newline(depth)
		e.write("]")
	case reflect.Struct:
		fields, ok := structFields(t)
		if !ok {
			e.leaf(v, depth)
			return
		}
		e.fields(v, fields, depth)
	case reflect.String:
		e.string(v.String())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		e.writeBytes(strconv.AppendInt(e.buf.AvailableBuffer(), v.Int(), 10))
	case reflect.Bool:
		e.write(strconv.FormatBool(v.Bool()))
	default:
		e.leaf(v, depth)
	}
}

// fields writes the struct v, whose fields encoding/json writes are
// fields, as an object nested depth levels deep.
func (e *canonicalEncoder) fields(v reflect.Value, fields []canonicalField, depth int) {
	e.write("{")
	n := 0
	for _, f := range fields {
		fv := v.Field(f.index)
		if f.omitEmpty && isEmpty(fv) {
			continue
		}
		if n > 0 {
			e.write(",")
		}
		n++
		e.newline(depth + 1)
		e.write(f.key)
		e.write(": ")
		if depth == 0 && f.name == "digest" && e.digest != nil {
			io.WriteString(e.digest, `""`)
			e.skipDigest = true
			e.value(fv, depth+1)
			e.skipDigest = false
			continue
		}
		e.value(fv, depth+1)
	}
	if n > 0 {
		e.newline(depth)
	}
	e.write("}")
}

// vectors writes an embedding's sample as its MarshalJSON does, indented
// for depth, its base64 text a piece at a time; false when MarshalJSON
// writes it otherwise (null, an array of arrays), for leaf to write.
func (e *canonicalEncoder) vectors(vs embed.Vectors, depth int) bool {
	dtype, rows, dim, ok := vs.Encoding()
	if !ok {
		return false
	}
	e.write("{")
	e.newline(depth + 1)
	e.write(`"dtype": `)
	e.string(dtype)
	e.write(",")
	e.newline(depth + 1)
	e.write(`"rows": ` + strconv.Itoa(rows) + ",")
	e.newline(depth + 1)
	e.write(`"dim": ` + strconv.Itoa(dim) + ",")
	e.newline(depth + 1)
	e.write(`"base64": "`)
	if e.err == nil {
		if err := vs.WriteBase64(encoderWriter{e}); err != nil && e.err == nil {
			e.err = fmt.Errorf("encode artifact: %w", err)
		}
	}
	e.write(`"`)
	e.newline(depth)
	e.write("}")
	return true
}

// encoderWriter is an io.Writer onto e.
type encoderWriter struct{ e *canonicalEncoder }

func (w encoderWriter) Write(p []byte) (int, error) {
	w.e.writeBytes(p)
	if w.e.err != nil {
		return 0, w.e.err
	}
	return len(p), nil
}

// fittedStep writes s as its MarshalJSON does ({"step", "params",
// "inputs", "fitted"}), walking the parameters instead of marshaling them
// whole.
func (e *canonicalEncoder) fittedStep(s step.FittedStep, depth int) {
	e.write("{")
	e.newline(depth + 1)
	e.write(`"step": `)
	e.string(s.Name)
	e.write(",")
	e.newline(depth + 1)
	e.write(`"params": `)
	e.value(reflect.ValueOf(&s.Params).Elem(), depth+1)
	e.write(",")
	e.newline(depth + 1)
	e.write(`"inputs": `)
	e.value(reflect.ValueOf(s.Inputs), depth+1)
	e.write(",")
	e.newline(depth + 1)
	e.write(`"fitted": `)
	e.value(reflect.ValueOf(&s.Fitted).Elem(), depth+1)
	e.newline(depth)
	e.write("}")
}

// string writes s as encoding/json does; plain text is written directly.
func (e *canonicalEncoder) string(s string) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			b, err := json.Marshal(s)
			if err != nil {
				e.err = err
				return
			}
			e.writeBytes(b)
			return
		}
	}
	e.write(`"`)
	e.write(s)
	e.write(`"`)
}

// leaf writes v with encoding/json, indented for depth.
func (e *canonicalEncoder) leaf(v reflect.Value, depth int) {
	x := v.Interface()
	if v.CanAddr() {
		x = v.Addr().Interface() // pointer-receiver MarshalJSON methods
	}
	b, err := json.Marshal(x)
	if err != nil {
		e.err = fmt.Errorf("encode artifact: %w", err)
		return
	}
	if bytes.IndexAny(b, "{[") < 0 {
		e.writeBytes(b)
		return
	}
	e.buf.Reset()
	if err := json.Indent(&e.buf, b, strings.Repeat(indentUnit, depth), indentUnit); err != nil {
		e.err = fmt.Errorf("encode artifact: %w", err)
		return
	}
	e.writeBytes(e.buf.Bytes())
}

// ownEncoding tells whether t (or *t) encodes itself.
func ownEncoding(t reflect.Type) bool {
	if t.Kind() == reflect.Interface {
		return false // the dynamic value decides
	}
	pt := reflect.PointerTo(t)
	return t.Implements(marshalerType) || t.Implements(textMarshalerType) ||
		pt.Implements(marshalerType) || pt.Implements(textMarshalerType)
}

// isEmpty is encoding/json's omitempty test.
func isEmpty(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64,
		reflect.Interface, reflect.Pointer:
		return v.IsZero()
	}
	return false
}

// canonicalField is a struct field encoding/json writes.
type canonicalField struct {
	index     int
	name, key string // key: the quoted name
	omitEmpty bool
}

type fieldPlan struct {
	fields []canonicalField
	ok     bool
}

var fieldPlans sync.Map // reflect.Type → fieldPlan

// structFields returns the fields encoding/json writes for t, in order,
// or false when t uses a feature the walk does not reproduce (embedded
// fields, untagged fields, options other than omitempty): such a struct
// is marshaled whole.
func structFields(t reflect.Type) ([]canonicalField, bool) {
	if p, ok := fieldPlans.Load(t); ok {
		return p.(fieldPlan).fields, p.(fieldPlan).ok
	}
	var plan fieldPlan
	plan.ok = true
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Anonymous {
			plan.ok = false
			break
		}
		if !f.IsExported() {
			continue
		}
		tag, has := f.Tag.Lookup("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if !has || name == "" || (opts != "" && opts != "omitempty") {
			plan.ok = false
			break
		}
		key, err := json.Marshal(name)
		if err != nil {
			plan.ok = false
			break
		}
		plan.fields = append(plan.fields, canonicalField{index: i, name: name, key: string(key), omitEmpty: opts == "omitempty"})
	}
	fieldPlans.Store(t, plan)
	return plan.fields, plan.ok
}
