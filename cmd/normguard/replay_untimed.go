package main

import (
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/monitor"
	"github.com/normguard/normguard/profile"
)

// untimedError is the exit-2 error of a replay that left rows in no
// window (their time empty, not parsing, or outside the range windows
// are kept in), written after the timeline of the other rows: those rows
// were never judged, and a timeline that passes them would pass what it
// never saw (attack run 22 F4: half the rows written day-first, the
// drifting half, in no window, exit 0). It names the count, the first
// such row's line and value, and the layout the other times are read
// in; nil when every row has a time.
func untimedError(path, column string, a *artifact.Artifact, times []string) error {
	var empty, bad, outside int
	first := -1
	parsed := -1 // the first row whose time parses, for its layout
	for r, s := range times {
		switch t, ok := monitor.ParseEventTime(s); {
		case ok:
			if parsed < 0 {
				parsed = r
			}
			continue
		case s == "":
			empty++
		case !t.IsZero():
			outside++
		default:
			bad++
		}
		if first < 0 {
			first = r
		}
	}
	if first < 0 {
		return nil
	}
	n := empty + bad + outside
	loc := fmt.Sprintf("row %d", first+1)
	if line, ok := rawLine(path, a, int64(first)+1); ok {
		loc = fmt.Sprintf("line %d", line)
	}
	var kinds []string
	if bad > 0 {
		kinds = append(kinds, fmt.Sprintf("%d not a time that parses", bad))
	}
	if empty > 0 {
		kinds = append(kinds, fmt.Sprintf("%d empty", empty))
	}
	if outside > 0 {
		kinds = append(kinds, fmt.Sprintf("%d outside %d..%d", outside, monitor.MinEventTime.Year(), monitor.MaxEventTime.Year()))
	}
	what := fmt.Sprintf("%s: %s", loc, strconv.Quote(times[first]))
	switch t, _ := monitor.ParseEventTime(times[first]); {
	case times[first] == "":
		what += " (empty)"
	case !t.IsZero():
		what += fmt.Sprintf(" (a time outside the range windows are kept in, %d to %d)", monitor.MinEventTime.Year(), monitor.MaxEventTime.Year())
	case ambiguousDate.MatchString(times[first]):
		what += " (a day-first or month-first date, which is ambiguous and not read)"
	}
	others := ""
	if parsed >= 0 {
		others = fmt.Sprintf("; the other rows' times parse as %s (e.g. %s)", layoutName(times[parsed]), strconv.Quote(times[parsed]))
	}
	return fmt.Errorf("monitor replay: %s: %d of %d rows (%s) have no event time in column %q and are in no window, so they were not judged (the timeline of the other rows was written): the first is %s%s.\n"+
		"Write every time of %q as 2006-01-02, 2006-01-02 15:04[:05] or RFC 3339 (2006-01-02T15:04:05Z), or drop the rows without a time, then replay again",
		path, n, len(times), joinAnd(kinds), column, what, others, column)
}

// ambiguousDate matches a date written with the day or the month first
// (15/01/2026, 01-15-2026, 15.01.2026), which no time layout reads.
var ambiguousDate = regexp.MustCompile(`^\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}\b`)

// layoutName names the layout a time that monitor.ParseEventTime reads
// is written in.
func layoutName(s string) string {
	if _, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return "RFC 3339"
	}
	for _, l := range profile.TimeLayouts {
		if _, ok := profile.ParseTime(l, s); ok {
			return strconv.Quote(l)
		}
	}
	return "a time"
}

// joinAnd joins xs as "a, b and c".
func joinAnd(xs []string) string {
	switch len(xs) {
	case 0:
		return ""
	case 1:
		return xs[0]
	}
	out := xs[0]
	for _, x := range xs[1 : len(xs)-1] {
		out += ", " + x
	}
	return out + " and " + xs[len(xs)-1]
}
