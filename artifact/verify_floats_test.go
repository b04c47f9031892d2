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

// floatSteps are the steps whose fitted float arrays the mutants edit,
// each fitted alone on three numeric columns.
var floatSteps = []string{
	"standard_scaler: {}",
	"standard_scaler: {with_mean: false}",
	"min_max_scaler: {}",
	"max_abs_scaler: {}",
	"robust_scaler: {}",
	"quantile_transformer: {n_quantiles: 12}",
	"quantile_transformer: {n_quantiles: 12, output_distribution: normal}",
	"power_transformer: {}",
	"power_transformer: {standardize: false}",
	"kbins_discretizer: {n_bins: 4}",
	"kbins_discretizer: {n_bins: 3, encode: ordinal, strategy: uniform}",
}

// floatCases fits each of floatSteps on three numeric columns (one of
// them constant, one with missing values where the step allows them) and
// returns the artifacts by step.
func floatCases(t *testing.T) map[string]*artifact.Artifact {
	t.Helper()
	out := map[string]*artifact.Artifact{}
	for _, st := range floatSteps {
		var csv strings.Builder
		csv.WriteString("x,y,z\n")
		nan := !strings.HasPrefix(st, "kbins")
		for i := range 40 {
			y := fmt.Sprint(float64(i*i%17) - 3.5)
			if nan && i%9 == 4 {
				y = ""
			}
			fmt.Fprintf(&csv, "%d,%s,%g\n", i%7+1, y, 2.5)
		}
		text := fmt.Sprintf("version: 1\ncolumns:\n  - names: [x, y, z]\n    type: numeric\n    steps:\n      - %s\n", st)
		a := fitCSV(t, text, csv.String())
		out[st] = a
	}
	return out
}

// floatMutation edits a float array (a []any of json.Number and "NaN",
// "Infinity", "-Infinity") and says how; it returns nil when it does not
// apply.
type floatMutation struct {
	name string
	edit func(xs []any) any
}

func setAt(k int, x any) func([]any) any {
	return func(xs []any) any {
		i := k
		if i < 0 {
			i += len(xs)
		}
		if i < 0 || i >= len(xs) {
			return nil
		}
		xs[i] = x
		return xs
	}
}

var floatMutations = []floatMutation{
	{"first 0", setAt(0, json.Number("0"))},
	{"last 0", setAt(-1, json.Number("0"))},
	{"second -1", setAt(1, json.Number("-1"))},
	{"last -1", setAt(-1, json.Number("-1"))},
	{"first NaN", setAt(0, "NaN")},
	{"second NaN", setAt(1, "NaN")},
	{"last Infinity", setAt(-1, "Infinity")},
	{"first -Infinity", setAt(0, "-Infinity")},
	{"second huge", setAt(1, json.Number("1e300"))},
	{"first 2", setAt(0, json.Number("2"))},
	{"swap the first two", func(xs []any) any {
		if len(xs) < 2 {
			return nil
		}
		xs[0], xs[1] = xs[1], xs[0]
		return xs
	}},
	{"reverse", func(xs []any) any {
		for i, j := 0, len(xs)-1; i < j; i, j = i+1, j-1 {
			xs[i], xs[j] = xs[j], xs[i]
		}
		return xs
	}},
	{"duplicate the last", func(xs []any) any {
		if len(xs) == 0 {
			return nil
		}
		return append(xs, xs[len(xs)-1])
	}},
	{"drop the first", func(xs []any) any {
		if len(xs) == 0 {
			return nil
		}
		return xs[1:]
	}},
	{"drop the last", func(xs []any) any {
		if len(xs) == 0 {
			return nil
		}
		return xs[:len(xs)-1]
	}},
	{"all NaN", func(xs []any) any {
		for i := range xs {
			xs[i] = "NaN"
		}
		return xs
	}},
	{"empty", func([]any) any { return []any{} }},
	{"null", func([]any) any { return nil }},
}

// floatArrays returns the paths (field, or field and row) of the float
// arrays of a fitted step's JSON object, sorted.
func floatArrays(fitted map[string]any) [][2]any {
	var out [][2]any
	isFloat := func(x any) bool {
		switch x := x.(type) {
		case json.Number:
			return true
		case string:
			return x == "NaN" || x == "Infinity" || x == "-Infinity"
		}
		return false
	}
	keys := make([]string, 0, len(fitted))
	for k := range fitted {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		xs, ok := fitted[k].([]any)
		if !ok || len(xs) == 0 {
			continue
		}
		if isFloat(xs[0]) {
			out = append(out, [2]any{k, -1})
			continue
		}
		for j, row := range xs {
			if r, ok := row.([]any); ok && len(r) > 0 && isFloat(r[0]) {
				out = append(out, [2]any{k, j})
			}
		}
	}
	return out
}

