package artifact_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sort"
	"strconv"
	"testing"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/step"
)

// TestVerifyAgreesWithDecode holds Verify, the streamed check uploads go
// through, to Decode's verdicts: on every fitted parity case and on
// mutants of them — edits of the decoded structure re-encoded with a
// valid digest (lengths, values, NaN, order, removed and null fields, as
// an attacker who re-digests would), and edits of the bytes (flipped,
// cut, removed, repeated and swapped lines) — both accept or both refuse,
// with the same message. It runs with Verify's whole-decoding fallback
// for small files off, so that the streamed reading words every verdict
// itself, except for bytes it cannot follow (not JSON, a wrong type, keys
// out of order), where only the refusal must agree; and with the fallback
// on, where every message must agree.
func TestVerifyAgreesWithDecode(t *testing.T) {
	const treeMutants, byteMutants = 24, 8
	cases := fittedCases(t)
	names := make([]string, 0, len(cases))
	for n := range cases {
		names = append(names, n)
	}
	sort.Strings(names)
	var accepted, refused, meaning, structural int
	for ci, name := range names {
		base, err := artifact.Encode(cases[name])
		if err != nil {
			t.Fatal(err)
		}
		var tree any
		dec := json.NewDecoder(bytes.NewReader(base))
		dec.UseNumber()
		if err := dec.Decode(&tree); err != nil {
			t.Fatal(err)
		}
		r := rand.New(rand.NewPCG(uint64(ci), 12))
		mutants := [][]byte{base}
		what := []string{"unchanged"}
		for k := 0; k < treeMutants; k++ {
			m := copyTree(tree)
			desc := mutateTree(r, m)
			if data, ok := reencodeTree(m); ok {
				mutants = append(mutants, data)
				what = append(what, desc)
			}
		}
		for k := 0; k < byteMutants; k++ {
			data, desc := mutateBytes(r, base)
			mutants = append(mutants, data)
			what = append(what, desc)
		}
		for i, data := range mutants {
			label := fmt.Sprintf("%s mutant %d (%s)", name, i, what[i])
			want, wantErr := artifact.Decode(data, "m.json")
			restore := artifact.SetDecodeFallbackSizeForTest(0)
			got, gotErr := artifact.Verify(bytes.NewReader(data), int64(len(data)), "m.json")
			restore()
			switch {
			case wantErr == nil && gotErr == nil:
				accepted++
				if got.Digest != want.Digest {
					t.Errorf("%s: Verify's digest %s, Decode's %s", label, got.Digest, want.Digest)
				}
				if (got.Model == nil) != (want.Model == nil) || (got.Model != nil && *got.Model != *want.Model) {
					t.Errorf("%s: Verify's model %+v, Decode's %+v", label, got.Model, want.Model)
				}
				continue
			case wantErr == nil:
				t.Errorf("%s: Decode accepts, Verify refuses: %v", label, gotErr)
				continue
			case gotErr == nil:
				t.Errorf("%s: Decode refuses (%v), Verify accepts", label, wantErr)
				continue
			}
			refused++
			if gotErr.Error() == wantErr.Error() {
				meaning++
			} else if i <= treeMutants && i < len(mutants)-byteMutants {
				// A re-digested structure is JSON in the artifact's
				// layout: the streamed reading words every refusal.
				t.Errorf("%s:\n Decode: %v\n Verify: %v", label, wantErr, gotErr)
			} else {
				structural++
			}
			_, fbErr := artifact.Verify(bytes.NewReader(data), int64(len(data)), "m.json")
			if fbErr == nil || fbErr.Error() != wantErr.Error() {
				t.Errorf("%s, with the fallback:\n Decode: %v\n Verify: %v", label, wantErr, fbErr)
			}
		}
	}
	t.Logf("%d accepted, %d refused (%d with Decode's message from the streamed reading, %d byte edits it could not follow)", accepted, refused, meaning, structural)
	if accepted < len(names) || refused < treeMutants*len(names)/2 {
		t.Fatalf("the corpus is too small: %d accepted, %d refused", accepted, refused)
	}
}

// copyTree copies a JSON tree decoded with UseNumber.
func copyTree(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = copyTree(e)
		}
		return m
	case []any:
		s := make([]any, len(x))
		for i, e := range x {
			s[i] = copyTree(e)
		}
		return s
	}
	return v
}

// treeSlot is a place in a JSON tree that can be replaced.
type treeSlot struct {
	path string
	get  func() any
	set  func(any)
	del  func() // nil for array elements
}

// slots lists every place in v, in a fixed order.
func slots(v any, path string, out *[]treeSlot) {
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			*out = append(*out, treeSlot{path: path + "." + k,
				get: func() any { return x[k] }, set: func(v any) { x[k] = v }, del: func() { delete(x, k) }})
			slots(x[k], path+"."+k, out)
		}
	case []any:
		for i := range x {
			p := fmt.Sprintf("%s[%d]", path, i)
			*out = append(*out, treeSlot{path: p, get: func() any { return x[i] }, set: func(v any) { x[i] = v }})
			slots(x[i], p, out)
		}
	}
}

