package artifact

import (
	"math"
	"sort"
	"strconv"

	"github.com/normguard/normguard/profile"
	"github.com/normguard/normguard/step"
)

// Floors above which ProfileShifts calls a feature moved. They are review
// aids, not drift tests: `normguard drift` judges distributions.
const (
	// MovedMeanShift is the smallest |mean shift|, in A's training
	// standard deviations.
	MovedMeanShift = 0.1
	// MovedStdRatio is the smallest std ratio (B/A, or A/B) that counts.
	MovedStdRatio = 1.1
	// MovedRate is the smallest change of a missing rate or of a
	// category's share (0.01 = one percentage point).
	MovedRate = 0.01
)

// FeatureShift summarises how one profiled feature differs between two
// artifacts' training profiles.
type FeatureShift struct {
	// Stage is "inputs" (raw columns) or "outputs" (transformed columns).
	Stage string
	Name  string
	// TypeA and TypeB are the feature's types; "" on the side that lacks it.
	TypeA, TypeB string
	// CountA, CountB count present values; MissingA, MissingB are the
	// missing rates Missing/(Count+Missing) (NaN without rows).
	CountA, CountB     int64
	MissingA, MissingB float64
	// MeanShift is (mean_B - mean_A) / std_A and StdRatio std_B / std_A,
	// for numeric features on both sides (NaN when undefined, e.g. a
	// constant feature in A). MinA..MaxB are the ranges (NaN when absent).
	MeanShift, StdRatio    float64
	MinA, MaxA, MinB, MaxB float64
	// KindA and KindB are what a categorical feature holds (profile.KindTime,
	// profile.KindIdentifier or ""); TimeA and TimeB the earliest and latest
	// values of a time feature, as written in the data; DistinctA and
	// DistinctB the number of distinct values of a categorical feature.
	KindA, KindB         string
	TimeA, TimeB         [2]string
	DistinctA, DistinctB int64
	// Shares are the categories (of a categorical feature, or the values
	// of a two-valued numeric one) whose share of present values changed,
	// largest change first; a category that the other side's profile does
	// not list while it lists every category it saw has share 0 there.
	Shares []ShareChange
	// Moved is set when the feature was added or removed, changed type or
	// kind, a time feature's range changed, or one of the numbers above
	// passed its floor (MovedMeanShift, MovedStdRatio, MovedRate). Time and
	// identifier features have no Shares: their values are not categories.
	Moved bool
}

// ShareChange is one category's share of present values in A and in B.
// A category a side's profile does not list has share 0 there when that
// profile lists every category it saw; otherwise (the rest was folded
// into "other") its share is only known to be at most the smallest listed
// share, which A or B then holds with AUpper or BUpper set.
type ShareChange struct {
	Value          string
	A, B           float64
	AUpper, BUpper bool
}

// Change is B - A, NaN when either side is only an upper bound.
func (c ShareChange) Change() float64 {
	if c.AUpper || c.BUpper {
		return math.NaN()
	}
	return c.B - c.A
}

// MinChange is the smallest |B - A| the shares allow: |B - A| when both
// are known, else how far the known share lies above the other side's
// upper bound (0 when it does not).
func (c ShareChange) MinChange() float64 {
	switch {
	case c.AUpper && c.BUpper:
		return 0
	case c.AUpper:
		return math.Max(c.B-c.A, 0)
	case c.BUpper:
		return math.Max(c.A-c.B, 0)
	}
	return math.Abs(c.B - c.A)
}

// ProfileShifts compares the training profiles of a and b feature by
// feature (matched by name), inputs first, then outputs, each in a's
// order followed by b's new features. Nil when either has no profile.
func ProfileShifts(a, b *Artifact) []FeatureShift {
	if a.Profile == nil || b.Profile == nil {
		return nil
	}
	var out []FeatureShift
	for _, st := range []struct {
		name   string
		fa, fb []profile.Feature
	}{{"inputs", a.Profile.Inputs, b.Profile.Inputs}, {"outputs", a.Profile.Outputs, b.Profile.Outputs}} {
		byName := map[string]*profile.Feature{}
		for i := range st.fb {
			byName[st.fb[i].Name] = &st.fb[i]
		}
		seen := map[string]bool{}
		for i := range st.fa {
			seen[st.fa[i].Name] = true
			out = append(out, featureShift(st.name, &st.fa[i], byName[st.fa[i].Name]))
		}
		for i := range st.fb {
			if !seen[st.fb[i].Name] {
				out = append(out, featureShift(st.name, nil, &st.fb[i]))
			}
		}
	}
	return out
}

