package main

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/normguard/normguard/drift"
	"github.com/normguard/normguard/monitor"
	"github.com/normguard/normguard/quickstart"
)

// flightsSample returns the header and the data lines of the shipped
// flights sample (every tenth row of January to June 2001).
func flightsSample(t *testing.T) (string, []string) {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "quickstart", "flights_2001h1_sample.csv.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(z)
	sc.Scan()
	header := sc.Text()
	var lines []string
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return header, lines
}

// weekOf returns the start of the 7-day window of a flights line, by
// arithmetic on its date: the ISO week's Monday, whole days since Monday
// 1970-01-05 rounded down to a multiple of 7.
func weekOf(t *testing.T, line string) time.Time {
	t.Helper()
	d, err := time.Parse("2006-01-02 15:04", line[:strings.IndexByte(line, ',')])
	if err != nil {
		t.Fatal(err)
	}
	days := d.Unix()/86400 - 4 // since Monday 1970-01-05 (flights are of 2001)
	return time.Unix((days/7*7+4)*86400, 0).UTC()
}

// fitFlights writes the training rows lines under header to
// dir/train.csv and quickstart's spec to dir/spec.yaml, and fits them to
// dir/a.json; it returns the paths of the rows and the artifact.
func fitFlights(t *testing.T, dir, header string, lines []string) (trainPath, art string) {
	t.Helper()
	trainPath, spec, art := filepath.Join(dir, "train.csv"), filepath.Join(dir, "spec.yaml"), filepath.Join(dir, "a.json")
	writeLines(t, trainPath, header, lines)
	if err := os.WriteFile(spec, []byte(quickstart.Spec), 0o644); err != nil {
		t.Fatal(err)
	}
	mustRun(t, "fit", "-q", "--spec", spec, "--data", trainPath, "--out", art)
	return trainPath, art
}

