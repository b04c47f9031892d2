package artifact

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"reflect"
	"strings"

	"github.com/normguard/normguard/profile"
	"github.com/normguard/normguard/spec"
	"github.com/normguard/normguard/step"
)

// Verify checks an artifact file as Decode does — the same digest check,
// canonical-form check and meaning check, refusing with the same
// messages — without holding the artifact in memory: its memory is that
// of the largest single step less its long lists (an encoder's
// categories_ and infrequent_categories_, a quantile transformer's
// quantiles_ and references_, a KBins discretizer's bin_edges_, whose
// entries are checked one at a time: verify_group.go; per-column float
// arrays cost 8 bytes an entry; a one-hot encoder's output names are
// built whole), output, profile column or embedding, plus the spec (at
// most MaxSpecBytes of the file, refused past that before it is decoded),
// the lists of names decoded whole (the input schema, passthrough, a
// group's columns, a step's inputs: at most MaxNamesBytes each, measured
// alike) and the schemas the meaning check compares with (sectionCheck:
// of the outputs, two hashes a column, at most MaxOutputs), whatever the
// file's size. No string, number or run of white space the decoder would
// hold whole may pass MaxStringBytes (an embedding's sample,
// MaxSampleBytes): the decoder's input is scanned as it reads it, and the
// read that would bring one past the bound fails. It suits a
// server receiving uploads, and the verify command, which need the
// verdict and the digest, not the artifact.
//
// The file is read twice in step, sequentially from r: once by a
// json.Decoder that decodes the large sections (groups step by step,
// outputs, the profile's columns, embeddings) one element at a time and
// the rest whole, and once by a comparer that checks the canonical
// encoding of what was decoded, written element by element exactly as
// Decode's streamed re-encoding writes it, against the file's bytes,
// while the same encoding (digest field empty) is hashed.
//
// A file the streamed reading cannot follow — not JSON, a value of the
// wrong type, top-level keys out of the canonical order — is refused
// whatever it holds; when it is small (up to decodeFallbackSize) it is
// decoded whole so that the refusal reads exactly as Decode's.
func Verify(r io.ReaderAt, size int64, name string) (*Verified, error) {
	if size > MaxSize {
		return nil, fmt.Errorf("load artifact %s: %w: larger than %d bytes", name, ErrCorrupt, MaxSize)
	}
	head := make([]byte, min(size, startBytes))
	if _, err := r.ReadAt(head, 0); err != nil && err != io.EOF {
		return nil, fmt.Errorf("load artifact %s: %w", name, err)
	}
	if err := checkStart(head, name); err != nil {
		return nil, err
	}
	if !streamable() {
		return verifyWhole(r, size, name)
	}
	v := newStreamVerifier(r, size, name)
	if err := v.run(); err != nil {
		if size <= decodeFallbackSize {
			return verifyWhole(r, size, name)
		}
		return nil, v.structuralError(err)
	}
	return v.verdict()
}

// MaxSpecBytes bounds an artifact's spec section: the bytes of the
// "spec" value as the file holds it (its canonical encoding). Verify
// decodes the spec whole, so this bounds what it holds of it: measured,
// an upload whose spec is just within the bound grows the process by
// about five times the bound (the bytes, the decoded categories, the
// collector's headroom: 82 MB at 16 MiB), hence 8 MiB. A spec's bulk,
// when it has any, is categories given in it (an encoder's
// categories: [[...]]): 8 MiB holds about 250,000 of them, each on its
// line as the encoding writes it, far past what a spec written by hand
// lists; larger vocabularies are learned from the data (categories:
// auto), where Verify reads them entry by entry. A spec file itself is
// at most spec.MaxSize (4 MiB), but its encoding can be several times
// larger (one indented line per category, a YAML anchor repeated), so
// fit refuses up front a spec whose encoding passes this bound
// (CheckSpecSize): it never writes an artifact Verify refuses.
const MaxSpecBytes = 8 << 20

// maxSpecBytes is MaxSpecBytes, lowered by tests.
var maxSpecBytes int64 = MaxSpecBytes

// specTooLarge is the refusal of a spec section over maxSpecBytes.
func specTooLarge() error {
	return bad("spec", "more than the %d bytes an artifact's spec may hold; its bulk is categories given in the spec: let the encoders learn them from the data (categories: auto), or give fewer", maxSpecBytes)
}

