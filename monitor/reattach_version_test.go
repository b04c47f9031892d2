package monitor

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/fit"
	"github.com/normguard/normguard/spec"
	"github.com/normguard/normguard/table"
)

// laterVersion fits testSpec for model "m" on other training rows than
// testArtifact's (x ~ N(14, 1), y ~ U(0, 50), c without "c"), as a version
// fitted later on other data: every feature but d profiles otherwise.
func laterVersion(t *testing.T) *artifact.Artifact {
	t.Helper()
	sp, err := spec.Parse(strings.NewReader(testSpec), "spec.yaml")
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	var b strings.Builder
	b.WriteString("x,y,c,d\n")
	for i := 0; i < 200; i++ {
		fmt.Fprintf(&b, "%v,%v,%s,%s\n", 14+rng.NormFloat64(), 50*rng.Float64(), []string{"a", "b"}[rng.IntN(2)], []string{"u", "u", "v"}[i%3])
	}
	r, err := table.NewCSVReader(strings.NewReader(b.String()), "train2.csv", table.CSVOptions{})
	if err != nil {
		t.Fatal(err)
	}
	a, err := fit.Fit(context.Background(), sp, r, fit.Options{Model: "m", ModelVersion: "v2"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := artifact.Encode(a); err != nil { // sets the digest
		t.Fatal(err)
	}
	return a
}

// TestRecoverReattachesVersionObserved (attack run 32 F1): rows observed
// under v1, the refs record lost, v2 made current since; a recovery
// re-attached the registry's current version, v2, whose profile the
// window's drift summaries were not made against: /drift answered 200
// with x, y and c at 0 rows ("check that the column holds numbers"), no
// unprofiled_rows, and the export labelled v1's summaries with v2's
// digest. The version the windows were observed under is re-attached
// instead, and every feature is judged on every row; when the registry no
// longer holds it, the rows stay unjudged.
func TestRecoverReattachesVersionObserved(t *testing.T) {
	v1, v2 := testArtifact(t), laterVersion(t)
	if v1.Digest == v2.Digest {
		t.Fatal("the two versions have the same digest")
	}
	const rows = reattachRows1 + reattachRows2
	build := func(t *testing.T) string {
		t.Helper()
		path := filepath.Join(t.TempDir(), "monitor.db")
		buildReattachState(t, path, v1) // 300 rows checkpointed, 200 in the log
		damageRefs(t, path, "m")
		return path
	}

	t.Run("registry holds v1", func(t *testing.T) {
		path := build(t)
		opt := reattachOptions()
		opt.Reattach = reattachFrom(v2, v1) // v2 current
		rep, err := Recover(path, opt)
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.References) != 1 || rep.References[0].Digest != v1.Digest || rep.References[0].Rows != rows {
			t.Errorf("report references: got %+v, want model m's %d rows re-attached to v1, %s", rep.References, rows, v1.Digest)
		} else if p := rep.References[0].Problem; !strings.Contains(p, v2.Digest) || !strings.Contains(p, "next row") {
			t.Errorf("report problem %q: want it to name v2, the current version its next row is judged with", p)
		}

		m := openTest(t, path, opt)
		if got := m.Reattached(); len(got) != 0 {
			t.Errorf("the restart after the recovery re-attached %+v, want nothing (the file holds v1's reference)", got)
		}
		dr, win, err := m.Drift("m", StageInput)
		if err != nil {
			t.Fatalf("Drift: %v", err)
		}
		if win.Rows != rows || win.Unprofiled != 0 {
			t.Errorf("Drift window: got %d rows, %d unprofiled; want %d rows, 0 unprofiled", win.Rows, win.Unprofiled, rows)
		}
		if len(dr.Features) != 4 {
			t.Errorf("Drift judges %d features, want the 4 of the spec", len(dr.Features))
		}
		for _, f := range dr.Features {
			if f.CurrentCount != rows || f.Error != "" {
				t.Errorf("feature %s: got current_count %d (error %q), want all %d rows judged", f.Name, f.CurrentCount, f.Error, rows)
			}
		}
		ex, err := m.ExportHistory("")
		if err != nil {
			t.Fatal(err)
		}
		if len(ex.Windows) != 1 || len(ex.Skipped) != 0 {
			t.Fatalf("export: got %d windows, skipped %+v; want the one window", len(ex.Windows), ex.Skipped)
		}
		w := ex.Windows[0]
		if w.ArtifactDigest != v1.Digest || w.Rows != rows || w.Unprofiled != 0 {
			t.Errorf("export window: got %s, %d rows, %d unprofiled; want v1's %s, %d rows, 0 unprofiled", w.ArtifactDigest, w.Rows, w.Unprofiled, v1.Digest, rows)
		}
		// The export holds summaries made against v1's profile: they
		// decode against v1's plans, each counting every row.
		ref, err := newReference(v1)
		if err != nil {
			t.Fatal(err)
		}
		rs := &ref.stages[StageInput.index()]
		plans := rs.summaryPlans(opt.Drift)
		for _, f := range w.Features {
			j, ok := rs.byName[f.Name]
			if !ok {
				t.Errorf("export feature %s: v1 does not profile it", f.Name)
				continue
			}
			s, err := plans[j].UnmarshalSummary(f.Summary)
			if err != nil {
				t.Errorf("export feature %s: its summary does not decode against v1's profile: %v", f.Name, err)
				continue
			}
			if f.Rows != rows || s.Rows != rows {
				t.Errorf("export feature %s: got %d rows, summary of %d; want %d", f.Name, f.Rows, s.Rows, rows)
			}
		}
	})

	// A crash before any checkpoint leaves the rows in the log only: no
	// drift summary says which profile they were judged with, the counts
	// of values out of range each record kept do (v2's range of x is
	// narrower).
	t.Run("log only", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "monitor.db")
		m := openTest(t, path, reattachOptions())
		observe(t, m, "m", v1, StageInput, normalRows(1, rows, trainMean), rows)
		m.abandon = true
		m.Close()
		damageRefs(t, path, "m")
		opt := reattachOptions()
		opt.Reattach = reattachFrom(v2, v1)
		rep, err := Recover(path, opt)
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.References) != 1 || rep.References[0].Digest != v1.Digest || rep.References[0].Rows != rows {
			t.Errorf("report references: got %+v, want model m's %d rows re-attached to v1, %s", rep.References, rows, v1.Digest)
		}
		m = openTest(t, path, opt)
		ex, err := m.ExportHistory("")
		if err != nil {
			t.Fatal(err)
		}
		if len(ex.Windows) != 1 || ex.Windows[0].ArtifactDigest != v1.Digest || ex.Windows[0].Rows != rows {
			t.Errorf("export: got %+v (skipped %+v), want one window of %d rows of v1, %s", ex.Windows, ex.Skipped, rows, v1.Digest)
		}
	})

	t.Run("registry no longer holds v1", func(t *testing.T) {
		path := build(t)
		opt := reattachOptions()
		opt.Reattach = reattachFrom(v2)
		rep, err := Recover(path, opt)
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.References) != 1 || rep.References[0].Digest != "" || rep.References[0].Rows != rows ||
			!strings.Contains(rep.References[0].Problem, "no longer holds") || !strings.Contains(rep.References[0].Problem, v2.Digest) {
			t.Fatalf("report references: got %+v, want model m's %d rows not re-attached, saying the registry no longer holds their version and naming v2", rep.References, rows)
		}
		m := openTest(t, path, opt)
		if _, win, err := m.Drift("m", StageInput); !errors.Is(err, ErrUnjudged) || win.Rows != rows {
			t.Errorf("Drift: got %v (window rows %d), want ErrUnjudged naming the %d rows", err, win.Rows, rows)
		}
		ex, err := m.ExportHistory("")
		if err != nil {
			t.Fatal(err)
		}
		if len(ex.Windows) != 0 || len(ex.Skipped) != 1 || ex.Skipped[0].Rows != rows {
			t.Errorf("export: got %d windows, skipped %+v; want the window of %d rows skipped", len(ex.Windows), ex.Skipped, rows)
		}
		if p := m.ReferenceProblems(); len(p) != 1 || !strings.Contains(p[0], "no longer holds") {
			t.Errorf("ReferenceProblems: got %q, want the model's rows unjudged, its version no longer in the registry", p)
		}
	})
}