func writeLines(t *testing.T, path, header string, lines []string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(header+"\n"+strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestReplayFlightsByWeek replays the shipped flights months by week
// against an artifact fitted on January and February, and checks each
// window against `normguard drift --artifact` run on a file of that
// week's rows: the same features, statistics, p-values and verdicts, so
// the weeks where delay drifts are the same; and with --method ks, each
// week's statistic for delay against scipy.stats.ks_2samp of the week's
// rows and the training rows. The artifact is fitted with the
// quickstart's spec on January and February.
func TestReplayFlightsByWeek(t *testing.T) {
	dir := t.TempDir()
	header, lines := flightsSample(t)
	var train []string
	weeks := map[time.Time][]string{}
	for _, l := range lines {
		if l < "2001-03" {
			train = append(train, l)
		}
		w := weekOf(t, l)
		weeks[w] = append(weeks[w], l)
	}
	all := filepath.Join(dir, "all.csv")
	writeLines(t, all, header, lines)
	_, art := fitFlights(t, dir, header, train)

	code, out, stderr := runCLI(t, "monitor", "replay", "--artifact", art, "--data", all, "--time-column", "date", "--window", "7d", "--format", "json")
	if code != ExitFound {
		t.Fatalf("replay exit %d, want %d (delay drifts in some weeks); stderr %s", code, ExitFound, stderr)
	}
	var tl monitor.Timeline
	if err := json.Unmarshal([]byte(out), &tl); err != nil {
		t.Fatal(err)
	}
	if len(tl.Windows) != len(weeks) {
		t.Fatalf("got %d windows, want %d weeks", len(tl.Windows), len(weeks))
	}
	starts := make([]time.Time, 0, len(weeks))
	for w := range weeks {
		starts = append(starts, w)
	}
	sort.Slice(starts, func(i, j int) bool { return starts[i].Before(starts[j]) })
	// scipy.stats.ks_2samp of each week's delay against the training
	// rows' (testdata/replay/reference.py): the replay's ks against the
	// profile is within its statistic_error_bound of it.
	var ref struct {
		Windows []struct {
			Start string  `json:"start"`
			Rows  int64   `json:"rows"`
			KS    float64 `json:"ks"`
		} `json:"windows"`
	}
	refJSON, err := os.ReadFile(filepath.Join("testdata", "replay", "ks_delay_by_week.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(refJSON, &ref); err != nil {
		t.Fatal(err)
	}
	if len(ref.Windows) != len(weeks) {
		t.Fatalf("scipy reference has %d weeks, want %d", len(ref.Windows), len(weeks))
	}
	_, ksOut, _ := runCLI(t, "monitor", "replay", "--artifact", art, "--data", all, "--time-column", "date", "--window", "7d", "--method", "ks", "--format", "json")
	var ksTL monitor.Timeline
	if err := json.Unmarshal([]byte(ksOut), &ksTL); err != nil {
		t.Fatal(err)
	}
	for i, rw := range ref.Windows {
		win := ksTL.Windows[i]
		if win.Start.Format(time.DateOnly) != rw.Start || win.Rows != rw.Rows {
			t.Fatalf("week %d: got %v with %d rows, scipy's reference %s with %d", i, win.Start, win.Rows, rw.Start, rw.Rows)
		}
		for _, f := range win.Report.Features {
			if f.Name != "delay" {
				continue
			}
			if f.StatisticErrorBound == nil {
				t.Fatalf("week %s: ks has no statistic_error_bound", rw.Start)
			}
			bound := float64(*f.StatisticErrorBound)
			if d := math.Abs(float64(f.Statistic) - rw.KS); d > bound+1e-12 {
				t.Errorf("week %s: ks against the profile %v, scipy's ks_2samp %v: off by %v, beyond the bound %v", rw.Start, f.Statistic, rw.KS, d, bound)
			}
		}
	}

	var delayWeeks []string
	for i, w := range starts {
		win := tl.Windows[i]
		if !win.Start.Equal(w) || win.Rows != int64(len(weeks[w])) {
			t.Fatalf("window %d: got %v with %d rows, want %v with %d", i, win.Start, win.Rows, w, len(weeks[w]))
		}
		path := filepath.Join(dir, fmt.Sprintf("week%02d.csv", i))
		writeLines(t, path, header, weeks[w])
		_, dout, _ := runCLI(t, "drift", "--artifact", art, "--current", path, "--format", "json")
		var rep struct {
			Features []drift.Feature `json:"features"`
		}
		if err := json.Unmarshal([]byte(dout), &rep); err != nil {
			t.Fatalf("week %v: drift output %q: %v", w, dout, err)
		}
		want := map[string]drift.Feature{}
		for _, f := range rep.Features {
			want[f.Name] = f
		}
		if len(win.Report.Features) != len(want) {
			t.Errorf("week %v: got %d features, drift reports %d", w, len(win.Report.Features), len(want))
		}
		for _, got := range win.Report.Features {
			exp, ok := want[got.Name]
			if !ok {
				t.Errorf("week %v: feature %s not in drift's report", w, got.Name)
				continue
			}
			if !sameFloat(float64(got.Statistic), float64(exp.Statistic)) || !sameFloat(float64(got.PValue), float64(exp.PValue)) ||
				got.Drift != exp.Drift || got.Method != exp.Method || got.CurrentCount != exp.CurrentCount {
				t.Errorf("week %v %s: got %s %v p %v drift %v (n %d), drift --artifact %s %v p %v drift %v (n %d)", w, got.Name,
					got.Method, got.Statistic, got.PValue, got.Drift, got.CurrentCount, exp.Method, exp.Statistic, exp.PValue, exp.Drift, exp.CurrentCount)
			}
			if got.Name == "delay" && got.Drift {
				delayWeeks = append(delayWeeks, w.Format(time.DateOnly))
			}
		}
	}
	if len(delayWeeks) == 0 {
		t.Fatal("delay drifts in no week; the replay should show the weeks where it does")
	}
	for _, fd := range tl.FirstDrift {
		if fd.Feature == "delay" && (fd.Start == nil || fd.Start.Format(time.DateOnly) != delayWeeks[0]) {
			t.Errorf("first drift of delay: got %v, want %s", fd.Start, delayWeeks[0])
		}
	}
	t.Logf("delay drifts in the weeks starting %v", delayWeeks)

	// The table and the HTML page name the first drifting week of delay;
	// the page is written whole to --out.
	_, table, _ := runCLI(t, "monitor", "replay", "--artifact", art, "--data", all, "--time-column", "date", "--window", "7d")
	if !strings.Contains(table, "delay        "+delayWeeks[0]) {
		t.Errorf("table does not give delay's first drifting week %s:\n%s", delayWeeks[0], table)
	}
	page := filepath.Join(dir, "timeline.html")
	if code, _, stderr := runCLI(t, "monitor", "replay", "--artifact", art, "--data", all, "--time-column", "date", "--window", "7d", "--format", "html", "--out", page); code != ExitFound {
		t.Fatalf("html: exit %d, stderr %s", code, stderr)
	}
	html, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(html), `<table class="timeline">`) || strings.Count(string(html), `class="drift"`) != len(delayWeeks) || !strings.HasSuffix(string(html), "</html>\n") {
		t.Errorf("html page: want the timeline with %d drifting cells, whole", len(delayWeeks))
	}

	// Bad input: exit 2 naming the problem.
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--time-column", "when", "--window", "7d"}, `no column "when"`},
		{[]string{"--time-column", "delay", "--window", "7d"}, "no row has a time"},
		{[]string{"--time-column", "date", "--window", "7x"}, "--window"},
	} {
		args := append([]string{"monitor", "replay", "--artifact", art, "--data", all}, tc.args...)
		if code, _, stderr := runCLI(t, args...); code != ExitError || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tc.args, code, stderr, tc.want)
		}
	}
}

