package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/drift"
	"github.com/normguard/normguard/internal/tempfile"
	"github.com/normguard/normguard/monitor"
	"github.com/normguard/normguard/report"
	"github.com/normguard/normguard/table"
	"github.com/normguard/normguard/validate"
)

func newMonitorCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "monitor",
		Short: "Drift monitoring: replay history by event time, export and merge replicas' window state",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return fmt.Errorf("monitor: name a subcommand: replay, export or merge (see `normguard monitor --help`)")
		},
	}
	cmd.AddCommand(newMonitorReplayCmd(), newMonitorExportCmd(), newMonitorMergeCmd())
	return cmd
}

type replayOptions struct {
	artifact, data, timeColumn, window string
	method                             string
	threshold                          float64
	bins                               int
	driftShare                         float64
	format, out                        string
}

func newMonitorReplayCmd() *cobra.Command {
	var o replayOptions
	cmd := &cobra.Command{
		Use:   "replay --artifact A --data D --time-column C --window 7d",
		Short: "A drift timeline: D's rows by event time, one window after another, against A's profile",
		Long: `Group the rows of D by the time in column C into tumbling windows (as the
service's: [start, start+window), UTC; a window of whole weeks (7d, 1w, 2w)
starts on a Monday at 00:00 like an ISO week, other windows at multiples of
their length since the Unix epoch, so 1d runs midnight to midnight) and judge each
window against the artifact's training profile, as normguard drift
--artifact judges a file of that window's rows: the same methods, numbers
and verdicts, and the same checks by the rules of normguard validate
(missing-rate changes, text in a numeric column, values out of the
training range, unseen categories, vector contracts), whose anomalies are
in the window's report ("anomalies") and listed after the table. A numeric
column holding text in some window is judged where it holds numbers and
skipped, with a type_change anomaly, where it does not. A vector
column is judged as a whole, as drift's "vectors": the window's vectors
against the contract's sample of the training vectors (MMD²).

The timeline lists which features drift in which window, and the first
window each feature drifts in. Rows whose time is empty or does not parse
(2006-01-02, 2006-01-02 15:04[:05], RFC 3339, ...; day-first and
month-first dates are ambiguous and not read) are in no window: the
timeline of the other rows is written, then the count, the first such
value and its line are named on standard error, exit 2 (rows never judged
are no pass).

Exit status 0: no feature drifts in any window, 1: some feature drifts,
a window has anomalies, or the data lacks a feature or vector column of the artifact (as drift
--artifact reports it missing), 2: error (a window without a vector of a vector column
the data holds cannot be judged, as drift --artifact refuses such rows;
rows without a time that parses).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := requireFlags(cmd, "artifact", "data", "time-column", "window"); err != nil {
				return err
			}
			drifted, err := runReplay(cmd, o)
			if err != nil {
				return err
			}
			if drifted {
				return errFound
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.artifact, "artifact", "", "artifact whose training profile is the reference")
	f.StringVar(&o.data, "data", "", "data with an event-time column (.csv, .parquet, .jsonl)")
	f.StringVar(&o.timeColumn, "time-column", "", "column holding each row's event time")
	f.StringVar(&o.window, "window", "", "window length: a duration such as 1h or 30m, or days and weeks: 7d, 2w")
	f.StringVar(&o.method, "method", "auto", "drift method against the profile: auto, ks, wasserstein, wasserstein_normed, psi, jensenshannon, hellinger, kl_div, chisquare, l_infinity")
	f.Float64Var(&o.threshold, "threshold", 0, "override the method's threshold (p-value for tests, distance otherwise)")
	f.IntVar(&o.bins, "bins", drift.DefaultBins, "bins at the reference's quantiles for the binned methods")
	f.Float64Var(&o.driftShare, "drift-share", drift.DefaultDriftShare, "share of drifting features from which a window's data set drifts")
	f.StringVar(&o.format, "format", "table", "output format: table, json or html (a self-contained page)")
	f.StringVar(&o.out, "out", "", "write the timeline to this file instead of standard output")
	addDelimiterFlag(cmd, "data")
	return cmd
}

// runReplay judges the windows one at a time (monitor.ReplayEach) and
// writes each as it is judged (report.ReplayWriter) to --out (a
// temporary file renamed onto it once the timeline is whole, dropped on
// an error) or standard output, so neither the windows' reports nor the
// output are held whole (attack run 9 F3: 50,000 one-second windows took
// 1.34 GB, 150,000 ran out of memory). It reports whether any feature
// drifted in any window.
func runReplay(cmd *cobra.Command, o replayOptions) (bool, error) {
	if !slices.Contains([]string{"table", "json", "html"}, o.format) {
		return false, fmt.Errorf("monitor replay: --format %q: want table, json or html", o.format)
	}
	window, err := monitor.ParseWindow(o.window)
	if err != nil {
		return false, fmt.Errorf("monitor replay: --window: %w", err)
	}
	if err := checkDriftFlags(cmd, o.method, o.threshold, o.bins, o.driftShare); err != nil {
		return false, fmt.Errorf("monitor replay: %w", err)
	}
	a, err := artifact.Load(o.artifact)
	if err != nil {
		return false, err
	}
	if a.Profile == nil {
		return false, fmt.Errorf("monitor replay: %s has no training profile; refit it with this normguard", o.artifact)
	}
	times, err := readTimeColumn(o.data, o.timeColumn, a)
	if err != nil {
		return false, err
	}
	d, err := validate.Read(o.data, a)
	if err != nil {
		return false, err
	}
	opt := drift.Options{Method: o.method, Bins: o.bins, DriftShare: o.driftShare}
	if cmd.Flags().Changed("threshold") {
		opt.Threshold, opt.HasThreshold = o.threshold, true
	}
	// The output is opened at the first window, once one was judged: an
	// error before (a method that does not apply) leaves nothing written.
	var (
		dst     *tempfile.Output
		rw      *report.ReplayWriter
		drifted bool
		werr    error // an error opening (as it is) or writing the output
	)
	defer func() {
		if dst != nil {
			dst.Discard() // after Commit: nothing
		}
	}()
	open := func() error {
		var w io.Writer = cmd.OutOrStdout()
		if o.out != "" && o.out != stdoutName {
			if dst, err = tempfile.CreateOutput(o.out); err != nil {
				return err
			}
			w = dst.File()
		}
		meta := report.HTMLMeta{Current: o.data, Generated: time.Now().UTC().Format(time.RFC3339)}
		rw = report.NewReplayWriter(w, o.format, colorOutput(cmd, o.out), meta)
		return nil
	}
	vcols, vmissing, vwins, vanoms, err := replayVectors(o.data, a, d, times, window)
	if err != nil {
		return false, err
	}
	// Each window is checked by validate's rules, as drift --artifact
	// checks a file of its rows (attack run 22 F2).
	ropt := monitor.ReplayOptions{TimeColumn: o.timeColumn, Window: window, Drift: opt, VectorColumns: vcols,
		WindowVectors:        func(start int64) ([]monitor.WindowVector, error) { return vwins[start], nil },
		MissingVectorColumns: vmissing,
		Check:                true, Header: d.Header,
		VectorAnomalies: func(start int64) []validate.Anomaly { return vanoms[start] }}
	for _, n := range a.Passthrough {
		if !slices.Contains(d.Header, n) && slices.ContainsFunc(a.Inputs, func(f artifact.Field) bool { return f.Name == n }) {
			ropt.CheckExclude = append(ropt.CheckExclude, n) // named below, no finding (attack run 21)
		}
	}
	// The artifact's features the data lacks: drift --artifact reports
	// them MISSING, exit 1; replay listed them in the JSON only, exit 0.
	var missing []string
	// Features whose statistic could not be computed in a window (every
	// value missing): drift --artifact of its rows exits 2; the replay
	// showed the window clean, the error only in its JSON (attack run 21).
	var unjudged []string
	tl, err := monitor.ReplayEach(a, d.Cols, times, ropt,
		func(tl *monitor.Timeline, w *monitor.TimelineWindow) error {
			if w.Found() {
				drifted = true // a drifting feature, or anomalies (exit 1 as drift --artifact)
			}
			if w.Report != nil {
				unjudged = append(unjudged, windowErrors(w, a.Passthrough)...)
				for _, m := range w.Report.MissingFeatures {
					if !slices.Contains(vmissing, m) && !slices.Contains(missing, m) {
						missing = append(missing, m)
					}
				}
			}
			if rw == nil {
				if werr = open(); werr != nil {
					return werr
				}
			}
			if werr = rw.Window(tl, w); werr != nil {
				werr = fmt.Errorf("monitor replay: %w", werr)
			}
			return werr
		})
	if err != nil {
		if werr != nil {
			return false, werr
		}
		return false, fmt.Errorf("%w (data %s)", err, o.data)
	}
	if rw == nil { // no window (ReplayEach refuses that): write the timeline as it is
		if err := open(); err != nil {
			return false, err
		}
	}
	if err := rw.Close(tl); err != nil {
		return false, fmt.Errorf("monitor replay: %w", err)
	}
	if dst != nil {
		if err := dst.Commit(); err != nil {
			return false, fmt.Errorf("monitor replay: %w", err)
		}
	}
	// Rows in no window were never judged: exit 2 once the notes below
	// are written (attack run 22 F4).
	untimed := untimedError(o.data, o.timeColumn, a, times)
	if len(unjudged) > 0 {
		err := unjudgedError("monitor replay: "+o.data, unjudged,
			"fix the data (a window whose rows all miss a feature), or replay with a --window that gives each window values of every feature")
		if untimed != nil {
			err = fmt.Errorf("%w\n%w", err, untimed)
		}
		return false, err
	}
	// A passthrough column (an id, a renamed time column) the data lacks
	// is named but does not fail the replay: replay takes no --exclude, so
	// such data could never pass (attack run 21).
	var features, passed []string
	for _, n := range missing {
		if slices.Contains(a.Passthrough, n) {
			passed = append(passed, strconv.Quote(n))
		} else {
			features = append(features, strconv.Quote(n))
		}
	}
	if len(features) > 0 {
		fmt.Fprintf(cmd.ErrOrStderr(), "normguard: monitor replay: %s has no column %s of the artifact's features (MISSING, as drift --artifact reports it): not judged in any window, listed in every window's missing_features; add the column to judge it\n", o.data, strings.Join(features, ", "))
	}
	if len(passed) > 0 {
		fmt.Fprintf(cmd.ErrOrStderr(), "normguard: monitor replay: %s has no passthrough column %s of the artifact: not compared in any window (listed in missing_features); it is not a feature, so the replay's verdict stands\n", o.data, strings.Join(passed, ", "))
	}
	if len(vmissing) > 0 {
		// drift --artifact reports such a column as missing_column, exit 1
		// (attack run 20 F1: replay left it out without a word, exit 0).
		var q []string
		for _, n := range vmissing {
			q = append(q, strconv.Quote(n))
		}
		fmt.Fprintf(cmd.ErrOrStderr(), "normguard: monitor replay: %s has no vector column %s of the artifact (missing_column, as drift --artifact reports it): not judged in any window, listed in every window's missing_features; add the column (an array of numbers per row) to judge it\n", o.data, strings.Join(q, ", "))
		if untimed != nil {
			return false, untimed
		}
		return true, nil
	}
	if untimed != nil {
		return false, untimed
	}
	return drifted || len(features) > 0, nil
}

// readTimeColumn reads column name of path as text ("" where missing).
// The file is opened as the other commands open it for a (validate.
// OpenFor: a lone .npy is a's only vector column, whatever its stem),
// and a .npy, which holds one vector column and nothing else, is told to
// have no time column (attack run 20 F4).
func readTimeColumn(path, name string, a *artifact.Artifact) ([]string, error) {
	r, err := validate.OpenFor(path, a)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	if !slices.Contains(r.Header(), name) {
		if f, err := table.FormatOf(path); err == nil && f == table.FormatNPY {
			return nil, fmt.Errorf("monitor replay: %s is a .npy file: it holds one vector column only (read as %q) and no time column %q (--time-column); pass a JSON Lines or Parquet file holding each row's time beside the artifact's inputs (its vectors as arrays or a list)", path, strings.Join(r.Header(), ", "), name)
		}
		return nil, fmt.Errorf("monitor replay: %s has no column %q (--time-column); its columns: %v", path, name, r.Header())
	}
	fields := []table.Field{{Name: name, Kind: table.String}}
	if err := r.Project(fields); err != nil {
		return nil, err
	}
	cols, rows, err := table.ReadAll(r, fields)
	if err != nil {
		return nil, err
	}
	if rows == 0 {
		return nil, fmt.Errorf("monitor replay: %s %w", path, errNoRows)
	}
	c := cols[0]
	if c.Null != nil {
		for i, null := range c.Null {
			if null {
				c.Str[i] = ""
			}
		}
	}
	if tr, ok := r.(interface {
		TimeUnit(string) (time.Duration, bool)
	}); ok {
		if unit, ok := tr.TimeUnit(name); ok {
			// A Parquet date or timestamp column, which the reader gives
			// as its raw integer: read as the time it stands for (a run
			// 22 note: refused as times that do not parse).
			if err := parquetTimes(c.Str, unit); err != nil {
				return nil, fmt.Errorf("monitor replay: %s: column %q (--time-column): %w", path, name, err)
			}
		}
	}
	return c.Str, nil
}

// parquetTimes rewrites in place the raw integers of a Parquet date or
// timestamp column, in units of unit since 1970-01-01, as the dates
// (2006-01-02) or RFC 3339 UTC times they stand for.
func parquetTimes(vals []string, unit time.Duration) error {
	for i, s := range vals {
		if s == "" {
			continue
		}
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return fmt.Errorf("row %d: %q is not the integer of a Parquet date or timestamp", i+1, s)
		}
		var t time.Time
		switch unit {
		case 24 * time.Hour:
			if v < -1e8 || v > 1e8 {
				return fmt.Errorf("row %d: day %d since 1970-01-01 is no date normguard places in a window", i+1, v)
			}
			vals[i] = time.Unix(v*86400, 0).UTC().Format(time.DateOnly)
			continue
		case time.Millisecond:
			t = time.UnixMilli(v)
		case time.Microsecond:
			t = time.UnixMicro(v)
		default:
			t = time.Unix(0, v)
		}
		vals[i] = t.UTC().Format(time.RFC3339Nano)
	}
	return nil
}

func newMonitorExportCmd() *cobra.Command {
	var state, model, out string
	cmd := &cobra.Command{
		Use:   "export --state F [--model M] [--out X]",
		Short: "Write the window state of a monitoring store (a stopped service's --state) as JSON that merges exactly",
		Long: `Write the windows a monitoring store holds as JSON: per model, stage and
window, each feature's counts and drift summary. That is the closed windows
of its history (the last 168 per model and stage; each window keeps the
digest of the artifact it was judged with), then the windows still open.
normguard monitor merge merges the exports of replicas, window by window
(by start time), into what one service fed every row would hold.

Closed windows whose state was not kept (closed by an older normguard), and
the windows of a model whose reference (the artifact profile its summaries
are made against) the store lost in a recovery, are listed under "skipped"
with their rows and why, and counted on standard error. serve re-attaches a
lost reference at start from its registry (the model's current version),
after which the windows export again.

The store is only read: the file and its marker (FILE.mark) are left
byte for byte as they are. It is checked as serve checks it at start: a
damaged file, or one older than its marker, is refused. The store must
not be open in a running service (its file is locked); a
running service exports the same JSON at
GET /v1/models/{name}/window-state?history=1 (without history=1: only the
windows still in memory, what replicas' /drift merges).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := requireFlags(cmd, "state"); err != nil {
				return err
			}
			if _, err := os.Stat(state); err != nil {
				return fmt.Errorf("monitor export: %w", err)
			}
			// Read-only: the file and its marker are left as they are
			// (an export of a backup must not make it look newer than
			// the live state's marker).
			mon, err := monitor.OpenReadOnly(stateFile(state), monitor.Options{})
			if err != nil {
				return fmt.Errorf("monitor export: %w (is a service running on it? ask it: GET /v1/models/{name}/window-state)", err)
			}
			ex, err := mon.ExportHistory(model)
			if cerr := mon.Close(); err == nil && cerr != nil {
				err = cerr
			}
			if err != nil {
				return err
			}
			reportSkipped(cmd.ErrOrStderr(), ex.Skipped)
			b, err := exportJSON(ex)
			if err != nil {
				return err
			}
			return writeOutput(cmd, out, b)
		},
	}
	f := cmd.Flags()
	f.StringVar(&state, "state", "", "monitoring store file (serve's --state, by default REGISTRY/monitor.db)")
	f.StringVar(&model, "model", "", "export only this model's windows")
	f.StringVar(&out, "out", "", "write the export to this file instead of standard output")
	return cmd
}

