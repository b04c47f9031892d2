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
	fa, err := flatten(a)
	if err != nil {
		return nil, err
	}
	fb, err := flatten(b)
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
	order := map[string]int{"model": 0, "spec": 1, "parameters": 2, "schema": 3, "data": 4}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Section != out[j].Section {
			return order[out[i].Section] < order[out[j].Section]
		}
		return pathLess(out[i].Path, out[j].Path)
	})
	return out, nil
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

// flatten maps every leaf of the artifact's JSON (but the digest and the
// format fields) to its JSON text.
func flatten(a *Artifact) (map[string]string, error) {
	c := *a
	c.Digest = ""
	b, err := json.Marshal(&c)
	if err != nil {
		return nil, err
	}
	var v any
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	out := map[string]string{}
	var walk func(p string, v any)
	walk = func(p string, v any) {
		switch t := v.(type) {
		case map[string]any:
			for k, x := range t {
				if p == "" && (k == "digest" || k == "format" || k == "format_version") {
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
	return out, nil
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
