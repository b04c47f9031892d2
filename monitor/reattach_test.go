package monitor

import (
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/normguard/normguard/artifact"
)

// Rows of the reference tests: n1 checkpointed, n2 in the log after the
// checkpoint (a crash kept them there).
const (
	reattachRows1 = 300
	reattachRows2 = 200
)

// reattachOptions: hour windows at t0, no background evaluation, no
// checkpoint but the ones Close takes.
func reattachOptions() Options {
	return Options{Now: func() time.Time { return t0 }, SampleSize: 64, EvalInterval: 24 * time.Hour,
		CheckpointInterval: 24 * time.Hour, FlushInterval: time.Millisecond}
}

// buildReattachState writes a state file whose model "m" holds one open
// window: reattachRows1 rows checkpointed, then reattachRows2 rows in the
// log after the checkpoint.
func buildReattachState(t *testing.T, path string, a *artifact.Artifact) {
	t.Helper()
	m := openTest(t, path, reattachOptions())
	observe(t, m, "m", a, StageInput, normalRows(1, reattachRows1, trainMean), reattachRows1)
	if err := m.Close(); err != nil { // checkpoints
		t.Fatal(err)
	}
	m = openTest(t, path, reattachOptions())
	observe(t, m, "m", a, StageInput, normalRows(2, reattachRows2, trainMean+1), reattachRows2)
	m.abandon = true // a crash: the log stays after the checkpoint
	m.Close()
}

// reattachFrom gives arts, in order, for any model, as a registry gives
// its versions (the current one first).
func reattachFrom(arts ...*artifact.Artifact) ReattachFunc {
	return func(string) iter.Seq2[*artifact.Artifact, error] {
		return func(yield func(*artifact.Artifact, error) bool) {
			for _, a := range arts {
				if !yield(a, nil) {
					return
				}
			}
		}
	}
}

// readState returns, read-only, the drift report of model "m" (as JSON)
// and its export.
func readState(t *testing.T, path string, opt Options) (string, *Export) {
	t.Helper()
	m, err := OpenReadOnly(path, opt)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	rep, win, err := m.Drift("m", StageInput)
	if err != nil {
		t.Fatalf("Drift: %v", err)
	}
	data, err := json.Marshal(struct {
		R any
		W Window
	}{rep, win})
	if err != nil {
		t.Fatal(err)
	}
	ex, err := m.ExportHistory("")
	if err != nil {
		t.Fatal(err)
	}
	return string(data), ex
}

// damageRefs flips a byte of the refs record of model in the file at path
// (its checksum then fails: Open refuses, Recover loses the record).
func damageRefs(t *testing.T, path, model string) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketRefs)
		v := b.Get([]byte(model))
		if v == nil {
			return fmt.Errorf("no refs record of model %q", model)
		}
		d := append([]byte(nil), v...)
		d[len(d)/2] ^= 1
		return b.Put([]byte(model), d)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestRecoverReattachesLostReference: after a recovery loses a model's
// refs record, Open re-attaches the artifact Options.Reattach gives before
// the rows are loaded, so that /drift and the export see every row kept,
// as the undamaged file gives them, and the report says so (attack runs
// 30 F5 and 31 F6: the window answered "no observations" and exported
// nothing).
func TestRecoverReattachesLostReference(t *testing.T) {
	a := testArtifact(t)
	path := filepath.Join(t.TempDir(), "monitor.db")
	buildReattachState(t, path, a)
	wantDrift, wantExport := readState(t, path, reattachOptions())

	damageRefs(t, path, "m")
	if _, err := Open(path, reattachOptions()); !errors.Is(err, ErrDamaged) {
		t.Fatalf("Open of the damaged file: got %v, want ErrDamaged", err)
	}
	opt := reattachOptions()
	var asked []string
	opt.Reattach = func(model string) iter.Seq2[*artifact.Artifact, error] {
		asked = append(asked, model)
		return reattachFrom(a)(model)
	}
	rep, err := Recover(path, opt)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Lost["refs"] != 1 {
		t.Fatalf("report counts %d refs lost, want 1:\n%s", rep.Lost["refs"], rep)
	}
	if len(asked) != 1 || asked[0] != "m" {
		t.Errorf("Reattach was asked for %q, want the model \"m\" once", asked)
	}
	const rows = reattachRows1 + reattachRows2
	want := Reattachment{Model: "m", Rows: rows, Digest: a.Digest}
	if len(rep.References) != 1 || rep.References[0] != want {
		t.Errorf("report references: got %+v, want [%+v]", rep.References, want)
	}
	if s := rep.String(); !strings.Contains(s, "re-attached artifact "+a.Digest) {
		t.Errorf("report does not name the artifact re-attached:\n%s", s)
	}

	// The rebuilt file holds the reference: opened without Reattach (a
	// plain restart, monitor export), it answers as the intact file did.
	gotDrift, gotExport := readState(t, path, reattachOptions())
	if gotDrift != wantDrift {
		t.Errorf("drift after the recovery:\n got %s\nwant %s", gotDrift, wantDrift)
	}
	if len(gotExport.Windows) != 1 || gotExport.Windows[0].Rows != rows || gotExport.Windows[0].ArtifactDigest != a.Digest || len(gotExport.Skipped) != 0 {
		t.Fatalf("export after the recovery: got %d windows (%+v), skipped %+v; want 1 window of %d rows of %s", len(gotExport.Windows), gotExport.Windows, gotExport.Skipped, rows, a.Digest)
	}
	g, _ := json.Marshal(gotExport)
	w, _ := json.Marshal(wantExport)
	if string(g) != string(w) {
		t.Errorf("export after the recovery differs from the intact file's:\n got %s\nwant %s", g, w)
	}
	m := openTest(t, path, reattachOptions())
	if got := m.Reattached(); len(got) != 0 {
		t.Errorf("a restart after the recovery re-attached %+v again, want nothing (the file holds the reference)", got)
	}
}

