package drift

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"math"
	"slices"
	"sort"

	"github.com/normguard/normguard/profile"
	"github.com/normguard/normguard/stats"
	"github.com/normguard/normguard/table"
)

// A Summary is what drift against a stored profile needs of the current
// data, in a size fixed by the profile whatever the number of rows, and
// merged exactly: two summaries of disjoint rows merge into the summary of
// all of them, bit for bit, in any order and grouping (every field is an
// integer count, an exact stats.Moments, or a set bounded by a rule that
// does not depend on the order). CompareProfile computes the current data
// through a Summary, so the statistics of a merged summary (a monitor
// window, replicas' windows merged, a Beam Combine) equal those of
// CompareProfile on the same rows.
//
// What a feature's summary holds depends on its profile (SummaryPlan):
//
//	numeric      rows and missing values; the counts of values equal to
//	             each of the plan's points and strictly between two
//	             consecutive points (Points: the profile's grid with its
//	             minimum and maximum, the edges of the binned methods'
//	             bins and of the profile's histogram, and equal-width
//	             steps inside each grid cell where the reference's CDF
//	             rises, SummaryPoints in all); the moments of all present
//	             values, and those of the values below the first point
//	             and above the last (out of the training range);
//	categorical  rows, missing values, the count of each of the
//	             profile's categories and of the other values, and the
//	             other values by name while there are at most
//	             MaxSummaryNew of them (new values when the profile kept
//	             every training category; else values outside its top
//	             categories, named for the validation rules' examples);
//	time         rows, missing values and the calendar counts of the
//	             values (profile.TimeSummary);
//	identifier   rows and missing values.
//
// From those counts the statistics against the profile are computed as
// follows (SummaryPlan.Evaluate). The reference CDF F̂ is the profile's
// (refCDF), the current CDF G is known exactly at every point (at and
// just below it):
//
//	ks           D = max over the points of |F̂ - G|, at and just below
//	             each. The exact two-sample statistic is within
//	             StatisticErrorBound = gap + max(c - D, 0) of D, where
//	             gap bounds |F̂ - F| (the profile's) and c is the most
//	             |F̂ - G| can reach inside a cell holding current values,
//	             max(F̂(b-) - G(a), G(b-) - F̂(a)) over the cells (a, b)
//	             where F̂ rises (where F̂ is flat |F̂ - G| peaks at an
//	             end); c - D is at most F̂'s rise in one cell.
//	wasserstein  ∫ |F̂ - Ĝ| dx with Ĝ rising linearly through each cell
//	             (exact where the current's values in a cell are spread
//	             evenly), and exactly from the moments below the first
//	             point and above the last, where F̂ is 0 or 1.
//	binned       the bin edges are points, so the current's bin counts
//	             (psi, jensenshannon, hellinger, kl_div, chisquare,
//	             l_infinity) are exact: the same as Histogram on the
//	             values.
//	categorical  exact: the counts the comparison aligns are the
//	             summary's.

// SummaryPoints is about how many points a numeric summary counts at:
// each cell of the profile's grid where the reference's CDF rises is
// split into equal-width steps, as many as make about SummaryPoints
// points in all (at least one step, at most 64). Inside a step the
// reference's CDF rises by at most its cell's rise over the number of
// steps, which bounds how far ks may move between points.
const SummaryPoints = 1024

// MaxSummaryNew is the number of distinct values absent from the profile
// that a categorical summary counts by name. Beyond it the summary keeps
// only their total (Summary.NewDropped), decided on the union of the
// values merged, so the rule does not depend on order.
const MaxSummaryNew = 1000

// summaryFormat is the version byte of MarshalBinary's encoding.
const summaryFormat = 1

// SummaryPlan is what the summaries of one profiled feature count: the
// points of a numeric feature, the categories of a categorical one. It is
// derived from the profile feature and the number of bins of the binned
// methods only, so every process holding the same artifact makes the same
// plan (Fingerprint). A plan is read-only once made and safe for
// concurrent use.
type SummaryPlan struct {
	// Name, Type and Kind are the profile feature's.
	Name, Type, Kind string
	// Bins is the number of reference-quantile bins of the binned methods.
	Bins int
	// Points are a numeric feature's cut points, sorted, distinct.
	Points []float64
	// Categories are an ordinary categorical feature's kept categories,
	// in the profile's order; TrackNew says other values are new ones
	// (the profile kept every training category).
	Categories []string
	TrackNew   bool
	// Fingerprint identifies the plan: summaries merge only with
	// summaries of the same fingerprint.
	Fingerprint uint64

	ref   *profile.Feature
	r     *refCDF // numeric, nil when the profile has no distribution
	rErr  error
	catIx map[string]int
	// fAt[i], fBelow[i] are F̂ at and just below Points[i]; rising[i]
	// says F̂ rises inside the cell (Points[i-1], Points[i]).
	fAt, fBelow []float64
	rising      []bool
	idx         *pointIndex
}

