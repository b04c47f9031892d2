package drift

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	"github.com/normguard/normguard/profile"
	"github.com/normguard/normguard/table"
)

// summaryCase is a profile and current columns with varied content:
// continuous, discrete, two-valued, out of range, missing, categorical
// with kept, unknown and new values, and a time column.
func summaryCase(t *testing.T, seed uint64) ([]profile.Feature, []table.Column) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 7))
	const n, m = 5000, 3000
	ref := []table.Column{
		{Name: "x", Kind: table.Numeric, Num: make([]float64, n)},
		{Name: "k", Kind: table.Numeric, Num: make([]float64, n)},
		{Name: "b", Kind: table.Numeric, Num: make([]float64, n)},
		{Name: "c", Kind: table.String, Str: make([]string, n)},
		{Name: "many", Kind: table.String, Str: make([]string, n)},
		{Name: "ts", Kind: table.String, Str: make([]string, n)},
	}
	cur := []table.Column{
		{Name: "x", Kind: table.Numeric, Num: make([]float64, m)},
		{Name: "k", Kind: table.Numeric, Num: make([]float64, m)},
		{Name: "b", Kind: table.Numeric, Num: make([]float64, m)},
		{Name: "c", Kind: table.String, Str: make([]string, m), Null: make([]bool, m)},
		{Name: "many", Kind: table.String, Str: make([]string, m)},
		{Name: "ts", Kind: table.String, Str: make([]string, m)},
	}
	stamp := func(day, minute int) string {
		return time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(day)*24*time.Hour + time.Duration(minute)*time.Minute).Format("2006-01-02 15:04")
	}
	for i := 0; i < n; i++ {
		ref[5].Str[i] = stamp(rng.IntN(56), rng.IntN(1440))
		ref[0].Num[i] = rng.NormFloat64()
		ref[1].Num[i] = float64(rng.IntN(40))
		ref[2].Num[i] = float64(rng.IntN(2))
		ref[3].Str[i] = fmt.Sprintf("c%d", rng.IntN(8))
		ref[4].Str[i] = fmt.Sprintf("v%d", rng.IntN(300))
	}
	for i := 0; i < m; i++ {
		cur[0].Num[i] = rng.NormFloat64()*1.3 + 0.4
		if rng.IntN(50) == 0 {
			cur[0].Num[i] = math.NaN()
		}
		cur[1].Num[i] = float64(rng.IntN(45))
		cur[2].Num[i] = float64(rng.IntN(2))
		cur[3].Str[i] = fmt.Sprintf("c%d", rng.IntN(10))
		cur[3].Null[i] = rng.IntN(30) == 0
		cur[4].Str[i] = fmt.Sprintf("v%d", rng.IntN(400))
		cur[5].Str[i] = stamp(100+rng.IntN(28), rng.IntN(1440))
		if rng.IntN(100) == 0 {
			cur[5].Str[i] = "not a time"
		}
	}
	prof := profile.Columns(ref, 1)
	if prof[5].Kind != profile.KindTime {
		t.Fatalf("the ts column profiles as %q, want time", prof[5].Kind)
	}
	return prof, cur
}

// TestSummaryMergeExact checks that summaries of a column split into
// random parts, merged in random orders and groupings, encode to the same
// bytes as the summary of the whole column, and judge the same.
func TestSummaryMergeExact(t *testing.T) {
	for seed := uint64(1); seed <= 4; seed++ {
		prof, cur := summaryCase(t, seed)
		plans := SummaryPlans(prof, Options{})
		whole, err := Summarize(plans, cur)
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(seed, 99))
		for k, pl := range plans {
			want, err := whole[k].MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			for trial := 0; trial < 5; trial++ {
				c := &cur[k]
				rows := c.Len()
				// cut points, chunk sizes down to 1
				var parts []*Summary
				for lo := 0; lo < rows; {
					hi := min(rows, lo+1+rng.IntN(max(1, rows/(1+rng.IntN(20)))))
					s := pl.NewSummary()
					s.Add(sliceColumn(c, lo, hi))
					parts = append(parts, s)
					lo = hi
				}
				rng.Shuffle(len(parts), func(i, j int) { parts[i], parts[j] = parts[j], parts[i] })
				for len(parts) > 1 { // merge random neighbours: any grouping
					i := rng.IntN(len(parts) - 1)
					if err := parts[i].Merge(parts[i+1]); err != nil {
						t.Fatal(err)
					}
					parts = append(parts[:i+1], parts[i+2:]...)
				}
				got, err := parts[0].MarshalBinary()
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, want) {
					t.Fatalf("seed %d %s trial %d: merged summary differs from the whole column's", seed, pl.Name, trial)
				}
				back, err := pl.UnmarshalSummary(got)
				if err != nil {
					t.Fatal(err)
				}
				if again, _ := back.MarshalBinary(); !bytes.Equal(again, want) {
					t.Fatalf("seed %d %s: decode then encode changed the bytes", seed, pl.Name)
				}
			}
		}
	}
}

