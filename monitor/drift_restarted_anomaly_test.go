package monitor

import (
	"testing"

	"github.com/normguard/normguard/validate"
)

// TestRestartedFeatureAnomalies (attack run 36 F6): a version made
// current mid-window that profiles x differently starts x's summary
// again while its counts go on; one row since gave a summary of a single
// value, read against the counts of every row: "all 31 present values of
// x are ...", constant_column, in /drift and in a merge of the export. A
// restarted feature is judged on its counts only.
func TestRestartedFeatureAnomalies(t *testing.T) {
	a1, a2 := fitShifted(t, 0), fitShifted(t, 3)
	m := openTest(t, "", testOptions(newClock(t0)))
	observe(t, m, "m", a1, StageInput, normalRows(1, 30, trainMean), 30)
	observe(t, m, "m", a2, StageInput, normalRows(2, 1, trainMean), 1)
	_, win, err := m.Drift("m", StageInput)
	if err != nil {
		t.Fatal(err)
	}
	// The premise: x started again on the one row since, y did not.
	if len(win.Restarted) != 1 || win.Restarted[0] != (RestartedFeature{Name: "x", Rows: 1}) {
		t.Fatalf("restarted %+v; want x on 1 row", win.Restarted)
	}
	noConstant := func(where string, an []validate.Anomaly) {
		t.Helper()
		for _, a := range an {
			if a.Code == validate.ConstantColumn {
				t.Errorf("%s: anomaly %s %s (%s); x's 30 earlier rows vary", where, a.Column, a.Code, a.Description)
			}
		}
	}
	noConstant("drift", win.Anomalies)
	ex, err := m.Export("m")
	if err != nil {
		t.Fatal(err)
	}
	merged, err := MergeExports(a2, []*Export{ex})
	if err != nil {
		t.Fatal(err)
	}
	if len(merged.Windows) != 1 {
		t.Fatalf("merged %d windows, want 1", len(merged.Windows))
	}
	an, err := merged.Windows[0].Anomalies(a2, merged.Bins)
	if err != nil {
		t.Fatal(err)
	}
	noConstant("merged export", an)
	// The merged window (monitor merge, a replica's merged /drift) says
	// which feature started again, as the monitor's own window does.
	rst, err := merged.Windows[0].RestartedFeatures(a2, merged.Bins)
	if err != nil {
		t.Fatal(err)
	}
	if len(rst) != 1 || rst[0] != (RestartedFeature{Name: "x", Rows: 1}) {
		t.Errorf("merged export restarted %+v; want x on 1 row", rst)
	}

	// The rule still reads a feature whose summary covers every row: 30
	// rows of one value of x under one artifact.
	m2 := openTest(t, "", testOptions(newClock(t0)))
	cols := normalRows(3, 30, trainMean)
	for i := range cols[0].Num {
		cols[0].Num[i] = trainMean
	}
	observe(t, m2, "m", a1, StageInput, cols, 30)
	_, win2, err := m2.Drift("m", StageInput)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, a := range win2.Anomalies {
		found = found || (a.Code == validate.ConstantColumn && a.Column == "x")
	}
	if !found {
		t.Errorf("x constant over the whole window: anomalies %+v, want constant_column for x", win2.Anomalies)
	}
}
