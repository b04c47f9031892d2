package monitor

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/normguard/normguard/drift"
	"github.com/normguard/normguard/profile"
	"github.com/normguard/normguard/table"
)

// TestLongValuesKeptAsMarkers observes 30 rows whose categorical values
// are 1 MB each: the window keeps markers of at most 64 bytes, the values
// still count as unseen, the metric counts them, and neither the heap nor
// the state file grows with the values.
func TestLongValuesKeptAsMarkers(t *testing.T) {
	a := testArtifact(t)
	path := filepath.Join(t.TempDir(), "monitor.db")
	m, err := Open(path, Options{Now: func() time.Time { return t0 }, EvalInterval: time.Hour, FlushInterval: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	heap := func() uint64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	before := heap()
	const rounds, size = 30, 1 << 20
	for i := 0; i < rounds; i++ {
		long := strings.Repeat(string(rune('a'+i%26)), size)
		cols := []table.Column{{Name: "x", Kind: table.Numeric, Num: []float64{10}}, {Name: "c", Kind: table.String, Str: []string{long}},
			{Name: "d", Kind: table.String, Str: []string{long + "d"}}}
		if err := m.Observe(context.Background(), "m", a, StageInput, cols, 1); err != nil {
			t.Fatal(err)
		}
	}
	after := heap()
	const heapBound = 16 << 20
	if after > before+heapBound {
		t.Errorf("heap grew from %d to %d bytes after %d rows of 1 MB values, want under %d more", before, after, rounds, heapBound)
	}
	h := m.History("m", StageInput)
	ss := m.lookup("m", StageInput)
	ss.mu.Lock()
	for _, w := range ss.windows {
		for _, f := range w.feats {
			for _, v := range f.str {
				if len(v) > MaxValueBytes || !strings.Contains(v, "sha256:") {
					t.Errorf("feature %s keeps a value of %d bytes (%.40q), want a marker", f.name, len(v), v)
				}
			}
		}
	}
	ss.mu.Unlock()
	for _, f := range h[len(h)-1].Features {
		if (f.Name == "c" || f.Name == "d") && f.Unseen != rounds {
			t.Errorf("feature %s: %d unseen, want %d", f.Name, f.Unseen, rounds)
		}
	}
	if got := counterOf(t, m, "normguard_values_truncated_total"); got != 2*rounds {
		t.Errorf("normguard_values_truncated_total = %v, want %d", got, 2*rounds)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	const fileBound = 1 << 20
	if st.Size() > fileBound {
		t.Errorf("state file is %d bytes after %d rows of 1 MB values, want under %d", st.Size(), rounds, fileBound)
	}
	t.Logf("heap %d -> %d bytes, state file %d bytes", before, after, st.Size())
}

// TestModelBudget: once a model's window state on disk is over
// MaxModelBytes, Observe refuses its rows with ErrBudget and counts them
// dropped, while another model goes on.
func TestModelBudget(t *testing.T) {
	a := testArtifact(t)
	var logs strings.Builder
	m, err := Open(filepath.Join(t.TempDir(), "monitor.db"), Options{Now: func() time.Time { return t0 },
		EvalInterval: time.Hour, FlushInterval: time.Millisecond, MaxModelBytes: 8 << 10,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	var refused, accepted int
	for i := 0; i < 200; i++ {
		cols, n := crashBatch(i)
		err := m.Observe(context.Background(), "m", a, StageInput, cols, n)
		switch {
		case errors.Is(err, ErrBudget):
			refused++
		case err != nil:
			t.Fatal(err)
		default:
			accepted++
		}
	}
	if refused == 0 || accepted == 0 {
		t.Fatalf("accepted %d, refused %d batches: want the budget to stop some but not all", accepted, refused)
	}
	if used := m.model("m").diskBytes.Load(); used > 8<<10+4<<10 {
		t.Errorf("model keeps %d bytes, budget %d (one batch may cross it)", used, 8<<10)
	}
	if got := counterOf(t, m, "normguard_observations_dropped_total"); got != float64(refused) {
		t.Errorf("observations_dropped_total = %v, want %d", got, refused)
	}
	if !strings.Contains(logs.String(), "over its budget") {
		t.Errorf("log %q: want a line about the budget", logs.String())
	}
	cols, n := crashBatch(1)
	if err := m.Observe(context.Background(), "other", a, StageInput, cols, n); err != nil {
		t.Errorf("another model: %v", err)
	}
}

// TestEvaluationPanicStaysWithItsModel: a drift evaluation that panics for
// one model is logged and counted, and the other model is still judged.
func TestEvaluationPanicStaysWithItsModel(t *testing.T) {
	orig, origSums := compareProfile, compareSummaries
	defer func() { compareProfile, compareSummaries = orig, origSums }()
	compareProfile = func(p []profile.Feature, cols []table.Column, o drift.Options) (*drift.Report, error) {
		for _, c := range cols {
			if c.Kind == table.String && len(c.Str) > 0 && c.Str[0] == "boom" {
				panic("test bug")
			}
		}
		return orig(p, cols, o)
	}
	compareSummaries = func(p []*drift.SummaryPlan, sums []*drift.Summary, o drift.Options) (*drift.Report, error) {
		for _, s := range sums {
			if s.New["boom"] > 0 {
				panic("test bug")
			}
		}
		return origSums(p, sums, o)
	}
	a := testArtifact(t)
	var logs strings.Builder
	m, err := Open(filepath.Join(t.TempDir(), "monitor.db"), Options{Now: func() time.Time { return t0 },
		EvalInterval: time.Hour, FlushInterval: time.Millisecond, MinRows: 1, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	for _, model := range []string{"bad", "good"} {
		c := "a"
		if model == "bad" {
			c = "boom"
		}
		cols := []table.Column{{Name: "x", Kind: table.Numeric, Num: []float64{10}}, {Name: "c", Kind: table.String, Str: []string{c}}}
		if err := m.Observe(context.Background(), model, a, StageInput, cols, 1); err != nil {
			t.Fatal(err)
		}
	}
	err = m.Evaluate(context.Background())
	if err == nil || !strings.Contains(err.Error(), "bad") {
		t.Errorf("Evaluate: got %v, want the failure of model bad", err)
	}
	h := m.History("good", StageInput)
	if len(h) == 0 || !h[len(h)-1].Judged {
		t.Errorf("model good was not judged: %+v", h)
	}
	if got := counterOf(t, m, "normguard_evaluation_failures_total"); got != 1 {
		t.Errorf("normguard_evaluation_failures_total = %v, want 1", got)
	}
	if !strings.Contains(logs.String(), "test bug") || !strings.Contains(logs.String(), "goroutine") {
		t.Errorf("log %q: want the panic and its stack", logs.String())
	}
}

// counterOf returns the value of an unlabelled counter of m's collector.
func counterOf(t *testing.T, m *Monitor, name string) float64 {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(m.Collector())
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.GetMetric()) == 1 {
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}
