package monitor

import (
	"math"

	"github.com/normguard/normguard/profile"
	"github.com/normguard/normguard/table"
	"github.com/normguard/normguard/validate"
)

// The data anomalies of a window, by the rules of `normguard validate`
// (package validate) over the counts a window keeps: rows, missing values,
// values outside the training range or categories (counted exactly as the
// rows arrive), and, from the moments and the sample, whether a feature
// holds a single value. A feature no observed row carried counts as
// missing in every row. Type errors are not counted: the service refuses
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
// per feature of the reference stage, in its order. The caller holds the
// stage's lock.
func (w *window) summaries(rs *refStage) []validate.Summary {
	out := make([]validate.Summary, len(rs.features))
	for i := range rs.features {
		rf := &rs.features[i]
		s := validate.Summary{Name: rf.name, Rows: w.rows, Missing: w.rows, Min: math.NaN(), Max: math.NaN()}
		fs := w.byName[rf.name]
		if fs == nil || fs.numeric != rf.numeric {
			out[i] = s
			continue
		}
		// Rows from before the feature's state existed (another artifact
		// without it) count as missing.
		s.Missing = fs.missing + (w.rows - fs.rows)
		s.OutOfRange, s.Unseen = fs.oor, fs.unseen
		if fs.numeric {
			if fs.moments.N > 0 {
				s.Min, s.Max = fs.moments.Min, fs.moments.Max
				s.Distinct = 2
				if s.Min == s.Max {
					s.Distinct, s.Value = 1, string(table.AppendFloat(nil, s.Min))
				}
			}
			out[i] = s
			continue
		}
		sampleSummary(&s, fs, rf, &rs.profile[i])
		out[i] = s
	}
	return out
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
	if complete && p.Categories != nil && p.Categories.Other > 0 {
		top = make(map[string]bool, len(p.Categories.Values))
		for _, v := range p.Categories.Values {
			top[v] = true
		}
		s.OtherCounted = true
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
