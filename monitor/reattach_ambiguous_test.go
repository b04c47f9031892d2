package monitor

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/normguard/normguard/artifact"
)

// TestRecoverLogOnlyTwoVersionsFit (attack run 36 F2): rows observed
// under v1 kept only in the log (a crash before any checkpoint), the
// refs record lost, and a version fitted on more rows made current: its
// ranges and categories cover the rows' values, so it gives every record
// the counts of values out of range and unseen v1 gave, and a recovery
// re-attached it first as "the one its windows were observed under",
// judging v1's rows against its profile. With two versions fitting and
// profiling the features differently, the rows stay unjudged and the
// report names both; two that profile alike still re-attach.
func TestRecoverLogOnlyTwoVersionsFit(t *testing.T) {
	v1 := testArtifact(t)
	wide := fitShifted(t, 0) // 2000 rows of the same kind: wider ranges, the same categories
	if _, err := artifact.Encode(wide); err != nil {
		t.Fatal(err)
	}
	// Rows inside both versions' ranges, from both versions' categories.
	rows := normalRows(1, 200, trainMean)
	for i := range rows[0].Num {
		rows[0].Num[i] = min(max(rows[0].Num[i], trainMean-trainSD), trainMean+trainSD)
		rows[1].Num[i] = min(max(rows[1].Num[i], 10), 90)
	}
	build := func(t *testing.T) string {
		t.Helper()
		path := filepath.Join(t.TempDir(), "monitor.db")
		m := openTest(t, path, reattachOptions())
		observe(t, m, "m", v1, StageInput, rows, 200)
		m.abandon = true
		m.Close()
		damageRefs(t, path, "m")
		return path
	}
	// The premise: the log's records fit both versions.
	for _, a := range []*artifact.Artifact{v1, wide} {
		path := build(t)
		opt := reattachOptions()
		opt.Reattach = reattachFrom(a)
		rep, err := Recover(path, opt)
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.References) != 1 || rep.References[0].Digest != a.Digest {
			t.Fatalf("only %s in the registry: references %+v, want it re-attached", a.Digest, rep.References)
		}
	}

	path := build(t)
	opt := reattachOptions()
	opt.Reattach = reattachFrom(wide, v1) // wide current
	rep, err := Recover(path, opt)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.References) != 1 || rep.References[0].Digest != "" || rep.References[0].Rows != 200 {
		t.Fatalf("report references: got %+v, want model m's 200 rows not re-attached", rep.References)
	}
	if p := rep.References[0].Problem; !strings.Contains(p, wide.Digest) || !strings.Contains(p, v1.Digest) || !strings.Contains(p, "more than one") {
		t.Errorf("report problem %q: want it to say more than one version fits, naming both", p)
	}
	m := openTest(t, path, opt)
	if _, win, err := m.Drift("m", StageInput); !errors.Is(err, ErrUnjudged) || win.Rows != 200 {
		t.Errorf("Drift: got %v (window rows %d), want ErrUnjudged naming the 200 rows", err, win.Rows)
	}
	if p := m.ReferenceProblems(); len(p) != 1 || !strings.Contains(p[0], "more than one") {
		t.Errorf("ReferenceProblems: got %q, want the model's rows unjudged, more than one version fitting", p)
	}

	// Versions that profile the features alike judge the rows alike:
	// the first is re-attached.
	path = build(t)
	opt.Reattach = reattachFrom(v1, v1)
	if rep, err = Recover(path, opt); err != nil {
		t.Fatal(err)
	}
	if len(rep.References) != 1 || rep.References[0].Digest != v1.Digest {
		t.Errorf("two alike: references %+v, want v1 re-attached", rep.References)
	}
}
