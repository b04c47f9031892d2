package profile

import (
	"fmt"
	"slices"
)

// TimeError is what is wrong with a time summary: Field is the JSON path
// of the faulty field below the summary ("min", "hours[3]") or, for
// CheckTimeColumn, below the column's profile ("time.unparsed",
// "categories.values[2]"); Msg says what is wrong with it.
type TimeError struct {
	Field string
	Msg   string
}

func (e *TimeError) Error() string { return e.Field + ": " + e.Msg }

func timeErr(field, format string, args ...any) *TimeError {
	return &TimeError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// CheckTimeSummary checks that t could have been written by
// SummarizeTime (or a merge of its results), on its own: Layout one of
// TimeLayouts; Parsed and Unparsed >= 0; Weekdays 7 counts and Hours 24
// (none for a date-only layout, which has no time of day), each >= 0 and
// adding up to Parsed; when values parsed, Min and Max are values of
// Layout, Min not after Max; when none did, both are empty. It is the
// rule for a training profile's time section (artifact) and for a
// window's time summary (monitor exports) alike; nil when t is sound.
func CheckTimeSummary(t *TimeSummary) *TimeError {
	if !slices.Contains(TimeLayouts, t.Layout) {
		return timeErr("layout", "%q is not one of normguard's time layouts", t.Layout)
	}
	if t.Parsed < 0 {
		return timeErr("parsed", "must be >= 0, got %d", t.Parsed)
	}
	if t.Unparsed < 0 {
		return timeErr("unparsed", "must be >= 0, got %d", t.Unparsed)
	}
	if dateOnly(t.Layout) {
		if len(t.Hours) != 0 {
			return timeErr("hours", "must be absent for the date-only layout %q", t.Layout)
		}
	} else if err := checkCalendar("hours", t.Hours, 24, t.Parsed); err != nil {
		return err
	}
	if err := checkCalendar("weekdays", t.Weekdays, 7, t.Parsed); err != nil {
		return err
	}
	if t.Parsed == 0 {
		if t.Min != "" || t.Max != "" {
			return timeErr("min", "%q and max %q must be empty when no value parsed", t.Min, t.Max)
		}
		return nil
	}
	lo, ok := ParseTime(t.Layout, t.Min)
	if !ok {
		return timeErr("min", "%q is not a time in the layout %q", t.Min, t.Layout)
	}
	hi, ok := ParseTime(t.Layout, t.Max)
	if !ok {
		return timeErr("max", "%q is not a time in the layout %q", t.Max, t.Layout)
	}
	if hi.Before(lo) {
		return timeErr("min", "%q is after max %q", t.Min, t.Max)
	}
	return nil
}

// checkCalendar checks a count per hour or weekday: n counts >= 0 adding
// up to parsed.
func checkCalendar(field string, counts []int64, n int, parsed int64) *TimeError {
	if len(counts) != n {
		return timeErr(field, "has %d entries, want %d", len(counts), n)
	}
	var sum int64
	for i, k := range counts {
		if k < 0 || sum+k < sum {
			return timeErr(fmt.Sprintf("%s[%d]", field, i), "must be >= 0 (and add up without overflow), got %d", k)
		}
		sum += k
	}
	if sum != parsed {
		return timeErr(field, "adds up to %d, parsed is %d", sum, parsed)
	}
	return nil
}

// CheckTimeColumn checks the time summary of a time column (Kind
// KindTime) against the rest of its profile, as CategoricalFeature
// writes them: the summary is sound (CheckTimeSummary); its parsed and
// unparsed values are the column's count present values; at most 1% of
// them do not parse (TimeShare, the rule that made the column time); and
// the listed categories agree with it: those that parse lie between Min
// and Max, and those that do not are counted in Unparsed. count is the
// column's present values, cats its category counts (nil: none to
// compare). Field paths are below the column's profile.
func CheckTimeColumn(t *TimeSummary, count int64, cats *Counts) *TimeError {
	if t == nil {
		return timeErr("time", "is missing for kind %s", KindTime)
	}
	if err := CheckTimeSummary(t); err != nil {
		return &TimeError{Field: "time." + err.Field, Msg: err.Msg}
	}
	if t.Parsed+t.Unparsed != count { // both >= 0: a sum that overflows is negative
		return timeErr("time.parsed", "%d parsed and %d unparsed values must add up to count %d", t.Parsed, t.Unparsed, count)
	}
	// At least TimeShare of the values parse: unparsed <= count -
	// ceil(0.99·count) = floor(count/100), without overflow.
	if t.Unparsed > count/100 {
		return timeErr("time.unparsed", "%d of %d values do not parse with layout %q: a time column has at most 1%% (at most %d) that do not",
			t.Unparsed, count, t.Layout, count/100)
	}
	if cats == nil {
		return nil
	}
	lo, _ := ParseTime(t.Layout, t.Min)
	hi, _ := ParseTime(t.Layout, t.Max)
	var parsed, unparsed int64
	for i, v := range cats.Values {
		var k int64
		if i < len(cats.Counts) {
			k = cats.Counts[i]
		}
		at, ok := ParseTime(t.Layout, v)
		field := fmt.Sprintf("categories.values[%d]", i)
		switch {
		case !ok:
			if unparsed += k; unparsed > t.Unparsed || unparsed < 0 {
				return timeErr(field, "%q is not a time in the layout %q, and the listed values that are not (%d) outnumber time.unparsed %d",
					v, t.Layout, unparsed, t.Unparsed)
			}
		case at.Before(lo):
			return timeErr(field, "%q is before time.min %q", v, t.Min)
		case at.After(hi):
			return timeErr(field, "%q is after time.max %q", v, t.Max)
		default:
			if parsed += k; parsed > t.Parsed || parsed < 0 {
				return timeErr(field, "%q: the listed values that are times in the layout %q (%d) outnumber time.parsed %d",
					v, t.Layout, parsed, t.Parsed)
			}
		}
	}
	return nil
}
