package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/normguard/normguard/quickstart"
)

// driftAnomaly is an anomaly as drift --artifact's JSON lists it.
type driftAnomaly struct {
	Column string `json:"column"`
	Code   string `json:"code"`
}

// driftChecked runs drift --artifact ... --format json and decodes the
// features and the anomalies of its validation.
func driftChecked(t *testing.T, cur string) (int, driftReportJSON, []driftAnomaly, bool) {
	t.Helper()
	dir, _ := flights(t)
	code, out, errOut := runCLI(t, "drift", "--artifact", filepath.Join(dir, quickstart.Files.Artifact), "--current", cur, "--format", "json")
	if out == "" {
		t.Fatalf("drift on %s: exit %d, no report: %s", cur, code, errOut)
	}
	var rep driftReportJSON
	var raw struct {
		Anomalies *[]driftAnomaly `json:"anomalies"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(out), &raw); err != nil {
		t.Fatal(err)
	}
	if raw.Anomalies == nil {
		return code, rep, nil, false
	}
	return code, rep, *raw.Anomalies, true
}

// TestDriftArtifactValidatesFirst: drift --artifact runs validate's rules
// on the current raw data first and reports their anomalies with the
// drift: none on June (the list is there and empty, so a reader can tell
// the check ran), missing_column and unexpected_column for a header typo,
// type_change for a numeric column written with a unit — which drift then
// skips instead of failing to read the file.
func TestDriftArtifactValidatesFirst(t *testing.T) {
	dir, _ := flights(t)
	june := filepath.Join(dir, quickstart.Files.Later)

	code, _, anomalies, ran := driftChecked(t, june)
	if !ran || len(anomalies) != 0 || code != ExitOK {
		t.Errorf("june: exit %d, anomalies %v (listed: %v); want exit 0 and an empty list", code, anomalies, ran)
	}

	typo := writeFiltered(t, june, func(string) bool { return true },
		func(h string) string { return strings.Replace(h, "delay", "dealy", 1) })
	code, _, anomalies, _ = driftChecked(t, typo)
	want := map[string]string{"delay": "missing_column", "dealy": "unexpected_column"}
	if code != ExitFound || len(anomalies) != len(want) {
		t.Errorf("typo: exit %d, anomalies %v; want exit 1 and %v", code, anomalies, want)
	}
	for _, a := range anomalies {
		if want[a.Column] != a.Code {
			t.Errorf("typo: anomaly %s on %s, want %v", a.Code, a.Column, want)
		}
	}

	// The page draws the anomalies above the features.
	page := filepath.Join(t.TempDir(), "drift.html")
	if code, _, errOut := runCLI(t, "drift", "--artifact", filepath.Join(dir, quickstart.Files.Artifact), "--current", typo, "--format", "html", "--out", page); code != ExitFound {
		t.Fatalf("typo html: exit %d: %s", code, errOut)
	}
	html, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	anomaliesAt, summaryAt := strings.Index(string(html), "Data anomalies"), strings.Index(string(html), "<h2>Summary</h2>")
	if anomaliesAt < 0 || anomaliesAt > summaryAt || !strings.Contains(string(html), `data-code="missing_column"`) || !strings.Contains(string(html), `data-code="unexpected_column"`) {
		t.Errorf("typo html: want the two anomaly cards before the summary (anomalies at %d, summary at %d)", anomaliesAt, summaryAt)
	}

	// delay is the second field of every row: "12" becomes "12 min".
	unit := regexp.MustCompile(`^([^,]*),([^,]*),`)
	minutes := mapRows(t, june, func(line string) string { return unit.ReplaceAllString(line, "$1,$2 min,") })
	code, rep, anomalies, _ := driftChecked(t, minutes)
	if code != ExitFound || len(anomalies) != 1 || anomalies[0].Code != "type_change" || anomalies[0].Column != "delay" {
		t.Errorf("unit: exit %d, anomalies %v; want exit 1 and one type_change on delay", code, anomalies)
	}
	found := false
	for _, f := range rep.Features {
		if f.Name == "delay" {
			found = true
			if f.Skipped == "" || f.Drift {
				t.Errorf("unit: delay compared (%+v); want it skipped", f)
			}
		} else if f.Skipped != "" || f.Error != "" {
			t.Errorf("unit: %s skipped or failed: %+v", f.Name, f)
		}
	}
	if !found {
		t.Error("unit: delay is not in the report; want it listed as skipped")
	}
}

// mapRows writes src's header and each of its data lines passed through
// edit to a new file in a temporary folder.
func mapRows(t *testing.T, src string, edit func(line string) string) string {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	for i := 1; i < len(lines); i++ {
		lines[i] = edit(lines[i])
	}
	out := filepath.Join(t.TempDir(), filepath.Base(src))
	if err := os.WriteFile(out, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestDriftNothingJudged: when every feature is skipped (here a
// numeric-only method on categorical columns) the report of nothing
// tested is not a pass: exit 2, the reasons named.
func TestDriftNothingJudged(t *testing.T) {
	dir, _ := flights(t)
	code, _, errOut := runCLI(t, "drift", "--reference", filepath.Join(dir, quickstart.Files.Train),
		"--current", filepath.Join(dir, quickstart.Files.Later), "--columns", "origin,destination", "--method", "ks")
	if code != ExitError || !strings.Contains(errOut, "no feature could be judged") || !strings.Contains(errOut, "origin") {
		t.Errorf("exit %d, stderr %q; want exit 2 naming the skipped features", code, errOut)
	}
}
