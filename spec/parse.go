package spec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/normguard/normguard/step"
)

// MaxSize bounds the size of a spec file.
const MaxSize = 4 << 20

// ParseFile reads and validates the spec at path (YAML or JSON).
func ParseFile(path string) (*Spec, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("spec: %w", err)
	}
	defer f.Close()
	return Parse(f, path)
}

// Parse reads and validates a spec in YAML or JSON (JSON is read as the
// YAML subset it is). name labels errors. Every error is a *Error that
// names the line and field.
func Parse(r io.Reader, name string) (*Spec, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxSize+1))
	if err != nil {
		return nil, &Error{File: name, Err: err}
	}
	if len(data) > MaxSize {
		return nil, &Error{File: name, Err: fmt.Errorf("%w: larger than %d bytes", ErrInvalid, MaxSize)}
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, &Error{File: name, Err: fmt.Errorf("%w: empty file; a spec needs `version: 1` and a `columns` list", ErrInvalid)}
	}
	if json.Valid(data) {
		data = joinSurrogates(data)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, &Error{File: name, Err: fmt.Errorf("%w: not valid YAML or JSON: %s", ErrInvalid, strings.TrimPrefix(err.Error(), "yaml: "))}
	}
	p := parser{file: name, lines: map[string]int{}}
	if err := p.uniqueKeys(&doc, 0); err != nil {
		return nil, err
	}
	sp, err := p.spec(&doc)
	if err != nil {
		return nil, err
	}
	sp.file, sp.lines = name, p.lines
	if err := sp.validate(); err != nil {
		return nil, sp.Locate(err)
	}
	return sp, nil
}

// joinSurrogates rewrites each JSON escape pair \uD8xx\uDCxx (a character
// above U+FFFF, as Python's json.dump writes it) into the single YAML escape
// \UXXXXXXXX, which the YAML reader accepts while it refuses surrogate
// halves. data must be valid JSON, so quotes and backslashes delimit strings
// unambiguously; the rewrite keeps every line where it was.
func joinSurrogates(data []byte) []byte {
	if !bytes.Contains(data, []byte(`\u`)) && !bytes.Contains(data, []byte(`\U`)) {
		return data
	}
	out := make([]byte, 0, len(data))
	inString := false
	for i := 0; i < len(data); i++ {
		c := data[i]
		switch {
		case !inString:
			if c == '"' {
				inString = true
			}
		case c == '"':
			inString = false
		case c == '\\' && i+1 < len(data):
			if hi, ok := hex4(data, i); ok && hi >= 0xD800 && hi <= 0xDBFF {
				if lo, ok := hex4(data, i+6); ok && lo >= 0xDC00 && lo <= 0xDFFF {
					r := 0x10000 + (hi-0xD800)<<10 + (lo - 0xDC00)
					out = fmt.Appendf(out, `\U%08X`, r)
					i += 11
					continue
				}
			}
			out = append(out, c, data[i+1])
			i++
			continue
		}
		out = append(out, c)
	}
	return out
}

// hex4 reads the escape \uXXXX at data[i:] and returns its code unit.
func hex4(data []byte, i int) (int, bool) {
	if i+6 > len(data) || data[i] != '\\' || data[i+1] != 'u' {
		return 0, false
	}
	v, err := strconv.ParseUint(string(data[i+2:i+6]), 16, 16)
	return int(v), err == nil
}

type parser struct {
	file string
	// lines maps the path of each group and step to its line.
	lines map[string]int
	// expanded counts the bytes the steps' parameters expanded to
	// (toJSON), against maxExpanded.
	expanded int64
}

// maxExpanded bounds the JSON all steps' parameters of a spec expand to.
// YAML aliases repeat a list, nested within each other: a 540-byte spec
// file expanded to 10 million values (10 s, 600 MB) before it was refused,
// one more level to ten times that. An artifact's spec holds at most
// 8 MiB (artifact.MaxSpecBytes, more than this JSON's size), so fit
// refuses any spec past this bound anyway.
const maxExpanded = 16 << 20

