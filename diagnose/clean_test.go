package diagnose

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/normguard/normguard/fit"
	"github.com/normguard/normguard/spec"
	"github.com/normguard/normguard/table"
	"github.com/normguard/normguard/transform"
)

// TestCleanPipelinesNoFalseAlarm checks, over 100 seeds, that a correct
// pipeline is never flagged: paired (raw rows and the artifact's own
// output) and unpaired (the artifact's output of fresh rows from the
// training distribution).
func TestCleanPipelinesNoFalseAlarm(t *testing.T) {
	if testing.Short() {
		t.Skip("100 seeds")
	}
	sp, err := spec.Parse(strings.NewReader(`version: 1
columns:
  - names: [a, b]
    type: numeric
    steps: [{simple_imputer: {strategy: median}}, standard_scaler]
  - name: c
    type: numeric
    steps: [min_max_scaler]
`), "s.yaml")
	if err != nil {
		t.Fatal(err)
	}
	sample := func(rng *rand.Rand, n int) string {
		var b strings.Builder
		b.WriteString("a,b,c\n")
		for i := 0; i < n; i++ {
			a := fmt.Sprint(rng.NormFloat64()*3 + 10)
			if rng.IntN(50) == 0 {
				a = ""
			}
			fmt.Fprintf(&b, "%s,%v,%v\n", a, math.Exp(rng.NormFloat64()), rng.Float64()*5)
		}
		return b.String()
	}
	for seed := uint64(0); seed < 100; seed++ {
		rng := rand.New(rand.NewPCG(seed, 99))
		r, _ := table.NewCSVReader(strings.NewReader(sample(rng, 3000)), "train.csv", table.CSVOptions{})
		a, err := fit.Fit(context.Background(), sp, r, fit.Options{})
		if err != nil {
			t.Fatal(err)
		}
		tr, _ := transform.New(a)
		cr, _ := table.NewCSVReader(strings.NewReader(sample(rng, 2000)), "raw.csv", table.CSVOptions{})
		if err := cr.Project(tr.Inputs()); err != nil {
			t.Fatal(err)
		}
		raw, n, err := table.ReadAll(cr, tr.Inputs())
		if err != nil {
			t.Fatal(err)
		}
		out := tr.NewOutput()
		if err := tr.Batch(&table.Batch{Cols: raw, Rows: n}, out, "raw"); err != nil {
			t.Fatal(err)
		}
		paired, err := Paired(a, raw, out.Cols, nil)
		if err != nil {
			t.Fatal(err)
		}
		unpaired, err := Unpaired(a, out.Cols, UnpairedOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, rep := range []*Report{paired, unpaired} {
			for _, v := range rep.Features {
				if v.Verdict != OK {
					t.Errorf("seed %d: %s: %s (%v)", seed, v.Name, v.Verdict, v.Evidence)
				}
			}
		}
	}
}
