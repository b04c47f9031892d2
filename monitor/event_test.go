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

// TestWindowStartWeeksOnMondays checks window starts by calendar: windows
// of whole weeks start on Mondays 00:00 UTC (ISO weeks; 1970-01-01 was a
// Thursday, so epoch multiples would be Thursdays), days at midnight and
// hours on the hour, before the epoch as after it.
func TestWindowStartWeeksOnMondays(t *testing.T) {
	day, week := 24*time.Hour, 7*24*time.Hour
	for _, tc := range []struct {
		at     string
		window time.Duration
		want   string
	}{
		{"2001-01-03T10:00:00Z", week, "2001-01-01T00:00:00Z"},     // Wednesday: its Monday
		{"2001-01-01T00:00:00Z", week, "2001-01-01T00:00:00Z"},     // a Monday's midnight starts its week
		{"2000-12-31T23:59:59Z", week, "2000-12-25T00:00:00Z"},     // Sunday: the Monday before
		{"2023-05-04T12:00:00Z", week, "2023-05-01T00:00:00Z"},     // a Thursday is inside its week
		{"1970-01-01T00:00:00Z", week, "1969-12-29T00:00:00Z"},     // the epoch's ISO week
		{"1969-12-20T05:00:00Z", week, "1969-12-15T00:00:00Z"},     // before the epoch
		{"2001-01-10T00:00:00Z", 2 * week, "2001-01-08T00:00:00Z"}, // 1970-01-05 + 1618 weeks (2001-01-01 is 1617 weeks on: odd)
		{"2023-05-04T12:34:56Z", day, "2023-05-04T00:00:00Z"},
		{"1969-12-31T23:00:00Z", day, "1969-12-31T00:00:00Z"},
		{"2023-05-04T12:34:56Z", time.Hour, "2023-05-04T12:00:00Z"},
		{"2023-05-04T12:34:56Z", 30 * time.Minute, "2023-05-04T12:30:00Z"},
	} {
		at, err := time.Parse(time.RFC3339, tc.at)
		if err != nil {
			t.Fatal(err)
		}
		got := WindowStart(at, tc.window)
		if got.Format(time.RFC3339) != tc.want {
			t.Errorf("WindowStart(%s, %v) = %s, want %s", tc.at, tc.window, got.Format(time.RFC3339), tc.want)
		}
		if tc.window%week == 0 && got.Weekday() != time.Monday {
			t.Errorf("WindowStart(%s, %v) = %s, a %v", tc.at, tc.window, got.Format(time.RFC3339), got.Weekday())
		}
	}
}

// TestEventTimeWeeklyWindows observes rows into weekly windows by event
// time: the service's windows are the ISO weeks too.
func TestEventTimeWeeklyWindows(t *testing.T) {
	a := testArtifact(t)
	c := newClock(t0)
	opt := testOptions(c)
	opt.Window, opt.TimeColumn = 7*24*time.Hour, "ts"
	m := openTest(t, "", opt)
	// Sunday April 30 and Monday May 1 2023 fall in two weeks.
	observe(t, m, "m", a, StageInput, withTimes(1, []string{"2023-04-30 23:00:00", "2023-05-01 00:00:00", "2023-05-07 23:59:59"}), 3)
	h := m.History("m", StageInput)
	if len(h) != 2 {
		t.Fatalf("got %d windows, want 2", len(h))
	}
	for i, want := range []struct {
		start string
		rows  int64
	}{{"2023-04-24", 1}, {"2023-05-01", 2}} {
		if got := h[i].Start.Format(time.DateOnly); got != want.start || h[i].Rows != want.rows {
			t.Errorf("window %d: %s with %d rows, want %s with %d", i, got, h[i].Rows, want.start, want.rows)
		}
	}
}