// uniqueKeys refuses a mapping that gives a key twice, anywhere in the
// document. The YAML reader keeps both (JSON readers commonly keep the
// last): `steps` given twice would fit both chains, a parameter given
// twice would take its last value without a word. Aliases are not
// followed (their anchors are checked where they stand), so this is
// linear in the file; depth is bounded like the spec's own nesting.
func (p *parser) uniqueKeys(n *yaml.Node, depth int) error {
	if depth > maxKeyDepth {
		return p.errf(n, "", "nested deeper than %d levels", maxKeyDepth)
	}
	if n.Kind == yaml.MappingNode {
		first := map[string]*yaml.Node{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind != yaml.ScalarNode || k.Tag == "!!merge" {
				continue
			}
			if prev, ok := first[k.Value]; ok {
				return p.errf(k, k.Value, "given twice in one mapping (first at line %d); keep one", prev.Line)
			}
			first[k.Value] = k
		}
	}
	for _, c := range n.Content {
		if c.Kind == yaml.AliasNode {
			continue
		}
		if err := p.uniqueKeys(c, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// maxKeyDepth bounds the nesting uniqueKeys walks (a spec needs about 6).
const maxKeyDepth = 64

func (p *parser) errf(n *yaml.Node, field, format string, args ...any) error {
	line := 0
	if n != nil {
		line = n.Line
	}
	return &Error{File: p.file, Line: line, Field: field, Err: fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, args...)...)}
}

func (p *parser) spec(doc *yaml.Node) (*Spec, error) {
	root := doc
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) != 1 {
			return nil, p.errf(root, "", "expected one document")
		}
		root = root.Content[0]
	}
	if root.Kind != yaml.MappingNode {
		return nil, p.errf(root, "", "the spec must be a mapping with `version` and `columns`")
	}
	sp := &Spec{Remainder: RemainderDrop}
	var sawVersion, sawColumns bool
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], resolve(root.Content[i+1])
		switch k.Value {
		case "version":
			n, err := strconv.Atoi(v.Value)
			if v.Kind != yaml.ScalarNode || err != nil {
				return nil, p.errf(v, "version", "must be an integer, got %s", nodeWords(v))
			}
			if n != Version {
				return nil, p.errf(v, "version", "spec version %d is not supported; this normguard reads version %d", n, Version)
			}
			sp.Version, sawVersion = n, true
		case "remainder":
			if v.Kind != yaml.ScalarNode || (v.Value != RemainderDrop && v.Value != RemainderPassthrough) {
				return nil, p.errf(v, "remainder", "must be %q or %q, got %s", RemainderDrop, RemainderPassthrough, nodeWords(v))
			}
			sp.Remainder = v.Value
		case "columns":
			if v.Kind != yaml.SequenceNode {
				return nil, p.errf(v, "columns", "must be a list of column groups")
			}
			for gi, gn := range v.Content {
				g, err := p.group(resolve(gn), fmt.Sprintf("columns[%d]", gi))
				if err != nil {
					return nil, err
				}
				sp.Columns = append(sp.Columns, g)
			}
			sawColumns = true
		default:
			if isArtifact(root) {
				return nil, p.errf(root, "", "this is an artifact (it has format and digest), not a spec: pass it as --artifact; `normguard inspect` shows the spec it was fitted from")
			}
			return nil, p.errf(k, k.Value, "unknown field; a spec has version, remainder and columns")
		}
	}
	if !sawVersion {
		return nil, p.errf(root, "version", "missing; add `version: 1`")
	}
	if !sawColumns || len(sp.Columns) == 0 {
		return nil, p.errf(root, "columns", "missing or empty; list the column groups to normalize")
	}
	return sp, nil
}

// isArtifact tells whether the top-level mapping n has an artifact's
// format and digest keys.
func isArtifact(n *yaml.Node) bool {
	var format, digest bool
	for i := 0; i+1 < len(n.Content); i += 2 {
		switch n.Content[i].Value {
		case "format":
			format = true
		case "digest":
			digest = true
		}
	}
	return format && digest
}

