package artifact

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"

	"github.com/normguard/normguard/step"
)

// A group is read token by token, so that Verify's memory does not grow
// with a single step's size: each step's name, parameters and inputs are
// decoded whole (they are the size of the spec's entry); its fitted
// parameters are read field by field: the fields a step.StreamedCheck
// streams (an ordinal encoder's categories_, a quantile transformer's
// references_ and quantiles_, a KBins discretizer's bin_edges_) are
// written, hashed and checked one entry at a time and never kept, float
// arrays (a scaler's scale_, mean_, ...: one entry per input column) are
// read entry by entry into the step, and the other fields are decoded.
// Each step then runs the rules decodeStep runs, in its order (the
// parameters' Validate, then step.CheckStep's rules, which the
// StreamedCheck applies to what it was fed), so a step that fails them is
// refused as Decode refuses it.
//
// A group whose JSON is not in the artifact's layout (keys missing,
// extra, out of order) is not canonical, so Decode refuses it too; a
// step whose JSON does not decode into its types is located as Decode
// locates it, by decoding the group's bytes again, when they are at most
// groupLocateSize.

// groupLocateSize is the largest group whose bytes are decoded again to
// word a refusal of a step that did not decode as Decode words it.
var groupLocateSize int64 = 8 << 20

// errStepJSON is wrapped by the reading's errors for a step whose JSON
// does not decode into its types.
var errStepJSON = errors.New("a step does not decode")

// errStepRules is returned when a step fails its own rules (stepErr).
var errStepRules = errors.New("a step fails its rules")

// group reads groups[i] and checks it.
func (v *streamVerifier) group(i, depth int) error {
	start := v.offset()
	if s := v.check.spec; s != nil && i < len(s.Columns) {
		v.groupStarts = append(v.groupStarts, start) // for groupAgain
	}
	g, err := v.readGroup(i, depth)
	if err != nil {
		return err
	}
	v.check.group(i, g)
	return nil
}

// readGroup reads groups[i], an object at depth.
func (v *streamVerifier) readGroup(i, depth int) (*Group, error) {
	start, base := v.offset(), v.nest
	var g Group
	err := v.object(reflect.TypeFor[Group](), depth, func(f canonicalField) error {
		switch f.name {
		case "steps":
			return v.steps(i, &g, f, depth)
		case "columns":
			return v.boundedField(reflect.ValueOf(&g).Elem(), f, depth, nil, func() error { return namesTooLarge(fmt.Sprintf("groups[%d].columns", i)) })
		}
		return v.decodeField(reflect.ValueOf(&g).Elem(), f, depth, nil)
	})
	if err != nil {
		if _, long := errors.AsType[*tokenTooLong](err); !long && errors.Is(err, errStepJSON) && v.stepErr == nil {
			end := v.skipTo(base)
			if end-start <= groupLocateSize {
				v.stepErr = v.locateGroup(i, start, end)
			}
		}
		return nil, err
	}
	return &g, nil
}

// groupAgain implements sectionSource: it reads groups[gi] again from
// the file, as the reading read it (the group passed its checks then).
func (v *streamVerifier) groupAgain(gi int) (*Group, error) {
	if gi >= len(v.groupStarts) {
		return nil, fmt.Errorf("groups[%d] was not read", gi)
	}
	w, err := v.readerAt(v.groupStarts[gi], ", \t\r\n")
	if err != nil {
		return nil, err
	}
	return w.readGroup(gi, 2)
}

// categoryLists implements sectionSource: the lists of categories_ of
// groups[gi].steps[si], read again from the file where the reading
// streamed them, else as the group read again holds them.
func (v *streamVerifier) categoryLists(gi, si int) (step.CategorySource, error) {
	if off, ok := v.catOffsets[[2]int{gi, si}]; ok {
		return v.listsAt(off)
	}
	g, err := v.groupAgain(gi)
	if err != nil {
		return nil, err
	}
	return heldLists(g, si)
}

