package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/normguard/normguard/drift"
	"github.com/normguard/normguard/monitor"
	"github.com/normguard/normguard/validate"
)

// TestReplayAnomaliesRun22 checks that a timeline's windows show the
// anomalies validate's rules found in them (attack run 22 F2: replay and
// merge ran none): in the JSON inside the window's report, as drift
// --artifact writes "anomalies" beside its features (an empty list for a
// window checked clean, none for a window not checked), on the window's
// table line and in a list after the table, and in the page's grid.
func TestReplayAnomaliesRun22(t *testing.T) {
	t0 := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	rep := func() *drift.Report {
		return &drift.Report{Features: []drift.Feature{{Name: "x", Type: "numeric", Method: "auto:ks", Statistic: 0.1, PValue: 0.5, Threshold: 0.05}}, MissingFeatures: []string{}}
	}
	an := validate.Anomaly{Column: "x", Code: "missing_rate_change", Severity: "warning", Description: "missing in 60% of rows", Fix: "find why"}
	tl := &monitor.Timeline{TimeColumn: "t", Window: "7d", Rows: 336}
	tl.Windows = []monitor.TimelineWindow{
		{Start: t0, End: t0.AddDate(0, 0, 7), Rows: 168, Drifted: []string{}, Report: rep(), Anomalies: []validate.Anomaly{an}},
		{Start: t0.AddDate(0, 0, 7), End: t0.AddDate(0, 0, 14), Rows: 168, Drifted: []string{}, Report: rep(), Anomalies: []validate.Anomaly{}},
		{Start: t0.AddDate(0, 0, 14), End: t0.AddDate(0, 0, 21), Rows: 1, Drifted: []string{}, Report: rep()},
	}
	tl.FirstDrift = []monitor.FirstDrift{{Feature: "x"}}
	if !tl.Found() || tl.Drifted() || tl.Windows[1].Found() {
		t.Errorf("Found %v Drifted %v, window 2 found %v; want true, false, false", tl.Found(), tl.Drifted(), tl.Windows[1].Found())
	}
	var buf bytes.Buffer
	if err := ReplayJSON(&buf, tl); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Windows []struct {
			Report map[string]json.RawMessage `json:"report"`
		} `json:"windows"`
	}
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Windows) != 3 {
		t.Fatalf("%d windows", len(got.Windows))
	}
	if a := string(got.Windows[0].Report["anomalies"]); !strings.Contains(a, `"code": "missing_rate_change"`) || got.Windows[0].Report["features"] == nil {
		t.Errorf("window 1 report: anomalies %s", a)
	}
	if a, ok := got.Windows[1].Report["anomalies"]; !ok || strings.TrimSpace(string(a)) != "[]" {
		t.Errorf("window 2 (checked, clean): anomalies %s, want []", a)
	}
	if _, ok := got.Windows[2].Report["anomalies"]; ok {
		t.Errorf("window 3 (not checked): anomalies written")
	}
	buf.Reset()
	if err := ReplayTable(&buf, tl, false); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"2026-01-05  168   0 of 1    -; anomalies: x missing_rate_change\n",
		"\n1 data anomalies (the rules of normguard validate", "2026-01-05  x       missing_rate_change  missing in 60% of rows\n"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, buf.String())
		}
	}
	buf.Reset()
	if err := ReplayHTML(&buf, tl, HTMLMeta{}); err != nil {
		t.Fatal(err)
	}
	if h := buf.String(); !strings.Contains(h, `<th>anomalies</th>`) || !strings.Contains(h, `<td class="anomalous">x missing_rate_change</td>`) || strings.Count(h, `<td class="none">-</td>`) != 2 {
		t.Errorf("page lacks the anomalies:\n%s", h)
	}
}
