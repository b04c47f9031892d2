package profile

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/normguard/normguard/stats"
)

// TestFitWritesTimeColumnsTheCheckAccepts profiles time columns of every
// layout (zones, fractions, ties at one instant, up to 1% of values that
// do not parse, columns from the shipped tables, merged shards) and
// requires CheckTimeColumn to accept every time summary fit writes.
func TestFitWritesTimeColumnsTheCheckAccepts(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 9))
	base := time.Date(2024, 2, 27, 21, 0, 0, 0, time.UTC)
	zones := []*time.Location{time.UTC, time.FixedZone("", 2*3600), time.FixedZone("", -5*3600-1800)}
	var cols [][]string
	for _, layout := range TimeLayouts {
		for _, n := range []int{1, 2, 99, 100, 101, 250, 1000} {
			vals := make([]string, n)
			for i := range vals {
				at := base.Add(time.Duration(rng.Int64N(90*24*3600)) * time.Second).In(zones[rng.IntN(len(zones))])
				s := at.Format(layout)
				if strings.HasSuffix(layout, ":05") && rng.IntN(3) == 0 {
					s += fmt.Sprintf(".%03d", rng.IntN(1000)) // Go's parser takes fractions after seconds
				}
				vals[i] = s
			}
			for k := 0; k < n/100; k++ { // the 1% that may not parse
				vals[rng.IntN(n)] = fmt.Sprintf("n/a %d", rng.IntN(3))
			}
			if n > 2 { // ties: one instant written twice
				vals[1] = vals[0]
			}
			cols = append(cols, vals)
		}
	}
	cols = append(cols, readCSVColumn(t, "flights_dates.csv", "date"), readCSVColumn(t, "chicago_dates.csv", "date"))
	var times int
	for ci, vals := range cols {
		var c stats.StringCounts
		for _, r := range ranges(rng, len(vals), 1+len(vals)/3) {
			var s stats.StringCounts
			s.Add(vals[r[0]:r[1]], nil)
			c.Merge(&s)
		}
		p := CategoricalFeature("c", &c)
		if p.Kind != KindTime {
			continue
		}
		times++
		if err := CheckTimeColumn(p.Time, p.Count, p.Categories); err != nil {
			t.Errorf("column %d (%s, %d values): fit's time summary refused: %v\n%+v", ci, p.Time.Layout, len(vals), err, *p.Time)
		}
	}
	if times < len(TimeLayouts)*5 {
		t.Fatalf("only %d of %d columns are time: the test covers too little", times, len(cols))
	}
}

// TestTimeUnparsedShare checks that unparsed <= count/100 is the kind
// rule's bound (count - minParsed(count)) for every count.
func TestTimeUnparsedShare(t *testing.T) {
	for n := int64(0); n < 100000; n++ {
		if n/100 != n-minParsed(n) {
			t.Fatalf("count %d: count/100 = %d, count - minParsed = %d", n, n/100, n-minParsed(n))
		}
	}
}

// TestCheckTimeSummaryRefuses names the field of each fault.
func TestCheckTimeSummaryRefuses(t *testing.T) {
	good := func() *TimeSummary {
		return SummarizeTime("2006-01-02T15:04:05Z07:00", map[string]int64{
			"2026-01-01T00:23:31Z": 3, "2026-01-30T23:54:19+01:00": 2, "2026-01-08T10:21:07Z": 5,
		})
	}
	if err := CheckTimeSummary(good()); err != nil {
		t.Fatalf("a summary SummarizeTime wrote is refused: %v", err)
	}
	cases := []struct {
		name, field, msg string
		edit             func(ts *TimeSummary)
	}{
		{"garbage min", "min", `"garbage" is not a time in the layout "2006-01-02T15:04:05Z07:00"`, func(ts *TimeSummary) { ts.Min = "garbage" }},
		{"garbage max", "max", `"" is not a time in the layout`, func(ts *TimeSummary) { ts.Max = "" }},
		{"min after max", "min", `"2027-01-01T00:00:00Z" is after max "2026-01-30T23:54:19+01:00"`, func(ts *TimeSummary) { ts.Min = "2027-01-01T00:00:00Z" }},
		{"layout of dates", "hours", `must be absent for the date-only layout "2006-01-02"`, func(ts *TimeSummary) { ts.Layout = "2006-01-02" }},
		{"layout that does not read min", "min", `is not a time in the layout "2006-01-02T15:04"`, func(ts *TimeSummary) { ts.Layout = "2006-01-02T15:04" }},
		{"unknown layout", "layout", "not one of normguard's time layouts", func(ts *TimeSummary) { ts.Layout = "15:04" }},
		{"no hours", "hours", "has 0 entries, want 24", func(ts *TimeSummary) { ts.Hours = nil }},
		{"negative hour", "hours[0]", "must be >= 0", func(ts *TimeSummary) { ts.Hours[0] -= 20; ts.Hours[1] += 20 }},
		{"weekdays off", "weekdays", "adds up to 11, parsed is 10", func(ts *TimeSummary) { ts.Weekdays[3]++ }},
		{"negative parsed", "parsed", "must be >= 0, got -1", func(ts *TimeSummary) { ts.Parsed = -1 }},
		{"negative unparsed", "unparsed", "must be >= 0, got -1", func(ts *TimeSummary) { ts.Unparsed = -1 }},
		{"range without values", "min", "must be empty when no value parsed", func(ts *TimeSummary) {
			ts.Parsed, ts.Hours, ts.Weekdays = 0, make([]int64, 24), make([]int64, 7)
		}},
	}
	for _, tc := range cases {
		ts := good()
		tc.edit(ts)
		err := CheckTimeSummary(ts)
		if err == nil || err.Field != tc.field || !strings.Contains(err.Msg, tc.msg) {
			t.Errorf("%s: got %v, want %s: ...%s...", tc.name, err, tc.field, tc.msg)
		}
	}
	// A date-only summary has no hours.
	d := SummarizeTime("2006-01-02", map[string]int64{"2026-01-01": 1, "2026-02-01": 1})
	if err := CheckTimeSummary(d); err != nil || d.Hours != nil {
		t.Fatalf("date-only summary %+v: %v", *d, err)
	}
}

