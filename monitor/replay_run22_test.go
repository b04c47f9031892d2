package monitor

import (
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/normguard/normguard/drift"
	"github.com/normguard/normguard/table"
	"github.com/normguard/normguard/validate"
)

// TestReplayWindowsCheckedRun22 checks attack run 22 findings 1 and 2 in
// the library: x read as text (it holds text in the second window only)
// is judged as numbers where a window's values are all numbers, with the
// numbers Replay gives the same rows read as numbers, and skipped with
// validate's type_change where they are not; with Check, each window
// carries the anomalies validate.Check finds in its rows (a window where
// x is missing in most rows: missing_rate_change), never a clean window.
func TestReplayWindowsCheckedRun22(t *testing.T) {
	a := testArtifact(t)
	const n = 720 // three windows of 240 rows (4 h of minutes)
	cols := normalRows(22, n, trainMean)
	times := make([]string, n)
	t0 := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	for i := range times {
		times[i] = t0.Add(time.Duration(i) * time.Minute).Format(time.RFC3339)
	}
	text := table.Column{Name: "x", Kind: table.String, Str: make([]string, n)}
	for i, x := range cols[0].Num {
		text.Str[i] = strconv.FormatFloat(x, 'g', -1, 64)
		if i >= 240 && i < 480 && i%2 == 0 {
			text.Str[i] = "8 min"
		}
		if i >= 480 && i%4 != 0 { // window 3: x missing in 75% of rows
			text.Str[i] = ""
			cols[0].Num[i] = math.NaN()
		}
	}
	text.Null = make([]bool, n)
	for i := range text.Str {
		text.Null[i] = text.Str[i] == ""
	}
	asText := append([]table.Column{text}, cols[1:]...)
	header := []string{"x", "y", "c", "d"}
	opt := ReplayOptions{TimeColumn: "ts", Window: 4 * time.Hour, Check: true, Header: header}
	got, err := Replay(a, asText, times, opt)
	if err != nil {
		t.Fatal(err)
	}
	want, err := Replay(a, cols, times, ReplayOptions{TimeColumn: "ts", Window: 4 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Windows) != 3 || len(want.Windows) != 3 {
		t.Fatalf("%d and %d windows, want 3", len(got.Windows), len(want.Windows))
	}
	for wi := range got.Windows {
		g, w := got.Windows[wi], want.Windows[wi]
		var gx, wx *drift.Feature
		for k := range g.Report.Features {
			if g.Report.Features[k].Name == "x" {
				gx = &g.Report.Features[k]
			}
		}
		for k := range w.Report.Features {
			if w.Report.Features[k].Name == "x" {
				wx = &w.Report.Features[k]
			}
		}
		// validate.Check of the window's rows, as drift --artifact checks a file of them.
		rows := make([]int, 0, 240)
		for r := wi * 240; r < (wi+1)*240; r++ {
			rows = append(rows, r)
		}
		var wcols []table.Column
		for i := range asText {
			wcols = append(wcols, gather(&asText[i], rows))
		}
		vrep, err := validate.Check(a, wcols, validate.Options{})
		if err != nil {
			t.Fatal(err)
		}
		var codes, wantCodes []string
		for _, an := range g.Anomalies {
			codes = append(codes, an.Column+" "+an.Code)
		}
		for _, an := range vrep.Anomalies {
			wantCodes = append(wantCodes, an.Column+" "+an.Code)
		}
		if strings.Join(codes, ",") != strings.Join(wantCodes, ",") || g.Anomalies == nil {
			t.Errorf("window %d: anomalies %v, validate.Check of its rows %v", wi+1, codes, wantCodes)
		}
		switch wi {
		case 1:
			if gx == nil || gx.Skipped != drift.NotNumbersReason || strings.Join(codes, ",") != "x type_change" || !g.Found() {
				t.Errorf("window 2: x %+v, anomalies %v; want x skipped with a type_change", gx, codes)
			}
		default:
			if gx == nil || gx.Error != "" || gx.Skipped != "" || gx.Statistic != wx.Statistic || gx.PValue != wx.PValue || gx.Drift != wx.Drift {
				t.Errorf("window %d: x %+v; read as numbers %+v", wi+1, gx, wx)
			}
		}
		if wi == 2 && !strings.Contains(strings.Join(codes, ","), "x missing_rate_change") {
			t.Errorf("window 3: anomalies %v, want x missing_rate_change", codes)
		}
	}
}
