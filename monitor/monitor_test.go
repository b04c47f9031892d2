package monitor

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/normguard/normguard/table"
)

// countRows are five hand-made input rows: x has one missing value and two
// outside the training range [3.08, 17.71]; y is absent (five missing); c
// has one missing value and two categories the encoder never saw; d has
// one missing value and "w" twice, which the profile's categories {u, v}
// do not hold. The extra column is not profiled and is ignored.
func countRows() []table.Column {
	return []table.Column{
		{Name: "x", Kind: table.Numeric, Num: []float64{math.NaN(), 10, 1000, -1000, 11}},
		{Name: "c", Kind: table.String, Str: []string{"a", "", "zz", "b", "qq"}, Null: []bool{false, true, false, false, false}},
		{Name: "d", Kind: table.String, Str: []string{"u", "w", "v", "w", ""}, Null: []bool{false, false, false, false, true}},
		{Name: "extra", Kind: table.Numeric, Num: []float64{1, 2, 3, 4, 5}},
	}
}

type wantCounts struct {
	name                         string
	rows, missing, oor, unseen   int64
	missingRate, oorRate, unRate float64
}

func checkCounts(t *testing.T, s WindowSummary, want []wantCounts) {
	t.Helper()
	if len(s.Features) != len(want) {
		t.Fatalf("window has %d features, want %d", len(s.Features), len(want))
	}
	for _, w := range want {
		f := featureOf(t, s, w.name)
		got := [4]int64{f.Rows, f.Missing, f.OutOfRange, f.Unseen}
		if got != [4]int64{w.rows, w.missing, w.oor, w.unseen} {
			t.Errorf("%s: got rows, missing, out of range, unseen %v, want %v", w.name, got, [4]int64{w.rows, w.missing, w.oor, w.unseen})
		}
		rates := [3]float64{float64(f.MissingRate), float64(f.OutOfRangeRate), float64(f.UnseenRate)}
		if rates != [3]float64{w.missingRate, w.oorRate, w.unRate} {
			t.Errorf("%s: got rates %v, want %v", w.name, rates, [3]float64{w.missingRate, w.oorRate, w.unRate})
		}
	}
}

func TestCountsExact(t *testing.T) {
	a := testArtifact(t)
	want := []wantCounts{
		{"x", 5, 1, 2, 0, 0.2, 0.4, 0},
		{"y", 5, 5, 0, 0, 1, 0, 0},
		{"c", 5, 1, 0, 2, 0.2, 0, 0.4},
		{"d", 5, 1, 0, 2, 0.2, 0, 0.4},
	}
	// The same rows as one batch and row by row give the same window, to
	// the byte (counts, moments, sample and generator state).
	var states [][]byte
	for _, tc := range []struct {
		name  string
		batch int
	}{{"one batch", 5}, {"row by row", 1}, {"2+2+1", 2}} {
		t.Run(tc.name, func(t *testing.T) {
			c := newClock(t0)
			m := openTest(t, "", testOptions(c))
			cols := countRows()
			for lo := 0; lo < 5; lo += tc.batch {
				hi := min(lo+tc.batch, 5)
				part := make([]table.Column, len(cols))
				for i := range cols {
					part[i] = cols[i].Slice(lo, hi)
				}
				observe(t, m, "m", a, StageInput, part, hi-lo)
			}
			h := m.History("m", StageInput)
			if len(h) != 1 {
				t.Fatalf("got %d windows, want 1", len(h))
			}
			checkCounts(t, h[0], want)
			if h[0].Rows != 5 || h[0].Closed || h[0].Judged {
				t.Errorf("got rows %d closed %v judged %v, want 5 false false", h[0].Rows, h[0].Closed, h[0].Judged)
			}
			x := featureOf(t, h[0], "x")
			// mean and population std of 10, 1000, -1000, 11
			wantMean, wantStd := 21.0/4, math.Sqrt((4.75*4.75+994.75*994.75+1005.25*1005.25+5.75*5.75)/4)
			if !near(float64(x.Mean), wantMean) || !near(float64(x.Std), wantStd) {
				t.Errorf("x mean, std: got %v %v, want %v %v", x.Mean, x.Std, wantMean, wantStd)
			}
			states = append(states, windowBytes(t, m, "m", StageInput))
		})
	}
	for i := 1; i < len(states); i++ {
		if !bytes.Equal(states[i], states[0]) {
			t.Errorf("window state %d differs from the one-batch state", i)
		}
	}
}

