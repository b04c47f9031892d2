package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/normguard/normguard/monitor"
)

// ReplayJSON writes a drift timeline as indented JSON
// (json.MarshalIndent's, then a newline), window by window.
func ReplayJSON(w io.Writer, t *monitor.Timeline) error {
	return replayAll(NewReplayWriter(w, "json", false, HTMLMeta{}), t)
}

// replayAll writes t's windows to rw, then closes it.
func replayAll(rw *ReplayWriter, t *monitor.Timeline) error {
	for i := range t.Windows {
		if err := rw.Window(t, &t.Windows[i]); err != nil {
			return err
		}
	}
	return rw.Close(t)
}

// ReplayWriter writes a drift timeline window by window, as ReplayJSON,
// ReplayTable and ReplayHTML write it whole, for a timeline too long to
// hold (monitor.ReplayEach): the JSON is written as the windows come, the
// table keeps a line a window (text/tabwriter aligns them when closed),
// the page a row of cells a window (drawn when closed). Nothing of a
// window's report is kept.
type ReplayWriter struct {
	format string
	color  bool
	meta   HTMLMeta
	bw     *bufio.Writer
	n      int // windows written
	// step is the timeline's window length (0 when it has none, as a
	// merge of windows of several lengths): the precision of the labels.
	step time.Duration

	// json: the encoding of the timeline without its windows, cut where
	// its windows go (the windows field's "[").
	jsonBuf bytes.Buffer
	// table: the window lines.
	tw *tabwriter.Writer
	// html: the page without its first-drift table.
	page *replayPage
	// table: the windows' anomalies, up to maxAnomalyLines of them
	// (anomalies counts them all), listed after the window lines.
	anomalyLines []string
	anomalies    int
}

// maxAnomalyLines is how many anomalies a timeline table lists (the
// JSON holds them all).
const maxAnomalyLines = 50

// NewReplayWriter returns a writer of a timeline in format (json, html,
// else table) to w; color and meta are ReplayTable's and ReplayHTML's.
// Call Window for each window, oldest first, then Close.
func NewReplayWriter(w io.Writer, format string, color bool, meta HTMLMeta) *ReplayWriter {
	return &ReplayWriter{format: format, color: color, meta: meta, bw: bufio.NewWriterSize(w, 64<<10)}
}

// jsonWindowsMark is where an encoding of a timeline without windows
// holds its (empty) windows: its first "windows", as the fields before
// it are numbers and strings (in which a quote is escaped).
var jsonWindowsMark = []byte(`"windows": []`)

// timelineHead returns the indented encoding of t without its windows.
func timelineHead(t *monitor.Timeline) ([]byte, error) {
	h := *t
	h.Windows = []monitor.TimelineWindow{}
	return json.MarshalIndent(&h, "", "  ")
}

// Window writes the next window of t (t as known so far: its windows are
// not read).
func (rw *ReplayWriter) Window(t *monitor.Timeline, win *monitor.TimelineWindow) error {
	first := rw.n == 0
	rw.n++
	if first {
		rw.step = timelineStep(t)
	}
	switch rw.format {
	case "json":
		if first {
			hb, err := timelineHead(t)
			if err != nil {
				return err
			}
			i := bytes.Index(hb, jsonWindowsMark)
			if i < 0 {
				return fmt.Errorf("a timeline encodes without its windows list")
			}
			rw.bw.Write(hb[:i+len(jsonWindowsMark)-1])
		}
		b, err := json.Marshal(win)
		if err != nil {
			return err
		}
		buf := &rw.jsonBuf
		buf.Reset()
		if !first {
			buf.WriteByte(',')
		}
		buf.WriteString("\n    ")
		if err := json.Indent(buf, b, "    ", "  "); err != nil {
			return err
		}
		_, err = rw.bw.Write(buf.Bytes())
		return err
	case "html":
		if first {
			rw.page = newReplayPage(t, rw.meta)
		}
		rw.page.Windows = append(rw.page.Windows, replayRowOf(rw.page.Features, win, rw.step))
		return nil
	default:
		if first {
			rw.tw = tabwriter.NewWriter(rw.bw, 0, 4, 2, ' ', 0)
			fmt.Fprintln(rw.tw, "WINDOW\tROWS\tDRIFTING\tFEATURES")
		}
		for _, an := range win.Anomalies {
			rw.anomalies++
			if len(rw.anomalyLines) < maxAnomalyLines {
				rw.anomalyLines = append(rw.anomalyLines, fmt.Sprintf("%s%s\t%s\t%s\t%s", whoLabel(win.Model, win.Stage), windowLabel(win.Start, labelStep(rw.step, win)), an.Column, an.Code, an.Description))
			}
		}
		return replayTableLine(rw.tw, win, rw.color, labelStep(rw.step, win))
	}
}

