package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestReplayUntimedRun22 checks attack run 22 finding 4: rows whose time
// does not parse were left in no window, exit 0, only a table footer
// saying so. Rows never judged are no pass: the timeline of the other
// rows is written, then the error names the count, the first such value
// and its file line, and the layout the other rows' times parse in, exit
// 2; empty times count the same.
func TestReplayUntimedRun22(t *testing.T) {
	dir := t.TempDir()
	_, art := run22Fit(t, dir)
	t0 := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	var lines []string
	for i := range 336 {
		ts := t0.Add(time.Duration(i) * time.Hour)
		s := ts.Format(time.RFC3339)
		if i%2 == 1 {
			s = ts.Format("02/01/2006 15:04") // day-first, as a spreadsheet writes it
		}
		lines = append(lines, fmt.Sprintf("%s,%v,%s", s, 5+float64(i%7)/7, string("ab"[i%2])))
	}
	data := filepath.Join(dir, "data.csv")
	writeLines(t, data, "t,x,c", lines)
	out := filepath.Join(dir, "r.json")
	code, _, errOut := runCLI(t, "monitor", "replay", "--artifact", art, "--data", data, "--time-column", "t", "--window", "7d", "--format", "json", "--out", out)
	// Row 2 (0-based 1) is the first day-first one: line 3 of the file
	// (the header is line 1); 168 of the 336 rows are day-first.
	for _, want := range []string{`168 of 336 rows (168 not a time that parses) have no event time in column "t"`,
		`line 3: "05/01/2026 01:00" (a day-first or month-first date`, `parse as RFC 3339 (e.g. "2026-01-05T00:00:00Z")`, "drop the rows without a time"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	if code != ExitError {
		t.Errorf("exit %d, want %d", code, ExitError)
	}
	var tl struct {
		Rows    int64             `json:"rows"`
		Untimed int64             `json:"untimed_rows"`
		Windows []json.RawMessage `json:"windows"`
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatalf("the timeline of the timed rows was not written: %v", err)
	}
	if err := json.Unmarshal(b, &tl); err != nil || tl.Rows != 336 || tl.Untimed != 168 || len(tl.Windows) != 2 {
		t.Errorf("timeline: %v rows %d untimed %d windows %d; want 336, 168, 2", err, tl.Rows, tl.Untimed, len(tl.Windows))
	}

	// Empty times: the 11th data row (line 12) is the first.
	for i := 10; i < len(lines); i += 50 {
		lines[i] = lines[i][strings.IndexByte(lines[i], ','):]
	}
	for i := range lines {
		if i%2 == 1 {
			lines[i] = t0.Add(time.Duration(i)*time.Hour).Format("2006-01-02 15:04") + lines[i][strings.IndexByte(lines[i], ','):]
		}
	}
	writeLines(t, data, "t,x,c", lines)
	code, stdout, errOut := runCLI(t, "monitor", "replay", "--artifact", art, "--data", data, "--time-column", "t", "--window", "7d")
	if code != ExitError || !strings.Contains(errOut, `7 of 336 rows (7 empty) have no event time`) || !strings.Contains(errOut, `line 12: "" (empty)`) {
		t.Errorf("empty times: exit %d, stderr:\n%s", code, errOut)
	}
	if !strings.Contains(stdout, "7 of 336 rows have no time that parses") {
		t.Errorf("the table of the timed rows was not written:\n%s", stdout)
	}
}