// TestLostReferenceNotReattached: when no artifact can be re-attached, the
// rows are kept and said to be unjudged, never "no observations": Drift
// answers ErrUnjudged naming the rows, the export lists the window as
// skipped, ReferenceProblems says why, and the recovery report says what
// losing the reference means. The model's next row attaches its artifact.
func TestLostReferenceNotReattached(t *testing.T) {
	a := testArtifact(t)
	path := filepath.Join(t.TempDir(), "monitor.db")
	buildReattachState(t, path, a)
	damageRefs(t, path, "m")
	opt := reattachOptions()
	opt.Reattach = func(model string) iter.Seq2[*artifact.Artifact, error] {
		return func(yield func(*artifact.Artifact, error) bool) {
			yield(nil, fmt.Errorf("registry: model %q: not found", model))
		}
	}
	rep, err := Recover(path, opt)
	if err != nil {
		t.Fatal(err)
	}
	const rows = reattachRows1 + reattachRows2
	if len(rep.References) != 1 || rep.References[0].Digest != "" || rep.References[0].Rows != rows || !strings.Contains(rep.References[0].Problem, "not found") {
		t.Fatalf("report references: got %+v, want model m, %d rows, none re-attached, the registry's error", rep.References, rows)
	}
	if s := rep.String(); !strings.Contains(s, fmt.Sprintf("its %d rows are kept but not judged", rows)) {
		t.Errorf("report does not say the rows are unjudged:\n%s", s)
	}

	m := openTest(t, path, opt)
	_, win, err := m.Drift("m", StageInput)
	switch {
	case errors.Is(err, ErrNoObservations):
		t.Fatalf("Drift says no observations while the window holds %d rows: %v", rows, err)
	case !errors.Is(err, ErrUnjudged):
		t.Fatalf("Drift: got %v, want ErrUnjudged", err)
	case !strings.Contains(err.Error(), fmt.Sprintf("holds %d rows", rows)) || win.Rows != rows:
		t.Errorf("Drift: got %v (window rows %d), want the %d rows named", err, win.Rows, rows)
	}
	ex, err := m.ExportHistory("")
	if err != nil {
		t.Fatal(err)
	}
	if len(ex.Windows) != 0 || len(ex.Skipped) != 1 || ex.Skipped[0].Rows != rows || !strings.Contains(ex.Skipped[0].Reason, "reference") {
		t.Errorf("export: got %d windows, skipped %+v; want the window of %d rows skipped for its lost reference", len(ex.Windows), ex.Skipped, rows)
	}
	if p := m.ReferenceProblems(); len(p) != 1 || !strings.Contains(p[0], `model "m"`) || !strings.Contains(p[0], fmt.Sprintf("%d rows", rows)) {
		t.Errorf("ReferenceProblems: got %q, want one naming model m and its %d rows", p, rows)
	}

	// The next row attaches the artifact: every row is judged again.
	observe(t, m, "m", a, StageInput, normalRows(3, 10, trainMean), 10)
	if p := m.ReferenceProblems(); len(p) != 0 {
		t.Errorf("ReferenceProblems after a row attached the artifact: %q, want none", p)
	}
	if _, win, err := m.Drift("m", StageInput); err != nil || win.Rows != rows+10 {
		t.Errorf("Drift after a row attached the artifact: rows %d, %v; want %d rows", win.Rows, err, rows+10)
	}
	// The log's rows were loaded without a summary: the window cannot be
	// exported exactly until it closes, and the export says so.
	if _, err := m.Export(""); !errors.Is(err, ErrNotExportable) || !strings.Contains(err.Error(), "no reference") {
		t.Errorf("export after a row attached the artifact: got %v, want ErrNotExportable saying the rows were kept without a reference", err)
	}
}

// TestOpenReattachesWithoutRecovery: a file that holds windows without the
// model's reference (as a recovery leaves it) gets it re-attached at any
// Open, and written back, so a later Open without Reattach has it.
func TestOpenReattachesWithoutRecovery(t *testing.T) {
	a := testArtifact(t)
	path := filepath.Join(t.TempDir(), "monitor.db")
	buildReattachState(t, path, a)
	_, wantExport := readState(t, path, reattachOptions())
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketRefs).Delete([]byte("m")) }); err != nil {
		t.Fatal(err)
	}
	db.Close()

	opt := reattachOptions()
	opt.Reattach = reattachFrom(a)
	m, err := Open(path, opt)
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Reattached(); len(got) != 1 || got[0].Digest != a.Digest || got[0].Rows != reattachRows1+reattachRows2 {
		t.Errorf("Reattached: got %+v, want model m's %d rows with %s", got, reattachRows1+reattachRows2, a.Digest)
	}
	m.abandon = true // no checkpoint: the log is applied again at the next Open
	m.Close()
	_, gotExport := readState(t, path, reattachOptions())
	g, _ := json.Marshal(gotExport)
	w, _ := json.Marshal(wantExport)
	if string(g) != string(w) {
		t.Errorf("export after the re-attachment differs from the intact file's:\n got %s\nwant %s", g, w)
	}
}