func sliceColumn(c *table.Column, lo, hi int) *table.Column {
	out := &table.Column{Name: c.Name, Kind: c.Kind}
	if c.Kind == table.String {
		out.Str = c.Str[lo:hi]
		if c.Null != nil {
			out.Null = c.Null[lo:hi]
		}
	} else {
		out.Num = c.Num[lo:hi]
	}
	return out
}

// TestSummaryEqualsCompareProfile checks that judging merged summaries
// gives the JSON CompareProfile gives on all the rows, for every method
// that works against a profile.
func TestSummaryEqualsCompareProfile(t *testing.T) {
	prof, cur := summaryCase(t, 5)
	for _, method := range []string{"", "ks", "wasserstein", "wasserstein_normed", "psi", "jensenshannon", "hellinger", "kl_div", "chisquare", "l_infinity"} {
		opt := Options{Method: method, Bins: 7}
		want, err := CompareProfile(prof, cur, opt)
		if err != nil {
			t.Fatal(err)
		}
		plans := SummaryPlans(prof, opt)
		a, _ := Summarize(plans, sliceAll(cur, 0, 1000))
		b, _ := Summarize(plans, sliceAll(cur, 1000, 3000))
		for i := range a {
			if err := b[i].Merge(a[i]); err != nil {
				t.Fatal(err)
			}
		}
		got, err := CompareSummaries(plans, b, opt)
		if err != nil {
			t.Fatal(err)
		}
		wj, _ := json.Marshal(want)
		gj, _ := json.Marshal(got)
		if !bytes.Equal(wj, gj) {
			t.Errorf("method %q: got %s\nwant %s", method, gj, wj)
		}
	}
}

func sliceAll(cols []table.Column, lo, hi int) []table.Column {
	out := make([]table.Column, len(cols))
	for i := range cols {
		out[i] = *sliceColumn(&cols[i], lo, hi)
	}
	return out
}

// TestSummaryBinnedCountsExact checks that the current's bin counts read
// from a summary are Histogram's on the values, and psi the same as
// computed from those counts directly.
func TestSummaryBinnedCountsExact(t *testing.T) {
	prof, cur := summaryCase(t, 6)
	rep, err := CompareProfile(prof[:1], cur[:1], Options{Method: "psi"})
	if err != nil {
		t.Fatal(err)
	}
	r, err := newRefCDF(&prof[0])
	if err != nil {
		t.Fatal(err)
	}
	edges := []float64{math.Inf(-1)}
	for i := 1; i < DefaultBins; i++ {
		if e := r.inverse(float64(i) / DefaultBins); e != edges[len(edges)-1] {
			edges = append(edges, e)
		}
	}
	edges = append(edges, math.Inf(1))
	refCounts := make([]int64, len(edges)-1)
	prev := 0.0
	for i := range refCounts {
		next := 1.0
		if i+1 < len(edges)-1 {
			next = r.atBelow(edges[i+1])
		}
		refCounts[i] = int64(math.Round((next - prev) * float64(prof[0].Count)))
		prev = next
	}
	want, err := PSI(refCounts, Histogram(DropNaN(cur[0].Num), edges))
	if err != nil {
		t.Fatal(err)
	}
	if got := float64(rep.Features[0].Statistic); got != want.Statistic {
		t.Errorf("got psi %v, want %v", got, want.Statistic)
	}
}

// TestSummaryRefusesOtherPlan checks that summaries against another
// profile neither merge nor decode.
func TestSummaryRefusesOtherPlan(t *testing.T) {
	prof, cur := summaryCase(t, 7)
	shifted := table.Column{Name: "x", Kind: table.Numeric, Num: append([]float64{}, cur[0].Num...)}
	other := profile.Column(&shifted) // the same name, another profile
	a := NewSummaryPlan(&prof[0], 10)
	b := NewSummaryPlan(&other, 10)
	sa, sb := a.NewSummary(), b.NewSummary()
	sa.Add(&cur[0])
	if err := sb.Merge(sa); err == nil {
		t.Error("got summaries of different plans merged, want an error")
	}
	enc, _ := sa.MarshalBinary()
	if _, err := b.UnmarshalSummary(enc); err == nil {
		t.Error("got a summary decoded against another plan, want an error")
	}
	for cut := 0; cut < len(enc); cut += 7 {
		if _, err := a.UnmarshalSummary(enc[:cut]); err == nil {
			t.Errorf("got a summary truncated to %d bytes decoded, want an error", cut)
		}
	}
}