// TestVerifyAgreesOnFloats holds Verify (its streamed reading alone, which
// reads quantiles_, references_ and bin_edges_ entry by entry and every
// other float array token by token) to Decode's verdict and message on
// mutants of the float arrays of the scalers, quantile_transformer,
// power_transformer and kbins_discretizer: zeros and negative scales,
// NaN, infinities, unsorted grids and edges, arrays and rows too short,
// too long, empty or null, and whole rows of quantiles_ or bin_edges_
// dropped, doubled or nulled. The mutants are re-digested, so only the
// meaning check can refuse them.
func TestVerifyAgreesOnFloats(t *testing.T) {
	var accepted, refused, named int
	cases := floatCases(t)
	for _, st := range floatSteps {
		a := cases[st]
		base, err := artifact.Encode(a)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := artifact.Verify(bytes.NewReader(base), int64(len(base)), "f.json"); err != nil {
			t.Fatalf("%s: Verify refuses the fitted artifact: %v", st, err)
		}
		fittedOf := func(tree any) map[string]any {
			return tree.(map[string]any)["groups"].([]any)[0].(map[string]any)["steps"].([]any)[0].(map[string]any)["fitted"].(map[string]any)
		}
		decodeTree := func() any {
			var tree any
			dec := json.NewDecoder(bytes.NewReader(base))
			dec.UseNumber()
			if err := dec.Decode(&tree); err != nil {
				t.Fatal(err)
			}
			return tree
		}
		arrays := floatArrays(fittedOf(decodeTree()))
		type mutant struct {
			label string
			edit  func(fitted map[string]any) bool
		}
		var mutants []mutant
		for _, at := range arrays {
			field, row := at[0].(string), at[1].(int)
			for _, m := range floatMutations {
				mutants = append(mutants, mutant{fmt.Sprintf("%s[%d]: %s", field, row, m.name), func(fitted map[string]any) bool {
					xs := fitted[field].([]any)
					target := xs
					if row >= 0 {
						target = xs[row].([]any)
					}
					got := m.edit(append([]any(nil), target...))
					if got == nil && m.name != "null" {
						return false
					}
					if row >= 0 {
						xs[row] = got
					} else {
						fitted[field] = got
					}
					return true
				}})
			}
		}
		for _, field := range []string{"quantiles_", "bin_edges_"} {
			for _, m := range []struct {
				name string
				edit func(rows []any) []any
			}{
				{"drop the first row", func(rs []any) []any { return rs[1:] }},
				{"double the last row", func(rs []any) []any { return append(rs, rs[len(rs)-1]) }},
				{"swap the first two rows", func(rs []any) []any { rs[0], rs[1] = rs[1], rs[0]; return rs }},
				{"null the second row", func(rs []any) []any { rs[1] = nil; return rs }},
				{"empty the second row", func(rs []any) []any { rs[1] = []any{}; return rs }},
				{"no rows", func([]any) []any { return []any{} }},
			} {
				mutants = append(mutants, mutant{field + ": " + m.name, func(fitted map[string]any) bool {
					rows, ok := fitted[field].([]any)
					if !ok {
						return false
					}
					fitted[field] = m.edit(append([]any(nil), rows...))
					return true
				}})
			}
		}
		for _, mu := range mutants {
			label := st + ", " + mu.label
			tree := decodeTree()
			if !mu.edit(fittedOf(tree)) {
				continue
			}
			data, ok := reencodeTree(tree)
			if !ok {
				continue // e.g. NaN in n_samples_seen_, an integer array
			}
			wantErr, gotErr := verdicts(data)
			switch {
			case wantErr == nil && gotErr == nil:
				accepted++
			case wantErr == nil || gotErr == nil:
				t.Errorf("%s:\n Decode: %v\n Verify: %v", label, wantErr, gotErr)
			case wantErr.Error() != gotErr.Error():
				t.Errorf("%s:\n Decode: %v\n Verify: %v", label, wantErr, gotErr)
			default:
				refused++
				if strings.Contains(gotErr.Error(), "groups[0].steps[0].fitted.") {
					named++
				}
			}
		}
	}
	t.Logf("%d accepted, %d refused alike (%d naming the fitted field's JSON path)", accepted, refused, named)
	if named < 300 {
		t.Errorf("only %d refusals name a fitted field, want at least 300", named)
	}
}
