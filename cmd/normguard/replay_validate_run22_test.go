package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/drift"
	"github.com/normguard/normguard/monitor"
	"github.com/normguard/normguard/table"
)

// run22Window is a timeline window as the JSON writes it: the report with
// its features and the anomalies validate's rules found.
type run22Window struct {
	Start   time.Time `json:"start"`
	Rows    int64     `json:"rows"`
	Drifted []string  `json:"drifted"`
	Report  struct {
		Features []struct {
			Name      string   `json:"name"`
			Statistic *float64 `json:"statistic"`
			PValue    *float64 `json:"p_value"`
			Drift     bool     `json:"drift"`
			Skipped   string   `json:"skipped"`
			Error     string   `json:"error"`
		} `json:"features"`
		Anomalies []struct {
			Column       string `json:"column"`
			Code         string `json:"code"`
			Description  string `json:"description"`
			CurrentCount int64  `json:"current_count"`
			CurrentTotal int64  `json:"current_total"`
		} `json:"anomalies"`
	} `json:"report"`
}

// run22Timeline runs args (a replay or merge with --format json) and
// returns its exit status and windows.
func run22Timeline(t *testing.T, args ...string) (int, []run22Window, string) {
	t.Helper()
	code, out, errOut := runCLI(t, append(args, "--format", "json")...)
	var tl struct {
		Windows []run22Window `json:"windows"`
	}
	if err := json.Unmarshal([]byte(out), &tl); err != nil {
		t.Fatalf("%v: exit %d, %v\n%s%s", args, code, err, out, errOut)
	}
	return code, tl.Windows, errOut
}

// TestReplayTextInOneWindowRun22 checks attack run 22 finding 1: a
// numeric column holding text in one window ("8 min" in half of week 2's
// rows) was read as text for the whole data, so x was judged in no
// window, each erroring with a wrong cause. Each window is judged as
// drift --artifact judges a file of its rows: weeks 1 and 3 (numbers
// only) with the same numbers as drift --artifact of their rows, week 2
// with x skipped and validate's type_change naming the text; exit 1.
func TestReplayTextInOneWindowRun22(t *testing.T) {
	dir := t.TempDir()
	_, art := run22Fit(t, dir)
	t0 := time.Date(2025, 12, 29, 0, 0, 0, 0, time.UTC) // a Monday
	var lines []string
	weeks := map[string][]string{}
	for i := range 3 * 168 {
		ts := t0.Add(time.Duration(i) * time.Hour)
		x := fmt.Sprint(4.6 + float64(i%11)/10) // week 1 and 3: numbers
		if i >= 168 && i < 336 && i%2 == 0 {
			x = fmt.Sprintf("%d min", 1+i%9)
		}
		l := fmt.Sprintf("%s,%s,%s", ts.Format(time.RFC3339), x, string("ab"[i%3%2]))
		lines = append(lines, l)
		wk := fmt.Sprintf("week%d", i/168+1)
		weeks[wk] = append(weeks[wk], l)
	}
	data := filepath.Join(dir, "data.csv")
	writeLines(t, data, "t,x,c", lines)
	code, wins, errOut := run22Timeline(t, "monitor", "replay", "--artifact", art, "--data", data, "--time-column", "t", "--window", "7d")
	if code != ExitFound || len(wins) != 3 {
		t.Fatalf("replay: exit %d, %d windows; want 1, 3\n%s", code, len(wins), errOut)
	}
	for wi, w := range wins {
		path := filepath.Join(dir, fmt.Sprintf("week%d.csv", wi+1))
		writeLines(t, path, "t,x,c", weeks[fmt.Sprintf("week%d", wi+1)])
		dcode, dout, derr := runCLI(t, "drift", "--artifact", art, "--current", path, "--format", "json")
		var d struct {
			Features []struct {
				Name      string   `json:"name"`
				Statistic *float64 `json:"statistic"`
				PValue    *float64 `json:"p_value"`
				Drift     bool     `json:"drift"`
				Skipped   string   `json:"skipped"`
			} `json:"features"`
			Anomalies []struct {
				Column, Code, Description string
			} `json:"anomalies"`
		}
		if err := json.Unmarshal([]byte(dout), &d); err != nil {
			t.Fatalf("drift --artifact %s: exit %d %v %s", path, dcode, err, derr)
		}
		var x *struct {
			Name      string   `json:"name"`
			Statistic *float64 `json:"statistic"`
			PValue    *float64 `json:"p_value"`
			Drift     bool     `json:"drift"`
			Skipped   string   `json:"skipped"`
			Error     string   `json:"error"`
		}
		for k := range w.Report.Features {
			if w.Report.Features[k].Name == "x" {
				x = &w.Report.Features[k]
			}
		}
		if x == nil {
			t.Fatalf("window %d: no feature x", wi+1)
		}
		if x.Error != "" {
			t.Errorf("window %d: x errors: %s", wi+1, x.Error)
		}
		for _, f := range d.Features {
			if f.Name != "x" {
				continue
			}
			same := f.Drift == x.Drift && f.Skipped == x.Skipped && fmt.Sprint(deref(f.Statistic)) == fmt.Sprint(deref(x.Statistic)) && fmt.Sprint(deref(f.PValue)) == fmt.Sprint(deref(x.PValue))
			if !same {
				t.Errorf("window %d: x statistic %v p %v drift %v skipped %q; drift --artifact of its rows: %v p %v drift %v skipped %q", wi+1,
					deref(x.Statistic), deref(x.PValue), x.Drift, x.Skipped, deref(f.Statistic), deref(f.PValue), f.Drift, f.Skipped)
			}
		}
		var codes, dcodes []string
		for _, an := range w.Report.Anomalies {
			codes = append(codes, an.Column+" "+an.Code+": "+an.Description)
		}
		for _, an := range d.Anomalies {
			dcodes = append(dcodes, an.Column+" "+an.Code+": "+an.Description)
		}
		if !slices.Equal(codes, dcodes) {
			t.Errorf("window %d anomalies %q; drift --artifact of its rows %q", wi+1, codes, dcodes)
		}
		if wi == 1 {
			// 84 of 168 values are text (every other row): skipped, named.
			if x.Skipped != drift.NotNumbersReason || len(codes) != 1 || !strings.Contains(codes[0], `x type_change: 84 of 168 present values`) || !strings.Contains(codes[0], `min"`) {
				t.Errorf("week 2: x skipped %q, anomalies %q; want skipped and a type_change naming the text", x.Skipped, codes)
			}
		} else if x.Skipped != "" || x.Statistic == nil {
			t.Errorf("week %d: x not judged: %+v", wi+1, *x)
		}
	}
	if strings.Contains(errOut, "categorical in the data") || strings.Contains(errOut, "all miss a feature") {
		t.Errorf("stderr gives the wrong cause: %s", errOut)
	}
}