// CheckSpecSize returns an error naming the spec's size when its encoding
// in an artifact would pass MaxSpecBytes, or the string (a column name, a
// category given) that would pass MaxStringBytes, so that fit refuses up
// front a spec whose artifact Verify and Decode would refuse.
func CheckSpecSize(s *spec.Spec) error {
	var n countingWriter
	e := &canonicalEncoder{w: &n}
	e.value(reflect.ValueOf(s), 1) // as the artifact's spec field
	if e.err != nil {
		return e.err
	}
	if int64(n) > maxSpecBytes {
		return bad("spec", "%d bytes in the artifact, more than the %d an artifact's spec may hold; its bulk is categories given in the spec: let the encoders learn them from the data (categories: auto), or give fewer", int64(n), maxSpecBytes)
	}
	var scan tokenScan
	e = &canonicalEncoder{w: scanWriter{&scan}}
	e.value(reflect.ValueOf(s), 1)
	if scan.err == nil {
		return nil
	}
	var buf bytes.Buffer // the spec is within its bound: at most 8 MiB
	e = &canonicalEncoder{w: &buf}
	e.value(reflect.ValueOf(s), 1)
	return scanStrings(buf.Bytes()).writeError(buf.Bytes(), "spec")
}

// scanWriter feeds what is written to it to a tokenScan.
type scanWriter struct{ scan *tokenScan }

func (w scanWriter) Write(p []byte) (int, error) {
	w.scan.feed(p) // the first refusal sticks
	return len(p), nil
}

// countingWriter counts the bytes written to it.
type countingWriter int64

func (c *countingWriter) Write(p []byte) (int, error) {
	*c += countingWriter(len(p))
	return len(p), nil
}

// paramsTooLarge is the refusal of a step's parameters over maxSpecBytes:
// a fit writes the spec's, and the spec holds them more deeply indented,
// so a step's parameters past the spec's bound are never a fit's.
func paramsTooLarge() error {
	return step.Under("params", fmt.Errorf("more than the %d bytes a step's parameters may hold (the bound of an artifact's spec, whose parameters they are)", maxSpecBytes))
}

// boundError is the refusal of an artifact a section of which passes its
// stated bound (err names the section).
func boundError(name string, err error) error {
	return fmt.Errorf("load artifact %s: %w: %w", name, ErrCorrupt, err)
}

// Verified is what Verify reports of an artifact it accepts.
type Verified struct {
	// Digest is the artifact's digest, "sha256:<hex>".
	Digest string
	// Model is the model the artifact was fitted for, or nil.
	Model *Model
}

// decodeFallbackSize is the largest file whose refusal for a reason the
// streamed reading does not follow is worded by decoding it whole
// (Decode takes about five times the file's size).
var decodeFallbackSize int64 = 8 << 20

// verifyWhole verifies the file by decoding it whole.
func verifyWhole(r io.ReaderAt, size int64, name string) (*Verified, error) {
	data := make([]byte, size)
	if _, err := r.ReadAt(data, 0); err != nil && !(errors.Is(err, io.EOF) && size == 0) {
		return nil, fmt.Errorf("load artifact %s: %w", name, err)
	}
	a, err := Decode(data, name)
	if err != nil {
		return nil, err
	}
	return &Verified{Digest: a.Digest, Model: a.Model}, nil
}

// streamable tells whether the containers Verify walks itself (the
// artifact and its profile) encode as their fields, as the canonical
// encoder walks them; otherwise Verify decodes whole.
func streamable() bool {
	for _, t := range []reflect.Type{reflect.TypeFor[Artifact](), reflect.TypeFor[profile.Set]()} {
		if _, ok := structFields(t); !ok || ownEncoding(t) {
			return false
		}
	}
	return true
}