// quantileEntries implements sectionSource: it reads quantiles_ of
// groups[gi].steps[si] again from the file where the reading streamed
// it, one entry at a time.
func (v *streamVerifier) quantileEntries(gi, si int, fn func(row, k int, x float64) bool) error {
	off, ok := v.quantOffsets[[2]int{gi, si}]
	if !ok {
		return fmt.Errorf("quantiles_ of groups[%d].steps[%d] was not read", gi, si)
	}
	r := bufio.NewReaderSize(io.NewSectionReader(v.src, off, v.size-off), 64<<10)
	for {
		b, err := r.ReadByte()
		if err != nil {
			return err
		}
		if b == ':' {
			break
		}
	}
	dec := json.NewDecoder(r)
	if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
		return fmt.Errorf("quantiles_ at byte %d: %v, not an array (%v)", off, tok, err)
	}
	for row := 0; dec.More(); row++ {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		if tok == nil {
			continue
		}
		if tok != json.Delim('[') {
			return fmt.Errorf("quantiles_[%d] is %v, not an array", row, tok)
		}
		for k := 0; dec.More(); k++ {
			tok, err := dec.Token()
			if err != nil {
				return err
			}
			x, err := floatToken(tok)
			if err != nil {
				return err
			}
			if !fn(row, k, x) {
				return nil
			}
		}
		if _, err := dec.Token(); err != nil {
			return err
		}
	}
	return nil
}

// outputNamesAgain implements sectionSource: it reads the outputs again
// from the file, up to the last index asked for.
func (v *streamVerifier) outputNamesAgain(idx []int) ([]string, error) {
	w, err := v.readerAt(v.outputsAt, ": \t\r\n")
	if err != nil {
		return nil, err
	}
	if err := w.delim('['); err != nil {
		return nil, err
	}
	names := make([]string, 0, len(idx))
	for n := 0; len(names) < len(idx); n++ {
		if !w.dec.More() {
			return nil, fmt.Errorf("outputs[%d] is past the list's end", idx[len(names)])
		}
		if n != idx[len(names)] {
			if err := w.skipValue(); err != nil {
				return nil, err
			}
			continue
		}
		var o Field
		if err := w.dec.Decode(&o); err != nil {
			return nil, err
		}
		names = append(names, o.Name)
	}
	return names, nil
}

// skipValue reads the next value token by token, holding nothing.
func (v *streamVerifier) skipValue() error {
	base := v.nest
	if _, err := v.tok(); err != nil {
		return err
	}
	for v.nest > base {
		if _, err := v.tok(); err != nil {
			return err
		}
	}
	return nil
}

// readerAt returns a reading of the file from the first byte at or after
// off that is not in skip; its encoding is discarded.
func (v *streamVerifier) readerAt(off int64, skip string) (*streamVerifier, error) {
	off, err := v.skipBytes(off, skip)
	if err != nil {
		return nil, err
	}
	return &streamVerifier{
		name:  v.name,
		src:   v.src,
		size:  v.size,
		base:  off,
		dec:   json.NewDecoder(bufio.NewReaderSize(io.NewSectionReader(v.src, off, v.size-off), 64<<10)),
		enc:   &canonicalEncoder{w: io.Discard},
		check: v.check,
	}, nil
}

// skipTo reads on until nest is back to base (the end of the value being
// read) or the JSON breaks, and returns the offset reached.
func (v *streamVerifier) skipTo(base int) int64 {
	for v.nest > base {
		if _, err := v.tok(); err != nil {
			break
		}
	}
	return v.offset()
}

