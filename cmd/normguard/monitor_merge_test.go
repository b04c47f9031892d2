package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/monitor"
	"github.com/normguard/normguard/quickstart"
	"github.com/normguard/normguard/table"
)

// TestMonitorExportMerge runs two monitoring stores fed alternate batches
// of June's flights by event time in weekly windows, and one fed them all,
// exports each with `monitor export` (the closed weeks of the history and
// the open one), and checks that `monitor merge` of the two, week by week,
// gives the third's export (--merged-out, byte for byte), the same
// timeline and the same anomalies in each week.
func TestMonitorExportMerge(t *testing.T) {
	dir := t.TempDir()
	header, lines := flightsSample(t)
	var train, june []string
	for _, l := range lines {
		switch {
		case l < "2001-03":
			train = append(train, l)
		case l >= "2001-06":
			june = append(june, l)
		}
	}
	_, art := fitFlights(t, dir, header, train)
	a, err := artifact.Load(art)
	if err != nil {
		t.Fatal(err)
	}
	junePath := filepath.Join(dir, "june.csv")
	writeLines(t, junePath, header, june)
	r, err := table.Open(junePath)
	if err != nil {
		t.Fatal(err)
	}
	fields := []table.Field{{Name: "date", Kind: table.String}, {Name: "delay", Kind: table.Numeric}, {Name: "distance", Kind: table.Numeric},
		{Name: "origin", Kind: table.String}, {Name: "destination", Kind: table.String}}
	if err := r.Project(fields); err != nil {
		t.Fatal(err)
	}
	cols, n, err := table.ReadAll(r, fields)
	r.Close()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	states := []string{filepath.Join(dir, "a.db"), filepath.Join(dir, "b.db"), filepath.Join(dir, "all.db")}
	mons := make([]*monitor.Monitor, 3)
	for i, s := range states {
		if mons[i], err = monitor.Open(s, monitor.Options{Now: func() time.Time { return now }, EvalInterval: time.Hour,
			TimeColumn: "date", Window: 7 * 24 * time.Hour}); err != nil {
			t.Fatal(err)
		}
	}
	const batch = 700
	for k, lo := 0, 0; lo < n; k, lo = k+1, lo+batch {
		hi := min(n, lo+batch)
		part := make([]table.Column, len(cols))
		for j, c := range cols {
			part[j] = table.Column{Name: c.Name, Kind: c.Kind}
			if c.Kind == table.String {
				part[j].Str = c.Str[lo:hi]
				if c.Null != nil {
					part[j].Null = c.Null[lo:hi]
				}
			} else {
				part[j].Num = c.Num[lo:hi]
			}
		}
		for _, m := range []*monitor.Monitor{mons[k%2], mons[2]} {
			if err := m.Observe(context.Background(), "flights", a, monitor.StageInput, part, hi-lo); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, m := range mons {
		// The closed weeks are judged a last time and go to the history.
		if err := m.Evaluate(context.Background()); err != nil {
			t.Fatal(err)
		}
		if err := m.Close(); err != nil {
			t.Fatal(err)
		}
	}
	// The four weeks before the last are closed: in the history, not in
	// memory; the export covers them from the history.
	mon, err := monitor.Open(states[2], monitor.Options{EvalInterval: time.Hour, TimeColumn: "date", Window: 7 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	inMemory, err := mon.Export("flights")
	if err != nil {
		t.Fatal(err)
	}
	withHistory, err := mon.ExportHistory("flights")
	if err != nil {
		t.Fatal(err)
	}
	if err := mon.Close(); err != nil {
		t.Fatal(err)
	}
	if len(inMemory.Windows) != 1 || len(withHistory.Windows) != 5 || len(withHistory.Skipped) != 0 {
		t.Fatalf("store: %d windows in memory, %d with the history (%d skipped); want 1 and 5", len(inMemory.Windows), len(withHistory.Windows), len(withHistory.Skipped))
	}
	exports := make([]string, 3)
	for i, s := range states {
		exports[i] = filepath.Join(dir, filepath.Base(s)+".json")
		mustRun(t, "monitor", "export", "--state", s, "--out", exports[i])
	}
	merged := filepath.Join(dir, "merged.json")
	code, mergedTL, stderr := runCLI(t, "monitor", "merge", "--artifact", art, "--method", "ks", "--format", "json", "--merged-out", merged, exports[0], exports[1])
	if code != ExitFound {
		t.Fatalf("merge exit %d, want %d (June's delay drifts by ks); stderr %s", code, ExitFound, stderr)
	}
	_, allTL, _ := runCLI(t, "monitor", "merge", "--artifact", art, "--method", "ks", "--format", "json", exports[2])
	if mergedTL != allTL {
		t.Errorf("timeline of the merged replicas differs from the one store's:\n%s\nwant\n%s", mergedTL, allTL)
	}
	got, err := os.ReadFile(merged)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(exports[2])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ex, err := monitor.ReadExport(f, exports[2])
	if err != nil {
		t.Fatal(err)
	}
	want, _ := json.MarshalIndent(ex, "", "  ")
	if !bytes.Equal(bytes.TrimSpace(got), want) {
		t.Errorf("merged export differs from the one store's export")
	}
	var tl monitor.Timeline
	if err := json.Unmarshal([]byte(mergedTL), &tl); err != nil {
		t.Fatal(err)
	}
	// June 2001's ISO weeks start on May 28, June 4, 11, 18 and 25.
	var weeks []string
	for _, w := range tl.Windows {
		weeks = append(weeks, w.Start.Format(time.DateOnly))
	}
	if strings.Join(weeks, " ") != "2001-05-28 2001-06-04 2001-06-11 2001-06-18 2001-06-25" || tl.Rows != int64(n) {
		t.Errorf("merged timeline: weeks %v with %d rows, want June's 5 ISO weeks with %d", weeks, tl.Rows, n)
	}
	drifts := false
	for _, w := range tl.Windows {
		drifts = drifts || slices.Contains(w.Drifted, "delay")
	}
	if !drifts {
		t.Errorf("delay drifts by ks in no week of June")
	}
	// The anomalies of each merged week are those of the one store's.
	var mergedEx monitor.Export
	if err := json.Unmarshal(got, &mergedEx); err != nil {
		t.Fatal(err)
	}
	for i := range ex.Windows {
		want, err := ex.Windows[i].Anomalies(a, ex.Bins)
		if err != nil {
			t.Fatal(err)
		}
		gotA, err := mergedEx.Windows[i].Anomalies(a, mergedEx.Bins)
		if err != nil {
			t.Fatal(err)
		}
		wj, _ := json.Marshal(want)
		gj, _ := json.Marshal(gotA)
		if !bytes.Equal(wj, gj) {
			t.Errorf("week %s: merged anomalies\n%s\nwant\n%s", ex.Windows[i].Start.Format(time.DateOnly), gj, wj)
		}
	}

	// Exports of another artifact do not merge.
	other := filepath.Join(dir, "other.json")
	mustRun(t, "fit", "--spec", filepath.Join(dir, "spec.yaml"), "--data", junePath, "--out", other)
	if code, _, stderr := runCLI(t, "monitor", "merge", "--artifact", other, exports[0], exports[1]); code != ExitError || !strings.Contains(stderr, "merge windows of one artifact") {
		t.Errorf("merge against another artifact: exit %d, stderr %q; want 2 and a message", code, stderr)
	}
}

// TestServePeersNeedsToken: serve --peers without NORMGUARD_TOKEN stops at
// start (exit 2, naming the variable) instead of failing every /drift
// later; a peer that is not a URL is refused too.
func TestServePeersNeedsToken(t *testing.T) {
	t.Setenv("NORMGUARD_TOKEN", "")
	reg := t.TempDir()
	code, _, stderr := runCLI(t, "serve", "--registry", reg, "--addr", "127.0.0.1:0", "--peers", "http://127.0.0.1:1")
	if code != ExitError || !strings.Contains(stderr, "NORMGUARD_TOKEN") {
		t.Errorf("serve --peers without a token: exit %d, stderr %q; want 2 naming NORMGUARD_TOKEN", code, stderr)
	}
	t.Setenv("NORMGUARD_TOKEN", "secret")
	code, _, stderr = runCLI(t, "serve", "--registry", reg, "--addr", "127.0.0.1:0", "--peers", "replica-b:8080")
	if code != ExitError || !strings.Contains(stderr, `--peers "replica-b:8080"`) {
		t.Errorf("serve --peers replica-b:8080: exit %d, stderr %q; want 2 naming the peer", code, stderr)
	}
}

// TestServeWindowFlag: serve --window reads days and weeks as monitor
// replay does, and refuses what is not a length, naming the flag.
func TestServeWindowFlag(t *testing.T) {
	var d time.Duration
	f := windowFlag{&d}
	for in, want := range map[string]time.Duration{"7d": 7 * 24 * time.Hour, "2w": 14 * 24 * time.Hour, "90m": 90 * time.Minute} {
		if err := f.Set(in); err != nil || d != want {
			t.Errorf("--window %s: %v, %v; want %v", in, d, err, want)
		}
	}
	code, _, stderr := runCLI(t, "serve", "--registry", t.TempDir(), "--window", "7x")
	if code != ExitError || !strings.Contains(stderr, `"--window"`) {
		t.Errorf("serve --window 7x: exit %d, stderr %q; want 2 naming --window", code, stderr)
	}
}

// TestServeBlankToken: a token with white space around it is refused at
// start (attack run 16: a token of one space was taken, then matched no
// client, with no word).
func TestServeBlankToken(t *testing.T) {
	for _, tok := range []string{" ", "secret\n", " secret"} {
		t.Setenv("NORMGUARD_TOKEN", tok)
		code, _, stderr := runCLI(t, "serve", "--registry", t.TempDir(), "--addr", "127.0.0.1:0")
		if code != ExitError || !strings.Contains(stderr, "NORMGUARD_TOKEN begins or ends with white space") {
			t.Errorf("NORMGUARD_TOKEN=%q: exit %d, stderr %q; want 2 naming the token's spaces", tok, code, stderr)
		}
	}
}

// TestServeLimitFlags: a limit of 0 or less is refused naming the flag,
// not silently replaced by its default (attack run 15 finding 8).
func TestServeLimitFlags(t *testing.T) {
	for _, args := range [][]string{{"--max-body", "0"}, {"--max-body", "-1"}, {"--max-rows", "0"}, {"--max-rows", "-5"}} {
		code, _, stderr := runCLI(t, append([]string{"serve", "--registry", t.TempDir(), "--addr", "127.0.0.1:0"}, args...)...)
		if code != ExitError || !strings.Contains(stderr, "--max-body and --max-rows must be positive") || !strings.Contains(stderr, args[1]) {
			t.Errorf("serve %v: exit %d, stderr %q; want 2 naming the flags and the value", args, code, stderr)
		}
	}
}

// TestMonitorMergeRefusesOverlappingOffsets: two replicas' stores whose
// windows hold rows read from the same Kafka offsets (one stored a poll
// and was killed before committing it, the other read it again) export
// with those offsets, and `monitor merge` of the two exits 2 naming the
// source, partition, offsets and both files, and what to do; exports of
// disjoint offsets merge, the merged export carrying their union.
func TestMonitorMergeRefusesOverlappingOffsets(t *testing.T) {
	dir := t.TempDir()
	qs, art, cols, n := quickstartLater(t, dir)
	const source = "kafka:g/rows"
	// export stores the rows read from partition 0's offsets first..last
	// in a new store and exports it with `monitor export`.
	export := func(name string, first, last int64) string {
		t.Helper()
		mon, err := monitor.Open(filepath.Join(dir, name+".db"), monitor.Options{EvalInterval: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		b := monitor.Batch{Model: "flights", Artifact: qs.Artifact, Stage: monitor.StageInput, Cols: cols, N: n,
			Read: []monitor.OffsetRange{{Source: source, Partition: 0, First: first, Last: last}}}
		refused, err := mon.ObserveAt(context.Background(), []monitor.Batch{b}, []monitor.Offset{{Source: source, Partition: 0, Next: last + 1}})
		if err != nil || refused[0] != nil {
			t.Fatalf("ObserveAt: %v %v", refused, err)
		}
		if err := mon.Close(); err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(dir, name+".json")
		mustRun(t, "monitor", "export", "--state", filepath.Join(dir, name+".db"), "--out", out)
		return out
	}
	a, b := export("a", 0, 499), export("b", 300, 999)
	code, _, stderr := runCLI(t, "monitor", "merge", "--artifact", art, a, b)
	for _, want := range []string{"offsets 300-499 of partition 0 of kafka:g/rows were read by both " + a, " and " + b, "counted twice", "Judge those windows from one of the two exports"} {
		if code != ExitError || !strings.Contains(stderr, want) {
			t.Errorf("merge of overlapping exports: exit %d, stderr %q; want 2 and %q", code, stderr, want)
		}
	}
	c := export("c", 500, 999)
	merged := filepath.Join(dir, "merged.json")
	if code, _, stderr := runCLI(t, "monitor", "merge", "--artifact", art, "--merged-out", merged, a, c); code == ExitError {
		t.Fatalf("merge of disjoint exports: exit %d: %s", code, stderr)
	}
	f, err := os.Open(merged)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ex, err := monitor.ReadExport(f, merged)
	if err != nil {
		t.Fatal(err)
	}
	var offs []monitor.PartitionRanges
	if len(ex.Windows) > 0 {
		offs = ex.Windows[0].Offsets
	}
	if len(ex.Windows) != 1 || ex.Format != monitor.ExportFormat || ex.Windows[0].Rows != 2*int64(n) ||
		!slices.EqualFunc(ex.Windows[0].Offsets, []monitor.PartitionRanges{{Source: source, Partition: 0, Ranges: [][2]int64{{0, 999}}}}, func(x, y monitor.PartitionRanges) bool {
			return x.Source == y.Source && x.Partition == y.Partition && slices.Equal(x.Ranges, y.Ranges) && x.Coarse == y.Coarse
		}) {
		t.Errorf("merged export: format %d, %d windows, offsets %+v; want format %d, one window of %d rows read from offsets 0-999", ex.Format, len(ex.Windows), offs, monitor.ExportFormat, 2*n)
	}
}

// quickstartLater runs the quickstart into dir/qs and returns its result,
// its artifact's path and its later data's input columns (delay,
// distance, origin, destination): what the merge tests feed their
// monitors.
func quickstartLater(t *testing.T, dir string) (*quickstart.Result, string, []table.Column, int) {
	t.Helper()
	qs, err := quickstart.Run(context.Background(), filepath.Join(dir, "qs"), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	r, err := table.Open(filepath.Join(dir, "qs", quickstart.Files.Later))
	if err != nil {
		t.Fatal(err)
	}
	fields := []table.Field{{Name: "delay", Kind: table.Numeric}, {Name: "distance", Kind: table.Numeric},
		{Name: "origin", Kind: table.String}, {Name: "destination", Kind: table.String}}
	if err := r.Project(fields); err != nil {
		t.Fatal(err)
	}
	cols, n, err := table.ReadAll(r, fields)
	r.Close()
	if err != nil {
		t.Fatal(err)
	}
	return qs, filepath.Join(dir, "qs", quickstart.Files.Artifact), cols, n
}