// streamVerifier is one streamed reading of an artifact file.
type streamVerifier struct {
	name  string
	src   io.ReaderAt
	size  int64
	dec   *json.Decoder
	cmp   *streamCompare
	sum   hash.Hash
	enc   *canonicalEncoder
	check *sectionCheck
	// shell holds the fields decoded whole (format, digest, spec, ...).
	shell Artifact
	// written counts the fields written at the current object level.
	written int
	// stepErr is the error of the step that refused itself, under its
	// path, when a group did not decode or a step failed its own rules.
	stepErr error
	// nest counts the arrays and objects open at the reading's position.
	nest int
	// buf is scratch space for one float's text.
	buf []byte
	// base is the offset in the file where dec starts reading.
	base int64
	// scan bounds each string and run the decoder reads (MaxStringBytes);
	// sr, the decoder's reader, bounds an element (boundedElement).
	scan tokenScan
	sr   *scanReader
	// groupStarts holds where each group the spec lists starts (before
	// its separator), outputsAt where the outputs' key ends: for
	// sectionSource.
	groupStarts []int64
	outputsAt   int64
	// catOffsets holds where the key of each encoder's categories_ ends,
	// by group and step, and curStep the step being read: for
	// sectionSource.categoryLists (nil in a reading of a group again).
	catOffsets map[[2]int]int64
	curStep    [2]int
	// quantOffsets holds where the key of each quantile transformer's
	// quantiles_ ends, by group and step: for
	// sectionSource.quantileEntries (nil in a reading of a group again).
	quantOffsets map[[2]int]int64
}

// tok reads the next token, counting the arrays and objects it opens and
// closes.
func (v *streamVerifier) tok() (json.Token, error) {
	t, err := v.dec.Token()
	if d, ok := t.(json.Delim); ok {
		switch d {
		case '{', '[':
			v.nest++
		default:
			v.nest--
		}
	}
	return t, err
}

func newStreamVerifier(r io.ReaderAt, size int64, name string) *streamVerifier {
	const bufSize = 256 << 10
	v := &streamVerifier{
		name: name,
		src:  r,
		size: size,
		cmp:  newStreamCompare(bufio.NewReaderSize(io.NewSectionReader(r, 0, size), bufSize)),
		sum:  sha256.New(),

		catOffsets:   map[[2]int]int64{},
		quantOffsets: map[[2]int]int64{},
	}
	// The decoder holds each string and number whole: the scan refuses
	// one past MaxStringBytes before the decoder takes its bytes.
	v.sr = &scanReader{r: bufio.NewReaderSize(io.NewSectionReader(r, 0, size), bufSize), scan: &v.scan}
	v.dec = json.NewDecoder(v.sr)
	v.check = newSectionCheck(v)
	v.check.selfChecked = true
	v.enc = &canonicalEncoder{w: v.cmp, digest: v.sum}
	return v
}

// errLayout is wrapped by run's errors for a file whose top-level keys
// are not the artifact's, in its order.
var errLayout = errors.New("not in the artifact's layout")

// run reads the whole file, writing its canonical encoding and feeding
// the meaning check. An error means the reading could not follow the file.
func (v *streamVerifier) run() error {
	if err := v.delim('{'); err != nil {
		return err
	}
	v.enc.write("{")
	fields, _ := structFields(reflect.TypeFor[Artifact]())
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
			v.zero(f, 0)
		}
		if err := v.field(fields[j]); err != nil {
			return err
		}
		next = j + 1
	}
	if err := v.delim('}'); err != nil {
		return err
	}
	for _, f := range fields[next:] {
		v.zero(f, 0)
	}
	if v.written > 0 {
		v.enc.newline(0)
	}
	v.enc.write("}")
	v.enc.write("\n")
	if tok, err := v.tok(); err != io.EOF {
		if err == nil {
			err = fmt.Errorf("invalid data after the artifact's closing brace (%v)", tok)
		}
		return err
	}
	if v.enc.err != nil {
		return v.enc.err
	}
	return v.cmp.err
}

// fieldIndex returns the index of the field named key at or after from,
// or -1.
func fieldIndex(fields []canonicalField, key string, from int) int {
	for j := from; j < len(fields); j++ {
		if fields[j].name == key {
			return j
		}
	}
	return -1
}

// delim reads the delimiter want.
func (v *streamVerifier) delim(want json.Delim) error {
	tok, err := v.tok()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return fmt.Errorf("%w: found %v where %q was expected, at byte %d", errLayout, tok, want, v.offset())
	}
	return nil
}

// key reads an object key.
func (v *streamVerifier) key() (string, error) {
	tok, err := v.tok()
	if err != nil {
		return "", err
	}
	k, ok := tok.(string)
	if !ok {
		return "", fmt.Errorf("%w: found %v where a key was expected", errLayout, tok)
	}
	return k, nil
}

// open writes the separator, indentation and key of field f at depth
// (the depth of the object holding it).
func (v *streamVerifier) open(f canonicalField, depth int) {
	if v.written > 0 {
		v.enc.write(",")
	}
	v.written++
	v.enc.newline(depth + 1)
	v.enc.write(f.key)
	v.enc.write(": ")
}