// object reads an object whose canonical form is struct type t, at depth,
// keys in t's order: read reads (and writes, after v.open) each field
// present; a field the file leaves out is written as the zero value Decode
// would have left. A key that is not t's, or out of order, is errLayout.
func (v *streamVerifier) object(t reflect.Type, depth int, read func(f canonicalField) error) error {
	fields, ok := structFields(t)
	if !ok {
		return fmt.Errorf("%w: %s is not read field by field", errLayout, t)
	}
	if err := v.delim('{'); err != nil {
		return err
	}
	v.enc.write("{")
	outer := v.written
	v.written = 0
	next := 0
	for v.dec.More() {
		key, err := v.key()
		if err != nil {
			return err
		}
		j := fieldIndex(fields, key, next)
		if j < 0 {
			return fmt.Errorf("%w: key %q at byte %d", errLayout, key, v.offset())
		}
		for _, f := range fields[next:j] {
			v.zeroOf(t, f, depth)
		}
		if err := read(fields[j]); err != nil {
			return err
		}
		next = j + 1
	}
	if err := v.delim('}'); err != nil {
		return err
	}
	for _, f := range fields[next:] {
		v.zeroOf(t, f, depth)
	}
	if v.written > 0 {
		v.enc.newline(depth)
	}
	v.enc.write("}")
	v.written = outer
	return nil
}

// zeroOf writes field f of struct type t, left out of the file, as its
// zero value (nothing when it is omitted empty).
func (v *streamVerifier) zeroOf(t reflect.Type, f canonicalField, depth int) {
	if f.omitEmpty {
		return
	}
	v.open(f, depth)
	v.enc.value(reflect.Zero(t.Field(f.index).Type), depth+1)
}

// decodeField decodes field f of the struct s (an object at depth) and
// writes it; a value that does not decode is wrapped in wrap (nil: as
// the decoder words it).
func (v *streamVerifier) decodeField(s reflect.Value, f canonicalField, depth int, wrap error) error {
	fv := s.Field(f.index)
	if err := v.dec.Decode(fv.Addr().Interface()); err != nil {
		if wrap != nil {
			return fmt.Errorf("%w: %w", wrap, err)
		}
		return err
	}
	if f.omitEmpty && isEmpty(fv) {
		return nil
	}
	v.open(f, depth)
	v.enc.value(fv, depth+1)
	return nil
}

// boundedField is decodeField for a list of names, measured first
// (boundedDecode) and refused past maxNamesBytes with tooLarge(); a
// value that does not decode is wrapped in wrap (nil: as the decoder
// words it).
func (v *streamVerifier) boundedField(s reflect.Value, f canonicalField, depth int, wrap error, tooLarge func() error) error {
	fv := s.Field(f.index)
	if err := v.boundedDecode(fv.Addr().Interface(), maxNamesBytes, tooLarge); err != nil {
		if _, ok := errors.AsType[*overBound](err); ok || wrap == nil {
			return err
		}
		return fmt.Errorf("%w: %w", wrap, err)
	}
	if f.omitEmpty && isEmpty(fv) {
		return nil
	}
	v.open(f, depth)
	v.enc.value(fv, depth+1)
	return nil
}

// steps reads the steps of groups[gi] (field f of the group at depth)
// into g, one step at a time.
func (v *streamVerifier) steps(gi int, g *Group, f canonicalField, depth int) error {
	tok, err := v.tok()
	if err != nil {
		return err
	}
	if tok == nil {
		v.open(f, depth)
		v.enc.write("null")
		return nil
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return fmt.Errorf("%w: groups[%d].steps is %v, not an array", errStepJSON, gi, tok)
	}
	g.Steps = []step.FittedStep{}
	for v.dec.More() {
		if len(g.Steps) == 0 {
			v.open(f, depth)
			v.enc.write("[")
		} else {
			v.enc.write(",")
		}
		v.enc.newline(depth + 2)
		s, err := v.step(gi, len(g.Steps), depth+2)
		if err != nil {
			return err
		}
		g.Steps = append(g.Steps, s)
	}
	if err := v.delim(']'); err != nil {
		return err
	}
	if len(g.Steps) > 0 {
		v.enc.newline(depth + 1)
		v.enc.write("]")
	} else {
		v.open(f, depth)
		v.enc.write("[]")
	}
	return nil
}