// pointIndex finds, for a value in [Points[0], Points[last]], the first
// point at or above it in a few steps: a table over equal-width cells of
// the points' range gives the first candidate, a short scan (or a binary
// search in a crowded cell) the answer. It returns what
// sort.SearchFloat64s returns.
type pointIndex struct {
	pts       []float64
	lo, scale float64
	// first[c] is the first point whose cell is c or later (cells by
	// cell, the one expression find uses, so rounding cannot put a point
	// on the wrong side of a cell boundary).
	first []int32
}

const pointCells = 4096

func newPointIndex(pts []float64) *pointIndex {
	ix := &pointIndex{pts: pts, lo: pts[0]}
	hi := pts[len(pts)-1]
	scale := pointCells / (hi - ix.lo)
	if !(hi > ix.lo) || math.IsInf(hi-ix.lo, 0) || math.IsInf(scale, 0) {
		return ix // no table: binary search
	}
	ix.scale = scale
	ix.first = make([]int32, pointCells+2)
	i := 0
	for c := 0; c <= pointCells+1; c++ {
		for i < len(pts) && ix.cell(pts[i]) < c {
			i++
		}
		ix.first[c] = int32(i)
	}
	return ix
}

// cell maps lo <= x <= hi to 0..pointCells, monotone in x.
func (ix *pointIndex) cell(x float64) int { return min(int((x-ix.lo)*ix.scale), pointCells) }

// find returns the first i with pts[i] >= x, for pts[0] <= x <= pts[last].
func (ix *pointIndex) find(x float64) int {
	if ix.first == nil {
		return sort.SearchFloat64s(ix.pts, x)
	}
	c := ix.cell(x)
	i, end := int(ix.first[c]), min(int(ix.first[c+1])+1, len(ix.pts))
	if end-i > 8 {
		return i + sort.SearchFloat64s(ix.pts[i:end], x)
	}
	for ix.pts[i] < x {
		i++
	}
	return i
}

// NewSummaryPlan returns the plan of summaries against the profile
// feature p, for binned methods of bins bins (DefaultBins when bins <= 0).
// The plan keeps p: p must not change while the plan is used.
func NewSummaryPlan(p *profile.Feature, bins int) *SummaryPlan {
	if bins <= 0 {
		bins = DefaultBins
	}
	pl := &SummaryPlan{Name: p.Name, Type: p.Type, Kind: p.Kind, Bins: bins, ref: p}
	switch {
	case p.Type == "numeric":
		pl.numericPoints()
	case p.Categories != nil && p.Kind != profile.KindIdentifier && !(p.Kind == profile.KindTime && p.Time != nil):
		pl.Categories = p.Categories.Values
		pl.TrackNew = p.Categories.Other == 0
		pl.catIx = make(map[string]int, len(pl.Categories))
		for i, c := range pl.Categories {
			pl.catIx[c] = i
		}
	}
	h := fnv.New64a()
	var b [8]byte
	put := func(s string) {
		binary.LittleEndian.PutUint64(b[:], uint64(len(s)))
		h.Write(b[:])
		h.Write([]byte(s))
	}
	put(pl.Name)
	put(pl.Type)
	put(pl.Kind)
	if p.Time != nil {
		put(p.Time.Layout)
	}
	for _, x := range pl.Points {
		binary.LittleEndian.PutUint64(b[:], math.Float64bits(x))
		h.Write(b[:])
	}
	for _, c := range pl.Categories {
		put(c)
	}
	if pl.TrackNew {
		put("new")
	}
	pl.Fingerprint = h.Sum64()
	return pl
}

