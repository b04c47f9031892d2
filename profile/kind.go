package profile

import "time"

// What a text column is, recorded at fit in Feature.Kind so that drift
// and validation treat it for what it holds:
//
//	time        a text column whose present values nearly all (at least
//	            TimeShare of them, counted with repeats) parse with one
//	            layout of TimeLayouts: timestamps and dates. Time moves
//	            on, so drift compares when in the day and in the week
//	            values fall (TimeSummary.Hours, .Weekdays), not the
//	            values themselves.
//	identifier  a text column that is not time, with at least
//	            IdentifierMinCount present values of which at least
//	            IdentifierShare are distinct: row ids, keys, free text.
//	            Nothing about them is expected to repeat, so they are
//	            not tested for drift.
//	""          an ordinary column (every numeric column: continuous
//	            measurements are all distinct too, and that is no sign
//	            of an identifier).
//
// Both are decided from the column's category counts alone
// (stats.StringCounts), which merge exactly, so a profile computed on
// many machines records the same kind and summary as one computed at
// once.
const (
	KindTime       = "time"
	KindIdentifier = "identifier"
)

// Thresholds of the kind rules (see KindTime).
const (
	// TimeShare is the share of present values that must parse with one
	// layout for a text column to be time.
	TimeShare = 0.99
	// IdentifierMinCount is the number of present values an identifier
	// column needs at least (a handful of distinct labels is no sign).
	IdentifierMinCount = 50
	// IdentifierShare is the share of distinct values among the present
	// ones from which a text column is an identifier.
	IdentifierShare = 0.95
)

// TimeLayouts are the Go time layouts a time column may use, in the
// order they are tried: ISO 8601 dates and timestamps (with a space or a
// T, to the minute or the second, with or without a zone), and the same
// with slashes. Fractional seconds after the seconds are accepted by
// every layout that has seconds (Go's parser allows them). Day-first and
// month-first dates (01/02/2006) are left out: they are ambiguous.
var TimeLayouts = []string{
	"2006-01-02",
	"2006-01-02 15:04",
	"2006-01-02 15:04:05",
	"2006-01-02T15:04",
	"2006-01-02T15:04:05",
	time.RFC3339, // 2006-01-02T15:04:05Z07:00
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02T15:04Z07:00",
	"2006/01/02",
	"2006/01/02 15:04",
	"2006/01/02 15:04:05",
}

// dateOnly reports layouts without a time of day.
func dateOnly(layout string) bool { return layout == "2006-01-02" || layout == "2006/01/02" }

// TimeSummary describes a time column: the layout its values parse with,
// the earliest and latest of them (as written), how many parse, and when
// in the day and in the week they fall.
type TimeSummary struct {
	// Layout is the Go time layout (one of TimeLayouts) the column
	// parses with.
	Layout string `json:"layout"`
	// Min and Max are the earliest and the latest value, as written in
	// the data (the first by text among values at the same instant).
	Min string `json:"min"`
	Max string `json:"max"`
	// Parsed and Unparsed count the present values that parse with
	// Layout and those that do not.
	Parsed   int64 `json:"parsed"`
	Unparsed int64 `json:"unparsed"`
	// Hours counts the parsed values by hour of the day (0 to 23, the
	// clock as written, in the value's own zone); nil when Layout has no
	// time of day. Weekdays counts them by day of the week, Sunday first.
	Hours    []int64 `json:"hours,omitempty"`
	Weekdays []int64 `json:"weekdays"`
}

// ParseTime parses s with layout (a Go time layout, e.g. one of
// TimeLayouts); ok is false when s does not match it.
func ParseTime(layout, s string) (time.Time, bool) {
	t, err := time.Parse(layout, s)
	return t, err == nil
}

// DetectTimeLayout returns the layout of TimeLayouts with which at least
// TimeShare of the values parse, counts mapping each distinct present
// value to its number of occurrences; when several qualify, the one
// parsing the most (the first listed on a tie). ok is false when none
// qualifies or there are no values. The result does not depend on the
// map's order.
func DetectTimeLayout(counts map[string]int64) (layout string, ok bool) {
	var total int64
	for _, n := range counts {
		total += n
	}
	if total == 0 {
		return "", false
	}
	// A layout fails once more than (1 - TimeShare) of the values do not
	// parse: the scan stops there, so wrong layouts cost little.
	allowed := total - minParsed(total)
	best := int64(-1)
	for _, l := range TimeLayouts {
		var bad int64
		for s, n := range counts {
			if _, ok := ParseTime(l, s); !ok {
				if bad += n; bad > allowed {
					break
				}
			}
		}
		if bad <= allowed && total-bad > best {
			layout, best = l, total-bad
		}
	}
	return layout, best >= 0
}

// minParsed is the number of values out of total that must parse for a
// time column: ceil(TimeShare · total), computed without rounding error
// (TimeShare is 99/100).
func minParsed(total int64) int64 { return (total*99 + 99) / 100 }

// SummarizeTime returns the summary of the values counts holds (distinct
// present value → occurrences) read with layout.
func SummarizeTime(layout string, counts map[string]int64) *TimeSummary {
	ts := &TimeSummary{Layout: layout, Weekdays: make([]int64, 7)}
	if !dateOnly(layout) {
		ts.Hours = make([]int64, 24)
	}
	var lo, hi time.Time
	for s, n := range counts {
		t, ok := ParseTime(layout, s)
		if !ok {
			ts.Unparsed += n
			continue
		}
		if ts.Parsed == 0 || t.Before(lo) || (t.Equal(lo) && s < ts.Min) {
			lo, ts.Min = t, s
		}
		if ts.Parsed == 0 || t.After(hi) || (t.Equal(hi) && s < ts.Max) {
			hi, ts.Max = t, s
		}
		ts.Parsed += n
		ts.Weekdays[t.Weekday()] += n
		if ts.Hours != nil {
			ts.Hours[t.Hour()] += n
		}
	}
	return ts
}

// TextKind returns the kind of a text column from its counts (distinct
// present value → occurrences), with the time summary of a time column
// (see KindTime for the rules).
func TextKind(counts map[string]int64) (kind string, ts *TimeSummary) {
	if layout, ok := DetectTimeLayout(counts); ok {
		return KindTime, SummarizeTime(layout, counts)
	}
	var total int64
	for _, n := range counts {
		total += n
	}
	// distinct >= IdentifierShare · total, in integers (19/20).
	if total >= IdentifierMinCount && int64(len(counts))*20 >= total*19 {
		return KindIdentifier, nil
	}
	return "", nil
}