// stepKeys are a step's keys, in the order step.FittedStep writes them.
var stepKeys = [...]string{"step", "params", "inputs", "fitted"}

// step reads groups[gi].steps[si], an object at depth written as
// canonicalEncoder.fittedStep writes it, and runs its own rules.
func (v *streamVerifier) step(gi, si, depth int) (step.FittedStep, error) {
	var s step.FittedStep
	if err := v.delim('{'); err != nil {
		return s, err
	}
	v.enc.write("{")
	var sc *step.StreamedCheck
	v.curStep = [2]int{gi, si}
	for k, want := range stepKeys {
		key, err := v.key()
		if err != nil {
			return s, err
		}
		if key != want {
			return s, fmt.Errorf("%w: step key %q where %q was expected, at byte %d", errLayout, key, want, v.offset())
		}
		if k > 0 {
			v.enc.write(",")
		}
		v.enc.newline(depth + 1)
		v.enc.write(`"` + key + `": `)
		if sc, err = v.stepField(&s, key, depth+1); err != nil {
			if ob, ok := errors.AsType[*overBound](err); ok {
				v.stepErr = underStep(fmt.Sprintf("groups[%d].steps[%d]", gi, si), ob.err)
				return s, errStepRules
			}
			return s, err
		}
	}
	if err := v.delim('}'); err != nil {
		return s, err
	}
	v.enc.newline(depth)
	v.enc.write("}")
	err := stepRules(s.Params, func() error {
		if sc != nil {
			return sc.Check(len(s.Inputs))
		}
		return step.CheckStep(s.Params, s.Fitted, len(s.Inputs))
	})
	if err != nil {
		v.stepErr = underStep(fmt.Sprintf("groups[%d].steps[%d]", gi, si), err)
		return s, errStepRules
	}
	return s, nil
}

// stepField reads and writes the value of a step's key (at depth) into s.
// For fitted parameters some of whose fields were fed to a check entry by
// entry it returns the check.
func (v *streamVerifier) stepField(s *step.FittedStep, key string, depth int) (*step.StreamedCheck, error) {
	var into any
	switch key {
	case "step":
		into = &s.Name
	case "params", "fitted":
		def, ok := step.Lookup(s.Name)
		if !ok {
			return nil, fmt.Errorf("%w: unknown step %q", errStepJSON, s.Name)
		}
		if key == "params" {
			// Decoded whole, so bounded as the spec they equal is.
			s.Params = def.NewParams()
			if err := v.boundedDecode(s.Params, maxSpecBytes, paramsTooLarge); err != nil {
				if _, ok := errors.AsType[*overBound](err); ok {
					return nil, err
				}
				return nil, fmt.Errorf("%w: %s: %w", errStepJSON, key, err)
			}
			v.enc.value(reflect.ValueOf(&s.Params).Elem(), depth)
			return nil, nil
		}
		s.Fitted = def.NewFitted()
		if t := reflect.TypeOf(s.Fitted); t.Kind() == reflect.Pointer && !ownEncoding(t.Elem()) {
			if _, ok := structFields(t.Elem()); ok {
				sc := step.NewStreamedCheck(s.Params, s.Fitted)
				offsets := map[string]int64{}
				if err := v.fittedFields(s.Fitted, sc, offsets, depth); err != nil {
					return nil, err
				}
				if off, ok := offsets["categories_"]; ok && v.catOffsets != nil {
					v.catOffsets[v.curStep] = off
				}
				if off, ok := offsets["quantiles_"]; ok && v.quantOffsets != nil {
					v.quantOffsets[v.curStep] = off
				}
				if sc != nil {
					sc.SetSource(func(field string) (step.CategorySource, error) {
						off, ok := offsets[field]
						if !ok {
							return nil, fmt.Errorf("%s was not read", field)
						}
						return v.listsAt(off)
					})
				}
				return sc, nil
			}
		}
		into = s.Fitted
	case "inputs":
		// Decoded whole: measured first (MaxNamesBytes).
		if err := v.boundedDecode(&s.Inputs, maxNamesBytes, stepInputsTooLarge); err != nil {
			if _, ok := errors.AsType[*overBound](err); ok {
				return nil, err
			}
			return nil, fmt.Errorf("%w: %s: %w", errStepJSON, key, err)
		}
		v.enc.value(reflect.ValueOf(s.Inputs), depth)
		return nil, nil
	}
	if err := v.dec.Decode(into); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", errStepJSON, key, err)
	}
	switch key {
	case "step":
		v.enc.string(s.Name)
	case "params":
		v.enc.value(reflect.ValueOf(&s.Params).Elem(), depth)
	case "fitted":
		v.enc.value(reflect.ValueOf(&s.Fitted).Elem(), depth)
	}
	return nil, nil
}

