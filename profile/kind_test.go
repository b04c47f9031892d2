package profile

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/normguard/normguard/stats"
	"github.com/normguard/normguard/table"
)

// readCSVColumn returns the values of column name of a testdata CSV.
func readCSVColumn(t *testing.T, file, name string) []string {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	at := slices.Index(rows[0], name)
	if at < 0 {
		t.Fatalf("%s has no column %q", file, name)
	}
	out := make([]string, 0, len(rows)-1)
	for _, r := range rows[1:] {
		out = append(out, r[at])
	}
	return out
}

func textFeature(name string, vals []string) Feature {
	return Column(&table.Column{Name: name, Kind: table.String, Str: vals})
}

// TestTimeColumnsMatchPandas profiles the date columns of the shipped
// flights and Chicago tables and compares the time summary with pandas'
// reading of the same values (testdata/gen.py).
func TestTimeColumnsMatchPandas(t *testing.T) {
	var want map[string]struct {
		Min, Max string
		Parsed   int64
		Hours    []int64
		Weekdays []int64
	}
	b, err := os.ReadFile("testdata/time_expected.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	for file, layout := range map[string]string{"flights_dates.csv": "2006-01-02 15:04", "chicago_dates.csv": "2006-01-02"} {
		w := want[file]
		p := textFeature("date", readCSVColumn(t, file, "date"))
		if p.Kind != KindTime || p.Time == nil {
			t.Fatalf("%s: kind %q, time %v; want time", file, p.Kind, p.Time)
		}
		ts := p.Time
		if ts.Layout != layout || ts.Min != w.Min || ts.Max != w.Max || ts.Parsed != w.Parsed || ts.Unparsed != 0 {
			t.Errorf("%s: got layout %q min %q max %q parsed %d unparsed %d; want %q %q %q %d 0",
				file, ts.Layout, ts.Min, ts.Max, ts.Parsed, ts.Unparsed, layout, w.Min, w.Max, w.Parsed)
		}
		if !slices.Equal(ts.Hours, w.Hours) {
			t.Errorf("%s: hours %v, want %v", file, ts.Hours, w.Hours)
		}
		if !slices.Equal(ts.Weekdays, w.Weekdays) {
			t.Errorf("%s: weekdays %v, want %v", file, ts.Weekdays, w.Weekdays)
		}
	}
}

// TestTextKinds checks which text columns are time, identifier or
// ordinary.
func TestTextKinds(t *testing.T) {
	ids := make([]string, 200)
	for i := range ids {
		ids[i] = fmt.Sprintf("N%05d", 7919*i%100003)
	}
	nearlyUnique := slices.Clone(ids)
	for i := 0; i < 10; i++ { // 190 distinct of 200: 0.95
		nearlyUnique[i] = nearlyUnique[100+i]
	}
	tooRepeated := slices.Clone(ids)
	for i := 0; i < 11; i++ { // 189 distinct of 200
		tooRepeated[i] = tooRepeated[100+i]
	}
	few := ids[:49]
	stamps := make([]string, 1000)
	for i := range stamps {
		stamps[i] = fmt.Sprintf("2024-03-%02dT%02d:%02d:05.25+02:00", 1+i%28, i%24, i%60)
	}
	mostlyStamps := slices.Clone(stamps)
	for i := 0; i < 10; i++ { // 99% parse
		mostlyStamps[i*100] = "unknown"
	}
	tooFewStamps := slices.Clone(mostlyStamps)
	tooFewStamps[1] = "later"
	cases := []struct {
		name string
		vals []string
		kind string
	}{
		{"gapminder country", readCSVColumn(t, "gapminder_country.csv", "country"), ""},
		{"gapminder continent", readCSVColumn(t, "gapminder_country.csv", "continent"), ""},
		{"penguins species", readCSVColumn(t, "penguins_species.csv", "species"), ""},
		{"unique ids", ids, KindIdentifier},
		{"95% distinct", nearlyUnique, KindIdentifier},
		{"94.5% distinct", tooRepeated, ""},
		{"49 unique values", few, ""},
		{"rfc3339 with zone and fraction", stamps, KindTime},
		{"99% timestamps", mostlyStamps, KindTime},
		{"98.9% timestamps", tooFewStamps, ""},
		{"slashed dates", []string{"2001/02/03", "2001/02/04", "2001/02/04"}, KindTime},
		{"month-first dates are not recognised", []string{"02/03/2001", "02/04/2001"}, ""},
		{"empty", nil, ""},
	}
	for _, tc := range cases {
		p := textFeature("c", tc.vals)
		if p.Kind != tc.kind {
			t.Errorf("%s: kind %q, want %q", tc.name, p.Kind, tc.kind)
		}
		if (p.Time != nil) != (tc.kind == KindTime) {
			t.Errorf("%s: time summary %v with kind %q", tc.name, p.Time, p.Kind)
		}
	}
	// The zone-bearing timestamps: the hour as written, the unparsed ones
	// counted.
	p := textFeature("c", mostlyStamps)
	if p.Time.Layout != "2006-01-02T15:04:05Z07:00" || p.Time.Parsed != 990 || p.Time.Unparsed != 10 {
		t.Errorf("mostly timestamps: %+v", *p.Time)
	}
	var h0 int64
	for i, s := range mostlyStamps {
		if i%24 == 0 && s != "unknown" {
			h0++
		}
	}
	if p.Time.Hours[0] != h0 {
		t.Errorf("hour 0: got %d, want %d", p.Time.Hours[0], h0)
	}
	// Numbers are never identifiers, however distinct.
	xs := make([]float64, 500)
	for i := range xs {
		xs[i] = float64(i) * 1.5
	}
	if p := Column(&table.Column{Name: "x", Kind: table.Numeric, Num: xs}); p.Kind != "" || p.Time != nil {
		t.Errorf("numeric column: kind %q", p.Kind)
	}
}

// TestTextKindMerged checks that the kind and time summary of counts
// merged from shards in any order are the whole column's.
func TestTextKindMerged(t *testing.T) {
	vals := readCSVColumn(t, "flights_dates.csv", "date")
	want := jsonOf(t, textFeature("date", vals))
	rng := rand.New(rand.NewPCG(5, 6))
	for _, most := range []int{1, 7, 500} {
		var merged stats.StringCounts
		for _, r := range ranges(rng, len(vals), most) {
			var c stats.StringCounts
			c.Add(vals[r[0]:r[1]], nil)
			merged.Merge(&c)
		}
		if got := jsonOf(t, CategoricalFeature("date", &merged)); got != want {
			t.Fatalf("shards of up to %d rows: merged profile differs:\n%s\nwant\n%s", most, got, want)
		}
	}
}

func TestParseTime(t *testing.T) {
	for _, tc := range []struct {
		layout, s string
		ok        bool
		hour      int
	}{
		{"2006-01-02 15:04", "2001-01-01 00:01", true, 0},
		{"2006-01-02 15:04", "2001-01-01", false, 0},
		{"2006-01-02 15:04:05", "2001-01-01 13:01:02.5", true, 13},
		{"2006-01-02T15:04:05Z07:00", "2001-01-01T23:00:00-05:00", true, 23},
		{"2006-01-02", "2001-02-30", false, 0},
	} {
		got, ok := ParseTime(tc.layout, tc.s)
		if ok != tc.ok || (ok && got.Hour() != tc.hour) {
			t.Errorf("ParseTime(%q, %q) = %v, %v; want ok %v hour %d", tc.layout, tc.s, got, ok, tc.ok, tc.hour)
		}
	}
}
