package artifact_test

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"
)

// quantileRowsData is 40 rows: a has values 1 to 10.5 in steps of 0.25
// with every seventh row (from row 3) missing, b is 1 on every third row
// and 0 elsewhere (two values), c is (i*i mod 37)/2 - 3; d and e are
// copies of a.
func quantileRowsData() (string, []float64) {
	var b strings.Builder
	b.WriteString("a,b,c,d,e\n")
	var c []float64
	for i := range 40 {
		a := fmt.Sprint(float64(i*13%40)/4 + 1)
		if i%7 == 3 {
			a = ""
		}
		ci := float64(i*i%37)/2 - 3
		c = append(c, ci)
		fmt.Fprintf(&b, "%s,%d,%v,%s,%s\n", a, map[bool]int{true: 1}[i%3 == 0], ci, a, a)
	}
	return b.String(), c
}

// TestQuantileRowsPinnedByProfile: a quantile transformer's quantiles_ row
// replaced by constants (all 0, all the minimum, the first entry raised to
// the second) was accepted and transform wrote 1 on every row (attack run
// 32 F10). The training profile pins the row's first entry to the
// column's minimum and its last to the maximum (a constant imputer's fill
// value widening them), and, where no imputer filled a cell, the entries
// at the profile grid's probabilities and every entry of a two-valued
// column: an edit of any is refused by Decode and the streamed Verify
// alike, naming the entry; the fitted artifact is accepted.
func TestQuantileRowsPinnedByProfile(t *testing.T) {
	data, _ := quantileRowsData()
	a := fitRun27(t, `version: 1
columns:
  - names: [a, b, c]
    type: numeric
    steps:
      - quantile_transformer: {n_quantiles: 5}
  - names: [d]
    type: numeric
    steps:
      - simple_imputer: {strategy: constant, fill_value: -50}
      - quantile_transformer: {n_quantiles: 11}
  - names: [e]
    type: numeric
    steps:
      - simple_imputer: {strategy: median, add_indicator: true}
      - quantile_transformer: {n_quantiles: 4, subsample: 10}
`, data)
	base := treeOf(t, a)
	if data, ok := reencodeTree(base); !ok {
		t.Fatal("the fitted artifact is not re-encoded")
	} else if decErr, verErr := bothReadings(data); decErr != nil || verErr != nil {
		t.Fatalf("the fitted artifact is refused: Decode: %v, Verify: %v", decErr, verErr)
	}
	row := func(tree map[string]any, gi, j int) []any {
		st := tree["groups"].([]any)[gi].(map[string]any)["steps"].([]any)
		return st[len(st)-1].(map[string]any)["fitted"].(map[string]any)["quantiles_"].([]any)[j].([]any)
	}
	num := func(x float64) json.Number { return json.Number(fmt.Sprint(x)) }
	for _, tc := range []struct {
		name  string
		gi, j int
		edit  func(r []any)
		want  string
	}{
		{"a all 0", 0, 0, func(r []any) {
			for k := range r {
				r[k] = num(0)
			}
		}, `groups[0].steps[0].fitted.quantiles_[0][0]: is 0; a fit on the training data writes 1 there, column "a"'s minimum in the training profile`},
		{"c all its minimum", 0, 2, func(r []any) {
			for k := range r {
				r[k] = r[0]
			}
		}, `groups[0].steps[0].fitted.quantiles_[2][1]: is -3; a fit on the training data writes 0.125 there, the training profile's quantile of column "c" at that reference`},
		{"d all its fill value", 1, 0, func(r []any) {
			for k := range r {
				r[k] = r[0]
			}
		}, `groups[1].steps[1].fitted.quantiles_[0][2]: is -50; the training profile's exact CDF of column "d" puts numpy's quantile at reference 0.2 within [`}, // 6 of 40 cells filled: the 0.2 quantile is a value
		{"c's first entry raised to the second", 0, 2, func(r []any) { r[0] = r[1] },
			`groups[0].steps[0].fitted.quantiles_[2][0]: is `},
		{"c's median a hair higher", 0, 2, func(r []any) {
			x, _ := r[2].(json.Number).Float64()
			r[2] = num(math.Nextafter(x, math.Inf(1)))
		}, `groups[0].steps[0].fitted.quantiles_[2][2]: is `},
		{"b's third quartile lowered to 0", 0, 1, func(r []any) { r[3] = num(0) },
			`groups[0].steps[0].fitted.quantiles_[1][3]: is 0; a fit on the training data writes 1 there, the quantile of column "b"'s values the training profile lists`},
		{"d's fill value left out", 1, 0, func(r []any) {
			for k := range r {
				if r[k] == num(-50) {
					r[k] = num(1)
				}
			}
		},
			`groups[1].steps[1].fitted.quantiles_[0][0]: is 1; a fit on the training data writes -50 there, column "d"'s minimum in the training profile or the fill value -50 of the imputer before it`},
		{"e after its median imputer, last entry lowered", 2, 0, func(r []any) { r[len(r)-1] = r[len(r)-2] },
			`groups[2].steps[1].fitted.quantiles_[0][3]: is `},
	} {
		tree := treeOf(t, a)
		r := row(tree, tc.gi, tc.j)
		before := fmt.Sprint(r)
		tc.edit(r)
		if fmt.Sprint(r) == before {
			t.Fatalf("%s: the edit changes nothing (%v)", tc.name, r)
		}
		data, ok := reencodeTree(tree)
		if !ok {
			t.Fatalf("%s: not re-encoded", tc.name)
		}
		refusedAlike(t, tc.name, data, tc.want)
	}
	// The exact rows are what the data gives: c's median is the mean of
	// its 20th and 21st smallest values (numpy's linear method).
	_, c := quantileRowsData()
	sorted := append([]float64(nil), c...)
	for i := range sorted { // insertion sort: the test's own oracle
		for k := i; k > 0 && sorted[k] < sorted[k-1]; k-- {
			sorted[k], sorted[k-1] = sorted[k-1], sorted[k]
		}
	}
	med := sorted[20] - (sorted[20]-sorted[19])*0.5
	if got, _ := row(base, 0, 2)[2].(json.Number).Float64(); got != med {
		t.Errorf("c's fitted median is %v, want %v", got, med)
	}
}