// numericPoints sets the points of a numeric plan and F̂ at them.
func (pl *SummaryPlan) numericPoints() {
	p := pl.ref
	if p.Count == 0 {
		return
	}
	r, err := newRefCDF(p)
	if err != nil {
		pl.rErr = err
		return
	}
	pl.r = r
	pts := slices.Clone(r.x)
	for i := 1; i < pl.Bins; i++ {
		pts = append(pts, r.inverse(float64(i)/float64(pl.Bins)))
	}
	if p.Histogram != nil {
		pts = append(pts, p.Histogram.Edges...)
	}
	rises := func(j int) bool {
		return !r.mass[j-1] && !r.mass[j] && r.upper(j) > r.p[j-1] && !math.IsInf(r.x[j]-r.x[j-1], 0)
	}
	cells := 0
	for j := 1; j < len(r.x); j++ {
		if rises(j) {
			cells++
		}
	}
	steps := min(max(1, (SummaryPoints-len(pts))/max(cells, 1)), 64)
	for j := 1; j < len(r.x); j++ {
		x0, x1 := r.x[j-1], r.x[j]
		if !rises(j) {
			continue
		}
		for k := 1; k < steps; k++ {
			if x := x0 + (x1-x0)*float64(k)/float64(steps); x > x0 && x < x1 {
				pts = append(pts, x)
			}
		}
	}
	lo, hi := r.x[0], r.x[len(r.x)-1]
	pts = slices.DeleteFunc(pts, func(x float64) bool { return !(x >= lo && x <= hi) })
	slices.Sort(pts)
	pts = slices.CompactFunc(pts, func(a, b float64) bool { return a == b })
	pl.Points = pts
	pl.idx = newPointIndex(pts)
	pl.fAt, pl.fBelow, pl.rising = make([]float64, len(pts)), make([]float64, len(pts)), make([]bool, len(pts))
	for i, x := range pts {
		pl.fAt[i], pl.fBelow[i] = r.at(x), r.atBelow(x)
		pl.rising[i] = i > 0 && pl.fBelow[i] > pl.fAt[i-1]
	}
}

// Summary is the summary of one feature's current values against a
// SummaryPlan (see the rules at SummaryPlan). The zero value is not
// usable: make summaries with SummaryPlan.NewSummary or
// SummaryPlan.UnmarshalSummary. Exported fields are plain data; change
// them only through Add and Merge.
type Summary struct {
	// Rows counts the rows added, Missing those without a value.
	Rows, Missing int64
	// KindMismatch records values of the other kind than the profile's
	// (text for a numeric feature, numbers for a categorical one): the
	// feature cannot be compared.
	KindMismatch bool

	// Below[i] counts values strictly between Points[i-1] and Points[i]
	// (Below[0] those below the first point, Below[len(Points)] those
	// above the last), Equal[i] those equal to Points[i].
	Below, Equal []int64
	// Moments are those of every present value; Low and High those of the
	// values below the first point and above the last.
	Moments, Low, High stats.Moments

	// Cats[i] counts the values equal to Categories[i]; Unknown the
	// present values not among them; New counts them by name while
	// there are at most MaxSummaryNew; NewDropped says there were more.
	// With TrackNew they are new values; without, the drift methods
	// count them only in all (Unknown), and New names them for other
	// uses (a monitor's unseen-category examples). A summary written
	// before New was kept without TrackNew names none: Unknown above
	// the sum of New says some values have no name.
	Cats       []int64
	Unknown    int64
	New        map[string]int64
	NewDropped bool

	// Time summarizes a time feature's values (nil until one is added).
	Time *profile.TimeSummary

	plan *SummaryPlan
}

// NewSummary returns an empty summary for the plan.
func (pl *SummaryPlan) NewSummary() *Summary {
	s := &Summary{plan: pl}
	if pl.Points != nil {
		s.Below, s.Equal = make([]int64, len(pl.Points)+1), make([]int64, len(pl.Points))
	}
	if pl.catIx != nil {
		s.Cats = make([]int64, len(pl.Categories))
	}
	return s
}

// Plan returns the plan the summary counts against.
func (s *Summary) Plan() *SummaryPlan { return s.plan }

// Present returns the number of present (non-missing) values.
func (s *Summary) Present() int64 { return s.Rows - s.Missing }

// OutOfRange returns the number of numeric values below the profile's
// minimum or above its maximum (±Inf included).
func (s *Summary) OutOfRange() int64 { return s.Low.N + s.High.N }

// Add adds a column of values of the feature: numbers (NaN missing) or
// text (Null marks the missing values).
func (s *Summary) Add(c *table.Column) {
	if c.Kind == table.String {
		s.AddStrings(c.Str, c.Null)
		return
	}
	s.AddNumbers(c.Num)
}

// AddMissing adds k rows without a value (as k NaN or null values).
func (s *Summary) AddMissing(k int64) {
	s.Rows += k
	s.Missing += k
	if s.plan.Type == "numeric" {
		s.Moments.Missing += k
	}
}

// AddNumbers adds numeric values; NaN is missing.
func (s *Summary) AddNumbers(xs []float64) {
	s.Rows += int64(len(xs))
	if s.plan.Type != "numeric" {
		for _, x := range xs {
			if x != x {
				s.Missing++
			} else {
				s.KindMismatch = true
			}
		}
		return
	}
	before := s.Moments.Missing
	s.Moments.Add(xs)
	s.Missing += s.Moments.Missing - before
	pts := s.plan.Points
	if pts == nil {
		return
	}
	lo, hi, idx := pts[0], pts[len(pts)-1], s.plan.idx
	var tail [1]float64
	for _, x := range xs {
		switch {
		case x != x:
			continue
		case x < lo:
			s.Below[0]++
			tail[0] = x
			s.Low.Add(tail[:])
			continue
		case x > hi:
			s.Below[len(pts)]++
			tail[0] = x
			s.High.Add(tail[:])
			continue
		}
		i := idx.find(x)
		if pts[i] == x {
			s.Equal[i]++
		} else {
			s.Below[i]++
		}
	}
}