// Close writes the rest of t (its windows are not read: those written
// are) and flushes.
func (rw *ReplayWriter) Close(t *monitor.Timeline) error {
	switch rw.format {
	case "json":
		if rw.n == 0 {
			b, err := json.MarshalIndent(t, "", "  ")
			if err != nil {
				return err
			}
			rw.bw.Write(append(b, '\n'))
			break
		}
		hb, err := timelineHead(t)
		if err != nil {
			return err
		}
		i := bytes.Index(hb, jsonWindowsMark)
		if i < 0 {
			return fmt.Errorf("a timeline encodes without its windows list")
		}
		rw.bw.WriteString("\n  ]")
		rw.bw.Write(hb[i+len(jsonWindowsMark):])
		rw.bw.WriteByte('\n')
	case "html":
		pg := rw.page
		if pg == nil {
			pg = newReplayPage(t, rw.meta)
		}
		pg.First = replayFirsts(t)
		if err := replayTemplate.Execute(rw.bw, pg); err != nil {
			return err
		}
	default:
		if rw.tw == nil {
			rw.tw = tabwriter.NewWriter(rw.bw, 0, 4, 2, ' ', 0)
			fmt.Fprintln(rw.tw, "WINDOW\tROWS\tDRIFTING\tFEATURES")
		}
		if err := replayTableTail(rw.bw, rw.tw, t, rw.n); err != nil {
			return err
		}
		if err := replayAnomalies(rw.bw, rw.anomalyLines, rw.anomalies); err != nil {
			return err
		}
	}
	return rw.bw.Flush()
}

// windowLabel writes a window's start precise to its windows' length
// step: to the minute for lengths of whole minutes (a date alone when it
// starts at midnight UTC), to the second for lengths of whole seconds
// under or past a minute (10s, 90s), and to the millisecond, microsecond
// or nanosecond below, so that no two windows share a label: a minute
// held 6 windows of 10 s labelled alike (attack run 24 F7). A step of 0
// (unknown) takes the precision the start itself needs.
func windowLabel(t time.Time, step time.Duration) string {
	if step <= 0 {
		step = time.Nanosecond
		for _, u := range []time.Duration{time.Minute, time.Second, time.Millisecond, time.Microsecond} {
			if t.Truncate(u).Equal(t) {
				step = u
				break
			}
		}
	}
	switch {
	case step%time.Minute == 0:
		if t.Equal(t.Truncate(24 * time.Hour)) {
			return t.Format(time.DateOnly)
		}
		return t.Format("2006-01-02 15:04")
	case step%time.Second == 0:
		return t.Format(time.DateTime)
	case step%time.Millisecond == 0:
		return t.Format("2006-01-02 15:04:05.000")
	case step%time.Microsecond == 0:
		return t.Format("2006-01-02 15:04:05.000000")
	}
	return t.Format("2006-01-02 15:04:05.000000000")
}

// timelineStep returns the length of t's windows (0 when they have no
// one length).
func timelineStep(t *monitor.Timeline) time.Duration {
	d, err := monitor.ParseWindow(t.Window)
	if err != nil {
		return 0
	}
	return d
}

// labelStep returns the precision of win's label: the timeline's window
// length, else the window's own.
func labelStep(step time.Duration, win *monitor.TimelineWindow) time.Duration {
	if step > 0 {
		return step
	}
	return win.End.Sub(win.Start)
}

// whoLabel names the model and stage of a merged window ("" in a replay).
func whoLabel(model string, stage monitor.Stage) string {
	if model == "" {
		return ""
	}
	return model + "/" + string(stage) + " "
}

// ReplayTable writes a drift timeline as an aligned table: one line per
// window (rows, drifting features, the worst statistic), then the first
// drifting window of each feature. color adds ANSI colours.
func ReplayTable(w io.Writer, t *monitor.Timeline, color bool) error {
	return replayAll(NewReplayWriter(w, "table", color, HTMLMeta{}), t)
}

// replayAnomalies writes the windows' anomalies after the timeline
// table: lines (tab-separated window, column, code, description) of n.
func replayAnomalies(w io.Writer, lines []string, n int) error {
	if n == 0 {
		return nil
	}
	fmt.Fprintf(w, "\n%d data anomalies (the rules of normguard validate, as drift --artifact finds them in a file of the window's rows):\n", n)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "WINDOW\tCOLUMN\tANOMALY\tDESCRIPTION")
	for _, l := range lines {
		fmt.Fprintln(tw, l)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if n > len(lines) {
		_, err := fmt.Fprintf(w, "... and %d more (the JSON lists them all: --format json)\n", n-len(lines))
		return err
	}
	return nil
}

