package monitor

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/normguard/normguard/table"
)

// TestEventTimesOutOfRange: times past the range windows are kept in do
// not parse (attack run 4, F7: 9999-12-31 landed in a window of 1816,
// 1500-01-01 in one of 2085); the bounds themselves do.
func TestEventTimesOutOfRange(t *testing.T) {
	for _, c := range []struct {
		s  string
		ok bool
	}{
		{"9999-12-31", false},
		{"2262-04-12", false},
		{"2200-01-01", false},
		{"2199-12-31 23:59:59", true},
		{"1750-01-01", true},
		{"1749-12-31", false},
		{"1500-01-01", false},
		{"2023-05-01", true},
	} {
		tm, ok := ParseEventTime(c.s)
		if ok != c.ok {
			t.Errorf("ParseEventTime(%q) = %v, %v; want ok %v", c.s, tm, ok, c.ok)
		}
	}
	// Seconds since the epoch, as a numeric time column holds them.
	col := &table.Column{Name: "ts", Kind: table.Numeric, Num: []float64{253402214400 /* 9999-12-31 */, 7258118400 /* 2200-01-01 */, 7258118399, -6942499200 /* 1750-01-01 */, -6942499201, 1e10}}
	want := []bool{false, false, true, true, false, false}
	for i := range col.Num {
		if _, ok := rowTime(col, i); ok != want[i] {
			t.Errorf("rowTime(%g) ok = %v, want %v", col.Num[i], ok, want[i])
		}
	}
	// At the bounds, the longest window's start and end stay in int64
	// nanoseconds: the start is at or before the time, the end after it.
	for _, tm := range []time.Time{MinEventTime, MaxEventTime.Add(-time.Nanosecond)} {
		for _, w := range []time.Duration{time.Hour, 7 * 24 * time.Hour, MaxWindow} {
			start := WindowStart(tm, w)
			end := start.Add(w)
			if start.After(tm) || !end.After(tm) || start.UnixNano() > tm.UnixNano() || end.UnixNano() <= tm.UnixNano() {
				t.Errorf("window %s of %s: %s to %s does not hold it", w, tm, start, end)
			}
		}
	}
}

// TestParseWindowBounds: a window past MaxWindow, or whose days overflow,
// is refused (attack run 4: 99999999999d wrapped to 1734552h44m48.76s).
func TestParseWindowBounds(t *testing.T) {
	for _, s := range []string{"99999999999d", "18251d", "2608w", "438001h", "9223372036854775807ns0h", "1000000000000w"} {
		if d, err := ParseWindow(s); err == nil || !strings.Contains(err.Error(), "window") {
			t.Errorf("ParseWindow(%q) = %v, %v; want an error", s, d, err)
		}
	}
	for s, want := range map[string]time.Duration{"18250d": MaxWindow, "438000h": MaxWindow, "7d": 7 * 24 * time.Hour, "100000h": 100000 * time.Hour} {
		if d, err := ParseWindow(s); err != nil || d != want {
			t.Errorf("ParseWindow(%q) = %v, %v; want %v", s, d, err, want)
		}
	}
	if MaxWindow > time.Duration(math.MaxInt64)/4 {
		t.Errorf("MaxWindow %v", MaxWindow)
	}
}

// TestEventTimeFarAhead: a row dated far ahead of the clock (2199, within
// the range windows can hold) opened a window every later row then
// counted as late in, for good (attack run 5, N3). A time more than a
// window (a day at least) ahead is untimed.
func TestEventTimeFarAhead(t *testing.T) {
	a := testArtifact(t)
	c := newClock(t0)
	opt := testOptions(c)
	opt.Window, opt.TimeColumn = 24*time.Hour, "ts"
	m := openTest(t, "", opt)
	at := func(d time.Duration) string { return t0.Add(d).UTC().Format("2006-01-02 15:04:05") }
	observe(t, m, "m", a, StageInput, withTimes(1, []string{"2199-12-31", at(50 * time.Hour), at(20 * time.Hour)}), 3)
	if n := m.untimed.Load(); n != 2 {
		t.Errorf("untimed rows: got %d, want 2 (2199 and two days ahead)", n)
	}
	observe(t, m, "m", a, StageInput, withTimes(2, []string{at(21 * time.Hour), at(22 * time.Hour)}), 2)
	if n := m.late.Load(); n != 0 {
		t.Errorf("late rows: got %d, want 0", n)
	}
}

// TestTextTime: serve reads a time column's text as a layout or as Unix
// seconds.
func TestTextTime(t *testing.T) {
	for s, want := range map[string]string{
		"1700000000":           "2023-11-14T22:13:20Z",
		"1700000000.5":         "2023-11-14T22:13:20.5Z",
		"2023-05-01":           "2023-05-01T00:00:00Z",
		"2023-05-01T10:00:00Z": "2023-05-01T10:00:00Z",
	} {
		got, ok := textTime(s)
		if !ok || got.Format(time.RFC3339Nano) != want {
			t.Errorf("textTime(%q) = %v, %v; want %s", s, got, ok, want)
		}
	}
	for _, s := range []string{"9999999999999", "soon", "", "1e400"} {
		if got, ok := textTime(s); ok {
			t.Errorf("textTime(%q) = %v, want no time", s, got)
		}
	}
}
