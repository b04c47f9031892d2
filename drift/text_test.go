package drift

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/normguard/normguard/profile"
	"github.com/normguard/normguard/table"
)

// stampsColumn returns n timestamps every step from start, written in
// the layout "2006-01-02 15:04".
func stampsColumn(start time.Time, step time.Duration, n int) table.Column {
	c := table.Column{Name: "t", Kind: table.String}
	for i := 0; i < n; i++ {
		c.Str = append(c.Str, start.Add(time.Duration(i)*step).Format("2006-01-02 15:04"))
	}
	return c
}

// TestTimePartsNeedEvenCover checks which calendar distributions a time
// column is compared by, from the time ranges alone: a month has every
// weekday 4 or 5 times (compared), a four-day window does not cover the
// week (day_of_week not compared, hours are), a five-hour window covers
// neither (the feature is skipped, with the reason), in both modes.
func TestTimePartsNeedEvenCover(t *testing.T) {
	jan := time.Date(2024, 1, 1, 0, 7, 0, 0, time.UTC)
	ref := stampsColumn(jan, 17*time.Minute, 60*24*60/17) // 60 days
	cases := []struct {
		name     string
		cur      table.Column
		compared []string
	}{
		{"a month", stampsColumn(jan.AddDate(0, 5, 0), 23*time.Minute, 30*24*60/23), []string{"hour_of_day", "day_of_week"}},
		{"four days", stampsColumn(jan.AddDate(0, 5, 0), 7*time.Minute, 4*24*60/7), []string{"hour_of_day"}},
		{"five hours", stampsColumn(jan.AddDate(0, 5, 0), time.Minute, 300), nil},
		{"a day from midnight", stampsColumn(time.Date(2024, 6, 3, 0, 0, 0, 0, time.UTC), 5*time.Minute, 288), []string{"hour_of_day"}},
	}
	p := profile.Column(&ref)
	for _, tc := range cases {
		a, err := CompareProfile([]profile.Feature{p}, []table.Column{tc.cur}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		r, err := Compare([]table.Column{ref}, []table.Column{tc.cur}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		for mode, f := range map[string]Feature{"artifact": a.Features[0], "reference": r.Features[0]} {
			if f.Kind != profile.KindTime || f.Time == nil {
				t.Fatalf("%s %s: kind %q", tc.name, mode, f.Kind)
			}
			var got []string
			for _, pt := range f.Time.Parts {
				if pt.Skipped == "" {
					got = append(got, pt.Name)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.compared) {
				t.Errorf("%s %s: compared %v, want %v", tc.name, mode, got, tc.compared)
			}
			if skipped := f.Skipped != ""; skipped != (len(tc.compared) == 0) || (skipped && !strings.Contains(f.Skipped, "unevenly")) {
				t.Errorf("%s %s: skipped %q", tc.name, mode, f.Skipped)
			}
			if len(tc.compared) > 0 && float64(f.Threshold) != AutoAlpha/float64(len(tc.compared)) {
				t.Errorf("%s %s: threshold %v, want %v / %d", tc.name, mode, float64(f.Threshold), AutoAlpha, len(tc.compared))
			}
		}
		if a.Features[0].Skipped != "" && a.DriftShare != 0 {
			t.Errorf("%s: a skipped feature counts in the drift share", tc.name)
		}
	}
}

// TestCycleCover checks the counts of the least and most covered cells
// against a count made hour by hour.
func TestCycleCover(t *testing.T) {
	start := time.Date(2023, 3, 4, 5, 6, 0, 0, time.UTC)
	for _, hours := range []int{0, 1, 5, 23, 24, 25, 47, 24 * 7, 24*7 + 3, 24 * 31} {
		lo, hi := start, start.Add(time.Duration(hours)*time.Hour)
		byHour, byDay := make([]int64, 24), make([]int64, 7)
		for h := lo.Truncate(time.Hour); !h.After(hi); h = h.Add(time.Hour) {
			byHour[h.Hour()]++
		}
		for d := time.Date(lo.Year(), lo.Month(), lo.Day(), 0, 0, 0, 0, time.UTC); !d.After(hi); d = d.AddDate(0, 0, 1) {
			byDay[d.Weekday()]++
		}
		for _, c := range []struct {
			unit  time.Duration
			cells int
			want  []int64
		}{{time.Hour, 24, byHour}, {24 * time.Hour, 7, byDay}} {
			least, most := cycleCover(lo, hi, c.unit, c.cells)
			wl, wm := c.want[0], c.want[0]
			for _, n := range c.want {
				wl, wm = min(wl, n), max(wm, n)
			}
			if least != wl || most != wm {
				t.Errorf("%d hours, %d cells: got %d..%d, want %d..%d", hours, c.cells, least, most, wl, wm)
			}
		}
	}
}

// TestNumericMethodSkipsCategories checks that a method for numbers only
// (ks) skips a categorical feature with the reason instead of failing it,
// in both modes.
func TestNumericMethodSkipsCategories(t *testing.T) {
	ref := table.Column{Name: "c", Kind: table.String, Str: strings.Split("a b a b c a", " ")}
	cur := table.Column{Name: "c", Kind: table.String, Str: strings.Split("a a a b", " ")}
	p := profile.Column(&ref)
	a, err := CompareProfile([]profile.Feature{p}, []table.Column{cur}, Options{Method: "ks"})
	if err != nil {
		t.Fatal(err)
	}
	r, err := Compare([]table.Column{ref}, []table.Column{cur}, Options{Method: "ks"})
	if err != nil {
		t.Fatal(err)
	}
	for mode, f := range map[string]Feature{"artifact": a.Features[0], "reference": r.Features[0]} {
		if f.Error != "" || !strings.Contains(f.Skipped, "numeric features only") {
			t.Errorf("%s: error %q skipped %q; want skipped for ks", mode, f.Error, f.Skipped)
		}
	}
}