var floatsType = reflect.TypeFor[step.Floats]()

// fittedFields reads fitted parameters (a pointer to a struct, at depth)
// field by field: the fields sc streams are fed to their checks entry by
// entry instead of being decoded, float arrays are read entry by entry,
// the other fields are decoded. sc may be nil. offsets gets the offset
// of each list of categories' key, for the lists' source.
func (v *streamVerifier) fittedFields(fitted step.Fitted, sc *step.StreamedCheck, offsets map[string]int64, depth int) error {
	s := reflect.ValueOf(fitted).Elem()
	return v.object(s.Type(), depth, func(f canonicalField) error {
		if sc != nil {
			if cats := sc.Categories(f.name); cats != nil {
				offsets[f.name] = v.offset()
				return v.categories(f, cats, depth)
			}
			if fc := sc.Floats(f.name); fc != nil {
				offsets[f.name] = v.offset()
				v.open(f, depth)
				return v.streamedFloats(fc, depth+1)
			}
		}
		if isNameList(s.Field(f.index).Type()) { // one entry per input: measured first
			return v.boundedField(s, f, depth, errStepJSON, func() error { return fittedListTooLarge(f.name) })
		}
		fv := s.Field(f.index)
		if fv.Type() == floatsType || isEntryList(fv.Type()) { // one entry per input: counted
			var err error
			if fv.Type() == floatsType {
				var xs step.Floats
				xs, err = v.readFloats(f.name)
				fv.Set(reflect.ValueOf(xs))
			} else {
				err = v.readEntries(fv, f.name)
			}
			if err != nil {
				return err
			}
			if f.omitEmpty && isEmpty(fv) {
				return nil
			}
			v.open(f, depth)
			v.enc.value(fv, depth+1)
			return nil
		}
		return v.decodeField(s, f, depth, errStepJSON)
	})
}

// floatToken returns the number tok stands for in a step.Floats: a JSON
// number, or "NaN", "Infinity", "-Infinity".
func floatToken(tok json.Token) (float64, error) {
	switch x := tok.(type) {
	case float64:
		return x, nil
	case string:
		switch x {
		case "NaN":
			return math.NaN(), nil
		case "Infinity":
			return math.Inf(1), nil
		case "-Infinity":
			return math.Inf(-1), nil
		}
	}
	return 0, fmt.Errorf("%w: a float is %v, not a number", errStepJSON, tok)
}

// readFloats reads a float array (or null), the fitted parameter field,
// entry by entry, as step.Floats decodes it, refusing one of more than
// maxOutputs entries (fittedTooLong).
func (v *streamVerifier) readFloats(field string) (step.Floats, error) {
	tok, err := v.tok()
	if err != nil {
		return nil, err
	}
	if tok == nil {
		return nil, nil
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return nil, fmt.Errorf("%w: a float array is %v, not an array", errStepJSON, tok)
	}
	xs := step.Floats{}
	for v.dec.More() {
		if len(xs) == maxOutputs {
			return nil, &overBound{fittedTooLong(field)}
		}
		tok, err := v.tok()
		if err != nil {
			return nil, err
		}
		x, err := floatToken(tok)
		if err != nil {
			return nil, err
		}
		xs = append(xs, x)
	}
	return xs, v.delim(']')
}