// TestCheckTimeColumnRefuses covers the rules against the column: counts,
// the 1% of values that may not parse, and listed categories.
func TestCheckTimeColumnRefuses(t *testing.T) {
	vals := make([]string, 300)
	for i := range vals {
		vals[i] = fmt.Sprintf("2024-01-%02d %02d:00", 1+i%10, i%6*4) // 30 values, all listed
	}
	vals[5], vals[6], vals[7] = "later", "later", "soon"
	var c stats.StringCounts
	c.Add(vals, nil)
	p := CategoricalFeature("d", &c)
	if p.Kind != KindTime || p.Time.Unparsed != 3 {
		t.Fatalf("sample column: %+v", p)
	}
	if err := CheckTimeColumn(p.Time, p.Count, p.Categories); err != nil {
		t.Fatal(err)
	}
	later := slices.Index(p.Categories.Values, "later")
	cases := []struct {
		name, field, msg string
		edit             func(ts *TimeSummary, cats *Counts) int64
	}{
		{"no summary", "time", "is missing for kind time", nil},
		{"summary fault", "time.min", "is not a time in the layout", func(ts *TimeSummary, _ *Counts) int64 { ts.Min = "x"; return 300 }},
		{"count off", "time.parsed", "must add up to count 301", func(*TimeSummary, *Counts) int64 { return 301 }},
		{"over 1% unparsed", "time.unparsed", "5 of 400 values do not parse", func(ts *TimeSummary, cats *Counts) int64 {
			ts.Unparsed += 2
			ts.Parsed += 98
			ts.Hours[0] += 98
			ts.Weekdays[0] += 98
			return 400
		}},
		{"values that are not times", fmt.Sprintf("categories.values[%d]", later), `"later" is not a time in the layout "2006-01-02 15:04"`,
			func(ts *TimeSummary, _ *Counts) int64 {
				ts.Unparsed, ts.Parsed, ts.Hours[0], ts.Weekdays[0] = 1, ts.Parsed+2, ts.Hours[0]+2, ts.Weekdays[0]+2
				return 300
			}},
		{"value before min", "categories.values[", "is before time.min", func(ts *TimeSummary, _ *Counts) int64 { ts.Min = ts.Max; return 300 }},
		{"value after max", "categories.values[", "is after time.max", func(ts *TimeSummary, _ *Counts) int64 { ts.Max = ts.Min; return 300 }},
		{"identifiers", "categories.values[0]", `"u00000" is not a time`, func(_ *TimeSummary, cats *Counts) int64 {
			for i := range cats.Values {
				cats.Values[i] = fmt.Sprintf("u%05d", i)
			}
			return 300
		}},
	}
	for _, tc := range cases {
		var c stats.StringCounts
		c.Add(vals, nil)
		p := CategoricalFeature("d", &c)
		ts, count := p.Time, p.Count
		if tc.edit == nil {
			ts = nil
		} else {
			count = tc.edit(ts, p.Categories)
		}
		err := CheckTimeColumn(ts, count, p.Categories)
		if err == nil || !strings.HasPrefix(err.Field, tc.field) || !strings.Contains(err.Msg, tc.msg) {
			t.Errorf("%s: got %v, want %s: ...%s...", tc.name, err, tc.field, tc.msg)
		}
	}
}