// zero writes field f as the encoding writes a field the file left out:
// its zero value, or nothing when it is omitted empty.
func (v *streamVerifier) zero(f canonicalField, depth int) {
	if f.omitEmpty {
		return
	}
	v.open(f, depth)
	v.enc.value(reflect.Zero(v.fieldType(f, depth)), depth+1)
}

// fieldType is the type of field f of the artifact (depth 0) or of its
// profile.
func (v *streamVerifier) fieldType(f canonicalField, depth int) reflect.Type {
	if depth == 0 {
		return reflect.TypeFor[Artifact]().Field(f.index).Type
	}
	return reflect.TypeFor[profile.Set]().Field(f.index).Type
}

// field reads and writes the artifact's field f.
func (v *streamVerifier) field(f canonicalField) error {
	switch f.name {
	case "groups":
		return v.slice(f, 0, v.group)
	case "outputs":
		v.outputsAt = v.offset()
		return v.slice(f, 0, v.output)
	case "profile":
		return v.profile(f)
	case "embeddings":
		return v.slice(f, 0, v.embedding)
	}
	fv := reflect.ValueOf(&v.shell).Elem().Field(f.index)
	switch f.name {
	case "spec":
		if err := v.boundedDecode(fv.Addr().Interface(), maxSpecBytes, specTooLarge); err != nil {
			return err
		}
	case "inputs", "passthrough":
		if err := v.boundedDecode(fv.Addr().Interface(), maxNamesBytes, func() error { return namesTooLarge(f.name) }); err != nil {
			return err
		}
	default:
		if err := v.dec.Decode(fv.Addr().Interface()); err != nil {
			if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok && te.Field == "" {
				te.Field = f.name // as Decode, which decodes the artifact's object, names it
			}
			return err
		}
	}
	if f.omitEmpty && isEmpty(fv) {
		return nil
	}
	v.open(f, 0)
	if f.name == "digest" {
		// The digest is computed with this field empty.
		io.WriteString(v.enc.digest, `""`)
		v.enc.skipDigest = true
		v.enc.value(fv, 1)
		v.enc.skipDigest = false
	} else {
		v.enc.value(fv, 1)
	}
	switch f.name {
	case "spec":
		v.check.setSpec(v.shell.Spec)
	case "inputs":
		v.check.setInputs(v.shell.Inputs)
	case "passthrough":
		v.check.setPassthrough(v.shell.Passthrough)
	case "training":
		v.check.setTraining(v.shell.Training)
	}
	return nil
}

// boundedDecode decodes the value after the key just read into x when it
// takes at most limit bytes of the file, else stops the reading with an
// *overBound (wrapping tooLarge()). The value's bytes are measured first
// by scanning them from the file in pieces (valueOver), so that one too
// large is refused without being held, even as a single string; a value
// within the bound is skimmed by the decoder and decoded from a copy of
// its bytes.
func (v *streamVerifier) boundedDecode(x any, limit int64, tooLarge func() error) error {
	start, err := v.valueStart(v.offset())
	if err != nil {
		return err
	}
	n, over, err := v.valueOver(start, limit)
	if err != nil {
		return err
	}
	if over {
		return &overBound{tooLarge()}
	}
	if n <= smallValue {
		return v.dec.Decode(x) // its buffer holds that much anyway
	}
	// The decoder only skims the value (its buffer would grow, by
	// doubling, to hold it whole); it is decoded from a copy of its bytes.
	if err := v.skipValue(); err != nil {
		return err
	}
	if end := v.offset(); end-start != n {
		n = end - start // the scan and the decoder differ on invalid JSON
	}
	raw := make([]byte, n)
	if _, err := v.src.ReadAt(raw, start); err != nil {
		return err
	}
	return json.Unmarshal(raw, x)
}

// smallValue is the largest bounded value the decoder decodes itself
// (skimming it as tokens and decoding a copy costs more).
const smallValue = 64 << 10