// readEntries reads into fv (a slice isEntryList accepts) the array (or
// null) of the fitted parameter field, entry by entry, each decoded as
// decoding the whole array decodes it, refusing one of more than
// maxOutputs entries (fittedTooLong).
func (v *streamVerifier) readEntries(fv reflect.Value, field string) error {
	tok, err := v.tok()
	if err != nil {
		return err
	}
	if tok == nil {
		fv.SetZero()
		return nil
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return fmt.Errorf("%w: %s is %v, not an array", errStepJSON, field, tok)
	}
	xs := reflect.MakeSlice(fv.Type(), 0, 0)
	x := reflect.New(fv.Type().Elem())
	for n := 0; v.dec.More(); n++ {
		if n == maxOutputs {
			return &overBound{fittedTooLong(field)}
		}
		x.Elem().SetZero()
		if err := v.dec.Decode(x.Interface()); err != nil {
			return fmt.Errorf("%w: %s[%d]: %w", errStepJSON, field, n, err)
		}
		xs = reflect.Append(xs, x.Elem())
	}
	fv.Set(xs)
	return v.delim(']')
}

// streamedFloats reads a float array, or a list of them when fc is for
// one (a value at depth), writing it as the canonical encoding writes a
// step.Floats or a []step.Floats and feeding each entry to fc.
func (v *streamVerifier) streamedFloats(fc *step.FloatsCheck, depth int) error {
	tok, err := v.tok()
	if err != nil {
		return err
	}
	if tok == nil {
		v.enc.write("null")
		fc.Null()
		return nil
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return fmt.Errorf("%w: a float array is %v, not an array", errStepJSON, tok)
	}
	if !fc.List() {
		return v.floatEntries(fc, depth)
	}
	n := 0
	for v.dec.More() {
		v.entry(n, depth)
		tok, err := v.tok()
		if err != nil {
			return err
		}
		switch d, ok := tok.(json.Delim); {
		case tok == nil:
			v.enc.write("null")
			fc.NullArray()
		case ok && d == '[':
			if err := v.floatEntries(fc, depth+1); err != nil {
				return err
			}
		default:
			return fmt.Errorf("%w: a float array is %v, not an array", errStepJSON, tok)
		}
		n++
	}
	return v.closeArray(n, depth)
}

// floatEntries reads the entries of a float array (a value at depth)
// after its '[', up to its ']', feeding them to fc as one array.
func (v *streamVerifier) floatEntries(fc *step.FloatsCheck, depth int) error {
	fc.StartArray()
	n := 0
	for v.dec.More() {
		tok, err := v.tok()
		if err != nil {
			return err
		}
		x, err := floatToken(tok)
		if err != nil {
			return err
		}
		v.entry(n, depth)
		v.buf = step.AppendFloat(v.buf[:0], x)
		v.enc.writeBytes(v.buf)
		fc.Add(x)
		n++
	}
	if err := v.closeArray(n, depth); err != nil {
		return err
	}
	fc.EndArray()
	return nil
}

// categories reads categories_ (field f of the fitted object at depth), a
// list of lists of strings or nulls, writing it as the canonical encoding
// writes a []step.CategoryList and feeding each entry to cats.
func (v *streamVerifier) categories(f canonicalField, cats *step.CategoriesCheck, depth int) error {
	tok, err := v.tok()
	if err != nil {
		return err
	}
	if tok == nil {
		if !f.omitEmpty {
			v.open(f, depth)
			v.enc.write("null")
		}
		cats.Null()
		return nil
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return fmt.Errorf("%w: %s is %v, not an array", errStepJSON, f.name, tok)
	}
	cats.Start()
	n := 0
	for v.dec.More() {
		if n == 0 {
			v.open(f, depth)
			v.enc.write("[")
		} else {
			v.enc.write(",")
		}
		v.enc.newline(depth + 2)
		cats.StartList()
		if err := v.categoryList(cats, depth+2); err != nil {
			return err
		}
		cats.EndList()
		n++
	}
	if err := v.delim(']'); err != nil {
		return err
	}
	switch {
	case n > 0:
		v.enc.newline(depth + 1)
		v.enc.write("]")
	case !f.omitEmpty:
		v.open(f, depth)
		v.enc.write("[]")
	}
	return nil
}

