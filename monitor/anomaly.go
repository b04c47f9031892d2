package monitor

import (
	"cmp"
	"math"
	"slices"

	"github.com/normguard/normguard/drift"
	"github.com/normguard/normguard/profile"
	"github.com/normguard/normguard/table"
	"github.com/normguard/normguard/validate"
)

// The data anomalies of a window, by the rules of `normguard validate`
// (package validate) over the counts a window keeps: rows, missing values,
// values outside the training range or categories (counted exactly as the
// rows arrive), and, from each feature's drift summary, its minimum and
// maximum, whether it holds a single value, the values outside the
// profile's top categories and examples of unseen ones. All of it merges
// exactly, so replicas' windows merged (ExportWindow.Anomalies) give the
// anomalies of one window fed every row. A window written before summaries
// falls back on the moments and the sample. A feature no observed row
// carried counts as missing in every row. Type errors are not counted: the service refuses
// text in a numeric feature at the door.

// schema returns the validation schema of a reference stage: its profiled
// features and, where the reference knows them completely, their training
// categories (an encoder's, or a profile without "other").
func (rs *refStage) schema(digest string) *validate.Schema {
	sc := &validate.Schema{Digest: digest, Features: rs.profile, Known: map[string][]string{}}
	for i := range rs.features {
		f := &rs.features[i]
		if f.numeric || f.categories == nil {
			continue
		}
		list := make([]string, 0, len(f.categories))
		for c := range f.categories {
			list = append(list, c)
		}
		sc.Known[f.name] = list
	}
	return sc
}

// summaries describes the window's features for the validation rules, one
// per feature of the reference stage, in its order: from each feature's
// counts and drift summary (plans, in profile order), which merge exactly
// across replicas (featureValidation), or from its sample when it holds
// rows without a summary. The caller holds the stage's lock.
func (w *window) summaries(rs *refStage, plans []*drift.SummaryPlan) []validate.Summary {
	out := make([]validate.Summary, len(rs.features))
	for i := range rs.features {
		rf := &rs.features[i]
		fs := w.byName[rf.name]
		if fs == nil || fs.numeric != rf.numeric {
			out[i] = featureValidation(w.rows, featureCounts{}, nil, rf, &rs.profile[i])
			continue
		}
		c := featureCounts{rows: fs.rows, missing: fs.missing, oor: fs.oor, unseen: fs.unseen}
		if ds := fs.summaryFor(plans[i]); ds != nil && !fs.partial {
			out[i] = featureValidation(w.rows, c, ds, rf, &rs.profile[i])
			continue
		}
		// Rows from before the feature's state existed (another artifact
		// without it) count as missing.
		s := featureValidation(w.rows, c, nil, rf, &rs.profile[i])
		if fs.numeric {
			if fs.moments.N > 0 {
				numericValues(&s, fs.moments.Min, fs.moments.Max)
			}
			out[i] = s
			continue
		}
		sampleSummary(&s, fs, rf, &rs.profile[i])
		out[i] = s
	}
	return out
}

// featureCounts are a window feature's counts: its rows, missing values,
// values out of the training range and unseen categories.
type featureCounts struct{ rows, missing, oor, unseen int64 }

