package monitor

import (
	"testing"

	"github.com/normguard/normguard/table"
)

// TestDriftWindowUnprofiled (attack run 22 note): after the model's
// artifact changed mid-window, Drift judged only the rows since with the
// window saying all of its rows, and nothing told why the report counted
// fewer. The window now says how many rows the current artifact's
// summaries leave out; with one artifact, none.
func TestDriftWindowUnprofiled(t *testing.T) {
	a, o := testArtifact(t), fitOther(t)
	m := openTest(t, "", testOptions(newClock(t0)))
	observe(t, m, "m", a, StageInput, normalRows(1, 30, trainMean), 30)
	if _, win, err := m.Drift("m", StageInput); err != nil || win.Rows != 30 || win.Unprofiled != 0 {
		t.Fatalf("one artifact: window %+v, %v; want 30 rows, none unprofiled", win, err)
	}
	p := make([]float64, 20)
	q := make([]string, 20)
	for i := range p {
		p[i], q[i] = float64(i%5)/5, []string{"k", "l"}[i%2]
	}
	observe(t, m, "m", o, StageInput, []table.Column{{Name: "p", Kind: table.Numeric, Num: p}, {Name: "q", Kind: table.String, Str: q}}, 20)
	rep, win, err := m.Drift("m", StageInput)
	if err != nil {
		t.Fatal(err)
	}
	if win.Rows != 50 || win.Unprofiled != 30 {
		t.Errorf("window rows %d unprofiled %d; want 50 and the 30 rows before the artifact changed", win.Rows, win.Unprofiled)
	}
	for _, f := range rep.Features {
		if f.CurrentCount > 20 {
			t.Errorf("feature %s counts %d rows in the report; want at most the 20 since the change", f.Name, f.CurrentCount)
		}
	}
}