func (p *parser) group(n *yaml.Node, path string) (Group, error) {
	var g Group
	p.lines[path] = n.Line
	if n.Kind != yaml.MappingNode {
		return g, p.errf(n, path, "must be a mapping with name or names, type and steps")
	}
	var sawName bool
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], resolve(n.Content[i+1])
		field := path + "." + k.Value
		switch k.Value {
		case "name":
			if v.Kind != yaml.ScalarNode || v.Value == "" {
				return g, p.errf(v, field, "must be a column name")
			}
			if sawName {
				return g, p.errf(k, field, "give either name or names, not both")
			}
			g.Names, sawName = []string{v.Value}, true
		case "names":
			if v.Kind != yaml.SequenceNode || len(v.Content) == 0 {
				return g, p.errf(v, field, "must be a non-empty list of column names")
			}
			if sawName {
				return g, p.errf(k, field, "give either name or names, not both")
			}
			for ni, c := range v.Content {
				c = resolve(c)
				if c.Kind != yaml.ScalarNode || c.Value == "" {
					return g, p.errf(c, fmt.Sprintf("%s[%d]", field, ni), "must be a column name")
				}
				g.Names = append(g.Names, c.Value)
			}
			sawName = true
		case "type":
			if v.Kind != yaml.ScalarNode || (v.Value != TypeNumeric && v.Value != TypeCategorical && v.Value != TypeVector) {
				return g, p.errf(v, field, "must be %q, %q or %q (or absent, to infer it from the data), got %s", TypeNumeric, TypeCategorical, TypeVector, nodeWords(v))
			}
			g.Type = v.Value
		case "steps":
			if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
				continue
			}
			if v.Kind != yaml.SequenceNode {
				return g, p.errf(v, field, "must be a list of steps")
			}
			for si, sn := range v.Content {
				s, err := p.step(resolve(sn), fmt.Sprintf("%s[%d]", field, si))
				if err != nil {
					return g, err
				}
				g.Steps = append(g.Steps, s)
			}
		case vectorDimension, vectorMetric, vectorModel, vectorUnit:
			if err := p.vectorField(&g, k.Value, v, field); err != nil {
				return g, err
			}
		default:
			return g, p.errf(k, field, "unknown field; a column group has name or names, type and steps (and, for type vector, dimension, metric, embedding_model and unit_length)")
		}
	}
	if !sawName {
		return g, p.errf(n, path, "missing name or names")
	}
	if g.Vector != nil && g.Type != TypeVector {
		return g, p.errf(n, path, "dimension, metric, embedding_model and unit_length belong to vector columns; add `type: vector`")
	}
	if g.Type == TypeVector && g.Vector == nil {
		g.Vector = &VectorOptions{}
	}
	if g.Vector != nil {
		g.Vector.fillDefaults()
	}
	return g, nil
}

func (p *parser) step(n *yaml.Node, path string) (Step, error) {
	var s Step
	p.lines[path] = n.Line
	var name string
	var params *yaml.Node
	switch {
	case n.Kind == yaml.ScalarNode:
		name = n.Value // a bare step name: all defaults
	case n.Kind == yaml.MappingNode && len(n.Content) == 2:
		name, params = n.Content[0].Value, resolve(n.Content[1])
	default:
		return s, p.errf(n, path, "a step is a one-key mapping such as `standard_scaler: {}`")
	}
	field := path + "." + name
	if _, ok := step.Lookup(name); !ok {
		return s, p.errf(n, path, "unknown step %q; known steps: %s", name, strings.Join(step.Names(), ", "))
	}
	var raw json.RawMessage
	if params != nil && !(params.Kind == yaml.ScalarNode && params.Tag == "!!null") {
		if params.Kind != yaml.MappingNode {
			return s, p.errf(params, field, "parameters must be a mapping, e.g. `{with_mean: false}`")
		}
		var err error
		if raw, err = toJSON(params, 0, &p.expanded); err != nil {
			return s, p.errf(params, field, "%v", err)
		}
	}
	prm, err := decodeParams(name, raw)
	if err == nil {
		// Bounds a fit holds the parameters to (n_bins, feature_range's
		// width), refused here with the line, before anything is read.
		err = step.CheckFitParams(prm)
	}
	if err != nil {
		var pe *step.ParamError
		if errors.As(err, &pe) {
			field += "." + pe.Param
			return s, p.errf(findKey(params, pe.Param), field, "%s", pe.Msg+fmt.Sprintf(" (got %s)", valueWords(pe.Value)))
		}
		return s, p.errf(params, field, "%v", err)
	}
	return Step{Name: name, Params: prm}, nil
}