// sameFloat compares two statistics as the JSON wrote them (NaN as null).
func sameFloat(a, b float64) bool { return a == b || (a != a && b != b) }

// TestReplayTimesOutOfRange: times that parse but lie outside the range
// windows are kept in are named as such, not as times that do not parse
// (attack run 16).
func TestReplayTimesOutOfRange(t *testing.T) {
	dir := t.TempDir()
	header, lines := flightsSample(t)
	var train, old []string
	for _, l := range lines {
		if l < "2001-03" {
			train = append(train, l)
		}
		if len(old) < 50 {
			old = append(old, "1701"+l[4:]) // the same rows, in 1701
		}
	}
	_, art := fitFlights(t, dir, header, train)
	oldPath := filepath.Join(dir, "old.csv")
	writeLines(t, oldPath, header, old)
	code, _, stderr := runCLI(t, "monitor", "replay", "--artifact", art, "--data", oldPath, "--time-column", "date", "--window", "7d")
	if code != ExitError || !strings.Contains(stderr, "50 of 50 rows hold times before 1750 or from 2200") || strings.Contains(stderr, "that parses") {
		t.Errorf("replay of rows of 1701: exit %d, stderr %q; want 2 naming the range", code, stderr)
	}
}

// TestReplayMissingFeatureIsExit1: data lacking a feature column of the
// artifact is reported MISSING with exit 1 by drift --artifact; replay
// listed it in the JSON only and exited 0 when nothing drifted (found
// beside attack run 20 F1). The training rows themselves, with distance
// left out, drift nowhere: both commands exit 1 naming distance.
func TestReplayMissingFeatureIsExit1(t *testing.T) {
	dir := t.TempDir()
	header, lines := flightsSample(t)
	cols := strings.Split(header, ",")
	drop := slices.Index(cols, "distance")
	if drop < 0 {
		t.Fatalf("no distance column in %q", header)
	}
	without := func(line string) string {
		f := strings.Split(line, ",")
		return strings.Join(slices.Delete(f, drop, drop+1), ",")
	}
	var train, cut []string
	for _, l := range lines {
		if l < "2001-03" {
			train = append(train, l)
			cut = append(cut, without(l))
		}
	}
	trainPath, art := fitFlights(t, dir, header, train)
	cutPath := filepath.Join(dir, "cut.csv")
	writeLines(t, cutPath, without(header), cut)
	if code, stdout, stderr := runCLI(t, "monitor", "replay", "--artifact", art, "--data", trainPath, "--time-column", "date", "--window", "30d"); code != ExitOK {
		t.Fatalf("replay of the training rows: exit %d\n%s%s", code, stdout, stderr)
	}
	if code, _, _ := runCLI(t, "drift", "--artifact", art, "--current", cutPath); code != ExitFound {
		t.Fatalf("drift --artifact without distance: exit %d, want 1", code)
	}
	code, _, stderr := runCLI(t, "monitor", "replay", "--artifact", art, "--data", cutPath, "--time-column", "date", "--window", "30d")
	if code != ExitFound || !strings.Contains(stderr, `no column "distance" of the artifact's features`) {
		t.Errorf("replay without distance: exit %d, stderr %q; want 1 naming distance", code, stderr)
	}
}

