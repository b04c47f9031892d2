package validate

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/normguard/normguard/profile"
	"github.com/normguard/normguard/step"
	"github.com/normguard/normguard/table"
)

func fl(x float64) *step.Float {
	v := step.Float(x)
	return &v
}

// numFeature is a numeric training profile: count present values in
// [lo, hi] spread evenly (the quantile grid says no cell holds more than
// about 1/200 of them), missing missing.
func numFeature(name string, count, missing int64, lo, hi float64) profile.Feature {
	f := profile.Feature{Name: name, Type: "numeric", Count: count, Missing: missing, Min: fl(lo), Max: fl(hi)}
	for i, p := range profile.GridProbs {
		f.Quantiles = append(f.Quantiles, lo+p*(hi-lo))
		f.CDF = append(f.CDF, p)
		if i == 0 {
			f.CDF[0] = 1 / float64(count)
		}
	}
	return f
}

func catFeature(name string, values []string, counts []int64, other, distinct int64) profile.Feature {
	var n int64
	for _, c := range counts {
		n += c
	}
	return profile.Feature{Name: name, Type: "categorical", Count: n + other,
		Categories: &profile.Counts{Values: values, Counts: counts, Other: other, Distinct: distinct}}
}

func present(name string, rows int64) Summary {
	return Summary{Name: name, Rows: rows, Min: math.NaN(), Max: math.NaN()}
}

func codes(r *Report) string {
	var out []string
	for _, a := range r.Anomalies {
		out = append(out, a.Column+"/"+a.Code)
	}
	return strings.Join(out, " ")
}

// TestRateRuleNeedsTestAndEffect: a missing share moving from 10% to
// 10.5% on a million rows is significant (Fisher p = 2e-31) but tiny
// (h = 0.016): no anomaly. 1 missing value in 5 rows where training had
// none of 1,000 is both (p = 0.005, h = 0.93). 2 of 10 where training had
// 10% is neither (p > 0.05).
func TestRateRuleNeedsTestAndEffect(t *testing.T) {
	cases := []struct {
		name                  string
		trainCount, trainMiss int64
		rows, missing         int64
		want                  string
		wantP, wantH          float64
	}{
		{"large sample small change", 900000, 100000, 1000000, 105000, "", 0, 0},
		{"small sample from none", 1000, 0, 5, 1, "x/missing_rate_change", 0.004975124378109453, 2 * math.Asin(math.Sqrt(0.2))},
		{"small sample noise", 900, 100, 10, 2, "", 0, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sc := &Schema{Features: []profile.Feature{numFeature("x", c.trainCount, c.trainMiss, 0, 1)}}
			s := present("x", c.rows)
			s.Missing, s.Min, s.Max, s.Distinct = c.missing, 0.2, 0.8, 2
			r, err := CheckSummaries(sc, c.rows, []Summary{s}, nil, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if got := codes(r); got != c.want {
				t.Fatalf("anomalies %q, want %q", got, c.want)
			}
			if c.want == "" {
				return
			}
			a := r.Anomalies[0]
			if !closeRel(*a.PValue, c.wantP, pRelTol) || math.Abs(*a.EffectSize-c.wantH) > 1e-12 {
				t.Errorf("p %v h %v, want %v %v", *a.PValue, *a.EffectSize, c.wantP, c.wantH)
			}
			if *a.TrainingCount != c.trainMiss || *a.TrainingTotal != c.trainCount+c.trainMiss || *a.CurrentCount != c.missing || *a.CurrentTotal != c.rows {
				t.Errorf("counts %d/%d → %d/%d", *a.TrainingCount, *a.TrainingTotal, *a.CurrentCount, *a.CurrentTotal)
			}
		})
	}
}

