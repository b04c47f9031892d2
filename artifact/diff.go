package artifact

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Sections of a Change, in the order a reviewer reads them: what the
// artifact is for, what was asked, what was fitted, what comes out, what
// it was fitted on, and the statistics of that data.
const (
	SectionModel      = "model"
	SectionSpec       = "spec"
	SectionParameters = "parameters"
	SectionSchema     = "schema"
	SectionTraining   = "training"
	SectionProfile    = "profile"
)

var sectionOrder = map[string]int{
	SectionModel: 0, SectionSpec: 1, SectionParameters: 2, SectionSchema: 3, SectionTraining: 4, SectionProfile: 5,
}

// Change is one difference between two artifacts.
type Change struct {
	// Section is one of the Section constants.
	Section string
	// Path locates the value by name, not by position:
	//
	//	spec.remainder
	//	spec.columns[delay].steps                      the step names, in order
	//	spec.columns[delay].robust_scaler.quantile_range[0]
	//	delay.robust_scaler.center_                    a fitted parameter of a one-column group
	//	origin,destination.one_hot_encoder.categories_[origin]
	//	outputs, inputs, outputs (order)               the schema, by column name
	//	training.rows, training.fingerprint
	//	profile.inputs[delay].mean, profile.outputs[origin_ATL].values[1]
	//
	// Per-column arrays of a fitted step are indexed by column name; lists of
	// names (categories, feature names) compare as sets, one Change per
	// element added (Old "") or removed (New "").
	Path string
	// Old and New are the values as JSON text; "" when absent on that side.
	Old, New string
}

// Diff lists what changed from a to b: the model link, the spec, fitted
// parameters, the input and output schema, the training data facts and
// the training profile. The digest is not compared (it changes whenever
// anything does). Groups, steps, columns and profiled features are matched
// by name, so a category or column added or removed is one change, not a
// shift of every later position. A group or step present on one side only
// shows as a spec change (its parameters are not listed one by one).
// Changes are ordered by section, then path.
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
	// reported says whether a one-sided value is worth a line: not when the
	// group or step holding it is missing on the other side.
	reported := func(p string, other *flat) bool {
		e := entityOf(p, fa, fb)
		return e == "" || other.entities[e]
	}
	for p, va := range fa.leaves {
		vb, ok := fb.leaves[p]
		switch {
		case ok && vb.text != va.text:
			out = append(out, Change{Section: va.section, Path: p, Old: va.text, New: vb.text})
		case !ok && reported(p, fb):
			out = append(out, Change{Section: va.section, Path: p, Old: va.text})
		}
	}
	for p, vb := range fb.leaves {
		if _, ok := fa.leaves[p]; !ok && reported(p, fa) {
			out = append(out, Change{Section: vb.section, Path: p, New: vb.text})
		}
	}
	for p, la := range fa.sets {
		lb, ok := fb.sets[p]
		if !ok && !reported(p, fb) {
			continue
		}
		out = append(out, setChanges(la.section, p, la.elems, lb.elems)...)
	}
	for p, lb := range fb.sets {
		if _, ok := fa.sets[p]; !ok && reported(p, fa) {
			out = append(out, setChanges(lb.section, p, nil, lb.elems)...)
		}
	}
	out = append(out, schemaChanges(a, b)...)
	// A total order (changes equal in every field are alike), so an
	// unstable sort gives the one order.
	sort.Slice(out, func(i, j int) bool {
		if out[i].Section != out[j].Section {
			return sectionOrder[out[i].Section] < sectionOrder[out[j].Section]
		}
		if out[i].Path != out[j].Path {
			return pathLess(out[i].Path, out[j].Path)
		}
		// Removed before added, each in name order.
		if (out[i].New == "") != (out[j].New == "") {
			return out[i].New == ""
		}
		if a, b := out[i].Old+out[i].New, out[j].Old+out[j].New; a != b {
			return a < b
		}
		if out[i].Old != out[j].Old {
			return out[i].Old < out[j].Old
		}
		return out[i].Path < out[j].Path // paths pathLess holds alike
	})
	return out, nil
}