// valueOver returns the length n of the JSON value starting at off, or
// over when it takes more than limit bytes of the file, reading at most
// limit+1 of them. A value that is not valid JSON, or is cut off by the
// file's end, is measured as far as it goes; decoding it words its error.
func (v *streamVerifier) valueOver(off, limit int64) (n int64, over bool, err error) {
	var buf [32 << 10]byte
	depth, inString, escaped, scalar := 0, false, false, false
	for pos := off; pos < v.size; {
		n, err := v.src.ReadAt(buf[:min(int64(len(buf)), v.size-pos)], pos)
		for i, c := range buf[:n] {
			k := pos + int64(i) - off // c is the value's byte k
			end := int64(-1)          // the value's length, once it ends
			switch {
			case inString:
				switch {
				case escaped:
					escaped = false
				case c == '\\':
					escaped = true
				case c == '"':
					inString = false
					if depth == 0 {
						end = k + 1
					}
				}
			case scalar:
				if strings.IndexByte(" \t\r\n,]}", c) >= 0 {
					end = k
				}
			case c == '"':
				inString = true
			case c == '{' || c == '[':
				depth++
			case c == '}' || c == ']':
				depth--
				if depth <= 0 {
					end = k + 1
				}
			case k == 0:
				scalar = true
			}
			if end >= 0 {
				return end, end > limit, nil
			}
			if k+1 > limit {
				return 0, true, nil
			}
		}
		pos += int64(n)
		if err != nil && n == 0 {
			break
		}
	}
	return v.size - off, false, nil
}

// overBound is run's error for a section larger than its stated bound
// (MaxSpecBytes); err is the refusal.
type overBound struct{ err error }

func (e *overBound) Error() string { return e.err.Error() }

// valueStart returns the offset of the first byte of the value whose key
// ends at off: past the colon and white space.
func (v *streamVerifier) valueStart(off int64) (int64, error) {
	return v.skipBytes(off, ": \t\r\n")
}

// skipBytes returns the offset of the first byte at or after off that is
// not in skip.
func (v *streamVerifier) skipBytes(off int64, skip string) (int64, error) {
	var buf [512]byte
	for off < v.size {
		n, err := v.src.ReadAt(buf[:min(int64(len(buf)), v.size-off)], off)
		for i := range n {
			if !strings.ContainsRune(skip, rune(buf[i])) {
				return off + int64(i), nil
			}
		}
		off += int64(n)
		if err != nil && n == 0 {
			return 0, err
		}
	}
	return 0, io.ErrUnexpectedEOF
}

// offset is the reading's offset in the file.
func (v *streamVerifier) offset() int64 { return v.base + v.dec.InputOffset() }