func TestCountsOutputStage(t *testing.T) {
	a := testArtifact(t)
	c := newClock(t0)
	m := openTest(t, "", testOptions(c))
	// Standardized x in training lies within about ±4; 100 is out of range.
	cols := []table.Column{
		{Name: "x", Kind: table.Numeric, Num: []float64{0, 100, math.NaN()}},
		{Name: "c_a", Kind: table.Numeric, Num: []float64{1, 0, 0}},
		{Name: "d", Kind: table.String, Str: []string{"u", "w", "v"}},
	}
	observe(t, m, "m", a, StageOutput, cols, 3)
	h := m.History("m", StageOutput)
	if len(h) != 1 {
		t.Fatalf("got %d windows, want 1", len(h))
	}
	third := 1.0 / 3
	checkCounts(t, h[0], []wantCounts{
		{"x", 3, 1, 1, 0, third, third, 0},
		{"y", 3, 3, 0, 0, 1, 0, 0},
		{"c_a", 3, 0, 0, 0, 0, 0, 0},
		{"c_b", 3, 3, 0, 0, 1, 0, 0},
		{"c_c", 3, 3, 0, 0, 1, 0, 0},
		{"d", 3, 0, 0, 1, 0, 0, third},
	})
	if got := m.History("m", StageInput); got != nil {
		t.Errorf("input stage: got %d windows, want none", len(got))
	}
}

func TestObserveInvalid(t *testing.T) {
	a := testArtifact(t)
	noProfile := *a
	noProfile.Profile, noProfile.Digest = nil, "sha256:another"
	c := newClock(t0)
	m := openTest(t, "", testOptions(c))
	good := countRows()
	cases := []struct {
		name  string
		model string
		stage Stage
		cols  []table.Column
		n     int
		art   bool
	}{
		{"empty model", "", StageInput, good, 5, true},
		{"bad stage", "m", "middle", good, 5, true},
		{"no artifact", "m", StageInput, good, 5, false},
		{"numeric given as text", "m", StageInput, []table.Column{{Name: "x", Kind: table.String, Str: []string{"1"}}}, 1, true},
		{"short column", "m", StageInput, []table.Column{{Name: "x", Kind: table.Numeric, Num: []float64{1}}}, 2, true},
		{"negative rows", "m", StageInput, good, -1, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			art := a
			if !tc.art {
				art = nil
			}
			err := m.Observe(context.Background(), tc.model, art, tc.stage, tc.cols, tc.n)
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("got %v, want an error wrapping ErrInvalid", err)
			}
		})
	}
	if err := m.Observe(context.Background(), "m", &noProfile, StageInput, good, 5); !errors.Is(err, ErrInvalid) {
		t.Errorf("artifact without profile: got %v, want ErrInvalid", err)
	}
	before := m.dropped.Load()
	m.ObserveAsync("m", a, "middle", good, 5)
	m.ObserveAsync("m", nil, StageInput, good, 5)
	if got := m.dropped.Load() - before; got != 2 {
		t.Errorf("dropped: got %d, want 2", got)
	}
	if h := m.History("m", StageInput); h != nil {
		t.Errorf("got %d windows after invalid observations, want none", len(h))
	}
}

func TestObserveAsync(t *testing.T) {
	a := testArtifact(t)
	c := newClock(t0)
	m := openTest(t, "", testOptions(c))
	cols := countRows()
	for i := 0; i < 10; i++ {
		m.ObserveAsync("m", a, StageInput, cols, 5)
	}
	evaluate(t, m) // a barrier: the queued rows are committed
	h := m.History("m", StageInput)
	if len(h) != 1 || h[0].Rows != 50 {
		t.Fatalf("got %+v, want one window of 50 rows", h)
	}
	checkCounts(t, h[0], []wantCounts{
		{"x", 50, 10, 20, 0, 0.2, 0.4, 0},
		{"y", 50, 50, 0, 0, 1, 0, 0},
		{"c", 50, 10, 0, 20, 0.2, 0, 0.4},
		{"d", 50, 10, 0, 20, 0.2, 0, 0.4},
	})

	full := openTest(t, "", Options{Now: c.Now, MaxPendingBytes: 1})
	full.ObserveAsync("m", a, StageInput, cols, 5)
	if got := full.dropped.Load(); got != 1 {
		t.Errorf("queue full: got %d drops, want 1", got)
	}
}