// setChanges compares two lists of names as sets: one Change per element
// removed or added, or one "(order)" Change when only the order differs.
func setChanges(section, path string, la, lb []string) []Change {
	var out []Change
	gone, added := setMinus(la, lb), setMinus(lb, la)
	for _, x := range gone {
		out = append(out, Change{Section: section, Path: path, Old: x})
	}
	for _, x := range added {
		out = append(out, Change{Section: section, Path: path, New: x})
	}
	if len(gone) == 0 && len(added) == 0 && strings.Join(la, ",") != strings.Join(lb, ",") {
		out = append(out, Change{Section: section, Path: path + " (order)", Old: strings.Join(la, ","), New: strings.Join(lb, ",")})
	}
	return out
}

// schemaChanges compares the output and input columns by name: added,
// removed and retyped columns, and columns present on both sides whose
// relative order changed.
func schemaChanges(a, b *Artifact) []Change {
	var out []Change
	for _, part := range []struct {
		path   string
		fa, fb []Field
	}{{"outputs", a.Outputs, b.Outputs}, {"inputs", a.Inputs, b.Inputs}} {
		ta, tb := map[string]string{}, map[string]string{}
		for _, f := range part.fa {
			ta[f.Name] = f.Type
		}
		for _, f := range part.fb {
			tb[f.Name] = f.Type
		}
		var commonA, commonB []string
		for _, f := range part.fa {
			if t, ok := tb[f.Name]; !ok {
				out = append(out, Change{Section: SectionSchema, Path: part.path, Old: quote(f.Name)})
			} else {
				commonA = append(commonA, f.Name)
				if t != f.Type {
					out = append(out, Change{Section: SectionSchema, Path: part.path + "[" + f.Name + "].type", Old: quote(f.Type), New: quote(t)})
				}
			}
		}
		for _, f := range part.fb {
			if _, ok := ta[f.Name]; !ok {
				out = append(out, Change{Section: SectionSchema, Path: part.path, New: quote(f.Name)})
			} else {
				commonB = append(commonB, f.Name)
			}
		}
		if strings.Join(commonA, "\x00") != strings.Join(commonB, "\x00") {
			out = append(out, Change{Section: SectionSchema, Path: part.path + " (order)", Old: strings.Join(commonA, ","), New: strings.Join(commonB, ",")})
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

// flat is an artifact's content as comparable leaves.
type flat struct {
	leaves map[string]leaf
	sets   map[string]set
	// entities are the paths of named things (spec column groups, steps,
	// fitted groups, profiled features) whose values are reported one by
	// one only when both sides have them.
	entities map[string]bool
}

type leaf struct{ section, text string }

type set struct {
	section string
	elems   []string // JSON texts
}

// entityOf returns the longest entity path that is a proper prefix of p
// on either side, or "".
func entityOf(p string, sides ...*flat) string {
	// The prefixes of p that end before a '.' or '[', longest first: a
	// lookup each, where a walk of every entity for every changed path
	// made a diff of a 1,000-column group take 40 s.
	for i := len(p) - 1; i > 0; i-- {
		if p[i] != '.' && p[i] != '[' {
			continue
		}
		for _, s := range sides {
			if s.entities[p[:i]] {
				return p[:i]
			}
		}
	}
	return ""
}

// flatten maps every leaf of the artifact's JSON but the digest, the
// format fields and the input/output schema (compared by schemaChanges)
// to its JSON text, keyed by a path of names (see Change.Path).
func flatten(a *Artifact) (*flat, error) {
	c := *a
	c.Digest = ""
	b, err := json.Marshal(&c)
	if err != nil {
		return nil, err
	}
	var root map[string]any
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber()
	if err := dec.Decode(&root); err != nil {
		return nil, err
	}
	f := &flat{leaves: map[string]leaf{}, sets: map[string]set{}, entities: map[string]bool{}}
	for k, v := range root {
		switch k {
		case "digest", "format", "format_version", "outputs", "inputs":
		case "model":
			f.walk(SectionModel, "model", v)
		case "spec":
			f.spec(v)
		case "groups":
			f.groups(v)
		case "passthrough":
			f.walk(SectionSchema, "passthrough", v)
		case "training":
			f.walk(SectionTraining, "training", v)
		case "profile":
			f.profile(v)
		default: // fields added by later format versions
			f.walk(SectionSpec, k, v)
		}
	}
	return f, nil
}

// walk adds v's leaves under path p.
func (f *flat) walk(section, p string, v any) {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			f.walk(section, join(p, k), x)
		}
	case []any:
		if len(t) == 0 {
			f.leaves[p] = leaf{section, "[]"}
			return
		}
		if strs, ok := allStrings(t); ok {
			f.sets[p] = set{section, strs}
			return
		}
		for i, x := range t {
			f.walk(section, fmt.Sprintf("%s[%d]", p, i), x)
		}
	default:
		s, _ := json.Marshal(t)
		f.leaves[p] = leaf{section, string(s)}
	}
}

func join(p, k string) string {
	if p == "" {
		return k
	}
	return p + "." + k
}

// StepKeys names the steps of a chain (as Diff keys them in paths): the step name, with "#2", "#3"
// for a name's later occurrences.
func StepKeys(names []string) []string {
	seen := map[string]int{}
	out := make([]string, len(names))
	for i, n := range names {
		seen[n]++
		out[i] = n
		if seen[n] > 1 {
			out[i] = fmt.Sprintf("%s#%d", n, seen[n])
		}
	}
	return out
}

// spec adds the spec: top-level fields as they are, column groups keyed
// by their column names, each with its step names in order as one value
// and each step's parameters keyed by step name.
func (f *flat) spec(v any) {
	m, ok := v.(map[string]any)
	if !ok {
		f.walk(SectionSpec, "spec", v)
		return
	}
	for k, x := range m {
		cols, ok := x.([]any)
		if k != "columns" || !ok {
			f.walk(SectionSpec, "spec."+k, x)
			continue
		}
		var groups []string
		for _, g := range cols {
			gm, ok := g.(map[string]any)
			if !ok {
				continue
			}
			key := specGroupKey(gm)
			groups = append(groups, quote(key))
			gp := "spec.columns[" + key + "]"
			f.entities[gp] = true
			for gk, gv := range gm {
				if gk == "steps" {
					f.specSteps(gp, gv)
				} else if gk != "name" && gk != "names" {
					f.walk(SectionSpec, gp+"."+gk, gv)
				}
			}
		}
		f.sets["spec.columns"] = set{SectionSpec, groups}
	}
}

// specGroupKey is a spec column group's name: its columns joined by ",".
func specGroupKey(g map[string]any) string {
	if n, ok := g["name"].(string); ok && n != "" {
		return n
	}
	var names []string
	if ns, ok := g["names"].([]any); ok {
		for _, n := range ns {
			if s, ok := n.(string); ok {
				names = append(names, s)
			}
		}
	}
	return GroupKey(names)
}

// GroupKey names a group of columns in diff paths: its columns joined by
// commas, or past groupKeyNames of them the first two, the last, their
// count and a hash of the whole list (one group of 1,000 columns made
// every line carry all 1,000 names: 14 MB of output, 33 s). Equal lists
// give equal keys.
func GroupKey(cols []string) string {
	if len(cols) <= groupKeyNames {
		return strings.Join(cols, ",")
	}
	h := sha256.Sum256([]byte(strings.Join(cols, "\x00")))
	return fmt.Sprintf("%s,%s,...,%s (%d columns, %x)", cols[0], cols[1], cols[len(cols)-1], len(cols), h[:4])
}

// groupKeyNames is the most columns GroupKey names all of.
const groupKeyNames = 8

func (f *flat) specSteps(gp string, v any) {
	steps, ok := v.([]any)
	if !ok {
		f.walk(SectionSpec, gp+".steps", v)
		return
	}
	var names []string
	var params []any
	for _, s := range steps {
		sm, ok := s.(map[string]any)
		if !ok || len(sm) != 1 {
			names = append(names, "?")
			params = append(params, s)
			continue
		}
		for n, p := range sm {
			names = append(names, n)
			params = append(params, p)
		}
	}
	f.leaves[gp+".steps"] = leaf{SectionSpec, quote(strings.Join(names, ", "))}
	for i, k := range StepKeys(names) {
		sp := gp + "." + k
		f.entities[sp] = true
		f.walk(SectionSpec, sp, params[i])
	}
}

// groups adds the fitted parameters of every group, keyed by the group's
// columns and the step's name; arrays with one entry per column of the
// group (but feature_names_in_) are indexed by column name (no index for
// a one-column group).
// The steps' params and inputs repeat the spec and are left out.
func (f *flat) groups(v any) {
	gs, _ := v.([]any)
	for _, g := range gs {
		gm, ok := g.(map[string]any)
		if !ok {
			continue
		}
		var cols []string
		if cs, ok := gm["columns"].([]any); ok {
			for _, c := range cs {
				if s, ok := c.(string); ok {
					cols = append(cols, s)
				}
			}
		}
		gp := GroupKey(cols)
		f.entities[gp] = true
		steps, _ := gm["steps"].([]any)
		var names []string
		var fitted []any
		for _, s := range steps {
			sm, _ := s.(map[string]any)
			n, _ := sm["step"].(string)
			names = append(names, n)
			fitted = append(fitted, sm["fitted"])
		}
		for i, k := range StepKeys(names) {
			sp := gp + "." + k
			f.entities[sp] = true
			fm, ok := fitted[i].(map[string]any)
			if !ok {
				f.walk(SectionParameters, sp, fitted[i])
				continue
			}
			for attr, x := range fm {
				ap := sp + "." + attr
				arr, ok := x.([]any)
				if !ok || len(arr) != len(cols) || attr == "feature_names_in_" {
					f.walk(SectionParameters, ap, x)
					continue
				}
				for j, el := range arr {
					if len(cols) == 1 {
						f.walk(SectionParameters, ap, el)
					} else {
						f.walk(SectionParameters, ap+"["+cols[j]+"]", el)
					}
				}
			}
		}
	}
}

// profile adds the training profile, features keyed by name and the
// category (or value) counts keyed by category.
func (f *flat) profile(v any) {
	m, ok := v.(map[string]any)
	if !ok {
		f.walk(SectionProfile, "profile", v)
		return
	}
	for stage, x := range m {
		feats, ok := x.([]any)
		if !ok {
			f.walk(SectionProfile, "profile."+stage, x)
			continue
		}
		for _, ft := range feats {
			fm, ok := ft.(map[string]any)
			if !ok {
				continue
			}
			name, _ := fm["name"].(string)
			fp := "profile." + stage + "[" + name + "]"
			f.entities[fp] = true
			for k, y := range fm {
				switch k {
				case "name":
				case "categories", "values":
					f.counts(fp+"."+k, y)
				default:
					f.walk(SectionProfile, fp+"."+k, y)
				}
			}
		}
	}
}

// counts adds a profile.Counts with each count keyed by its value.
func (f *flat) counts(p string, v any) {
	m, ok := v.(map[string]any)
	if !ok {
		f.walk(SectionProfile, p, v)
		return
	}
	keys, _ := m["values"].([]any)
	if keys == nil {
		keys, _ = m["numbers"].([]any)
	}
	counts, _ := m["counts"].([]any)
	if len(keys) != len(counts) {
		f.walk(SectionProfile, p, v)
		return
	}
	for i, k := range keys {
		s, ok := k.(string)
		if !ok {
			s = fmt.Sprint(k)
		}
		f.walk(SectionProfile, p+"["+s+"]", counts[i])
	}
	for k, x := range m {
		if k != "values" && k != "numbers" && k != "counts" {
			f.walk(SectionProfile, p+"."+k, x)
		}
	}
}

// allStrings returns the JSON texts of xs when every element is a string.
func allStrings(xs []any) ([]string, bool) {
	if xs == nil {
		return nil, false
	}
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
		if ja < ia || jb < ib {
			return a < b
		}
		na, ea := strconv.Atoi(a[ia+1 : ja])
		nb, eb := strconv.Atoi(b[ib+1 : jb])
		if ea != nil || eb != nil {
			if a[ia:ja] != b[ib:jb] {
				return a[ia:ja] < b[ib:jb]
			}
		} else if na != nb {
			return na < nb
		}
		a, b = a[ja+1:], b[jb+1:]
	}
	return a < b
}