// slice reads the array (or null) of field f of the object at depth,
// element by element: elem decodes, writes (at depth+2) and checks
// element i.
func (v *streamVerifier) slice(f canonicalField, depth int, elem func(i, depth int) error) error {
	tok, err := v.tok()
	if err != nil {
		return err
	}
	if tok == nil {
		if !f.omitEmpty {
			v.open(f, depth)
			v.enc.write("null")
		}
		return nil
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return fmt.Errorf("%w: %s is %v, not an array", errLayout, f.name, tok)
	}
	n := 0
	for v.dec.More() {
		if n == 0 {
			v.open(f, depth)
			v.enc.write("[")
		} else {
			v.enc.write(",")
		}
		v.enc.newline(depth + 2)
		if err := elem(n, depth+2); err != nil {
			return err // as Decode words it: no path of ours
		}
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

// locateGroup returns the error of the first step of groups[i] that
// refuses itself, reading the group from the file between start and end
// (which may hold the separator before it), or nil.
func (v *streamVerifier) locateGroup(i int, start, end int64) error {
	if end <= start || end > v.size {
		return nil
	}
	raw := make([]byte, end-start)
	if _, err := v.src.ReadAt(raw, start); err != nil {
		return nil
	}
	return locateGroupStepError(i, bytes.TrimLeft(raw, ", \t\r\n"))
}

// output reads outputs[i].
func (v *streamVerifier) output(i, depth int) error {
	var o Field
	err := v.boundedElement(maxColumnBytes, func() error { return columnTooLarge(fmt.Sprintf("outputs[%d]", i)) }, func() error { return v.dec.Decode(&o) })
	if err != nil {
		return err
	}
	v.enc.value(reflect.ValueOf(&o).Elem(), depth)
	v.check.output(i, o)
	return nil
}

// embedding reads embeddings[i].
func (v *streamVerifier) embedding(i, depth int) error {
	var e Embedding
	err := v.boundedElement(embeddingLimit(), func() error { return embeddingTooLarge(i) }, func() error { return v.dec.Decode(&e) })
	if err != nil {
		return err
	}
	v.enc.value(reflect.ValueOf(&e).Elem(), depth)
	v.check.embedding(i, &e)
	return nil
}

// profile reads the training profile (an object or null), its columns
// one at a time.
func (v *streamVerifier) profile(f canonicalField) error {
	tok, err := v.tok()
	if err != nil {
		return err
	}
	v.open(f, 0)
	if tok == nil {
		v.enc.write("null")
		return nil
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return fmt.Errorf("%w: profile is %v, not an object", errLayout, tok)
	}
	v.check.startProfile()
	v.enc.write("{")
	outer := v.written
	v.written = 0
	fields, _ := structFields(reflect.TypeFor[profile.Set]())
	next := 0
	for v.dec.More() {
		key, err := v.key()
		if err != nil {
			return err
		}
		j := fieldIndex(fields, key, next)
		if j < 0 {
			return fmt.Errorf("%w: profile key %q at byte %d", errLayout, key, v.offset())
		}
		for _, pf := range fields[next:j] {
			v.zero(pf, 1)
		}
		side := 0
		if fields[j].name == "outputs" {
			side = 1
		}
		err = v.slice(fields[j], 1, func(i, depth int) error {
			var ft profile.Feature
			err := v.boundedElement(maxColumnBytes, func() error {
				return columnTooLarge(fmt.Sprintf("profile.%s[%d]", fields[j].name, i))
			}, func() error { return v.dec.Decode(&ft) })
			if err != nil {
				return err
			}
			v.enc.value(reflect.ValueOf(&ft).Elem(), depth)
			v.check.profileFeature(side, i, &ft)
			return nil
		})
		if err != nil {
			return err
		}
		next = j + 1
	}
	if err := v.delim('}'); err != nil {
		return err
	}
	for _, pf := range fields[next:] {
		v.zero(pf, 1)
	}
	if v.written > 0 {
		v.enc.newline(1)
	}
	v.enc.write("}")
	v.written = outer
	return nil
}

// verdict orders the verdicts of a file read to its end as Decode does:
// format, digest, canonical form, meaning.
func (v *streamVerifier) verdict() (*Verified, error) {
	a := &v.shell
	if err := checkHead(v.name, a.Format, a.FormatVersion, a.Digest); err != nil {
		return nil, err
	}
	got := "sha256:" + hex.EncodeToString(v.sum.Sum(nil))
	at := v.cmp.firstDifference()
	if err := v.sumAndForm(a.Digest, got, at); err != nil {
		return nil, err
	}
	if err := v.check.finish(); err != nil {
		return nil, meaningError(v.name, err)
	}
	return &Verified{Digest: a.Digest, Model: a.Model}, nil
}

func (v *streamVerifier) sumAndForm(want, got string, at int64) error {
	return digestAndFormError(v.name, want, got, at, v.cmp.canon, v.src, v.size)
}

// structuralError words the refusal of a file the streamed reading could
// not follow, as near to Decode's as the reading allows: the JSON error,
// else the format, else the step that refused itself, else the reading's
// own error.
func (v *streamVerifier) structuralError(err error) error {
	// A string or run past its bound anywhere in the file is refused
	// first, as Decode, which scans the file before decoding it, does.
	if tl := v.tooLong(); tl != nil {
		return boundError(v.name, boundRefusal(io.NewSectionReader(v.src, 0, v.size), tl))
	}
	var syntax *json.SyntaxError
	switch {
	case errors.As(err, &syntax) || errors.Is(err, io.ErrUnexpectedEOF):
		return corrupt(v.name, "not valid JSON (%v); the file may be truncated — fetch or refit it", err)
	case errors.Is(err, io.EOF) && v.offset() == 0:
		return corrupt(v.name, "the file is empty")
	case errors.Is(err, io.EOF):
		return corrupt(v.name, "not valid JSON (unexpected end of JSON input); the file may be truncated — fetch or refit it")
	}
	if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok && (te.Field == "format" || te.Field == "format_version" || te.Field == "digest") {
		return jsonError(v.name, err) // a field Decode reads first, worded as it words it
	}
	if herr := checkHead(v.name, v.shell.Format, v.shell.FormatVersion, v.shell.Digest); herr != nil {
		return herr
	}
	if ob, ok := errors.AsType[*overBound](err); ok {
		return boundError(v.name, ob.err)
	}
	if v.stepErr != nil {
		return meaningError(v.name, v.stepErr)
	}
	if errors.Is(err, errLayout) {
		at := v.offset()
		return corrupt(v.name, "the file is not in canonical form from %s (it was edited after it was written); refit or fetch it again", lineAtReader(v.src, v.size, at))
	}
	// A value the decoder refused without a path (another JSON type, a
	// field's own decoder, a spec step's parameters): named as Decode
	// names it, for files Decode could hold.
	if v.size <= maxLocateBytes {
		data := make([]byte, v.size)
		if n, _ := v.src.ReadAt(data, 0); int64(n) == v.size {
			if loc := locateDecodeError(data); loc != nil {
				return meaningError(v.name, loc)
			}
		}
	}
	return corrupt(v.name, "%v", err)
}

// maxLocateBytes bounds the files whose refused value a streamed reading
// locates by reading them whole (only on that refusal).
const maxLocateBytes = 64 << 20

// tooLong returns the first string or run of the file past its bound:
// the one the reading's scan stopped at, else one in the bytes the
// reading did not reach, scanned now, or nil.
func (v *streamVerifier) tooLong() *tokenTooLong {
	if v.scan.err != nil {
		return v.scan.err
	}
	buf := make([]byte, 256<<10)
	for off := v.scan.off; off < v.size; {
		n, err := v.src.ReadAt(buf[:min(int64(len(buf)), v.size-off)], off)
		if v.scan.feed(buf[:n]) != nil {
			return v.scan.err
		}
		off += int64(n)
		if err != nil && n == 0 {
			break
		}
	}
	return nil
}

// streamCompare compares what is written with the bytes read from r,
// recording the offset of the first difference, as compareWriter does
// with bytes in memory.
type streamCompare struct {
	r        *bufio.Reader
	off      int64 // bytes written
	read     int64 // bytes of r compared
	mismatch int64 // -1: none so far
	buf      []byte
	err      error  // reading r failed
	canon    []byte // what was written from the mismatch on (canonQuote bytes)
}

func newStreamCompare(r *bufio.Reader) *streamCompare {
	return &streamCompare{r: r, mismatch: -1, buf: make([]byte, 32<<10)}
}

func (c *streamCompare) Write(p []byte) (int, error) {
	n := len(p)
	if c.mismatch >= 0 && len(c.canon) < canonQuote {
		c.canon = append(c.canon, p[:min(len(p), canonQuote-len(c.canon))]...)
	}
	for c.mismatch < 0 && c.err == nil && len(p) > 0 {
		chunk := c.buf[:min(len(p), len(c.buf))]
		k, err := io.ReadFull(c.r, chunk)
		if i := firstDiff(p[:k], chunk[:k]); i >= 0 {
			c.mismatch = c.read + int64(i)
			c.canon = append(c.canon, p[i:min(len(p), i+canonQuote)]...)
			break
		}
		c.read += int64(k)
		p = p[k:]
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			c.mismatch = c.read // the file ends early
			c.canon = append(c.canon, p[:min(len(p), canonQuote)]...)
			break
		}
		if err != nil {
			c.err = err
		}
	}
	c.off += int64(n)
	return n, nil
}

func firstDiff(a, b []byte) int {
	for i := range a {
		if a[i] != b[i] {
			return i
		}
	}
	return -1
}

// firstDifference returns the offset of the first byte where the file
// differs from what was written, or -1 when they are equal.
func (c *streamCompare) firstDifference() int64 {
	if c.mismatch >= 0 {
		return c.mismatch
	}
	if _, err := c.r.ReadByte(); err != io.EOF {
		return c.read // the file goes on
	}
	return -1
}

// lineAtReader is lineAt for the first size bytes of r, read in pieces.
func lineAtReader(r io.ReaderAt, size, at int64) string {
	at = min(at, size)
	line, start := int64(1), int64(0)
	buf := make([]byte, 64<<10)
	for off := int64(0); off < at; {
		n, err := r.ReadAt(buf[:min(int64(len(buf)), at-off)], off)
		for i := 0; i < n; i++ {
			if buf[i] == '\n' {
				line++
				start = off + int64(i) + 1
			}
		}
		off += int64(n)
		if err != nil || n == 0 {
			break
		}
	}
	// The line from start, as much as is quoted: it ends at the first
	// newline from start, which is the first at or after at.
	quote := make([]byte, min(int64(lineQuote+1), size-start))
	n, _ := r.ReadAt(quote, start)
	quote = quote[:n]
	if i := bytes.IndexByte(quote, '\n'); i >= 0 {
		quote = quote[:i]
	}
	return describeLine(line, quote)
}
