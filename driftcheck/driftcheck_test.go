package driftcheck

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/normguard/normguard/drift"
	"github.com/normguard/normguard/profile"
	"github.com/normguard/normguard/table"
)

func TestSelectFeatures(t *testing.T) {
	names := []string{"a", "b", "c"}
	for _, tc := range []struct {
		name             string
		columns, exclude []string
		want             []string // kept, in order
		err              string
	}{
		{name: "all", want: []string{"a", "b", "c"}},
		{name: "columns", columns: []string{"c", "a"}, want: []string{"a", "c"}},
		{name: "exclude", exclude: []string{"b"}, want: []string{"a", "c"}},
		{name: "both", columns: []string{"a", "b"}, exclude: []string{"a"}, want: []string{"b"}},
		{name: "unknown column", columns: []string{"x"}, err: `--columns names "x", which is not a feature of the inputs; its features are: a, b, c`},
		{name: "unknown exclude", exclude: []string{"y"}, err: `--exclude names "y"`},
		{name: "nothing left", exclude: names, err: "leave no feature of the inputs to compare"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			keep, err := SelectFeatures(names, tc.columns, tc.exclude, "the inputs")
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("got error %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, n := range names {
				if keep[n] {
					got = append(got, n)
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestStatus(t *testing.T) {
	judged := drift.Feature{Name: "a"}
	skipped := drift.Feature{Name: "id", Skipped: "an identifier"}
	for _, tc := range []struct {
		name            string
		rep             drift.Report
		found, elsewere bool
		want            string // "" nil, "found" ErrFound, else part of the error
	}{
		{name: "clean", rep: drift.Report{Features: []drift.Feature{judged, skipped}}},
		{name: "drift", rep: drift.Report{Features: []drift.Feature{{Name: "a", Drift: true}}}, want: "found"},
		{name: "missing", rep: drift.Report{Features: []drift.Feature{judged}, MissingFeatures: []string{"b"}}, want: "found"},
		{name: "new segment", rep: drift.Report{Features: []drift.Feature{judged}, NewSegments: []string{"x"}}, want: "found"},
		{name: "anomalies", rep: drift.Report{Features: []drift.Feature{judged}}, found: true, want: "found"},
		{name: "failed before found", rep: drift.Report{Features: []drift.Feature{{Name: "a", Segment: "s1", Error: "no values"}, {Name: "b", Drift: true}}},
			want: "a (segment s1): no values"},
		{name: "all skipped", rep: drift.Report{Features: []drift.Feature{skipped}}, want: "no feature could be judged, every one was skipped:\n  id: an identifier"},
		{name: "vectors only", rep: drift.Report{}, elsewere: true},
		{name: "nothing at all", rep: drift.Report{}, want: "no feature could be judged"},
		{name: "vectors and skipped", rep: drift.Report{Features: []drift.Feature{skipped}}, elsewere: true, want: "no feature could be judged"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Status(&tc.rep, tc.found, tc.elsewere)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("got %v, want nil", err)
			case tc.want == "found" && !errors.Is(err, ErrFound):
				t.Fatalf("got %v, want ErrFound", err)
			case tc.want != "" && tc.want != "found" && (err == nil || errors.Is(err, ErrFound) || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

// TestCompare checks the report's order (compared features in the data's
// order, missing ones in the profile's, text-holding numeric inputs
// skipped last) and that it equals drift.CompareProfile on the same
// columns.
func TestCompare(t *testing.T) {
	num := func(name string, xs ...float64) table.Column {
		return table.Column{Name: name, Kind: table.Numeric, Num: xs}
	}
	train := []table.Column{num("a", 1, 2, 3, 4, 5, 6, 7, 8), num("b", 0, 0, 1, 1, 2, 2, 3, 3), num("c", 5, 6, 7, 8, 9, 10, 11, 12), num("d", 1, 1, 2, 2, 3, 3, 4, 4)}
	selected := profile.Columns(train, 1)
	opt := drift.Options{Method: "ks"}
	cols := []table.Column{num("c", 5, 6, 7, 30), {Name: "d", Kind: table.String, Str: []string{"x", "1", "2", "3"}}, num("a", 1, 2, 3, 4), num("z", 1, 2, 3, 4)}
	cur, err := Columns(selected, cols, opt)
	if err != nil {
		t.Fatal(err)
	}
	if len(cur) != 3 || cur[0].Name != "c" || !cur[1].NotNumbers || cur[2].Name != "a" || cur[0].Summary == nil || cur[2].Summary == nil {
		t.Fatalf("got %+v, want c, d (not numbers), a", cur)
	}
	rep, err := Compare(selected, cur, opt, false)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range rep.Features {
		names = append(names, f.Name)
	}
	if !slices.Equal(names, []string{"c", "a", "d"}) || !slices.Equal(rep.MissingFeatures, []string{"b"}) {
		t.Fatalf("got features %v, missing %v; want [c a d], [b]", names, rep.MissingFeatures)
	}
	if d := rep.Features[2]; d.Skipped != notNumbersReason || !math.IsNaN(float64(d.Statistic)) {
		t.Fatalf("got %+v, want the not-numbers skip", d)
	}
	want, err := drift.CompareProfile([]profile.Feature{selected[0], selected[1], selected[2]}, []table.Column{cols[0], cols[2]}, opt)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		g, w := rep.Features[i], want.Features[i]
		if g.Name != w.Name || g.Statistic != w.Statistic || g.PValue != w.PValue || g.Drift != w.Drift {
			t.Fatalf("feature %d: got %+v, want %+v", i, g, w)
		}
	}
	if rep.DriftShare != want.DriftShare || !slices.Equal(rep.MissingFeatures, want.MissingFeatures) {
		t.Fatalf("got share %v missing %v, want %v %v", rep.DriftShare, rep.MissingFeatures, want.DriftShare, want.MissingFeatures)
	}
}

func TestCompareNothingComparable(t *testing.T) {
	selected := profile.Columns([]table.Column{{Name: "a", Kind: table.Numeric, Num: []float64{1, 2, 3}}, {Name: "b", Kind: table.Numeric, Num: []float64{1, 2, 3}}}, 1)
	cur := []Current{{Name: "a", NotNumbers: true}}
	if _, err := Compare(selected, cur, drift.Options{}, false); !errors.Is(err, ErrNoInputs) {
		t.Fatalf("got %v, want ErrNoInputs", err)
	}
	rep, err := Compare(selected, cur, drift.Options{}, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Features) != 1 || rep.Features[0].Name != "a" || !slices.Equal(rep.MissingFeatures, []string{"b"}) {
		t.Fatalf("got %+v, want a skipped and b missing", rep)
	}
}