// categoryList reads one list of categories_ (a value at depth).
func (v *streamVerifier) categoryList(cats *step.CategoriesCheck, depth int) error {
	tok, err := v.tok()
	if err != nil {
		return err
	}
	if tok == nil {
		v.enc.write("null")
		cats.NullList()
		return nil
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return fmt.Errorf("%w: a list of categories is %v, not an array", errStepJSON, tok)
	}
	n := 0
	for v.dec.More() {
		tok, err := v.tok()
		if err != nil {
			return err
		}
		v.entry(n, depth)
		switch c := tok.(type) {
		case nil:
			v.enc.write("null")
			cats.Add(nil)
		case string:
			v.enc.string(c)
			cats.Add(&c)
		default:
			return fmt.Errorf("%w: a category is %v, not a string or null", errStepJSON, tok)
		}
		n++
	}
	return v.closeArray(n, depth)
}

// fileLists reads lists of categories again from the file, for a
// step.CategorySource.
type fileLists struct {
	dec *json.Decoder
	end bool // the current list's end was read
}

// listsAt returns a reader of the lists of categories whose key ends at
// off in the file (the value follows a colon).
func (v *streamVerifier) listsAt(off int64) (*fileLists, error) {
	r := bufio.NewReaderSize(io.NewSectionReader(v.src, off, v.size-off), 64<<10)
	for {
		b, err := r.ReadByte()
		if err != nil {
			return nil, err
		}
		if b == ':' {
			break
		}
	}
	l := &fileLists{dec: json.NewDecoder(r), end: true}
	tok, err := l.dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return nil, fmt.Errorf("lists of categories at byte %d: %v, not an array", off, tok)
	}
	return l, nil
}

// NextList implements step.CategorySource.
func (l *fileLists) NextList() (bool, error) {
	for !l.end { // the rest of the list before
		if _, ok, err := l.Next(); err != nil || !ok {
			if err != nil {
				return false, err
			}
		}
	}
	tok, err := l.dec.Token()
	if err != nil {
		return false, err
	}
	if tok == nil {
		return true, nil
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return false, fmt.Errorf("a list of categories is %v, not an array", tok)
	}
	l.end = false
	return false, nil
}

// Next implements step.CategoryReader.
func (l *fileLists) Next() (*string, bool, error) {
	if l.end {
		return nil, false, nil
	}
	tok, err := l.dec.Token()
	if err != nil {
		return nil, false, err
	}
	switch c := tok.(type) {
	case json.Delim:
		l.end = true
		return nil, false, nil
	case nil:
		return nil, true, nil
	case string:
		return &c, true, nil
	}
	return nil, false, fmt.Errorf("a category is %v, not a string or null", tok)
}

// entry writes what comes before entry n of an array (a value at depth):
// the array's "[" or the previous entry's ",", then the entry's newline.
func (v *streamVerifier) entry(n, depth int) {
	if n == 0 {
		v.enc.write("[")
	} else {
		v.enc.write(",")
	}
	v.enc.newline(depth + 1)
}

// closeArray reads the ']' of an array (a value at depth) that had n
// entries and writes its end: a newline and "]", or "[]" when empty.
func (v *streamVerifier) closeArray(n, depth int) error {
	if err := v.delim(']'); err != nil {
		return err
	}
	if n > 0 {
		v.enc.newline(depth)
		v.enc.write("]")
	} else {
		v.enc.write("[]")
	}
	return nil
}