// anomalyCodes lists a window's anomalies as "column code", joined.
func anomalyCodes(win *monitor.TimelineWindow) string {
	var out []string
	for _, an := range win.Anomalies {
		out = append(out, an.Column+" "+an.Code)
	}
	return strings.Join(out, ", ")
}

// replayTableLine writes a window's line of the table.
func replayTableLine(tw *tabwriter.Writer, win *monitor.TimelineWindow, color bool, step time.Duration) error {
	names := "-"
	if len(win.Drifted) > 0 {
		names = strings.Join(win.Drifted, ", ")
		if color {
			names = "\x1b[31;1m" + names + "\x1b[0m"
		}
	}
	if len(win.Anomalies) > 0 {
		an := "anomalies: " + anomalyCodes(win)
		if color {
			an = "\x1b[33m" + an + "\x1b[0m"
		}
		names += "; " + an
	}
	judged := len(win.Vectors) // vector columns are judged as a whole
	for _, f := range win.Report.Features {
		if f.Error == "" && f.Skipped == "" {
			judged++
		}
	}
	_, err := fmt.Fprintf(tw, "%s%s\t%d\t%d of %d\t%s\n", whoLabel(win.Model, win.Stage), windowLabel(win.Start, step), win.Rows, len(win.Drifted), judged, names)
	return err
}

