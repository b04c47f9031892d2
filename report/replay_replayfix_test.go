package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/normguard/normguard/drift"
	"github.com/normguard/normguard/monitor"
)

// replayfixTimeline returns a timeline of n windows whose reports hold
// what the writers draw: verdicts, errors, skips, effects, text to escape.
func replayfixTimeline(n int) *monitor.Timeline {
	t0 := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	tl := &monitor.Timeline{ArtifactDigest: "sha256:ab<c>&", TimeColumn: `ts "a" <b>`, Window: "1h", Rows: int64(10 * n), Untimed: 3}
	for i := 0; i < n; i++ {
		st := t0.Add(time.Duration(i) * time.Hour)
		fs := []drift.Feature{
			{Name: "x<1>", Type: "numeric", Method: "ks", Statistic: drift.JSONFloat(0.1 * float64(i)), PValue: 0.5, Threshold: 0.05, Drift: i%2 == 1,
				Effect: &drift.Effect{Name: "wasserstein_normed", Value: 0.2, Threshold: 0.1}, ReferenceCount: 100, CurrentCount: 10},
			{Name: "c&d", Type: "categorical", Method: "chisquare", Statistic: 3, PValue: 0.01, Threshold: 0.05, Drift: true, NewCategories: []string{"é", "<z>"}, NewCategoriesTotal: 2},
			{Name: "e", Type: "categorical", Skipped: "an identifier"},
		}
		if i == 2 {
			fs[0].Error = "no values \"here\""
		}
		rep := &drift.Report{Features: fs}
		w := monitor.TimelineWindow{Start: st, End: st.Add(time.Hour), Rows: 10, Drifted: []string{}, Report: rep}
		for _, f := range fs {
			if f.Drift {
				w.Drifted = append(w.Drifted, f.Name)
			}
		}
		tl.Windows = append(tl.Windows, w)
	}
	s1 := t0.Add(time.Hour)
	tl.FirstDrift = []monitor.FirstDrift{{Feature: "x<1>", Start: &s1}, {Feature: "c&d", Start: &t0}, {Feature: "e"}}
	return tl
}

// TestReplayWriterJSONAsMarshalIndent: the timeline written window by
// window (ReplayWriter, what normguard monitor replay streams) is
// json.MarshalIndent's encoding of the whole timeline and a newline, with
// windows, with none and with a null list (attack run 9 F3).
func TestReplayWriterJSONAsMarshalIndent(t *testing.T) {
	for _, n := range []int{0, 1, 5} {
		tl := replayfixTimeline(n)
		if n == 0 {
			tl.Windows = nil
		}
		want, err := json.MarshalIndent(tl, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, '\n')
		var got bytes.Buffer
		rw := NewReplayWriter(&got, "json", false, HTMLMeta{})
		for i := range tl.Windows {
			if err := rw.Window(tl, &tl.Windows[i]); err != nil {
				t.Fatal(err)
			}
		}
		if err := rw.Close(tl); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want) {
			t.Errorf("%d windows: written\n%s\nMarshalIndent\n%s", n, got.Bytes(), want)
		}
	}
}

// TestReplayWriterTableAndHTML: the table and page written window by
// window hold every window's line or row and the first drifts.
func TestReplayWriterTableAndHTML(t *testing.T) {
	tl := replayfixTimeline(4)
	var tb bytes.Buffer
	if err := ReplayTable(&tb, tl, false); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(tb.String(), "\n"), "\n")
	want := []string{
		"WINDOW            ROWS  DRIFTING  FEATURES",
		"2026-03-02        10    1 of 2    c&d",
		"2026-03-02 01:00  10    2 of 2    x<1>, c&d",
		"2026-03-02 02:00  10    1 of 1    c&d",
		"2026-03-02 03:00  10    2 of 2    x<1>, c&d",
		"",
		`4 windows of 1h by ts "a" <b>; 3 of 40 rows have no time that parses and are in no window`,
		"FEATURE  FIRST DRIFTING WINDOW",
		"x<1>     2026-03-02 01:00",
		"c&d      2026-03-02",
		"e        never",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("table:\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	var hb bytes.Buffer
	if err := ReplayHTML(&hb, tl, HTMLMeta{Current: "d.csv"}); err != nil {
		t.Fatal(err)
	}
	h := hb.String()
	for _, s := range []string{
		`<tr><td>x&lt;1&gt;</td><td>2026-03-02 01:00</td></tr>`,
		`<tr><td>e</td><td>never</td></tr>`,
		`<th>x&lt;1&gt;</th><th>c&amp;d</th><th>e</th>`,
		`<td class="none" title="no values &#34;here&#34;">error</td>`,
		`<td class="drift" title="ks: statistic 0.1, p-value 0.5, threshold 0.05; wasserstein_normed 0.2 (&gt; 0.1)">0.1</td>`,
		`<td class="none" title="an identifier">skipped</td>`,
	} {
		if !strings.Contains(h, s) {
			t.Errorf("the page lacks %s", s)
		}
	}
	if c := strings.Count(h, `<td class="when">`); c != 4 {
		t.Errorf("the page has %d window rows, want 4", c)
	}
}
