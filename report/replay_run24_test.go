package report

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/normguard/normguard/drift"
	"github.com/normguard/normguard/monitor"
	"github.com/normguard/normguard/validate"
)

// run24Timeline returns a timeline of n windows of length step from
// 2026-01-05 00:00 UTC (window spelling w), x drifting in window 7 and
// an anomaly in window 13.
func run24Timeline(w string, step time.Duration, n int) *monitor.Timeline {
	t0 := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	tl := &monitor.Timeline{TimeColumn: "t", Window: w, Rows: int64(10 * n)}
	for i := range n {
		start := t0.Add(time.Duration(i) * step)
		win := monitor.TimelineWindow{Start: start, End: start.Add(step), Rows: 10, Drifted: []string{},
			Report: &drift.Report{Features: []drift.Feature{{Name: "x", Type: "numeric", Method: "auto:ks", Statistic: 0.1, PValue: 0.5, Threshold: 0.05}}, MissingFeatures: []string{}}}
		if i == 7 {
			win.Drifted = []string{"x"}
			win.Report.Features[0].Drift = true
		}
		if i == 13 {
			win.Anomalies = []validate.Anomaly{{Column: "x", Code: "out_of_range", Severity: "warning", Description: "1 of 10 outside"}}
		}
		tl.Windows = append(tl.Windows, win)
	}
	s7 := tl.Windows[7].Start
	tl.FirstDrift = []monitor.FirstDrift{{Feature: "x", Start: &s7}}
	return tl
}

// TestReplayLabelsShortWindowsRun24 checks attack run 24 finding 7:
// windows shorter than a minute were labelled to the minute in the
// table and the page (60 windows of 10 s, 11 labels), so the anomaly list
// and the first-drift table could not say which window they meant. Each
// label must be the window's start to the window's precision: 10 s
// windows to the second (window 7 starts at 00:01:10, window 13 at
// 00:02:10), 250 ms windows to the millisecond (window 7 at 00:00:01.750);
// windows of whole minutes keep their labels (an hour: "2026-01-05" at
// midnight, then "2026-01-05 07:00").
func TestReplayLabelsShortWindowsRun24(t *testing.T) {
	cases := []struct {
		w                  string
		step               time.Duration
		label0, label7, an string
	}{
		{"10s", 10 * time.Second, "2026-01-05 00:00:00", "2026-01-05 00:01:10", "2026-01-05 00:02:10"},
		{"250ms", 250 * time.Millisecond, "2026-01-05 00:00:00.000", "2026-01-05 00:00:01.750", "2026-01-05 00:00:03.250"},
		{"90s", 90 * time.Second, "2026-01-05 00:00:00", "2026-01-05 00:10:30", "2026-01-05 00:19:30"},
		{"1h", time.Hour, "2026-01-05", "2026-01-05 07:00", "2026-01-05 13:00"},
	}
	for _, c := range cases {
		for _, merged := range []bool{false, true} {
			tl := run24Timeline(c.w, c.step, 60)
			if merged {
				tl.Window = "" // a merge of windows of several lengths: each window's own
			}
			var buf bytes.Buffer
			if err := ReplayTable(&buf, tl, false); err != nil {
				t.Fatal(err)
			}
			out := buf.String()
			labels := map[string]bool{}
			var lines []string
			for _, l := range strings.Split(out, "\n") {
				if strings.HasPrefix(l, "2026-") && strings.Contains(l, " of 1 ") {
					lines = append(lines, l)
					labels[strings.TrimSpace(l[:strings.Index(l, "  ")])] = true
				}
			}
			if len(lines) != 60 || len(labels) != 60 {
				t.Errorf("%s (merged %v): %d window lines, %d distinct labels; want 60 and 60\n%s", c.w, merged, len(lines), len(labels), out)
				continue
			}
			if !strings.HasPrefix(lines[0], c.label0+" ") || !strings.HasPrefix(lines[7], c.label7+" ") {
				t.Errorf("%s (merged %v): window 0 %q, window 7 %q; want %s, %s", c.w, merged, lines[0], lines[7], c.label0, c.label7)
			}
			if !strings.Contains(out, "\n"+c.an+"  ") || !strings.Contains(out, "x        "+c.label7+"\n") && !strings.Contains(out, "x  "+c.label7) {
				t.Errorf("%s (merged %v): anomaly list or first-drift table without %s / %s\n%s", c.w, merged, c.an, c.label7, out)
			}
			if merged {
				continue
			}
			buf.Reset()
			if err := ReplayHTML(&buf, tl, HTMLMeta{}); err != nil {
				t.Fatal(err)
			}
			page := buf.String()
			if n := strings.Count(page, `<td class="when">`+c.label7+`<`); n != 1 {
				t.Errorf("%s: page holds %d rows labelled %s, want 1", c.w, n, c.label7)
			}
			if !strings.Contains(page, "<td>x</td><td>"+c.label7+"</td>") {
				t.Errorf("%s: page's first-drift table does not say %s", c.w, c.label7)
			}
		}
	}
}
