package report

import (
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/normguard/normguard/drift"
	"github.com/normguard/normguard/monitor"
)

// ReplayJSON writes a drift timeline as indented JSON.
func ReplayJSON(w io.Writer, t *monitor.Timeline) error {
	b, err := json.MarshalIndent(t, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// windowLabel writes a window's start, as a date when it starts at
// midnight UTC.
func windowLabel(t time.Time) string {
	if t.Equal(t.Truncate(24 * time.Hour)) {
		return t.Format(time.DateOnly)
	}
	return t.Format("2006-01-02 15:04")
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
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "WINDOW\tROWS\tDRIFTING\tFEATURES")
	for _, win := range t.Windows {
		names := "-"
		if len(win.Drifted) > 0 {
			names = strings.Join(win.Drifted, ", ")
			if color {
				names = "\x1b[31;1m" + names + "\x1b[0m"
			}
		}
		judged := 0
		for _, f := range win.Report.Features {
			if f.Error == "" && f.Skipped == "" {
				judged++
			}
		}
		fmt.Fprintf(tw, "%s%s\t%d\t%d of %d\t%s\n", whoLabel(win.Model, win.Stage), windowLabel(win.Start), win.Rows, len(win.Drifted), judged, names)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	length := t.Window
	if d, err := monitor.ParseWindow(t.Window); err == nil && d%(7*24*time.Hour) == 0 {
		length += " (weeks from Monday 00:00 UTC)"
	}
	if t.TimeColumn != "" {
		fmt.Fprintf(w, "\n%d windows of %s by %s", len(t.Windows), length, t.TimeColumn)
	} else if t.Window != "" {
		fmt.Fprintf(w, "\n%d windows of %s", len(t.Windows), length)
	} else {
		fmt.Fprintf(w, "\n%d windows", len(t.Windows))
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
			when = windowLabel(*f.Start)
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
<tr><th>window</th><th>rows</th>{{range .Features}}<th>{{.}}</th>{{end}}</tr>
{{- range .Windows}}
<tr><td class="when">{{.Label}}</td><td class="num">{{.Rows}}</td>{{range .Cells}}<td class="{{.Class}}" title="{{.Title}}">{{.Text}}</td>{{end}}</tr>
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
td.num { text-align: right; }
table.first { width: auto; }
`

// ReplayHTML writes a drift timeline as a self-contained HTML page: the
// first drifting window of each feature, and a grid of windows by
// features. meta.Current names the data; meta.Generated the time.
func ReplayHTML(w io.Writer, t *monitor.Timeline, meta HTMLMeta) error {
	pg := replayPage{Title: "Drift timeline", Artifact: t.ArtifactDigest, Column: t.TimeColumn, Window: t.Window,
		Generated: meta.Generated, Rows: t.Rows, Untimed: t.Untimed}
	if meta.Current != "" {
		pg.Title += " of " + meta.Current
	}
	for _, f := range t.FirstDrift {
		if !slices.Contains(pg.Features, f.Feature) {
			pg.Features = append(pg.Features, f.Feature)
		}
		when := "never"
		if f.Start != nil {
			when = windowLabel(*f.Start)
		}
		pg.First = append(pg.First, replayFirst{whoLabel(f.Model, f.Stage) + f.Feature, when})
	}
	for _, win := range t.Windows {
		byName := map[string]drift.Feature{}
		for _, f := range win.Report.Features {
			byName[f.Name] = f
		}
		row := replayRow{Label: whoLabel(win.Model, win.Stage) + windowLabel(win.Start), Rows: win.Rows}
		for _, name := range pg.Features {
			f, ok := byName[name]
			c := replayCell{Class: "none", Text: "-"}
			switch {
			case !ok:
			case f.Error != "":
				c.Text, c.Title = "error", f.Error
			case f.Skipped != "":
				c.Text, c.Title = "skipped", f.Skipped
			default:
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
		pg.Windows = append(pg.Windows, row)
	}
	return replayTemplate.Execute(w, pg)
}