func TestWindowRollover(t *testing.T) {
	a := testArtifact(t)
	c := newClock(t0)
	m := openTest(t, "", testOptions(c))
	rows := normalRows(1, 5, trainMean)
	observe(t, m, "m", a, StageInput, rows, 5)

	c.Set(time.Date(2024, 3, 5, 11, 0, 10, 0, time.UTC))
	observe(t, m, "m", a, StageInput, normalRows(2, 3, trainMean), 3)
	evaluate(t, m)
	h := m.History("m", StageInput)
	type span struct {
		start, end string
		rows       int64
		closed     bool
	}
	got := func() []span {
		var out []span
		for _, s := range h {
			out = append(out, span{s.Start.Format("15:04"), s.End.Format("15:04"), s.Rows, s.Closed})
		}
		return out
	}
	want := []span{{"10:00", "11:00", 5, true}, {"11:00", "12:00", 3, false}}
	if g := got(); len(g) != len(want) || g[0] != want[0] || g[1] != want[1] {
		t.Fatalf("after the first rollover: got %v, want %v", g, want)
	}
	if _, w, err := m.Drift("m", StageInput); err != nil || w.Rows != 3 || !w.Start.Equal(time.Date(2024, 3, 5, 11, 0, 0, 0, time.UTC)) {
		t.Errorf("Drift window: got %+v, %v, want the 11:00 window of 3 rows", w, err)
	}

	// No rows for a while: the 11:00 window closes by time alone.
	c.Set(time.Date(2024, 3, 5, 12, 30, 0, 0, time.UTC))
	evaluate(t, m)
	h = m.History("m", StageInput)
	want = []span{{"10:00", "11:00", 5, true}, {"11:00", "12:00", 3, true}}
	if g := got(); len(g) != len(want) || g[0] != want[0] || g[1] != want[1] {
		t.Fatalf("after closing by time: got %v, want %v", g, want)
	}
	if _, _, err := m.Drift("m", StageInput); !errors.Is(err, ErrNoObservations) {
		t.Errorf("Drift without rows: got %v, want ErrNoObservations", err)
	}
	// Both windows left memory for the history bucket.
	ss := m.lookup("m", StageInput)
	ss.mu.Lock()
	inMemory := len(ss.windows)
	ss.mu.Unlock()
	if inMemory != 0 {
		t.Errorf("got %d windows in memory, want 0", inMemory)
	}
	// A late row observed (by its clock) in a closed window goes to the
	// next window.
	p, err := m.prepare("m", a, StageInput, rows, 1)
	if err != nil {
		t.Fatal(err)
	}
	p.start = time.Date(2024, 3, 5, 11, 0, 0, 0, time.UTC).UnixNano()
	p.done = make(chan error, 1)
	if err := m.enqueue(p, true); err != nil {
		t.Fatal(err)
	}
	if err := <-p.done; err != nil {
		t.Fatal(err)
	}
	h = m.History("m", StageInput)
	if last := h[len(h)-1]; last.Start.Format("15:04") != "12:00" || last.Rows != 1 {
		t.Errorf("late row: got window %v with %d rows, want 12:00 with 1", last.Start, last.Rows)
	}
}

func TestHistoryBound(t *testing.T) {
	a := testArtifact(t)
	c := newClock(t0)
	opt := testOptions(c)
	opt.History = 2
	path := t.TempDir() + "/m.db"
	m := openTest(t, path, opt)
	rows := normalRows(1, 5, trainMean)
	for h := 0; h < 4; h++ {
		c.Set(t0.Add(time.Duration(h) * time.Hour))
		observe(t, m, "m", a, StageInput, rows, 5)
	}
	c.Set(t0.Add(4 * time.Hour))
	evaluate(t, m)
	check := func(m *Monitor) {
		t.Helper()
		h := m.History("m", StageInput)
		if len(h) != 2 || h[0].Start.Hour() != 12 || h[1].Start.Hour() != 13 {
			var starts []int
			for _, s := range h {
				starts = append(starts, s.Start.Hour())
			}
			t.Errorf("got windows starting at %v, want [12 13]", starts)
		}
	}
	check(m)
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	check(openTest(t, path, opt))
}