// TestReplayMergeAnomaliesRun22 checks attack run 22 finding 2: replay
// and merge ran none of validate's rules per window, so a week where x is
// missing in 60% of rows (none at training) was clean, exit 0. The
// window carries the missing_rate_change drift --artifact finds in its
// rows (the count of missing rows as written), in the JSON and the
// table, exit 1; merged replicas' windows carry it as the service finds
// it, from the exports' counts.
func TestReplayMergeAnomaliesRun22(t *testing.T) {
	dir := t.TempDir()
	_, art := run22Fit(t, dir)
	missing := 0
	lines := run22Week(9, func(i int, x float64) string {
		if i%5 < 2 {
			return fmt.Sprint(x)
		}
		missing++
		return ""
	})
	week := filepath.Join(dir, "week.csv")
	writeLines(t, week, "t,x,c", lines)
	code, wins, errOut := run22Timeline(t, "monitor", "replay", "--artifact", art, "--data", week, "--time-column", "t", "--window", "7d")
	if code != ExitFound || len(wins) != 1 {
		t.Fatalf("replay: exit %d, %d windows; want 1, 1\n%s", code, len(wins), errOut)
	}
	an := wins[0].Report.Anomalies
	if len(an) != 1 || an[0].Column != "x" || an[0].Code != "missing_rate_change" || an[0].CurrentCount != int64(missing) || an[0].CurrentTotal != 168 {
		t.Errorf("replay window anomalies %+v; want x missing_rate_change, %d of 168", an, missing)
	}
	_, tbl, _ := runCLI(t, "monitor", "replay", "--artifact", art, "--data", week, "--time-column", "t", "--window", "7d")
	if !strings.Contains(tbl, "-; anomalies: x missing_rate_change") || !strings.Contains(tbl, "x       missing_rate_change  missing in ") {
		t.Errorf("the table does not show the anomaly:\n%s", tbl)
	}

	// Two replicas, each fed half the rows of an hour, merged.
	a, err := artifact.Load(art)
	if err != nil {
		t.Fatal(err)
	}
	hour := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	var exports []string
	missing = 0
	for r := range 2 {
		x := table.Column{Name: "x", Kind: table.Numeric}
		c := table.Column{Name: "c", Kind: table.String}
		for i := range 100 {
			v := 4.5 + float64(i%10)/10
			if (i+r)%5 >= 2 {
				v = math.NaN()
				missing++
			}
			x.Num = append(x.Num, v)
			c.Str = append(c.Str, string("ab"[i%2]))
		}
		state := filepath.Join(dir, fmt.Sprintf("r%d.db", r))
		mon, err := monitor.Open(state, monitor.Options{EvalInterval: time.Hour, Window: time.Hour, Now: func() time.Time { return hour }})
		if err != nil {
			t.Fatal(err)
		}
		if err := mon.Observe(context.Background(), "pr", a, monitor.StageInput, []table.Column{x, c}, 100); err != nil {
			t.Fatal(err)
		}
		if err := mon.Close(); err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(dir, fmt.Sprintf("r%d.json", r))
		mustRun(t, "monitor", "export", "--state", state, "--out", out)
		exports = append(exports, out)
	}
	code, wins, errOut = run22Timeline(t, append([]string{"monitor", "merge", "--artifact", art}, exports...)...)
	if code != ExitFound || len(wins) != 1 {
		t.Fatalf("merge: exit %d, %d windows; want 1, 1\n%s", code, len(wins), errOut)
	}
	an = wins[0].Report.Anomalies
	if len(an) != 1 || an[0].Column != "x" || an[0].Code != "missing_rate_change" || an[0].CurrentCount != int64(missing) || an[0].CurrentTotal != 200 {
		t.Errorf("merged window anomalies %+v; want x missing_rate_change, %d of 200", an, missing)
	}
	if _, err := os.Stat(exports[0]); err != nil {
		t.Fatal(err)
	}
}
