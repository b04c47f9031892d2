package monitor

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

// TestExportWindowTimeBounds (attack run 8 F2): a window lasting longer
// than MaxWindow (1000 years), or outside the event times a monitor
// places in windows, was refused for not being on the grid of its
// length, given as a saturated time.Duration (2562047h47m16.854775807s).
// It is refused naming the bound it breaks.
func TestExportWindowTimeBounds(t *testing.T) {
	a := testArtifact(t)
	day := func(s string) time.Time {
		tm, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	for _, tc := range []struct {
		start, end string
		path, want string
	}{
		{"2026-12-07T00:00:00Z", "3026-12-07T01:00:00Z", "windows[0].end", "is more than 365242d after the start 2026-12-07T00:00:00Z: a window lasts at most 18250d (50 years)"},
		{"1700-01-01T00:00:00Z", "2026-12-07T00:00:00Z", "windows[0].end", "is 119409d after the start 1700-01-01T00:00:00Z: a window lasts at most 18250d (50 years)"},
		{"1720-01-01T00:00:00Z", "1770-01-01T00:00:00Z", "windows[0].end", "is 18263d after the start 1720-01-01T00:00:00Z: a window lasts at most 18250d (50 years)"},
		{"1700-01-01T00:00:00Z", "1700-01-01T01:00:00Z", "windows[0].end", "1700-01-01T01:00:00Z is not after 1750-01-01: a window holds rows of event times from 1750-01-01 up to 2200-01-01"},
		{"2300-01-01T00:00:00Z", "2300-01-01T01:00:00Z", "windows[0].start", "2300-01-01T00:00:00Z is not before 2200-01-01: a window holds rows of event times from 1750-01-01 up to 2200-01-01"},
		{"0001-01-01T00:00:00Z", "9999-12-31T00:00:00Z", "windows[0].end", "a window lasts at most 18250d (50 years)"},
	} {
		_, ex := checkedExport(t)
		ex.Windows[0].Start, ex.Windows[0].End = day(tc.start), day(tc.end)
		ex.Digest = ""
		b, err := json.Marshal(exportPlain(*ex)) // without a digest
		if err != nil {
			t.Fatal(err)
		}
		_, err = ReadExport(bytes.NewReader(b), "x.json")
		var ee *ExportError
		if !errors.As(err, &ee) || ee.Path != tc.path || !strings.Contains(ee.Msg, tc.want) || !errors.Is(err, ErrInvalidExport) {
			t.Errorf("%s to %s: got %v, want an ExportError at %s saying %q", tc.start, tc.end, err, tc.path, tc.want)
			continue
		}
		if strings.Contains(err.Error(), "2562047h") || strings.Contains(err.Error(), "grid") {
			t.Errorf("%s to %s: %v names a saturated length or the grid", tc.start, tc.end, err)
		}
		if _, err := MergeExports(a, []*Export{ex}); !errors.As(err, &ee) || ee.Path != tc.path {
			t.Errorf("%s to %s: merge: got %v, want the same refusal", tc.start, tc.end, err)
		}
	}
	// The extremes a monitor makes are accepted: a 50-year window holding
	// the first event time (it starts in 1720), and one holding the last.
	for _, tc := range []struct{ at time.Time }{{MinEventTime}, {MaxEventTime.Add(-time.Nanosecond)}} {
		_, ex := checkedExport(t)
		start := WindowStart(tc.at, MaxWindow)
		ex.Windows[0].Start, ex.Windows[0].End = start, start.Add(MaxWindow)
		if err := ex.Check(a); err != nil {
			t.Errorf("window %s to %s of length MaxWindow holding %s: %v", start, start.Add(MaxWindow), tc.at, err)
		}
	}
}
