package monitor

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metricOf returns the value of an unlabelled gauge or counter.
func metricOf(t *testing.T, m *Monitor, name string) float64 {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(m.Collector())
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.GetMetric()) == 1 {
			if g := mf.GetMetric()[0].GetGauge(); g != nil {
				return g.GetValue()
			}
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}

// setFault makes the state file's writes fail with err (nil: succeed).
func setFault(m *Monitor, err error) {
	if err == nil {
		m.writeFault.Store(nil)
		return
	}
	f := func() error { return fmt.Errorf("write %s: %w", m.path, err) }
	m.writeFault.Store(&f)
}

// waitFor polls cond for up to 5 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestCommitFailureRecovers: a commit that fails (a full disk) refuses its
// rows with ErrNotSaved and is reported by Problem and the metric, without
// sticking: once writes succeed again the monitor goes on by itself. Every
// row acknowledged before, between and after the failures is counted, in
// memory and after a restart; the refused rows are not; ObserveAsync rows
// and a closed window caught by a failed commit are committed later.
func TestCommitFailureRecovers(t *testing.T) {
	a := testArtifact(t)
	c := newClock(t0)
	path := t.TempDir() + "/m.db"
	m := openTest(t, path, testOptions(c))
	ctx := context.Background()
	if p := m.Problem(); p != "" || metricOf(t, m, "normguard_monitor_state_failing") != 0 {
		t.Fatalf("a new monitor reports %q", p)
	}

	observe(t, m, "m", a, StageInput, normalRows(1, 100, trainMean), 100) // acknowledged
	setFault(m, syscall.ENOSPC)
	err := m.Observe(ctx, "m", a, StageInput, normalRows(2, 50, trainMean), 50)
	if !errors.Is(err, ErrNotSaved) || !errors.Is(err, syscall.ENOSPC) || strings.Contains(err.Error(), "restart") {
		t.Fatalf("Observe on a full disk: got %v, want an error wrapping ErrNotSaved and ENOSPC, without a restart", err)
	}
	p := m.Problem()
	if !strings.Contains(p, "writes failing since") || !strings.Contains(p, "no space left on device") {
		t.Errorf("Problem while commits fail: %q", p)
	}
	if got := metricOf(t, m, "normguard_monitor_state_failing"); got != 1 {
		t.Errorf("normguard_monitor_state_failing = %v while commits fail, want 1", got)
	}
	if got := metricOf(t, m, "normguard_monitor_state_write_failures_total"); got < 1 {
		t.Errorf("normguard_monitor_state_write_failures_total = %v, want at least 1", got)
	}
	// Transform-path rows wait for the disk; they are not dropped.
	m.ObserveAsync("m", a, StageInput, normalRows(3, 7, trainMean), 7)
	time.Sleep(30 * time.Millisecond) // several failed commits of them
	err = m.Observe(ctx, "m", a, StageInput, normalRows(4, 20, trainMean), 20)
	if !errors.Is(err, ErrNotSaved) {
		t.Fatalf("second Observe on a full disk: got %v", err)
	}

	setFault(m, nil) // space is back: nothing to restart
	observe(t, m, "m", a, StageInput, normalRows(5, 30, trainMean), 30)
	if err := m.barrier(ctx); err != nil {
		t.Fatal(err)
	}
	if p := m.Problem(); p != "" || metricOf(t, m, "normguard_monitor_state_failing") != 0 {
		t.Errorf("Problem after a commit succeeded: %q", p)
	}
	if got := m.History("m", StageInput)[0].Rows; got != 100+7+30 {
		t.Fatalf("rows after the failures: got %d, want 137 (100 before, 7 async, 30 after; the 70 refused not counted)", got)
	}
	if got := metricOf(t, m, "normguard_observations_dropped_total"); got != 0 {
		t.Errorf("normguard_observations_dropped_total = %v, want 0", got)
	}

	// The window closes while the disk is full: its finalization and the
	// next window's first rows fail, and both go through later.
	setFault(m, syscall.ENOSPC)
	c.Set(t0.Add(time.Hour))
	if err := m.Evaluate(ctx); !errors.Is(err, ErrNotSaved) {
		t.Fatalf("Evaluate closing a window on a full disk: got %v, want ErrNotSaved", err)
	}
	if err := m.Observe(ctx, "m", a, StageInput, normalRows(6, 11, trainMean), 11); !errors.Is(err, ErrNotSaved) {
		t.Fatalf("Observe in the next window on a full disk: got %v", err)
	}
	setFault(m, nil)
	c.Set(t0.Add(time.Hour + 2*time.Second)) // the failed checkpoint is tried again within a second
	observe(t, m, "m", a, StageInput, normalRows(7, 40, trainMean), 40)
	evaluate(t, m)
	h := m.History("m", StageInput)
	if len(h) != 2 || !h[0].Closed || h[0].Rows != 137 || h[1].Rows != 40 {
		t.Fatalf("windows after the failures: got %d windows %+v", len(h), h)
	}
	if p := m.Problem(); p != "" {
		t.Errorf("Problem after recovery: %q", p)
	}
	if err := m.Close(); err != nil {
		t.Fatalf("Close after recovery: %v", err)
	}

	// The file agrees (Open checks the rows against the ledger).
	m2 := openTest(t, path, testOptions(c))
	h2 := m2.History("m", StageInput)
	if len(h2) != 2 || h2[0].Rows != 137 || h2[1].Rows != 40 {
		t.Fatalf("windows after a restart: got %+v, want 137 and 40 rows", h2)
	}
}