// featureValidation describes a feature of a window of rows rows for the
// validation rules from its counts c and its drift summary ds (nil: the
// counts only). Everything it reads merges exactly and does not depend on
// the rows' order, so replicas' windows merged give the anomalies of one
// window fed every row: the minimum and maximum of the numeric values, and
// of categorical ones the counts of the profile's categories and of the
// other values, named while the summary names them (drift.MaxSummaryNew).
// Examples of unseen categories are the most frequent ones (then by
// value). Rows the feature was not sent in count as missing.
//
// A summary covering fewer rows than the counts (ds.Rows < c.rows) started
// again mid-window, when a version profiling the feature differently was
// made current under the same name: its values are those of the rows
// since only, and read against the counts of every row they would make
// anomalies of neither (one row since gave constant_column for a feature
// 300 rows vary, attack run 36 F6). The feature is then judged on its
// counts only, as without a summary; merged replicas' windows give the
// same, since both sides of the comparison merge exactly.
func featureValidation(rows int64, c featureCounts, ds *drift.Summary, rf *refFeature, p *profile.Feature) validate.Summary {
	s := validate.Summary{Name: rf.name, Rows: rows, Missing: c.missing + (rows - c.rows), OutOfRange: c.oor, Unseen: c.unseen,
		Min: math.NaN(), Max: math.NaN()}
	if ds == nil || ds.Rows < c.rows {
		return s
	}
	if rf.numeric {
		if ds.Moments.N > 0 {
			numericValues(&s, ds.Moments.Min, ds.Moments.Max)
		}
		return s
	}
	pl := ds.Plan()
	if pl.Kind == profile.KindTime && ds.Time != nil {
		switch t := ds.Time; {
		case t.Parsed > 0 && t.Min != t.Max:
			s.Distinct = 2
		case t.Parsed > 0 && t.Unparsed == 0:
			s.Distinct, s.Value = 1, t.Min
		}
		return s
	}
	if pl.Categories == nil && !pl.TrackNew {
		return s // identifiers, categories not profiled: counted only
	}
	// The present values by name where the summary knows them.
	type valueCount struct {
		v string
		n int64
	}
	var named []valueCount
	for k, n := range ds.Cats {
		if n > 0 {
			named = append(named, valueCount{pl.Categories[k], n})
		}
	}
	for v, n := range ds.New {
		named = append(named, valueCount{v, n})
	}
	// Values outside the plan's categories that have no name: more than
	// MaxSummaryNew of them, or a summary written before they were named.
	var namedOther int64
	for _, n := range ds.New {
		namedOther += n
	}
	unnamed := ds.NewDropped || ds.Unknown > namedOther
	switch {
	case ds.NewDropped || len(named) >= 2 || (len(named) == 1 && unnamed):
		s.Distinct = 2
	case len(named) == 1:
		s.Distinct, s.Value = 1, named[0].v
	}
	if top := validate.SettledSet(p); top != nil {
		// Outside the settled top: outside the plan's categories, or in
		// one of them nearer the cut.
		s.Other, s.OtherCounted = ds.Unknown, true
		for k, n := range ds.Cats {
			if !top[pl.Categories[k]] {
				s.Other += n
			}
		}
	}
	if rf.categories != nil {
		var unseen []valueCount
		for _, vc := range named {
			if _, ok := rf.categories[vc.v]; !ok {
				unseen = append(unseen, vc)
			}
		}
		slices.SortFunc(unseen, func(a, b valueCount) int { return cmp.Or(cmp.Compare(b.n, a.n), cmp.Compare(a.v, b.v)) })
		for _, vc := range unseen[:min(len(unseen), maxUnseenExamples)] {
			s.UnseenExamples = append(s.UnseenExamples, vc.v)
		}
		if !unnamed {
			s.UnseenDistinct = int64(len(unseen))
		}
	}
	return s
}

// maxUnseenExamples is how many unseen categories a window's anomaly
// names (as validate does).
const maxUnseenExamples = 5

// numericValues sets the minimum, maximum and distinct count of a
// feature's present numeric values.
func numericValues(s *validate.Summary, lo, hi float64) {
	s.Min, s.Max = lo, hi
	s.Distinct = 2
	if lo == hi {
		s.Distinct, s.Value = 1, string(table.AppendFloat(nil, lo))
	}
}

// sampleSummary reads what it can of a categorical feature from its
// sample: the distinct count (exact when the sample holds every value, "two
// or more" once it shows two), examples of unseen values, and the values
// outside the profile's top categories (only from a complete sample).
func sampleSummary(s *validate.Summary, fs *featureState, rf *refFeature, p *profile.Feature) {
	complete := fs.seen == int64(len(fs.str))
	first, distinct := "", int64(0)
	seen := map[string]bool{}
	var top map[string]bool
	if complete {
		top = validate.SettledSet(p)
		s.OtherCounted = top != nil
	}
	for _, v := range fs.str {
		switch {
		case distinct == 0:
			first, distinct = v, 1
		case distinct == 1 && v != first:
			distinct = 2
		}
		if rf.categories != nil {
			if _, ok := rf.categories[v]; !ok && !seen[v] {
				seen[v] = true
				if len(s.UnseenExamples) < 5 {
					s.UnseenExamples = append(s.UnseenExamples, v)
				}
			}
		}
		if top != nil && !top[v] {
			s.Other++
		}
	}
	if complete {
		s.UnseenDistinct = int64(len(seen))
	}
	switch {
	case distinct == 2 || (complete && distinct == 1):
		s.Distinct = distinct
		if distinct == 1 {
			s.Value = first
		}
	}
}

// anomalies judges a window's summaries; nil when it cannot be judged.
func anomalies(sc *validate.Schema, rows int64, sums []validate.Summary) ([]validate.Anomaly, error) {
	if rows <= 0 {
		return nil, nil
	}
	rep, err := validate.CheckSummaries(sc, rows, sums, nil, validate.Options{})
	if err != nil {
		return nil, err
	}
	return rep.Anomalies, nil
}
