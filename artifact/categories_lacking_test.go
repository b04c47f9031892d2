package artifact_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/normguard/normguard/artifact"
)

// encoderCases are artifacts with encoders after imputers: an ordinal
// encoder whose imputer maps the placeholder "?" to "zz", one-hot and
// ordinal encoders of several columns, and an ordinal encoder given its
// categories with handle_unknown use_encoded_value, which a fit on data
// outside them accepts.
func encoderCases(t *testing.T) map[string]*artifact.Artifact {
	var b strings.Builder
	b.WriteString("a,b,c,d,e\n")
	for i := range 60 {
		fmt.Fprintf(&b, "%d.5,%s,%s,%s,%s\n", i%3, []string{"p", "q"}[i%2], []string{"x", "y", "?", "w"}[i%4], []string{"u", "v", "z", ""}[i%4], []string{"g", "h", ""}[i%3])
	}
	return map[string]*artifact.Artifact{
		"encoders": fitRun27(t, `version: 1
remainder: drop
columns:
  - names: [a, b]
    type: categorical
    steps:
      - one_hot_encoder: {handle_unknown: ignore}
  - name: c
    type: categorical
    steps:
      - simple_imputer: {strategy: constant, fill_value: zz, missing_values: "?"}
      - ordinal_encoder: {}
  - name: d
    type: categorical
    steps:
      - simple_imputer: {strategy: most_frequent}
      - ordinal_encoder: {handle_unknown: use_encoded_value, unknown_value: -1}
  - name: e
    type: categorical
    steps:
      - simple_imputer: {strategy: constant, fill_value: missing}
      - ordinal_encoder: {handle_unknown: use_encoded_value, unknown_value: -1}
`, b.String()),
		"given lists": fitRun27(t, `version: 1
remainder: drop
columns:
  - name: d
    type: categorical
    steps:
      - ordinal_encoder: {categories: [[u, v]], handle_unknown: use_encoded_value, unknown_value: -1}
`, b.String()),
	}
}