// replayTableTail flushes the window lines of tw, then writes what
// follows them: the count of windows (n) and the first drifting windows.
func replayTableTail(w io.Writer, tw *tabwriter.Writer, t *monitor.Timeline, n int) error {
	if err := tw.Flush(); err != nil {
		return err
	}
	length := t.Window
	if d, err := monitor.ParseWindow(t.Window); err == nil && d%(7*24*time.Hour) == 0 {
		length += " (weeks from Monday 00:00 UTC)"
	}
	if t.TimeColumn != "" {
		fmt.Fprintf(w, "\n%d windows of %s by %s", n, length, t.TimeColumn)
	} else if t.Window != "" {
		fmt.Fprintf(w, "\n%d windows of %s", n, length)
	} else {
		fmt.Fprintf(w, "\n%d windows", n)
	}
	if t.Untimed > 0 {
		fmt.Fprintf(w, "; %d of %d rows have no time that parses and are in no window", t.Untimed, t.Rows)
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FEATURE\tFIRST DRIFTING WINDOW")
	for _, f := range t.FirstDrift {
		when := "never"
		if f.Start != nil {
			when = windowLabel(*f.Start, timelineStep(t))
		}
		fmt.Fprintf(tw, "%s%s\t%s\n", whoLabel(f.Model, f.Stage), f.Feature, when)
	}
	return tw.Flush()
}

// replayCell is one feature in one window of the HTML grid.
type replayCell struct {
	Class, Text, Title string
}

type replayPage struct {
	Title, Artifact, Column, Window, Generated string
	Rows, Untimed                              int64
	Features                                   []string
	Windows                                    []replayRow
	First                                      []replayFirst
}

type replayRow struct {
	Label string
	Rows  int64
	Cells []replayCell
	// Anomalies lists the window's anomalies ("column code"; "" none).
	Anomalies string
}

type replayFirst struct{ Feature, When string }

var replayTemplate = template.Must(template.New("replay").Parse(pageHead(baseCSS+replayCSS) + `<body>
<div class="page">
<header class="top">
<h1>{{.Title}}</h1>
<dl class="sources">
<dt>Artifact</dt><dd>{{.Artifact}}</dd>
<dt>Windows</dt><dd>{{.Window}} by {{.Column}}</dd>
<dt>Rows</dt><dd>{{.Rows}}{{if .Untimed}} ({{.Untimed}} without a time that parses, in no window){{end}}</dd>
{{- if .Generated}}<dt>Generated</dt><dd>{{.Generated}}</dd>{{end}}
</dl>
</header>
<h2>First drifting window</h2>
<table class="first"><tr><th>feature</th><th>first window it drifts in</th></tr>
{{- range .First}}<tr><td>{{.Feature}}</td><td>{{.When}}</td></tr>{{end}}
</table>
<h2>Timeline</h2>
<p class="muted">Each cell is a feature in a window: its statistic, red when it drifts (hover for the method, p-value and threshold).</p>
<div class="scroll"><table class="timeline">
<tr><th>window</th><th>rows</th>{{range .Features}}<th>{{.}}</th>{{end}}<th>anomalies</th></tr>
{{- range .Windows}}
<tr><td class="when">{{.Label}}</td><td class="num">{{.Rows}}</td>{{range .Cells}}<td class="{{.Class}}" title="{{.Title}}">{{.Text}}</td>{{end}}{{if .Anomalies}}<td class="anomalous">{{.Anomalies}}</td>{{else}}<td class="none">-</td>{{end}}</tr>
{{- end}}
</table></div>
</div>
</body>
</html>
`))

const replayCSS = `
.muted { color: var(--muted); }
.scroll { overflow-x: auto; }
table.timeline td, table.timeline th { white-space: nowrap; font-variant-numeric: tabular-nums; }
table.timeline td.drift { color: var(--bad); background: var(--bad-bg); font-weight: 600; }
table.timeline td.ok { color: var(--ok); }
table.timeline td.none { color: var(--muted); }
table.timeline td.anomalous { color: var(--bad); }
td.num { text-align: right; }
table.first { width: auto; }
`

// ReplayHTML writes a drift timeline as a self-contained HTML page: the
// first drifting window of each feature, and a grid of windows by
// features. meta.Current names the data; meta.Generated the time.
func ReplayHTML(w io.Writer, t *monitor.Timeline, meta HTMLMeta) error {
	return replayAll(NewReplayWriter(w, "html", false, meta), t)
}

// newReplayPage returns the page of t without its windows and its
// first-drift table: the grid's columns are the features of t.FirstDrift.
func newReplayPage(t *monitor.Timeline, meta HTMLMeta) *replayPage {
	pg := &replayPage{Title: "Drift timeline", Artifact: t.ArtifactDigest, Column: t.TimeColumn, Window: t.Window,
		Generated: meta.Generated, Rows: t.Rows, Untimed: t.Untimed}
	if meta.Current != "" {
		pg.Title += " of " + meta.Current
	}
	for _, f := range t.FirstDrift {
		if !slices.Contains(pg.Features, f.Feature) {
			pg.Features = append(pg.Features, f.Feature)
		}
	}
	return pg
}

// replayFirsts returns the first-drift table of the page of t.
func replayFirsts(t *monitor.Timeline) []replayFirst {
	var out []replayFirst
	for _, f := range t.FirstDrift {
		when := "never"
		if f.Start != nil {
			when = windowLabel(*f.Start, timelineStep(t))
		}
		out = append(out, replayFirst{whoLabel(f.Model, f.Stage) + f.Feature, when})
	}
	return out
}

// replayRowOf returns the grid row of a window: a cell per feature.
func replayRowOf(features []string, win *monitor.TimelineWindow, step time.Duration) replayRow {
	row := replayRow{Label: whoLabel(win.Model, win.Stage) + windowLabel(win.Start, labelStep(step, win)), Rows: win.Rows, Anomalies: anomalyCodes(win)}
	for _, name := range features {
		j := -1 // the last feature of the name, as a map by name kept
		for k := range win.Report.Features {
			if win.Report.Features[k].Name == name {
				j = k
			}
		}
		c := replayCell{Class: "none", Text: "-"}
		v := slices.IndexFunc(win.Vectors, func(v monitor.WindowVector) bool { return v.Column == name })
		switch {
		case j < 0 && v >= 0:
			r := &win.Vectors[v].Result
			c.Class, c.Text = "ok", num(r.MMD2)
			if r.Drift {
				c.Class = "drift"
			}
			c.Title = fmt.Sprintf("vectors: MMD² %s, p-value %s against %s", num(r.MMD2), num(r.MMDPValue), win.Vectors[v].Reference)
		case j < 0:
		case win.Report.Features[j].Error != "":
			c.Text, c.Title = "error", win.Report.Features[j].Error
		case win.Report.Features[j].Skipped != "":
			c.Text, c.Title = "skipped", win.Report.Features[j].Skipped
		default:
			f := &win.Report.Features[j]
			c.Class, c.Text = "ok", num(float64(f.Statistic))
			if f.Drift {
				c.Class = "drift"
			}
			c.Title = fmt.Sprintf("%s: statistic %s, p-value %s, threshold %s", f.Method, num(float64(f.Statistic)), num(float64(f.PValue)), num(float64(f.Threshold)))
			if f.Effect != nil {
				c.Title += fmt.Sprintf("; %s %s (> %s)", f.Effect.Name, num(float64(f.Effect.Value)), num(float64(f.Effect.Threshold)))
			}
		}
		row.Cells = append(row.Cells, c)
	}
	return row
}