// reportSkipped says on w how many windows (and rows) an export leaves
// out, per reason: closed windows whose state was not kept, windows of a
// model whose reference the store lost.
func reportSkipped(w io.Writer, skipped []monitor.SkippedWindow) {
	var reasons []string
	count := map[string][2]int64{}
	for _, sw := range skipped {
		c, seen := count[sw.Reason]
		if !seen {
			reasons = append(reasons, sw.Reason)
		}
		count[sw.Reason] = [2]int64{c[0] + 1, c[1] + sw.Rows}
	}
	for _, r := range reasons {
		fmt.Fprintf(w, "monitor export: %d window(s) (%d rows) are left out (see \"skipped\"): %s\n", count[r][0], count[r][1], r)
	}
}

func newMonitorMergeCmd() *cobra.Command {
	var o replayOptions
	var mergedOut string
	var artifacts []string
	cmd := &cobra.Command{
		Use:   "merge --artifact A [--artifact A2 ...] EXPORT... [--format table|json|html] [--out F] [--merged-out M]",
		Short: "Merge replicas' window-state exports and judge each merged window against A",
		Long: `Merge the exports (normguard monitor export, or GET
/v1/models/{name}/window-state) of replicas that each observed part of the
rows: windows of the same model, stage and start merge exactly (counts
added, drift summaries merged), into what one service fed every row would
hold. Each merged window is then judged against artifact A as the service
judges its windows, and the windows are written as a timeline (as monitor
replay writes it). --merged-out also writes the merged export, which merges
again.

Each window names the digest of the artifact it was judged with. When the
exports span versions of a model (a history from before and after a push),
give each version's artifact with --artifact (normguard pull gets it from
the registry): each window is merged and judged against its own.

Windows fed from Kafka keep the offsets their rows were read from. Exports
whose windows read the same offsets of a partition (a replica killed after
storing a poll but before committing it to the group, whose partitions
another replica read again) are refused, naming the partition, the offsets
and the two files: merged, those records would be counted twice. So are two
exports of the same replica (the same monitoring store, or equal content):
each replica's export is given once.

Each export is checked for meaning first: its windows' rows are what its
features count (plus the rows an earlier artifact judged, which it says),
its windows disjoint and on the grid of their length, every feature the
artifact profiles listed, one artifact's windows of one model. An export
that breaks one was damaged or edited: it is refused, naming the file and
the JSON path of the field.

Each merged window is also checked by the rules of normguard validate
(missing-rate changes, values out of the training range, unseen
categories, ...), from the counts and summaries the export keeps, as the
service's /drift checks its window: the anomalies are in the window's
report ("anomalies") and listed after the timeline table.

Exit status 0: no feature drifts and no window has anomalies, 1: some
feature drifts or a window has anomalies, 2: error.`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 {
				return fmt.Errorf("monitor merge: name the export files to merge (written by normguard monitor export --state F, or saved from GET /v1/models/{name}/window-state?history=1)")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(artifacts) == 0 {
				return fmt.Errorf("monitor merge: --artifact is required: the artifact the replicas judged with (see `normguard monitor merge --help`)")
			}
			if !slices.Contains([]string{"table", "json", "html"}, o.format) {
				return fmt.Errorf("monitor merge: --format %q: want table, json or html", o.format)
			}
			if err := checkDriftFlags(cmd, o.method, o.threshold, -1, o.driftShare); err != nil {
				return fmt.Errorf("monitor merge: %w", err)
			}
			var arts []*artifact.Artifact
			for _, path := range artifacts {
				a, err := artifact.Load(path)
				if err != nil {
					return err
				}
				arts = append(arts, a)
			}
			var exports []*monitor.Export
			var infos []os.FileInfo
			for i, path := range args {
				f, err := os.Open(path)
				if err != nil {
					return fmt.Errorf("monitor merge: %w", err)
				}
				// The same file named twice (as X X, or X ./X): merged,
				// its rows would count twice. Copies of one export, and
				// exports of one replica, are refused by MergeExportsOf
				// (monitor.CheckDuplicates).
				fi, err := f.Stat()
				if err != nil {
					f.Close()
					return fmt.Errorf("monitor merge: %w", err)
				}
				for j, prev := range infos {
					if os.SameFile(prev, fi) {
						f.Close()
						return fmt.Errorf("monitor merge: %s and %s are the same file: merged, its rows would count twice; give each replica's export once", args[j], args[i])
					}
				}
				infos = append(infos, fi)
				ex, err := monitor.ReadExport(f, path)
				f.Close()
				if err != nil {
					return err
				}
				exports = append(exports, ex)
			}
			merged, err := monitor.MergeExportsOf(arts, exports)
			if err != nil {
				return err
			}
			// A window named otherwise than the model its artifact was
			// fitted for is merged (a monitor fed through the library may
			// name its model freely; a service names it as the registry,
			// which keeps such an artifact under its model's name only),
			// but said: the export may have been renamed.
			warned := map[string]bool{}
			for _, w := range merged.Windows {
				for _, a := range arts {
					if a.Digest == w.ArtifactDigest && a.Model != nil && a.Model.Name != "" && a.Model.Name != w.Model && !warned[w.Model+"\x00"+a.Digest] {
						warned[w.Model+"\x00"+a.Digest] = true
						fmt.Fprintf(cmd.ErrOrStderr(), "monitor merge: warning: windows of model %q were judged with artifact %s, which was fitted for model %q: check the exports are of that model\n", w.Model, a.Digest, a.Model.Name)
					}
				}
			}
			if mergedOut != "" {
				b, err := exportJSON(merged)
				if err != nil {
					return err
				}
				if mergedOut == stdoutName && (o.out == "" || o.out == stdoutName) {
					return fmt.Errorf("monitor merge: --merged-out -: the timeline goes to standard output; give --merged-out a file, or --out one")
				}
				if err := writeFileOrStdout(cmd, mergedOut, b); err != nil {
					return err
				}
			}
			opt := drift.Options{Method: o.method, DriftShare: o.driftShare}
			if cmd.Flags().Changed("threshold") {
				opt.Threshold, opt.HasThreshold = o.threshold, true
			}
			tl, err := merged.JudgeTimeline(arts, opt)
			if err != nil {
				return err
			}
			if err := mergedAnomalies(tl, merged, arts); err != nil {
				return fmt.Errorf("monitor merge: %w", err)
			}
			var buf bytes.Buffer
			switch o.format {
			case "json":
				err = report.ReplayJSON(&buf, tl)
			case "html":
				err = report.ReplayHTML(&buf, tl, report.HTMLMeta{Current: fmt.Sprintf("%d merged exports", len(args)), Generated: time.Now().UTC().Format(time.RFC3339)})
			default:
				err = report.ReplayTable(&buf, tl, colorOutput(cmd, o.out))
			}
			if err != nil {
				return fmt.Errorf("monitor merge: %w", err)
			}
			if err := writeOutput(cmd, o.out, buf.Bytes()); err != nil {
				return err
			}
			var passed []string
			for _, a := range arts {
				passed = append(passed, a.Passthrough...)
			}
			var unjudged []string
			for i := range tl.Windows {
				unjudged = append(unjudged, windowErrors(&tl.Windows[i], passed)...)
			}
			if len(unjudged) > 0 {
				return unjudgedError("monitor merge", unjudged,
					"those windows' rows all miss the feature: check what the replicas were fed")
			}
			if tl.Found() {
				return errFound // a drifting feature, or anomalies (as the service's /drift lists them)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&artifacts, "artifact", nil, "the artifact the replicas judged with (repeat for windows judged with several versions)")
	f.StringVar(&o.method, "method", "auto", "drift method against the profile")
	f.Float64Var(&o.threshold, "threshold", 0, "override the method's threshold")
	f.Float64Var(&o.driftShare, "drift-share", drift.DefaultDriftShare, "share of drifting features from which a window's data set drifts")
	f.StringVar(&o.format, "format", "table", "output format: table, json or html")
	f.StringVar(&o.out, "out", "", "write the timeline to this file instead of standard output")
	f.StringVar(&mergedOut, "merged-out", "", "also write the merged export to this file")
	return cmd
}

// exportJSON returns an export as indented JSON and a newline (what
// json.MarshalIndent writes), in a buffer of its size: written window by
// window (Export.WriteJSON), once to count the bytes and once into the
// buffer, so the bytes are held once (json.MarshalIndent held the
// encoding of a 121 MB export several times over, 1.4 GB).
func exportJSON(ex *monitor.Export) ([]byte, error) {
	var n countWriter
	if err := ex.WriteJSON(&n); err != nil {
		return nil, err
	}
	buf := bytes.NewBuffer(make([]byte, 0, int(n)))
	if err := ex.WriteJSON(buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// countWriter counts the bytes written to it.
type countWriter int64

func (c *countWriter) Write(p []byte) (int, error) {
	*c += countWriter(len(p))
	return len(p), nil
}

// windowFlag is a window-length flag read by monitor.ParseWindow: a Go
// duration (1h, 90m) or days and weeks (1d, 7d, 2w).
type windowFlag struct{ d *time.Duration }

// String implements pflag.Value.
func (w windowFlag) String() string {
	if w.d == nil || *w.d <= 0 {
		return ""
	}
	return monitor.FormatWindow(*w.d)
}

// Set implements pflag.Value.
func (w windowFlag) Set(s string) error {
	d, err := monitor.ParseWindow(s)
	if err != nil {
		return err
	}
	*w.d = d
	return nil
}

// Type implements pflag.Value.
func (windowFlag) Type() string { return "window" }

// windowErrors lists the features of a judged window whose statistic
// could not be computed (every value missing), each with its window:
// drift --artifact of such rows exits 2, and a timeline showing the
// window clean would pass what was never judged (attack run 21).
// Passthrough columns (passed) are not features: a service's windows
// rarely hold them (a time column), and replay takes no --exclude.
func windowErrors(w *monitor.TimelineWindow, passed []string) []string {
	if w.Report == nil {
		return nil
	}
	var out []string
	for _, f := range w.Report.Features {
		if f.Error != "" && !slices.Contains(passed, f.Name) {
			out = append(out, fmt.Sprintf("window %s: %s: %s", w.Start.UTC().Format(time.RFC3339), f.Name, f.Error))
		}
	}
	return out
}

// unjudgedError is the exit-2 error for windows windowErrors found, the
// first ten named, after the timeline was written.
func unjudgedError(what string, unjudged []string, fix string) error {
	shown := unjudged
	if len(shown) > 10 {
		shown = append(shown[:10:10], fmt.Sprintf("... and %d more", len(unjudged)-10))
	}
	return fmt.Errorf("%s: the statistic of %d feature(s) could not be computed in a window, so those windows were not judged "+
		"(the timeline was written, each error in its window's report):\n  %s\n%s", what, len(unjudged), strings.Join(shown, "\n  "), fix)
}

// mergedAnomalies sets the anomalies of each window of tl, judged from
// merged (tl.Windows[i] is merged.Windows[i], as Export.JudgeTimeline
// makes them), by the rules of normguard validate against the window's
// artifact, as the service's /drift finds them (attack run 22 F2: merge
// showed a window clean where /drift listed missing_rate_change).
func mergedAnomalies(tl *monitor.Timeline, merged *monitor.Export, arts []*artifact.Artifact) error {
	if len(tl.Windows) != len(merged.Windows) {
		return fmt.Errorf("%d windows judged of %d merged", len(tl.Windows), len(merged.Windows))
	}
	for i := range merged.Windows {
		w := &merged.Windows[i]
		a := arts[0]
		if len(arts) > 1 {
			a = nil
			for _, c := range arts {
				if c.Digest == w.ArtifactDigest {
					a = c
				}
			}
			if a == nil {
				return fmt.Errorf("window %s of model %q was judged with artifact %s, which no --artifact is", w.Start.Format(time.RFC3339), w.Model, w.ArtifactDigest)
			}
		}
		an, err := w.Anomalies(a, merged.Bins)
		if err != nil {
			return err
		}
		tl.Windows[i].Anomalies = an
	}
	return nil
}