// TestPointIndexFindsAsBinarySearch checks the summary's point lookup
// against sort.SearchFloat64s on the points themselves, their neighbours
// and random values, for evenly and unevenly spread points.
func TestPointIndexFindsAsBinarySearch(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 9))
	for _, pts := range [][]float64{
		{0, 1, 2, 3},
		{-1e300, -1, 0, 1e-300, 1, 1e300},
		{5},
		func() []float64 { // crowded: most points in a tiny range
			var p []float64
			for i := 0; i < 1000; i++ {
				p = append(p, 1+float64(i)*1e-9)
			}
			return append(p, 1e6)
		}(),
	} {
		ix := newPointIndex(pts)
		var xs []float64
		for _, p := range pts {
			xs = append(xs, p, math.Nextafter(p, math.Inf(-1)), math.Nextafter(p, math.Inf(1)))
		}
		for i := 0; i < 1000; i++ {
			xs = append(xs, pts[0]+(pts[len(pts)-1]-pts[0])*rng.Float64())
		}
		for _, x := range xs {
			if !(x >= pts[0] && x <= pts[len(pts)-1]) {
				continue
			}
			if got, want := ix.find(x), sort.SearchFloat64s(pts, x); got != want {
				t.Errorf("points %v.. find(%v) = %d, want %d", pts[0], x, got, want)
			}
		}
	}
}

// TestSummaryNamesOtherValues: a plan of a profile that kept only its top
// categories names the other values too (for a monitor's examples), up to
// MaxSummaryNew, and neither the names nor their dropping change what the
// drift methods compute from the summary.
func TestSummaryNamesOtherValues(t *testing.T) {
	prof, _ := summaryCase(t, 1)
	p := &prof[4] // "many": 300 training values
	if p.Categories == nil || p.Categories.Other == 0 {
		t.Fatalf("feature %s keeps every category; want a profile of top categories", p.Name)
	}
	pl := NewSummaryPlan(p, 0)
	if pl.TrackNew {
		t.Fatal("plan tracks new values")
	}
	for _, distinct := range []int{400, MaxSummaryNew + 500} {
		c := table.Column{Name: p.Name, Kind: table.String}
		for i := 0; i < 3*distinct; i++ {
			c.Str = append(c.Str, fmt.Sprintf("v%d", i%distinct))
		}
		s := pl.NewSummary()
		s.Add(&c)
		var named int64
		for _, n := range s.New {
			named += n
		}
		if distinct > MaxSummaryNew {
			if !s.NewDropped || s.New != nil {
				t.Errorf("%d distinct: %d named, dropped %v; want none named, dropped", distinct, len(s.New), s.NewDropped)
			}
		} else if s.NewDropped || named != s.Unknown || s.New["v399"] != 3 {
			t.Errorf("%d distinct: %d of %d other values named (v399: %d), dropped %v; want all, v399 3 times", distinct, named, s.Unknown, s.New["v399"], s.NewDropped)
		}
		// The drift methods see the other values in all only.
		bare := s.Clone()
		bare.New, bare.NewDropped = nil, false
		for _, method := range []string{"chisquare", "psi", "jensenshannon"} {
			got, err := pl.Evaluate(s, Options{Method: method})
			if err != nil {
				t.Fatal(err)
			}
			want, err := pl.Evaluate(bare, Options{Method: method})
			if err != nil {
				t.Fatal(err)
			}
			gj, _ := json.Marshal(got)
			wj, _ := json.Marshal(want)
			if !bytes.Equal(gj, wj) {
				t.Errorf("%d distinct, %s: with names\n%s\nwithout\n%s", distinct, method, gj, wj)
			}
		}
	}
}

// TestSummaryNewCategoriesFloor: against a profile that knows every
// category, more distinct new values than a summary names give a total
// marked as a floor, not a count (attack run 30 F8: 1001 for 3,440); fewer
// are counted and listed.
func TestSummaryNewCategoriesFloor(t *testing.T) {
	prof, _ := summaryCase(t, 1)
	var p *profile.Feature
	for i := range prof {
		if c := prof[i].Categories; c != nil && c.Other == 0 && prof[i].Kind == "" && len(c.Values) > 0 {
			p = &prof[i]
			break
		}
	}
	if p == nil {
		t.Fatal("no categorical feature keeps every category")
	}
	pl := NewSummaryPlan(p, 0)
	if !pl.TrackNew {
		t.Fatal("plan does not track new values")
	}
	for _, distinct := range []int{400, MaxSummaryNew + 500} {
		c := table.Column{Name: p.Name, Kind: table.String}
		for i := 0; i < 2*distinct; i++ {
			c.Str = append(c.Str, fmt.Sprintf("new%d", i%distinct))
		}
		s := pl.NewSummary()
		s.Add(&c)
		got, err := pl.Evaluate(s, Options{})
		if err != nil {
			t.Fatal(err)
		}
		f := got
		switch {
		case distinct > MaxSummaryNew && (!f.NewCategoriesAtLeast || f.NewCategoriesTotal != MaxSummaryNew+1 || len(f.NewCategories) != 0):
			t.Errorf("%d distinct: total %d, at least %v, %d listed; want a floor of %d, none listed", distinct, f.NewCategoriesTotal, f.NewCategoriesAtLeast, len(f.NewCategories), MaxSummaryNew+1)
		case distinct <= MaxSummaryNew && (f.NewCategoriesAtLeast || f.NewCategoriesTotal != distinct || len(f.NewCategories) == 0):
			t.Errorf("%d distinct: total %d, at least %v, %d listed; want the count, listed", distinct, f.NewCategoriesTotal, f.NewCategoriesAtLeast, len(f.NewCategories))
		}
	}
}
