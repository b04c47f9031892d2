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