// findKey returns the value node of key in a mapping, or the mapping.
func findKey(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return m
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return m
}

func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i < 16; i++ {
		n = n.Alias
	}
	return n
}

// toJSON converts a YAML node to JSON text. Floats that JSON cannot hold
// (.inf, .nan) become the strings step.Float reads. expanded counts the
// bytes written (a container's own, and its scalars'), refused past
// maxExpanded.
func toJSON(n *yaml.Node, depth int, expanded *int64) (json.RawMessage, error) {
	if depth > 32 {
		return nil, errors.New("nested too deeply")
	}
	n = resolve(n)
	v, err := toJSONValue(n, depth, expanded)
	if err != nil {
		return nil, err
	}
	if n.Kind == yaml.ScalarNode {
		*expanded += int64(len(v)) + 1
	} else {
		*expanded += int64(len(n.Content)) + 2
	}
	if *expanded > maxExpanded {
		return nil, fmt.Errorf("the steps' parameters expand to more than %d bytes (YAML aliases repeat lists); list the categories once, or let the encoders learn them from the data (categories: auto)", maxExpanded)
	}
	return v, nil
}

// toJSONValue is toJSON's conversion of the resolved node n.
func toJSONValue(n *yaml.Node, depth int, expanded *int64) (json.RawMessage, error) {
	switch n.Kind {
	case yaml.MappingNode:
		var b bytes.Buffer
		b.WriteByte('{')
		for i := 0; i+1 < len(n.Content); i += 2 {
			if i > 0 {
				b.WriteByte(',')
			}
			k, _ := json.Marshal(n.Content[i].Value)
			*expanded += int64(len(k))
			b.Write(k)
			b.WriteByte(':')
			v, err := toJSON(n.Content[i+1], depth+1, expanded)
			if err != nil {
				return nil, err
			}
			b.Write(v)
		}
		b.WriteByte('}')
		return b.Bytes(), nil
	case yaml.SequenceNode:
		var b bytes.Buffer
		b.WriteByte('[')
		for i, c := range n.Content {
			if i > 0 {
				b.WriteByte(',')
			}
			v, err := toJSON(c, depth+1, expanded)
			if err != nil {
				return nil, err
			}
			b.Write(v)
		}
		b.WriteByte(']')
		return b.Bytes(), nil
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!null":
			return json.RawMessage("null"), nil
		case "!!bool":
			var v bool
			if err := n.Decode(&v); err != nil {
				return nil, err
			}
			return json.Marshal(v)
		case "!!int":
			var v int64
			if err := n.Decode(&v); err != nil {
				return nil, fmt.Errorf("%q: %v", n.Value, err)
			}
			return json.Marshal(v)
		case "!!float":
			var v float64
			if err := n.Decode(&v); err != nil {
				return nil, fmt.Errorf("%q: %v", n.Value, err)
			}
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return json.Marshal(step.Float(v))
			}
			// Keep a float a float (1.0 is a fraction for min_frequency,
			// 1 a count), as scikit-learn distinguishes them.
			t := strconv.FormatFloat(v, 'g', -1, 64)
			if !strings.ContainsAny(t, ".eE") {
				t += ".0"
			}
			return json.RawMessage(t), nil
		default:
			return json.Marshal(n.Value)
		}
	}
	return nil, fmt.Errorf("unsupported YAML node")
}
