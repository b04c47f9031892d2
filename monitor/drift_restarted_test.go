package monitor

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/fit"
	"github.com/normguard/normguard/spec"
	"github.com/normguard/normguard/table"
)

// fitShifted fits testSpec on testArtifact's kind of training rows with
// x moved by shift: y, c and d are the same values for every shift, so
// two such artifacts profile them alike and x differently.
func fitShifted(t *testing.T, shift float64) *artifact.Artifact {
	t.Helper()
	sp, err := spec.Parse(strings.NewReader(testSpec), "spec.yaml")
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	var b strings.Builder
	b.WriteString("x,y,c,d\n")
	for i := 0; i < 2000; i++ {
		fmt.Fprintf(&b, "%v,%v,%s,%s\n", shift+trainMean+trainSD*rng.NormFloat64(), 100*rng.Float64(), []string{"a", "b", "c"}[rng.IntN(3)], []string{"u", "v"}[rng.IntN(2)])
	}
	r, err := table.NewCSVReader(strings.NewReader(b.String()), "train.csv", table.CSVOptions{})
	if err != nil {
		t.Fatal(err)
	}
	a, err := fit.Fit(context.Background(), sp, r, fit.Options{Model: "m"})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestDriftWindowRestartedFeatures (the re-attach fixer's report): a
// version made current mid-window that profiles some features as the one
// before keeps their summaries and starts the others' again; the window's
// unprofiled_rows (rows no feature counts) stays 0, so nothing said that
// x was judged on the 20 rows since only while y, c and d count all 50.
func TestDriftWindowRestartedFeatures(t *testing.T) {
	a1, a2 := fitShifted(t, 0), fitShifted(t, 3)
	m := openTest(t, "", testOptions(newClock(t0)))
	observe(t, m, "m", a1, StageInput, normalRows(1, 30, trainMean), 30)
	if _, win, err := m.Drift("m", StageInput); err != nil || len(win.Restarted) != 0 {
		t.Fatalf("one artifact: window %+v, %v; want no restarted feature", win, err)
	}
	observe(t, m, "m", a2, StageInput, normalRows(2, 20, trainMean), 20)
	rep, win, err := m.Drift("m", StageInput)
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, f := range rep.Features {
		counts[f.Name] = f.CurrentCount
	}
	// The premise: x's summary started again, the others' did not.
	if counts["x"] != 20 || counts["y"] != 50 {
		t.Fatalf("report counts %v; want x on the 20 rows since the change and y on all 50", counts)
	}
	if win.Rows != 50 || win.Unprofiled != 0 {
		t.Errorf("window rows %d unprofiled %d; want 50 and 0 (y, c, d count every row)", win.Rows, win.Unprofiled)
	}
	if len(win.Restarted) != 1 || win.Restarted[0] != (RestartedFeature{Name: "x", Rows: 20}) {
		t.Errorf("restarted %+v; want x on 20 rows", win.Restarted)
	}
}