// TestSparseLongColumnGridSampled: a column of more than 65,536 rows has
// its profile grid read from every stride-th row even when it holds fewer
// values than that, so the grid need not start at its min: the fit of a
// 70,000-row table whose column x has values on rows 1 to 2,999 only (its
// min, 0.5, on row 1, which the stride of 2 skips) was refused by its own
// check ("the grid of a column of 2999 values (at most 65536) is exact").
// It fits, and Decode and Verify accept the artifact.
func TestSparseLongColumnGridSampled(t *testing.T) {
	var b strings.Builder
	b.WriteString("x,y\n")
	for i := range 70000 {
		if i >= 1 && i < 3000 {
			fmt.Fprintf(&b, "%v,%d\n", float64(i)*0.5, i%7)
		} else {
			fmt.Fprintf(&b, ",%d\n", i%7)
		}
	}
	a := fitRun27(t, `version: 1
columns:
  - names: [x, y]
    type: numeric
    steps:
      - simple_imputer: {strategy: median}
      - quantile_transformer: {n_quantiles: 9}
`, b.String())
	if got := float64(*a.Profile.Inputs[0].Min); got != 0.5 {
		t.Fatalf("x's profile min %v, want 0.5", got)
	}
	data, ok := reencodeTree(treeOf(t, a))
	if !ok {
		t.Fatal("not re-encoded")
	}
	if decErr, verErr := bothReadings(data); decErr != nil || verErr != nil {
		t.Fatalf("refused: Decode: %v, Verify: %v", decErr, verErr)
	}
}

// TestQuantileRowsHeldToCDF: with references off the profile's grid
// (n_quantiles 8: k/7 is never a multiple of 0.005 inside (0, 1)) only
// a row's first and last entries were held to the profile, so a row
// replaced by a straight ramp from its minimum to its maximum, or its
// interior set to the middle of the range, was accepted and changed
// every transformed value (attack run 35 F3, diamonds with the default
// n_quantiles). Each entry must lie where the profile's exact CDF puts
// numpy's quantile at its reference, counting an imputer's fill value
// for the missing cells: such rows are refused by Decode and Verify
// alike naming an entry; the fitted artifact is accepted.
func TestQuantileRowsHeldToCDF(t *testing.T) {
	data, _ := quantileRowsData()
	a := fitRun27(t, `version: 1
columns:
  - names: [c]
    type: numeric
    steps:
      - quantile_transformer: {n_quantiles: 8}
  - names: [a]
    type: numeric
    steps:
      - simple_imputer: {strategy: median}
      - quantile_transformer: {n_quantiles: 8, output_distribution: normal}
`, data)
	if data, ok := reencodeTree(treeOf(t, a)); !ok {
		t.Fatal("the fitted artifact is not re-encoded")
	} else if decErr, verErr := bothReadings(data); decErr != nil || verErr != nil {
		t.Fatalf("the fitted artifact is refused: Decode: %v, Verify: %v", decErr, verErr)
	}
	row := func(tree map[string]any, gi int) []any {
		st := tree["groups"].([]any)[gi].(map[string]any)["steps"].([]any)
		return st[len(st)-1].(map[string]any)["fitted"].(map[string]any)["quantiles_"].([]any)[0].([]any)
	}
	num := func(r []any, k int) float64 {
		x, _ := r[k].(json.Number).Float64()
		return x
	}
	ramp := func(r []any) {
		lo, hi := num(r, 0), num(r, len(r)-1)
		for k := 1; k < len(r)-1; k++ {
			r[k] = json.Number(fmt.Sprint(lo + (hi-lo)*float64(k)/float64(len(r)-1)))
		}
	}
	middle := func(r []any) {
		mid := (num(r, 0) + num(r, len(r)-1)) / 2
		for k := 1; k < len(r)-1; k++ {
			r[k] = json.Number(fmt.Sprint(mid))
		}
	}
	for _, tc := range []struct {
		name string
		gi   int
		edit func(r []any)
		want string
	}{
		{"c ramp", 0, ramp, `groups[0].steps[0].fitted.quantiles_[0][`},
		{"c middle", 0, middle, `groups[0].steps[0].fitted.quantiles_[0][`},
		{"a after its median imputer, ramp", 1, ramp, `groups[1].steps[1].fitted.quantiles_[0][`},
		{"a after its median imputer, middle", 1, middle, `groups[1].steps[1].fitted.quantiles_[0][`},
	} {
		tree := treeOf(t, a)
		r := row(tree, tc.gi)
		before := fmt.Sprint(r)
		tc.edit(r)
		if fmt.Sprint(r) == before {
			t.Fatalf("%s: the edit changes nothing (%v)", tc.name, r)
		}
		data, ok := reencodeTree(tree)
		if !ok {
			t.Fatalf("%s: not re-encoded", tc.name)
		}
		refusedAlike(t, tc.name, data, tc.want)
		if decErr, _ := bothReadings(data); decErr != nil && !strings.Contains(decErr.Error(), "exact CDF") {
			t.Errorf("%s: %v, want a refusal by the profile's exact CDF", tc.name, decErr)
		}
	}
}