// TestReplayMissingPassthroughNotAFinding (attack run 21): a passthrough
// column the data lacks (an id the production rows do not carry) is named
// on standard error but does not fail the replay, which takes no
// --exclude: the training rows replay clean with and without it.
func TestReplayMissingPassthroughNotAFinding(t *testing.T) {
	dir := t.TempDir()
	header, lines := flightsSample(t)
	var train, plain []string
	for i, l := range lines {
		if l < "2001-03" {
			train = append(train, fmt.Sprintf("%s,%d", l, i%7)) // an id-like column that does not drift by window
			plain = append(plain, l)
		}
	}
	trainPath, art := fitFlights(t, dir, header+",id", train)
	plainPath := filepath.Join(dir, "plain.csv")
	writeLines(t, plainPath, header, plain)
	if code, stdout, stderr := runCLI(t, "monitor", "replay", "--artifact", art, "--data", trainPath, "--time-column", "date", "--window", "30d"); code != ExitOK {
		t.Fatalf("replay of the training rows: exit %d\n%s%s", code, stdout, stderr)
	}
	code, _, stderr := runCLI(t, "monitor", "replay", "--artifact", art, "--data", plainPath, "--time-column", "date", "--window", "30d")
	if code != ExitOK || !strings.Contains(stderr, `no passthrough column "id"`) || strings.Contains(stderr, "MISSING") {
		t.Errorf("replay without the id: exit %d, stderr %q; want 0 naming the passthrough id", code, stderr)
	}
}

// TestNestedCommandHelpNamed (attack run 21): a flag error of a nested
// command pointed to `normguard replay --help` (no such command) or to
// `normguard export --help` (the ONNX export); it names the command's
// whole path.
func TestNestedCommandHelpNamed(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"monitor", "replay", "--bogus"}, "(see `normguard monitor replay --help`)"},
		{[]string{"monitor", "export"}, "(see `normguard monitor export --help`)"},
		{[]string{"drift", "--bogus"}, "(see `normguard drift --help`)"},
	} {
		code, _, stderr := runCLI(t, c.args...)
		if code != ExitError || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %s", c.args, code, stderr, c.want)
		}
	}
}

// TestReplayWindowWithoutValuesIsExit2 (attack run 21 F1): a window whose
// rows all miss a feature was shown clean ("0 of 4"), exit 0, its error
// only in the JSON, where drift --artifact of those rows exits 2. Replay
// writes the timeline, then exits 2 naming the window and the feature.
func TestReplayWindowWithoutValuesIsExit2(t *testing.T) {
	dir := t.TempDir()
	header, lines := flightsSample(t)
	cols := strings.Split(header, ",")
	k := slices.Index(cols, "distance")
	var train, blanked []string
	for _, l := range lines {
		if l >= "2001-03" {
			continue
		}
		train = append(train, l)
		if d := l[:10]; d >= "2001-01-18" && d < "2001-02-17" { // the whole second 30-day window
			f := strings.Split(l, ",")
			f[k] = ""
			l = strings.Join(f, ",")
		}
		blanked = append(blanked, l)
	}
	_, art := fitFlights(t, dir, header, train)
	blankPath := filepath.Join(dir, "blank.csv")
	writeLines(t, blankPath, header, blanked)
	code, stdout, stderr := runCLI(t, "monitor", "replay", "--artifact", art, "--data", blankPath, "--time-column", "date", "--window", "30d")
	if code != ExitError || !strings.Contains(stderr, "window 2001-01-18T00:00:00Z: distance:") || !strings.Contains(stdout, "2001-01-18") {
		t.Errorf("replay with a window without distance: exit %d, stderr %q; want 2 naming the window and distance after the timeline", code, stderr)
	}
}
