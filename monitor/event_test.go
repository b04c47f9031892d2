package monitor

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/normguard/normguard/table"
)

// withTimes returns normalRows with a "ts" column of the given times.
func withTimes(seed uint64, times []string) []table.Column {
	cols := normalRows(seed, len(times), trainMean)
	return append(cols, table.Column{Name: "ts", Kind: table.String, Str: times})
}

// TestEventTimeWindows observes rows carrying their own times, from days
// long past the clock: they fill the windows of their times (a batch
// spanning two days is split), the clock closes nothing, a row of a day
// before the latest one is counted late in the latest window, and a row
// without a time goes to the latest window, counted as untimed.
func TestEventTimeWindows(t *testing.T) {
	a := testArtifact(t)
	c := newClock(t0)
	opt := testOptions(c)
	opt.Window, opt.TimeColumn = 24*time.Hour, "ts"
	m := openTest(t, "", opt)
	day := func(d, h int) string { return fmt.Sprintf("2023-05-%02d %02d:00:00", d, h) }
	// May 1 and May 2 in one batch, May 2 again, then May 3.
	observe(t, m, "m", a, StageInput, withTimes(1, []string{day(1, 3), day(1, 9), day(2, 1), day(1, 23)}), 4)
	observe(t, m, "m", a, StageInput, withTimes(2, []string{day(2, 5), day(2, 6)}), 2)
	c.Set(t0.Add(72 * time.Hour)) // the clock moves on: no window closes by it
	observe(t, m, "m", a, StageInput, withTimes(3, []string{day(3, 0), day(3, 12), day(3, 13)}), 3)
	// late: May 1 after May 3 opened; untimed: no time
	observe(t, m, "m", a, StageInput, withTimes(4, []string{day(1, 4), "not a time"}), 2)
	if err := m.Evaluate(context.Background()); err != nil {
		t.Fatal(err)
	}
	h := m.History("m", StageInput)
	got := map[string]int64{}
	for _, w := range h {
		got[w.Start.Format(time.DateOnly)] += w.Rows
	}
	want := map[string]int64{"2023-05-01": 3, "2023-05-02": 3, "2023-05-03": 5}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("window %s: got %d rows, want %d (all: %v)", k, got[k], v, got)
		}
	}
	if len(got) != len(want) {
		t.Errorf("got windows %v, want %v", got, want)
	}
	if n := m.late.Load(); n != 1 {
		t.Errorf("late rows: got %d, want 1", n)
	}
	if n := m.untimed.Load(); n != 1 {
		t.Errorf("untimed rows: got %d, want 1", n)
	}
	// Rows without the time column are refused.
	cols := normalRows(5, 3, trainMean)
	if err := m.Observe(context.Background(), "m", a, StageInput, cols, 3); err == nil {
		t.Error("got rows without the time column accepted, want an error")
	}
}