// TestEmptyAndConstantBounds pins the chance bounds at their edges: a
// column half missing at training is empty by chance in 4 rows with
// probability 0.5^4 = 0.0625 (no anomaly) and in 5 rows 0.03125
// (anomaly); two categories of equal share give 5 equal values with
// probability at most 0.5^4 (no anomaly), 6 with 0.5^5 (anomaly).
func TestEmptyAndConstantBounds(t *testing.T) {
	half := numFeature("x", 500, 500, 0, 1)
	for rows, want := range map[int64]string{4: "", 5: "x/empty_column"} {
		s := present("x", rows)
		s.Missing = rows
		r, err := CheckSummaries(&Schema{Features: []profile.Feature{half}}, rows, []Summary{s}, nil, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if got := codes(r); got != want {
			t.Errorf("%d missing rows: %q, want %q", rows, got, want)
		}
	}
	two := catFeature("c", []string{"a", "b"}, []int64{50, 50}, 0, 2)
	for rows, want := range map[int64]string{5: "", 6: "c/constant_column"} {
		s := present("c", rows)
		s.Distinct, s.Value = 1, "a"
		r, err := CheckSummaries(&Schema{Features: []profile.Feature{two}, Known: map[string][]string{"c": {"a", "b"}}}, rows, []Summary{s}, nil, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if got := codes(r); got != want {
			t.Errorf("%d equal values: %q, want %q", rows, got, want)
		}
	}
	// Among 100 equally common categories, 4 equal values are unlikely
	// (p = 1e-6) but too few to say the column stopped varying; 5 are.
	var hundred []string
	var ones []int64
	for i := 0; i < 100; i++ {
		hundred = append(hundred, fmt.Sprint("v", i))
		ones = append(ones, 10)
	}
	spread := catFeature("c", hundred, ones, 0, 100)
	for rows, want := range map[int64]string{2: "", MinConstantValues - 1: "", MinConstantValues: "c/constant_column"} {
		s := present("c", rows)
		s.Distinct, s.Value = 1, "v1"
		r, err := CheckSummaries(&Schema{Features: []profile.Feature{spread}, Known: map[string][]string{"c": hundred}}, rows, []Summary{s}, nil, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if got := codes(r); got != want {
			t.Errorf("%d equal values of 100 categories: %q, want %q", rows, got, want)
		}
	}
}

// TestCategoriesKnownOrNot: unseen values are claimed only where the
// training categories are known completely; with a truncated profile the
// report says "other_categories"; an identifier column says neither.
func TestCategoriesKnownOrNot(t *testing.T) {
	complete := catFeature("c", []string{"a", "b"}, []int64{600, 400}, 0, 2)
	// a and b stand clearly above the cut (c's 5), so 10% of training
	// values are outside the settled categories.
	truncated := catFeature("t", []string{"a", "b", "c"}, []int64{600, 300, 5}, 95, 40)
	ident := catFeature("id", []string{"k1"}, []int64{1}, 999, 1000)
	ident.Kind = profile.KindIdentifier
	sc := &Schema{Features: []profile.Feature{complete, truncated, ident}, Known: map[string][]string{"c": {"a", "b"}}}
	c := present("c", 100)
	c.Unseen, c.UnseenDistinct, c.UnseenExamples, c.Distinct = 40, 1, []string{"zz"}, 2
	tr := present("t", 100)
	tr.Other, tr.OtherCounted, tr.Distinct = 40, true, 2
	id := present("id", 100)
	id.Unseen, id.Distinct = 100, 2
	r, err := CheckSummaries(sc, 100, []Summary{c, tr, id}, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := codes(r), "c/unseen_categories t/other_categories"; got != want {
		t.Fatalf("anomalies %q, want %q", got, want)
	}
	// The truncated profile compares 40% now with its 10% "other".
	o := r.Anomalies[1]
	if *o.Training != 0.1 || *o.Current != 0.4 {
		t.Errorf("other_categories: %v → %v, want 0.1 → 0.4", *o.Training, *o.Current)
	}
}

// TestUnexpectedColumns: with remainder drop, an extra column is ignored
// unless its name is close to a missing input's; with passthrough every
// extra column is unexpected.
func TestUnexpectedColumns(t *testing.T) {
	f := numFeature("distance", 100, 0, 0, 1)
	g := numFeature("delay", 100, 0, 0, 1)
	d := present("delay", 10)
	d.Min, d.Max, d.Distinct = 0.5, 0.5, 2
	miss := Summary{Name: "distance", Absent: true}
	for _, c := range []struct {
		passthrough bool
		want        string
		ignored     string
	}{
		{false, "distance/missing_column Distance/unexpected_column", "label"},
		{true, "distance/missing_column Distance/unexpected_column label/unexpected_column", ""},
	} {
		sc := &Schema{Features: []profile.Feature{f, g}, Passthrough: c.passthrough}
		r, err := CheckSummaries(sc, 10, []Summary{miss, d}, []string{"Distance", "label"}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if got := codes(r); got != c.want {
			t.Errorf("passthrough %v: %q, want %q", c.passthrough, got, c.want)
		}
		if got := strings.Join(r.Ignored, ","); got != c.ignored {
			t.Errorf("passthrough %v: ignored %q, want %q", c.passthrough, got, c.ignored)
		}
		if r.Anomalies[0].SimilarTo != "Distance" || r.Anomalies[1].SimilarTo != "distance" {
			t.Errorf("similar: %q, %q", r.Anomalies[0].SimilarTo, r.Anomalies[1].SimilarTo)
		}
	}
}

func TestCheckSummariesErrors(t *testing.T) {
	sc := &Schema{Features: []profile.Feature{numFeature("x", 10, 0, 0, 1)}}
	if _, err := CheckSummaries(sc, 0, nil, nil, Options{}); !errors.Is(err, ErrInvalid) {
		t.Errorf("no rows: %v, want ErrInvalid", err)
	}
	if _, err := CheckSummaries(sc, 5, []Summary{present("y", 5)}, nil, Options{}); !errors.Is(err, ErrInvalid) {
		t.Errorf("unknown column: %v, want ErrInvalid", err)
	}
	if _, err := CheckSummaries(sc, 5, nil, nil, Options{Columns: []string{"y"}}); err == nil || !strings.Contains(err.Error(), `"y"`) {
		t.Errorf("--columns y: %v, want an error naming y", err)
	}
}

// TestRefusingEncoder: one unseen value of 1,000 is no change by the rate
// rule, but an encoder with handle_unknown: error fails on it.
func TestRefusingEncoder(t *testing.T) {
	f := catFeature("c", []string{"a", "b"}, []int64{600, 400}, 0, 2)
	s := present("c", 1000)
	s.Unseen, s.UnseenExamples, s.Distinct = 1, []string{"zz"}, 2
	for _, refuses := range []bool{false, true} {
		sc := &Schema{Features: []profile.Feature{f}, Known: map[string][]string{"c": {"a", "b"}}, Refuses: map[string]bool{"c": refuses}}
		r, err := CheckSummaries(sc, 1000, []Summary{s}, nil, Options{})
		if err != nil {
			t.Fatal(err)
		}
		want := ""
		if refuses {
			want = "c/unseen_categories"
		}
		if got := codes(r); got != want {
			t.Errorf("refuses %v: %q, want %q", refuses, got, want)
		}
		if refuses && r.Anomalies[0].Severity != SeverityError {
			t.Errorf("severity %s, want error", r.Anomalies[0].Severity)
		}
	}
}

// TestConstantBoundPrinted: a bound below the smallest p-value printed
// reads "below 1e-300", not "at most < 1e-300"; 0.5^6000 = 10^-1806.
func TestConstantBoundPrinted(t *testing.T) {
	two := catFeature("c", []string{"a", "b"}, []int64{50, 50}, 0, 2)
	for rows, want := range map[int64]string{6000: "equal draws below 1e-300)", 20: "equal draws at most 1.9e-06)"} {
		s := present("c", rows)
		s.Distinct, s.Value = 1, "a"
		r, err := CheckSummaries(&Schema{Features: []profile.Feature{two}, Known: map[string][]string{"c": {"a", "b"}}}, rows, []Summary{s}, nil, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Anomalies) != 1 || !strings.Contains(r.Anomalies[0].Description, want) {
			t.Errorf("%d equal values: %+v, want a description with %q", rows, r.Anomalies, want)
		}
	}
}

// TestRenamedWithAffix: a missing input renamed with a separated prefix or
// suffix is pointed out (depth → depth_pct, distance → trip_distance);
// a name merely containing it without a separator is not (rate in
// pirates), nor one too short to say (age in age_years).
func TestRenamedWithAffix(t *testing.T) {
	for _, c := range []struct{ name, extra, want string }{
		{"depth", "depth_pct", "depth_pct"},
		{"distance", "trip_distance", "trip_distance"},
		{"Distance_km", "distance", "distance"},
		{"rate", "pirates", ""},
		{"age", "age_years", ""},
	} {
		if got := closest(c.name, []string{"other", c.extra}); got != c.want {
			t.Errorf("closest(%q, %q) = %q, want %q", c.name, c.extra, got, c.want)
		}
	}
}

// TestInfiniteValues: one infinite value is an error anomaly, whatever
// the share (attack run 4: validate said "no anomaly" on a column with
// inf, -inf and 1e400, which the transform refuses). Missing cells are
// not counted among the present values.
func TestInfiniteValues(t *testing.T) {
	f := numFeature("x", 1000, 0, 0, 1)
	col := &table.Column{Name: "x", Kind: table.Numeric, Num: []float64{0.5, math.Inf(1), math.NaN(), math.Inf(-1), 0.25, 0.75}}
	s, err := Summarize(&f, col, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.Infinite != 2 || s.Missing != 1 {
		t.Fatalf("summary: %d infinite, %d missing; want 2 and 1", s.Infinite, s.Missing)
	}
	r, err := CheckSummaries(&Schema{Features: []profile.Feature{f}}, 6, []Summary{s}, []string{"x"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var inf *Anomaly
	for i := range r.Anomalies {
		if r.Anomalies[i].Code == InfiniteValues {
			inf = &r.Anomalies[i]
		}
	}
	if inf == nil {
		t.Fatalf("no %s anomaly: %s", InfiniteValues, codes(r))
	}
	if inf.Severity != SeverityError || *inf.CurrentCount != 2 || *inf.CurrentTotal != 5 || !strings.Contains(inf.Description, "2 of 5 present values") {
		t.Errorf("anomaly: %+v", *inf)
	}
	// Finite values alone: no such anomaly.
	col.Num = []float64{0.5, 0.25}
	if s, err = Summarize(&f, col, nil); err != nil || s.Infinite != 0 {
		t.Fatalf("finite column: %d infinite, %v", s.Infinite, err)
	}
}