// AddStrings adds text values; null (nil for none) marks missing ones.
func (s *Summary) AddStrings(xs []string, null []bool) {
	s.Rows += int64(len(xs))
	pl := s.plan
	var batch map[string]int64 // time columns: counts, summarized at once
	for i, x := range xs {
		if null != nil && null[i] {
			s.Missing++
			continue
		}
		switch {
		case pl.Type != "categorical":
			s.KindMismatch = true
		case pl.Kind == profile.KindTime && pl.ref.Time != nil:
			if batch == nil {
				batch = map[string]int64{}
			}
			batch[x]++
		case pl.catIx != nil:
			if k, ok := pl.catIx[x]; ok {
				s.Cats[k]++
				continue
			}
			s.Unknown++
			if !s.NewDropped {
				if s.New == nil {
					s.New = map[string]int64{}
				}
				s.New[x]++
				if len(s.New) > MaxSummaryNew {
					s.New, s.NewDropped = nil, true
				}
			}
		default: // identifiers, or a profile without categories: counted only
			s.Unknown++
		}
	}
	if batch != nil {
		s.Time = mergeTime(s.Time, profile.SummarizeTime(pl.ref.Time.Layout, batch))
	}
}

// Merge adds the values summarized in o (other rows of the same feature,
// against the same plan) to s; o is not changed. Merging is exact,
// associative and commutative.
func (s *Summary) Merge(o *Summary) error {
	if s.plan.Fingerprint != o.plan.Fingerprint {
		return fmt.Errorf("drift: summaries of %q against different profiles (plans %016x and %016x) cannot be merged; were they made with the same artifact and --bins?",
			s.plan.Name, s.plan.Fingerprint, o.plan.Fingerprint)
	}
	s.Rows += o.Rows
	s.Missing += o.Missing
	s.KindMismatch = s.KindMismatch || o.KindMismatch
	addCounts(s.Below, o.Below)
	addCounts(s.Equal, o.Equal)
	s.Moments.Merge(&o.Moments)
	s.Low.Merge(&o.Low)
	s.High.Merge(&o.High)
	addCounts(s.Cats, o.Cats)
	s.Unknown += o.Unknown
	switch {
	case s.NewDropped:
	case o.NewDropped:
		s.New, s.NewDropped = nil, true
	default:
		for k, n := range o.New {
			if s.New == nil {
				s.New = map[string]int64{}
			}
			s.New[k] += n
		}
		if len(s.New) > MaxSummaryNew {
			s.New, s.NewDropped = nil, true
		}
	}
	if o.Time != nil {
		s.Time = mergeTime(s.Time, o.Time)
	}
	return nil
}

// Clone returns a deep copy of s.
func (s *Summary) Clone() *Summary {
	c := s.plan.NewSummary()
	if err := c.Merge(s); err != nil {
		panic(err) // same plan: cannot fail
	}
	return c
}

func addCounts(dst, src []int64) {
	for i, n := range src {
		dst[i] += n
	}
}

// mergeTime returns the calendar summary of the values of a and b (same
// layout): counts added, the earliest and latest values kept (the first
// by text among values at the same instant), as SummarizeTime finds them
// on all the values at once. b is not changed; a may be reused.
func mergeTime(a, b *profile.TimeSummary) *profile.TimeSummary {
	if a == nil {
		c := *b
		c.Hours, c.Weekdays = slices.Clone(b.Hours), slices.Clone(b.Weekdays)
		return &c
	}
	if b.Parsed > 0 {
		if a.Parsed == 0 {
			a.Min, a.Max = b.Min, b.Max
		} else {
			aLo, _ := profile.ParseTime(a.Layout, a.Min)
			bLo, _ := profile.ParseTime(a.Layout, b.Min)
			if bLo.Before(aLo) || (bLo.Equal(aLo) && b.Min < a.Min) {
				a.Min = b.Min
			}
			aHi, _ := profile.ParseTime(a.Layout, a.Max)
			bHi, _ := profile.ParseTime(a.Layout, b.Max)
			if bHi.After(aHi) || (bHi.Equal(aHi) && b.Max < a.Max) {
				a.Max = b.Max
			}
		}
	}
	a.Parsed += b.Parsed
	a.Unparsed += b.Unparsed
	addCounts(a.Hours, b.Hours)
	addCounts(a.Weekdays, b.Weekdays)
	return a
}