// TestEncoderLackingTrainingCategoryRefused: an encoder whose categories_
// lack a category its column held in fit (the training profile lists it)
// was accepted (attack run 27 F3), and with handle_unknown ignore encoded
// those rows as all zeros. Decode and the streamed Verify refuse it alike,
// naming the list and the category; an imputer's placeholder counts as the
// value it fills in; every fitted artifact, one given lists that the
// training data exceeds included, is accepted.
func TestEncoderLackingTrainingCategoryRefused(t *testing.T) {
	cases := fittedCases(t)
	for n, a := range encoderCases(t) {
		cases[n] = a
	}
	names := make([]string, 0, len(cases))
	for n := range cases {
		names = append(names, n)
	}
	sort.Strings(names)
	edited := 0
	for _, name := range names {
		base, err := artifact.Encode(cases[name])
		if err != nil {
			t.Fatal(err)
		}
		if _, err := artifact.Decode(base, "a.json"); err != nil {
			t.Errorf("%s: the fitted artifact is refused: %v", name, err)
			continue
		}
		if _, err := artifact.Verify(bytes.NewReader(base), int64(len(base)), "a.json"); err != nil {
			t.Errorf("%s: the fitted artifact is refused by Verify: %v", name, err)
			continue
		}
		var tree any
		dec := json.NewDecoder(bytes.NewReader(base))
		dec.UseNumber()
		if err := dec.Decode(&tree); err != nil {
			t.Fatal(err)
		}
		profile := map[string][]any{}
		for _, f := range tree.(map[string]any)["profile"].(map[string]any)["inputs"].([]any) {
			f := f.(map[string]any)
			if c, ok := f["categories"].(map[string]any); ok && f["kind"] == nil {
				if vs, ok := c["values"].([]any); ok {
					profile[f["name"].(string)] = vs
				}
			}
		}
		// Each ordinal encoder with categories "auto": drop from list j
		// the first category the profile lists for its input (one the
		// imputer does not map), or the imputer's fill value "zz".
		for gi, g := range tree.(map[string]any)["groups"].([]any) {
			for si, st := range g.(map[string]any)["steps"].([]any) {
				st := st.(map[string]any)
				if st["step"] != "ordinal_encoder" || st["params"].(map[string]any)["categories"] != "auto" {
					continue
				}
				for j, in := range st["inputs"].([]any) {
					lists := st["fitted"].(map[string]any)["categories_"].([]any)
					list, _ := lists[j].([]any)
					for k, c := range list {
						inProfile := false
						for _, v := range profile[in.(string)] {
							inProfile = inProfile || v == c
						}
						// "zz" fills c's placeholder "?", "missing" e's
						// missing cells (attack run 32 F9).
						if !inProfile && c != "zz" && c != "missing" {
							continue
						}
						m := copyTree(tree).(map[string]any)
						ml := m["groups"].([]any)[gi].(map[string]any)["steps"].([]any)[si].(map[string]any)["fitted"].(map[string]any)["categories_"].([]any)
						ml[j] = append(append([]any{}, list[:k]...), list[k+1:]...)
						data, ok := reencodeTree(m)
						if !ok {
							t.Errorf("%s: groups[%d].steps[%d] without %v: not re-encoded", name, gi, si, c)
							break
						}
						edited++
						want := fmt.Sprintf("corrupt artifact: groups[%d].steps[%d].fitted.categories_[%d]: lacks %q", gi, si, j, c)
						decErr, verErr := bothReadings(data)
						switch {
						case decErr == nil || verErr == nil:
							t.Errorf("%s: categories_[%d] without %v accepted (Decode: %v, Verify: %v)", name, j, c, decErr, verErr)
						case decErr.Error() != verErr.Error():
							t.Errorf("%s:\n Decode: %v\n Verify: %v", name, decErr, verErr)
						case !strings.Contains(decErr.Error(), want):
							t.Errorf("%s: %v\nwant %s", name, decErr, want)
						}
						break
					}
				}
			}
		}
	}
	// A one-hot encoder without "q", its output column and that column's
	// profile: the lists and the outputs agree, the profile does not.
	tree := treeOf(t, cases["encoders"])
	st := tree["groups"].([]any)[0].(map[string]any)["steps"].([]any)[0].(map[string]any)
	lists := st["fitted"].(map[string]any)["categories_"].([]any)
	if fmt.Sprint(lists[1]) != "[p q]" {
		t.Fatalf("one-hot lists %v, want b's [p q] second", lists)
	}
	lists[1] = []any{"p"}
	drop := func(xs []any) []any {
		var out []any
		for _, x := range xs {
			if x.(map[string]any)["name"] != "b_q" {
				out = append(out, x)
			}
		}
		return out
	}
	tree["outputs"] = drop(tree["outputs"].([]any))
	prof := tree["profile"].(map[string]any)
	prof["outputs"] = drop(prof["outputs"].([]any))
	data, ok := reencodeTree(tree)
	if !ok {
		t.Fatal("the one-hot edit is not re-encoded")
	}
	decErr, verErr := bothReadings(data)
	if want := `corrupt artifact: groups[0].steps[0].fitted.categories_[1]: lacks "q", a category of column "b"`; decErr == nil || verErr == nil ||
		decErr.Error() != verErr.Error() || !strings.Contains(decErr.Error(), want) {
		t.Errorf("one-hot without q:\n Decode: %v\n Verify: %v\nwant %s", decErr, verErr, want)
	}
	// e's ordinal encoder without "missing", the value its imputer fills
	// e's missing cells with (attack run 32 F9: encoded them as unknown).
	tree = treeOf(t, cases["encoders"])
	st = tree["groups"].([]any)[3].(map[string]any)["steps"].([]any)[1].(map[string]any)
	lists = st["fitted"].(map[string]any)["categories_"].([]any)
	if fmt.Sprint(lists[0]) != "[g h missing]" {
		t.Fatalf("e's lists %v, want [[g h missing]]", lists)
	}
	lists[0] = []any{"g", "h"}
	if data, ok = reencodeTree(tree); !ok {
		t.Fatal("the fill-value edit is not re-encoded")
	}
	refusedAlike(t, "e without its fill value", data, `groups[3].steps[1].fitted.categories_[0]: lacks "missing", the value the imputer before it fills column "e"'s missing cells with`)
	if edited < 3 {
		t.Errorf("%d encoders edited; want the ordinal encoders of the fitted cases and of encoderCases", edited)
	}
	t.Logf("%d encoders edited", edited)
}

// treeOf encodes a and decodes it into a JSON tree (numbers kept as text).
func treeOf(t *testing.T, a *artifact.Artifact) map[string]any {
	t.Helper()
	b, err := artifact.Encode(a)
	if err != nil {
		t.Fatal(err)
	}
	var tree any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&tree); err != nil {
		t.Fatal(err)
	}
	return tree.(map[string]any)
}