// mutateTree makes one change to the tree, mostly in the profile and the
// steps, and describes it.
func mutateTree(r *rand.Rand, tree any) string {
	root := tree.(map[string]any)
	areas := []string{"profile", "profile", "profile", "groups", "groups", "groups", "outputs", "inputs", "passthrough", "spec", "embeddings", "training"}
	var all []treeSlot
	slots(root[areas[r.IntN(len(areas))]], "", &all)
	if len(all) == 0 {
		slots(root, "", &all)
	}
	s := all[r.IntN(len(all))]
	switch x := s.get().(type) {
	case []any:
		switch r.IntN(6) {
		case 0:
			if len(x) > 0 {
				s.set(x[:len(x)-1])
				return s.path + ": drop the last entry"
			}
		case 1:
			if len(x) > 0 {
				s.set(append(x, copyTree(x[len(x)-1])))
				return s.path + ": repeat the last entry"
			}
		case 2:
			if len(x) > 1 {
				i, j := r.IntN(len(x)), r.IntN(len(x))
				x[i], x[j] = x[j], x[i]
				return fmt.Sprintf("%s: swap %d and %d", s.path, i, j)
			}
		case 3:
			s.set([]any{})
			return s.path + ": empty"
		case 4:
			if len(x) > 1 {
				x[1] = copyTree(x[0])
				return s.path + ": duplicate entry 0"
			}
		}
		s.set(nil)
		return s.path + ": null"
	case json.Number:
		f, _ := x.Float64()
		vals := []any{json.Number("0"), json.Number("-1"), "NaN", "Infinity", json.Number("1e308"),
			json.Number(strconv.FormatFloat(-f, 'g', -1, 64)), json.Number(strconv.FormatFloat(f+1, 'g', -1, 64))}
		nv := vals[r.IntN(len(vals))]
		s.set(nv)
		return fmt.Sprintf("%s: %v -> %v", s.path, x, nv)
	case string:
		nv := []string{"", "NaN", x + "x", "numeric", "categorical", "time"}[r.IntN(6)]
		s.set(nv)
		return fmt.Sprintf("%s: %q -> %q", s.path, x, nv)
	case bool:
		s.set(!x)
		return s.path + ": negated"
	case map[string]any:
		if s.del != nil && r.IntN(2) == 0 {
			s.del()
			return s.path + ": removed"
		}
		s.set(nil)
		return s.path + ": null"
	}
	s.set(json.Number("0"))
	return s.path + ": null -> 0"
}

// reencodeTree encodes a mutated tree as an artifact with a valid digest.
// The steps are decoded into their fitted types directly, past the step
// decoder's checks, so that the loader has to refuse them itself. ok is
// false when the tree does not fit the artifact's Go types at all.
func reencodeTree(tree any) ([]byte, bool) {
	root := tree.(map[string]any)
	rest := map[string]any{}
	for k, v := range root {
		if k != "groups" {
			rest[k] = v
		}
	}
	var a artifact.Artifact
	if !remarshal(rest, &a) {
		return nil, false
	}
	if root["groups"] != nil {
		a.Groups = []artifact.Group{}
	}
	groups, _ := root["groups"].([]any)
	for _, g := range groups {
		gm, ok := g.(map[string]any)
		if !ok {
			return nil, false
		}
		var ag artifact.Group
		if !remarshal(gm["columns"], &ag.Columns) {
			return nil, false
		}
		ag.Type, _ = gm["type"].(string)
		if gm["steps"] != nil {
			ag.Steps = []step.FittedStep{}
		}
		steps, _ := gm["steps"].([]any)
		for _, st := range steps {
			sm, ok := st.(map[string]any)
			if !ok {
				return nil, false
			}
			name, _ := sm["step"].(string)
			def, ok := step.Lookup(name)
			if !ok {
				return nil, false
			}
			fs := step.FittedStep{Name: name, Params: def.NewParams(), Fitted: def.NewFitted()}
			if !remarshal(sm["params"], fs.Params) || !remarshal(sm["inputs"], &fs.Inputs) || !remarshal(sm["fitted"], fs.Fitted) {
				return nil, false
			}
			ag.Steps = append(ag.Steps, fs)
		}
		a.Groups = append(a.Groups, ag)
	}
	data, err := artifact.Encode(&a)
	return data, err == nil
}

// remarshal decodes the JSON of v into dst.
func remarshal(v, dst any) bool {
	b, err := json.Marshal(v)
	return err == nil && json.Unmarshal(b, dst) == nil
}

// mutateBytes edits the file's bytes and describes the edit.
func mutateBytes(r *rand.Rand, data []byte) ([]byte, string) {
	lines := bytes.SplitAfter(data, []byte("\n"))
	out := append([]byte(nil), data...)
	switch r.IntN(6) {
	case 0:
		i := r.IntN(len(out))
		out[i] ^= 1 << r.IntN(8)
		return out, fmt.Sprintf("flip a bit of byte %d", i)
	case 1:
		n := r.IntN(len(out))
		return out[:n], fmt.Sprintf("cut at %d", n)
	case 2:
		i := r.IntN(len(lines))
		return bytes.Join(append(lines[:i:i], lines[i+1:]...), nil), fmt.Sprintf("remove line %d", i+1)
	case 3:
		i := r.IntN(len(lines))
		dup := append(append(lines[:i+1:i+1], lines[i]), lines[i+1:]...)
		return bytes.Join(dup, nil), fmt.Sprintf("repeat line %d", i+1)
	case 4:
		i, j := r.IntN(len(lines)), r.IntN(len(lines))
		sw := append([][]byte(nil), lines...)
		sw[i], sw[j] = sw[j], sw[i]
		return bytes.Join(sw, nil), fmt.Sprintf("swap lines %d and %d", i+1, j+1)
	}
	i := r.IntN(len(out))
	return append(append(out[:i:i], ' '), out[i:]...), fmt.Sprintf("insert a space at %d", i)
}
