package beamfit

import (
	"context"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph"
	"github.com/normguard/normguard/spec"
	"github.com/normguard/normguard/step"
	"github.com/normguard/normguard/table"
)

// TestOnlyGatherStepsGather checks, for every step kind of allSteps, which
// partFn stage its groups reach: only the kinds in GatherSteps are fitted
// by gathering a column group on one worker; standard_scaler and every
// other kind are fitted from mergeable accumulators.
func TestOnlyGatherStepsGather(t *testing.T) {
	sp, err := spec.Parse(strings.NewReader(allSteps), "all.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"power_transformer"}; !slices.Equal(GatherSteps, want) {
		t.Fatalf("GatherSteps: got %v, want %v", GatherSteps, want)
	}
	seen := map[string]bool{}
	for _, g := range sp.Columns {
		for _, st := range g.Steps {
			seen[st.Name] = true
			got := fitMode(st.Name)
			want := modeSummary
			switch {
			case st.Name == "standard_scaler":
				want = modeScaler
			case st.Name == "power_transformer":
				want = modeGather
			}
			if got != want {
				t.Errorf("%s: got fit mode %d, want %d", st.Name, got, want)
			}
			if got == modeSummary {
				if _, err := (&finishFn{}).fit(st.Params, &Summary{}, 1); err != nil && strings.Contains(err.Error(), "no mergeable fit") {
					t.Errorf("%s: fitted from summaries but finishFn has no constructor for it", st.Name)
				}
			}
		}
	}
	// allSteps covers every registered step kind.
	for _, name := range step.Names() {
		if !seen[name] {
			t.Errorf("allSteps has no %s step", name)
		}
	}
}

// TestOnlyPowerTransformerGathers builds the pipeline of allSteps and
// checks every Combine in it: the only one whose accumulator holds rows
// (chunks, columns) is fitStepFn, the gathering fit of GatherSteps, once
// per step position; every other Combine, the profile's included, merges
// accumulators of a size independent of the rows.
func TestOnlyPowerTransformerGathers(t *testing.T) {
	sp, err := spec.Parse(strings.NewReader(allSteps), "all.yaml")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "part-000.csv")
	writeCSV(t, path, genRows(20, 1))
	plan, err := NewPlan(context.Background(), Options{Spec: sp, Data: path, Out: filepath.Join(t.TempDir(), "a.json")})
	if err != nil {
		t.Fatal(err)
	}
	pipe, s := beam.NewPipelineWithRoot()
	if _, err := Build(s, plan); err != nil {
		t.Fatal(err)
	}
	edges, _, err := pipe.Build()
	if err != nil {
		t.Fatal(err)
	}
	maxSteps := 0
	for _, g := range sp.Columns {
		maxSteps = max(maxSteps, len(g.Steps))
	}
	combines := map[string]int{}
	for _, e := range edges {
		if e.Op != graph.Combine {
			continue
		}
		name := (*graph.Fn)(e.CombineFn).Name()
		name = name[strings.LastIndex(name, ".")+1:]
		combines[name]++
		acc := e.CombineFn.MergeAccumulatorsFn().Param[0].T
		if got, want := holdsRows(acc, map[reflect.Type]bool{}), name == "fitStepFn"; got != want {
			t.Errorf("Combine %s: accumulator %v holds rows: got %v, want %v", name, acc, got, want)
		}
	}
	if got := combines["fitStepFn"]; got != maxSteps {
		t.Errorf("gathering Combines (fitStepFn): got %d, want %d (one per step position)", got, maxSteps)
	}
	for _, name := range []string{"mergeProfAccFn", "mergeProfCountsFn"} {
		if got := combines[name]; got != 2 {
			t.Errorf("profile Combines %s: got %d, want 2 (inputs and outputs)", name, got)
		}
	}
}

// holdsRows reports whether values of type t can hold rows of data: a
// Chunk or a table.Column.
func holdsRows(t reflect.Type, seen map[reflect.Type]bool) bool {
	if t == reflect.TypeFor[Chunk]() || t == reflect.TypeFor[table.Column]() {
		return true
	}
	if seen[t] {
		return false
	}
	seen[t] = true
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Array:
		return holdsRows(t.Elem(), seen)
	case reflect.Map:
		return holdsRows(t.Key(), seen) || holdsRows(t.Elem(), seen)
	case reflect.Struct:
		for i := range t.NumField() {
			if holdsRows(t.Field(i).Type, seen) {
				return true
			}
		}
	}
	return false
}