func featureShift(stage string, fa, fb *profile.Feature) FeatureShift {
	nan := math.NaN()
	s := FeatureShift{Stage: stage, MissingA: nan, MissingB: nan, MeanShift: nan, StdRatio: nan,
		MinA: nan, MaxA: nan, MinB: nan, MaxB: nan}
	if fa != nil {
		s.Name, s.TypeA, s.CountA, s.MissingA = fa.Name, fa.Type, fa.Count, missingRate(fa)
		s.MinA, s.MaxA = val(fa.Min), val(fa.Max)
	}
	if fb != nil {
		s.Name, s.TypeB, s.CountB, s.MissingB = fb.Name, fb.Type, fb.Count, missingRate(fb)
		s.MinB, s.MaxB = val(fb.Min), val(fb.Max)
	}
	for _, x := range []struct {
		f        *profile.Feature
		kind     *string
		span     *[2]string
		distinct *int64
	}{{fa, &s.KindA, &s.TimeA, &s.DistinctA}, {fb, &s.KindB, &s.TimeB, &s.DistinctB}} {
		if x.f == nil {
			continue
		}
		*x.kind = x.f.Kind
		if x.f.Time != nil {
			*x.span = [2]string{x.f.Time.Min, x.f.Time.Max}
		}
		if x.f.Categories != nil {
			*x.distinct = x.f.Categories.Distinct
		}
	}
	if fa == nil || fb == nil || fa.Type != fb.Type || fa.Kind != fb.Kind {
		s.Moved = true
		return s
	}
	if fa.Kind == profile.KindTime || fa.Kind == profile.KindIdentifier {
		s.Moved = s.TimeA != s.TimeB || math.Abs(s.MissingB-s.MissingA) >= MovedRate
		return s
	}
	if ma, sa, mb, sb := val(fa.Mean), val(fa.Std), val(fb.Mean), val(fb.Std); sa > 0 {
		s.MeanShift = (mb - ma) / sa
		s.StdRatio = sb / sa
	}
	if fa.Categories != nil || fb.Categories != nil {
		s.Shares = shareChanges(fa.Categories, fb.Categories, fa.Count, fb.Count)
	} else if fa.Values != nil || fb.Values != nil {
		s.Shares = shareChanges(fa.Values, fb.Values, fa.Count, fb.Count)
	}
	s.Moved = math.Abs(s.MeanShift) >= MovedMeanShift ||
		s.StdRatio >= MovedStdRatio || s.StdRatio <= 1/MovedStdRatio ||
		math.Abs(s.MissingB-s.MissingA) >= MovedRate ||
		(s.MinA == s.MaxA) != (s.MinB == s.MaxB) // became constant or stopped being
	for _, c := range s.Shares {
		if c.MinChange() >= MovedRate || (c.A == 0 && !c.AUpper) != (c.B == 0 && !c.BUpper) {
			s.Moved = true // moved by a point or more, or appeared or disappeared
		}
	}
	return s
}

// missingRate is Missing/(Count+Missing), NaN without rows.
func missingRate(f *profile.Feature) float64 {
	n := f.Count + f.Missing
	if n == 0 {
		return math.NaN()
	}
	return float64(f.Missing) / float64(n)
}

// val is *p, NaN when p is nil.
func val(p *step.Float) float64 {
	if p == nil {
		return math.NaN()
	}
	return float64(*p)
}

// shareChanges lists the categories whose share changed, the largest
// sure change (MinChange) first, then by name.
func shareChanges(ca, cb *profile.Counts, na, nb int64) []ShareChange {
	sa, boundA := shares(ca, na)
	sb, boundB := shares(cb, nb)
	keys := map[string]bool{}
	for k := range sa {
		keys[k] = true
	}
	for k := range sb {
		keys[k] = true
	}
	var out []ShareChange
	for k := range keys {
		c := ShareChange{Value: k}
		var ok bool
		if c.A, ok = sa[k]; !ok {
			c.A, c.AUpper = boundA, boundA > 0
		}
		if c.B, ok = sb[k]; !ok {
			c.B, c.BUpper = boundB, boundB > 0
		}
		if c.A == c.B && !c.AUpper && !c.BUpper {
			continue
		}
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool {
		if di, dj := out[i].MinChange(), out[j].MinChange(); di != dj {
			return di > dj
		}
		return out[i].Value < out[j].Value
	})
	return out
}

// shares maps each listed value to its share of n present values, and
// returns the share an unlisted value can have at most: 0 when every value
// seen is listed, else the smallest listed share.
func shares(c *profile.Counts, n int64) (map[string]float64, float64) {
	out := map[string]float64{}
	if c == nil || n == 0 {
		return out, 0
	}
	least := math.Inf(1)
	for i, k := range countKeys(c) {
		if i < len(c.Counts) {
			out[k] = float64(c.Counts[i]) / float64(n)
			least = math.Min(least, out[k])
		}
	}
	switch {
	case c.Other == 0:
		return out, 0
	case math.IsInf(least, 1): // nothing listed: all of it is "other"
		return out, float64(c.Other) / float64(n)
	}
	return out, least
}

// countKeys names a Counts' entries: its values, or its numbers as text.
func countKeys(c *profile.Counts) []string {
	if c.Values != nil {
		return c.Values
	}
	out := make([]string, len(c.Numbers))
	for i, x := range c.Numbers {
		out[i] = strconv.FormatFloat(x, 'g', -1, 64)
	}
	return out
}