// TestCommitFailureProbe: with no request after a failed commit, the
// committer tries a write of its own, so Problem clears once writes
// succeed again (a replica drained for being degraded gets no request).
func TestCommitFailureProbe(t *testing.T) {
	a := testArtifact(t)
	c := newClock(t0)
	m := openTest(t, "", testOptions(c))
	observe(t, m, "m", a, StageInput, normalRows(1, 10, trainMean), 10)
	setFault(m, syscall.EIO)
	if err := m.Observe(context.Background(), "m", a, StageInput, normalRows(2, 10, trainMean), 10); !errors.Is(err, ErrNotSaved) {
		t.Fatalf("got %v, want ErrNotSaved", err)
	}
	c.Set(t0.Add(2 * time.Second)) // a failing probe, at most every second
	time.Sleep(30 * time.Millisecond)
	if m.Problem() == "" {
		t.Fatal("Problem cleared while writes still fail")
	}
	setFault(m, nil)
	c.Set(t0.Add(4 * time.Second))
	waitFor(t, "the probe to clear the failure", func() bool { return m.Problem() == "" })
	if got := m.History("m", StageInput)[0].Rows; got != 10 {
		t.Errorf("rows: got %d, want 10", got)
	}
}

// TestCheckpointFailureRecovers: a failed checkpoint keeps the rows (they
// are in the log), is reported, and is tried again.
func TestCheckpointFailureRecovers(t *testing.T) {
	a := testArtifact(t)
	c := newClock(t0)
	path := t.TempDir() + "/m.db"
	opt := testOptions(c)
	opt.CheckpointInterval = time.Minute
	m := openTest(t, path, opt)
	observe(t, m, "m", a, StageInput, normalRows(1, 10, trainMean), 10)
	// Nothing is queued: the only write due is the checkpoint.
	setFault(m, syscall.ENOSPC)
	c.Set(t0.Add(2 * time.Minute))
	waitFor(t, "a failed checkpoint", func() bool { return strings.Contains(m.Problem(), "checkpoints failing") })
	if got := metricOf(t, m, "normguard_monitor_state_failing"); got != 1 {
		t.Errorf("normguard_monitor_state_failing = %v while checkpoints fail, want 1", got)
	}
	setFault(m, nil)
	c.Set(t0.Add(3 * time.Minute))
	waitFor(t, "the checkpoint to succeed", func() bool { return m.Problem() == "" })
	observe(t, m, "m", a, StageInput, normalRows(2, 5, trainMean), 5)
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	m2 := openTest(t, path, opt)
	if got := m2.History("m", StageInput)[0].Rows; got != 15 {
		t.Errorf("rows after a restart: got %d, want 15", got)
	}
}
