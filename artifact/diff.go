package artifact

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Change is one difference between two artifacts.
type Change struct {
	// Section is "model", "spec", "parameters", "schema" or "data".
	Section string
	// Path locates the value, e.g. groups[0].steps[1].fitted.mean_[2].
	Path string
	// Old and New are the values as JSON text; "" when absent on that side.
	Old, New string
}

// Diff lists what changed from a to b: the model link, the spec, fitted
// parameters, the schema and the training data facts. The digest is not
// compared (it changes whenever anything does). Changes are ordered by
// section, then path.
func Diff(a, b *Artifact) ([]Change, error) {
	fa, sa, err := flatten(a)
	if err != nil {
		return nil, err
	}
	fb, sb, err := flatten(b)
	if err != nil {
		return nil, err
	}
	var out []Change
	for p, va := range fa {
		if vb, ok := fb[p]; !ok || vb != va {
			out = append(out, Change{Section: section(p), Path: p, Old: va, New: fb[p]})
		}
	}
	for p, vb := range fb {
		if _, ok := fa[p]; !ok {
			out = append(out, Change{Section: section(p), Path: p, New: vb})
		}
	}
	// Lists of names (categories, columns) compare as sets, so that one
	// inserted category shows as one change, not a shifted list.
	for p, la := range sa {
		lb := sb[p]
		for _, x := range setMinus(la, lb) {
			out = append(out, Change{Section: section(p), Path: p, Old: x})
		}
		for _, x := range setMinus(lb, la) {
			out = append(out, Change{Section: section(p), Path: p, New: x})
		}
		if len(setMinus(la, lb)) == 0 && len(setMinus(lb, la)) == 0 && strings.Join(la, ",") != strings.Join(lb, ",") {
			out = append(out, Change{Section: section(p), Path: p + " (order)", Old: strings.Join(la, ","), New: strings.Join(lb, ",")})
		}
	}
	for p, lb := range sb {
		if _, ok := sa[p]; !ok {
			for _, x := range lb {
				out = append(out, Change{Section: section(p), Path: p, New: x})
			}
		}
	}
	out = append(out, schemaChanges(a, b)...)
	order := map[string]int{"model": 0, "spec": 1, "parameters": 2, "schema": 3, "data": 4}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Section != out[j].Section {
			return order[out[i].Section] < order[out[j].Section]
		}
		return pathLess(out[i].Path, out[j].Path)
	})
	return out, nil
}

// schemaChanges compares the output and input columns by name: added,
// removed, retyped and reordered columns.
func schemaChanges(a, b *Artifact) []Change {
	var out []Change
	for _, part := range []struct {
		path   string
		fa, fb []Field
	}{{"outputs", a.Outputs, b.Outputs}, {"inputs", a.Inputs, b.Inputs}} {
		before := len(out)
		ta, tb := map[string]string{}, map[string]string{}
		var na, nb []string
		for _, f := range part.fa {
			ta[f.Name] = f.Type
			na = append(na, f.Name)
		}
		for _, f := range part.fb {
			tb[f.Name] = f.Type
			nb = append(nb, f.Name)
		}
		for _, f := range part.fa {
			if t, ok := tb[f.Name]; !ok {
				out = append(out, Change{Section: "schema", Path: part.path, Old: quote(f.Name)})
			} else if t != f.Type {
				out = append(out, Change{Section: "schema", Path: part.path + "." + f.Name + ".type", Old: quote(f.Type), New: quote(t)})
			}
		}
		for _, f := range part.fb {
			if _, ok := ta[f.Name]; !ok {
				out = append(out, Change{Section: "schema", Path: part.path, New: quote(f.Name)})
			}
		}
		if len(out) == before && strings.Join(na, "\x00") != strings.Join(nb, "\x00") {
			out = append(out, Change{Section: "schema", Path: part.path + " (order)", Old: strings.Join(na, ","), New: strings.Join(nb, ",")})
		}
	}
	return out
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// setMinus returns the elements of a not in b, in a's order.
func setMinus(a, b []string) []string {
	in := make(map[string]bool, len(b))
	for _, x := range b {
		in[x] = true
	}
	var out []string
	for _, x := range a {
		if !in[x] {
			out = append(out, x)
		}
	}
	return out
}

func section(path string) string {
	switch {
	case strings.HasPrefix(path, "model"):
		return "model"
	case strings.HasPrefix(path, "spec"):
		return "spec"
	case strings.HasPrefix(path, "groups"):
		if strings.Contains(path, ".fitted.") || strings.HasSuffix(path, ".fitted") {
			return "parameters"
		}
		return "spec"
	case strings.HasPrefix(path, "training"):
		return "data"
	default:
		return "schema"
	}
}

// flatten maps every leaf of the artifact's JSON (but the digest, the
// format fields and the input/output schema, compared by schemaChanges) to
// its JSON text, and every array of strings to its elements (as JSON
// text), compared as a set.
func flatten(a *Artifact) (map[string]string, map[string][]string, error) {
	c := *a
	c.Digest = ""
	b, err := json.Marshal(&c)
	if err != nil {
		return nil, nil, err
	}
	var v any
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return nil, nil, err
	}
	out := map[string]string{}
	sets := map[string][]string{}
	var walk func(p string, v any)
	walk = func(p string, v any) {
		switch t := v.(type) {
		case map[string]any:
			for k, x := range t {
				if p == "" && (k == "digest" || k == "format" || k == "format_version" || k == "outputs" || k == "inputs") {
					continue
				}
				q := k
				if p != "" {
					q = p + "." + k
				}
				walk(q, x)
			}
		case []any:
			if len(t) == 0 {
				out[p] = "[]"
				return
			}
			if strs, ok := allStrings(t); ok {
				sets[p] = strs
				return
			}
			for i, x := range t {
				walk(fmt.Sprintf("%s[%d]", p, i), x)
			}
		default:
			s, _ := json.Marshal(t)
			out[p] = string(s)
		}
	}
	walk("", v)
	return out, sets, nil
}

// allStrings returns the JSON texts of xs when every element is a string.
func allStrings(xs []any) ([]string, bool) {
	out := make([]string, len(xs))
	for i, x := range xs {
		s, ok := x.(string)
		if !ok {
			return nil, false
		}
		out[i] = quote(s)
	}
	return out, true
}

// pathLess orders paths with numeric indexes compared as numbers.
func pathLess(a, b string) bool {
	for a != "" && b != "" {
		ia, ib := strings.IndexByte(a, '['), strings.IndexByte(b, '[')
		if ia < 0 || ib < 0 || a[:ia] != b[:ib] {
			return a < b
		}
		ja, jb := strings.IndexByte(a, ']'), strings.IndexByte(b, ']')
		na, ea := strconv.Atoi(a[ia+1 : ja])
		nb, eb := strconv.Atoi(b[ib+1 : jb])
		if ea != nil || eb != nil {
			return a < b
		}
		if na != nb {
			return na < nb
		}
		a, b = a[ja+1:], b[jb+1:]
	}
	return a < b
}
