package artifact_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/normguard/normguard/artifact"
)

// quantileEdit is an edit of a quantile transformer's fitted fields (or
// of training.rows) that a fit never writes. edit changes the tree, whose
// quantile transformer is groups[gi].steps[si], and returns what the
// refusal must start with after "corrupt artifact: " ("" when the edit
// does not apply).
type quantileEdit struct {
	what string
	edit func(root map[string]any, gi, si int) string
}

// linspace is numpy.linspace(0, 1, n) as numpy 1.24 computes it: i * step
// with step = 1/(n-1), the last entry 1, [0] for n = 1.
func linspace(n int) []float64 {
	out := make([]float64, n)
	if n == 1 {
		return out
	}
	step := 1 / float64(n-1)
	for i := range out {
		out[i] = float64(i) * step
	}
	out[n-1] = 1
	return out
}

func numbers(xs []float64) []any {
	out := make([]any, len(xs))
	for i, x := range xs {
		out[i] = json.Number(strconv.FormatFloat(x, 'g', -1, 64))
	}
	return out
}

func treeInt(v any) int {
	n, _ := v.(json.Number).Int64()
	return int(n)
}

func quantileFitted(root map[string]any, gi, si int) (fitted, params map[string]any) {
	st := root["groups"].([]any)[gi].(map[string]any)["steps"].([]any)[si].(map[string]any)
	return st["fitted"].(map[string]any), st["params"].(map[string]any)
}

var quantileEdits = []quantileEdit{
	{"references_ squashed to 0 but the last (attack run 30 F1)", func(root map[string]any, gi, si int) string {
		f, _ := quantileFitted(root, gi, si)
		refs := f["references_"].([]any)
		if len(refs) < 3 {
			return ""
		}
		for i := range refs[:len(refs)-1] {
			refs[i] = json.Number("0")
		}
		return fmt.Sprintf("groups[%d].steps[%d].fitted.references_[1]: is 0; a fit writes numpy.linspace(0, 1, %d)", gi, si, len(refs))
	}},
	{"one reference an ulp up, still sorted", func(root map[string]any, gi, si int) string {
		f, _ := quantileFitted(root, gi, si)
		refs := f["references_"].([]any)
		if len(refs) < 4 {
			return ""
		}
		k := len(refs) / 2
		x, _ := refs[k].(json.Number).Float64()
		refs[k] = json.Number(strconv.FormatFloat(math.Nextafter(x, 2), 'g', -1, 64))
		return fmt.Sprintf("groups[%d].steps[%d].fitted.references_[%d]: ", gi, si, k)
	}},
	{"n_quantiles_ one fewer, with its own grid (attack run 30 F1)", func(root map[string]any, gi, si int) string {
		f, _ := quantileFitted(root, gi, si)
		n := treeInt(f["n_quantiles_"])
		if n < 2 {
			return ""
		}
		f["n_quantiles_"] = json.Number(strconv.Itoa(n - 1))
		f["references_"] = numbers(linspace(n - 1))
		qs := f["quantiles_"].([]any)
		for j, row := range qs {
			r := row.([]any)
			r[len(r)-2] = r[len(r)-1] // keep the column's maximum
			qs[j] = r[:len(r)-1]
		}
		return fmt.Sprintf("groups[%d].steps[%d].fitted.n_quantiles_: is %d; a fit on training.rows", gi, si, n-1)
	}},
	{"training.rows below n_quantiles_ (no profile)", func(root map[string]any, gi, si int) string {
		f, _ := quantileFitted(root, gi, si)
		n := treeInt(f["n_quantiles_"])
		if n < 2 {
			return "" // 0 rows give n_quantiles_ 1 too
		}
		root["profile"] = nil
		root["training"].(map[string]any)["rows"] = json.Number(strconv.Itoa(n - 1))
		return fmt.Sprintf("groups[%d].steps[%d].fitted.n_quantiles_: is %d; a fit on training.rows %d rows", gi, si, n, n-1)
	}},
	{"training.rows above n_quantiles_ < params.n_quantiles (no profile)", func(root map[string]any, gi, si int) string {
		f, p := quantileFitted(root, gi, si)
		n, want := treeInt(f["n_quantiles_"]), treeInt(p["n_quantiles"])
		if n >= want {
			return ""
		}
		root["profile"] = nil
		root["training"].(map[string]any)["rows"] = json.Number(strconv.Itoa(want + 5))
		return fmt.Sprintf("groups[%d].steps[%d].fitted.n_quantiles_: is %d; a fit on training.rows %d rows with params.n_quantiles %d writes max(1, min(n_quantiles, rows)) = %d", gi, si, n, want+5, want, want)
	}},
}

// TestQuantileGridRefused: a quantile transformer's references_ and
// n_quantiles_ were only held to being sorted in [0, 1] and to at most
// params.n_quantiles (attack run 30 F1): references_ squashed to zeros, or
// one quantile fewer, was accepted and transform mapped the training rows
// elsewhere, exit 0. Decode and the streamed Verify refuse each edit alike,
// naming the field; every fitted artifact with a quantile transformer
// (the parity cases, one fitted on fewer rows than n_quantiles, one of a
// single row) is accepted, with and without its profile.
func TestQuantileGridRefused(t *testing.T) {
	cases := fittedCases(t)
	var few, one strings.Builder
	few.WriteString("x,y\n")
	for i := range 50 {
		fmt.Fprintf(&few, "%d,%g\n", i*i%17, float64(i)/3)
	}
	cases["50 rows, n_quantiles 1000"] = fitCSV(t, "version: 1\nremainder: drop\ncolumns:\n  - names: [x, y]\n    steps:\n      - quantile_transformer: {n_quantiles: 1000}\n", few.String())
	one.WriteString("x\n4\n")
	cases["1 row"] = fitCSV(t, "version: 1\nremainder: drop\ncolumns:\n  - names: [x]\n    steps:\n      - quantile_transformer: {n_quantiles: 10}\n", one.String())
	names := make([]string, 0, len(cases))
	for n := range cases {
		names = append(names, n)
	}
	sort.Strings(names)
	hits := map[string]int{}
	for _, name := range names {
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
		root := tree.(map[string]any)
		gi, si := -1, -1
		for g, grp := range root["groups"].([]any) {
			for s, st := range grp.(map[string]any)["steps"].([]any) {
				if gi < 0 && st.(map[string]any)["step"] == "quantile_transformer" {
					gi, si = g, s
				}
			}
		}
		if gi < 0 {
			continue
		}
		// The fit itself, and without its profile.
		noProfile := copyTree(root).(map[string]any)
		noProfile["profile"] = nil
		for what, tr := range map[string]map[string]any{"as fitted": root, "without profile": noProfile} {
			data, ok := reencodeTree(tr)
			if !ok {
				t.Fatalf("%s %s: not re-encoded", name, what)
			}
			if decErr, verErr := bothReadings(data); decErr != nil || verErr != nil {
				t.Errorf("%s %s: refused (Decode: %v, Verify: %v)", name, what, decErr, verErr)
			}
		}
		for _, e := range quantileEdits {
			m := copyTree(root).(map[string]any)
			want := e.edit(m, gi, si)
			if want == "" {
				continue
			}
			data, ok := reencodeTree(m)
			if !ok {
				t.Errorf("%s, %s: not re-encoded", name, e.what)
				continue
			}
			hits[e.what]++
			refusedAlike(t, name+", "+e.what, data, want)
		}
	}
	for _, e := range quantileEdits {
		if hits[e.what] == 0 {
			t.Errorf("%s: no artifact to edit", e.what)
		}
	}
	t.Logf("edits: %v", hits)
}