func TestDriftShifted(t *testing.T) {
	a := testArtifact(t)
	c := newClock(t0)
	m := openTest(t, "", testOptions(c))
	const n = 2000
	observe(t, m, "same", a, StageInput, normalRows(11, n, trainMean), n)
	observe(t, m, "shifted", a, StageInput, normalRows(12, n, trainMean+trainSD), n)
	for _, tc := range []struct {
		model  string
		xDrift bool
	}{{"same", false}, {"shifted", true}} {
		rep, w, err := m.Drift(tc.model, StageInput)
		if err != nil {
			t.Fatal(err)
		}
		if w.Rows != n {
			t.Errorf("%s: window rows: got %d, want %d", tc.model, w.Rows, n)
		}
		if len(rep.Features) != 4 {
			t.Fatalf("%s: got %d features, want 4", tc.model, len(rep.Features))
		}
		for _, f := range rep.Features {
			want := tc.xDrift && f.Name == "x"
			if f.Drift != want || f.Error != "" {
				t.Errorf("%s %s: got drift %v (%s %v, error %q), want %v", tc.model, f.Name, f.Drift, f.Method, f.Statistic, f.Error, want)
			}
			if f.Plot == nil {
				t.Errorf("%s %s: no plot", tc.model, f.Name)
			}
			if f.CurrentCount != n {
				t.Errorf("%s %s: current count %d, want %d", tc.model, f.Name, f.CurrentCount, n)
			}
		}
	}
	// The background verdict agrees, and the closed window keeps it.
	evaluate(t, m)
	for _, model := range []string{"same", "shifted"} {
		h := m.History(model, StageInput)
		if len(h) != 1 || !h[0].Judged {
			t.Fatalf("%s: got %+v, want one judged window", model, h)
		}
		if got, want := featureOf(t, h[0], "x").Drift, model == "shifted"; got != want {
			t.Errorf("%s: summary x drift %v, want %v", model, got, want)
		}
	}
	c.Set(t0.Add(time.Hour))
	evaluate(t, m)
	h := m.History("shifted", StageInput)
	if len(h) != 1 || !h[0].Closed || !featureOf(t, h[0], "x").Drift {
		t.Errorf("closed window: got %+v, want closed with x drifting", h)
	}
	// The summary JSON has snake_case fields and null for NaN.
	data, err := json.Marshal(h[0])
	if err != nil {
		t.Fatal(err)
	}
	var generic map[string]any
	if err := json.Unmarshal(data, &generic); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"start", "end", "rows", "drift_share", "dataset_drift", "features"} {
		if _, ok := generic[k]; !ok {
			t.Errorf("summary JSON has no %q: %s", k, data)
		}
	}
	f0 := generic["features"].([]any)[0].(map[string]any)
	for _, k := range []string{"method", "statistic", "p_value", "threshold", "drift", "missing_rate", "out_of_range_rate", "unseen_rate"} {
		if _, ok := f0[k]; !ok {
			t.Errorf("feature JSON has no %q", k)
		}
	}
}

func TestMinRows(t *testing.T) {
	a := testArtifact(t)
	c := newClock(t0)
	m := openTest(t, "", testOptions(c))
	observe(t, m, "m", a, StageInput, normalRows(3, 99, trainMean+5*trainSD), 99)
	evaluate(t, m)
	if h := m.History("m", StageInput); h[0].Judged || featureOf(t, h[0], "x").Drift {
		t.Errorf("99 rows: got judged %v, want a window not judged (MinRows 100)", h[0].Judged)
	}
	observe(t, m, "m", a, StageInput, normalRows(4, 1, trainMean+5*trainSD), 1)
	evaluate(t, m)
	if h := m.History("m", StageInput); !h[0].Judged || !featureOf(t, h[0], "x").Drift {
		t.Errorf("100 rows shifted by 5 sd: got judged %v, x drift %v, want both", h[0].Judged, featureOf(t, h[0], "x").Drift)
	}
}

func TestRestartKeepsWindow(t *testing.T) {
	a := testArtifact(t)
	c := newClock(t0)
	path := t.TempDir() + "/m.db"
	m := openTest(t, path, testOptions(c))
	observe(t, m, "m", a, StageInput, normalRows(5, 1500, trainMean+trainSD), 1500)
	observe(t, m, "m", a, StageInput, countRows(), 5)
	observe(t, m, "m", a, StageOutput, normalRows(6, 10, 0), 10)
	before := windowBytes(t, m, "m", StageInput)
	rep1, w1, err := m.Drift("m", StageInput)
	if err != nil {
		t.Fatal(err)
	}
	h1 := m.History("m", StageInput)
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := m.Observe(context.Background(), "m", a, StageInput, countRows(), 5); !errors.Is(err, ErrClosed) {
		t.Errorf("Observe after Close: got %v, want ErrClosed", err)
	}

	m2 := openTest(t, path, testOptions(c))
	if after := windowBytes(t, m2, "m", StageInput); !bytes.Equal(after, before) {
		t.Errorf("the window state changed across a restart")
	}
	rep2, w2, err := m2.Drift("m", StageInput)
	if err != nil {
		t.Fatal(err)
	}
	j1, _ := json.Marshal(rep1)
	j2, _ := json.Marshal(rep2)
	if !reflect.DeepEqual(w1, w2) || !bytes.Equal(j1, j2) {
		t.Errorf("Drift after restart:\ngot  %v %s\nwant %v %s", w2, j2, w1, j1)
	}
	h2 := m2.History("m", StageInput)
	if h2[0].Rows != h1[0].Rows || featureOf(t, h2[0], "x").Missing != featureOf(t, h1[0], "x").Missing {
		t.Errorf("History after restart: got rows %d, want %d", h2[0].Rows, h1[0].Rows)
	}
	if got := m2.History("m", StageOutput); len(got) != 1 || got[0].Rows != 10 {
		t.Errorf("output stage after restart: got %+v, want one window of 10 rows", got)
	}
	// The reference came back from the store: a new window is judged
	// before any new observation.
	evaluate(t, m2)
	if h := m2.History("m", StageInput); !h[0].Judged {
		t.Errorf("window not judged after restart")
	}
}
