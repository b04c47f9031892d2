// Package driftcheck is `normguard drift --artifact` on raw inputs as a
// library: which profiled features --columns and --exclude keep
// (Features), the report of the current inputs against the training
// profile once normguard validate's rules have checked them (Columns,
// Compare), the vector columns against their contracts (Vectors), and
// the check's outcome: exit 0, 1 or 2 (Status). The drift command and normguard-beam's drift job both
// call it, so the two give the same report and the same exit status.
//
// The current data's side is one drift.Summary per input column (made
// from the columns of one file by Columns, or merged from the summaries
// of many shards): the report is drift.CompareSummaries of those, so it
// does not depend on how the rows were split.
package driftcheck

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/drift"
	"github.com/normguard/normguard/profile"
	"github.com/normguard/normguard/spec"
	"github.com/normguard/normguard/table"
)

// ErrNoRows is wrapped when the current data has a header but no rows.
var ErrNoRows = errors.New("has no rows (a header at most); there is nothing to compare: pass a file with data")

// ErrNoProfile is wrapped for an artifact without a training profile.
var ErrNoProfile = errors.New("the artifact has no training profile; refit it with this normguard, or compare with the training data itself: --reference TRAIN --current CUR")

// ErrNoInputs is wrapped by Compare when the current data holds none of
// the selected inputs and nothing else (anomalies, vector columns)
// answers.
var ErrNoInputs = errors.New("has none of the artifact's inputs; pass raw data, or --transformed for transformed features")

// ErrFound is returned by Status when something was found: a feature
// drifts or is missing, a segment is new, or the caller's other checks
// found something (exit status 1).
var ErrFound = errors.New("drift: found")

// notNumbersReason is the Skipped text of a numeric input whose current
// values are text.
const notNumbersReason = drift.NotNumbersReason

// SelectFeatures returns which of names (the reference's features, in
// order) columns and exclude (--columns, --exclude) keep. A name in either
// list that is not a feature is an error naming it and listing the
// features of what ("the artifact's inputs", a file name); so is a
// selection that keeps nothing.
func SelectFeatures(names, columns, exclude []string, what string) (map[string]bool, error) {
	known := map[string]bool{}
	for _, n := range names {
		known[n] = true
	}
	for _, l := range []struct {
		flag  string
		names []string
	}{{"--columns", columns}, {"--exclude", exclude}} {
		for _, n := range l.names {
			if !known[n] {
				return nil, fmt.Errorf("drift: %s names %q, which is not a feature of %s; its features are: %s",
					l.flag, n, what, strings.Join(names, ", "))
			}
		}
	}
	keep := map[string]bool{}
	for _, n := range names {
		keep[n] = len(columns) == 0 || slices.Contains(columns, n)
	}
	for _, n := range exclude {
		keep[n] = false
	}
	for _, n := range names {
		if keep[n] {
			return keep, nil
		}
	}
	return nil, fmt.Errorf("drift: --columns and --exclude leave no feature of %s to compare", what)
}

// Features returns the training profiles of a's raw inputs that columns
// and exclude keep, in profile order. The dimension columns of vector
// columns are not features (a vector column is judged as a whole), but
// the vector columns' names may be selected: keep tells which of them
// are. An artifact without a profile is an error wrapping ErrNoProfile.
func Features(a *artifact.Artifact, columns, exclude []string) (selected []profile.Feature, keep map[string]bool, err error) {
	if a.Profile == nil {
		return nil, nil, fmt.Errorf("drift: %w", ErrNoProfile)
	}
	dims := a.VectorInputs()
	var profiles []profile.Feature
	var names []string
	for _, p := range a.Profile.Inputs {
		if _, ok := dims[p.Name]; !ok {
			profiles = append(profiles, p)
			names = append(names, p.Name)
		}
	}
	for _, e := range a.Embeddings {
		names = append(names, e.Column)
	}
	keep, err = SelectFeatures(names, columns, exclude, "the artifact's inputs")
	if err != nil {
		return nil, nil, err
	}
	for _, p := range profiles {
		if keep[p.Name] {
			selected = append(selected, p)
		}
	}
	return selected, keep, nil
}

// Current is the current data's side of one selected input column: its
// drift summary against the column's profile, or NotNumbers when the
// profile is numeric and the column holds text (validate reports the
// type_change; the feature is skipped, not compared).
type Current struct {
	Name       string
	Summary    *drift.Summary
	NotNumbers bool
}

// Columns summarizes the columns of cols that selected profiles (in
// cols' order; others are left out) against their profiles with opt's
// bins. A numeric input read as text is NotNumbers.
func Columns(selected []profile.Feature, cols []table.Column, opt drift.Options) ([]Current, error) {
	want := map[string]*profile.Feature{}
	for i := range selected {
		want[selected[i].Name] = &selected[i]
	}
	plans := map[string]*drift.SummaryPlan{}
	for _, pl := range drift.SummaryPlans(selected, opt) {
		plans[pl.Name] = pl
	}
	var out []Current
	var ps []*drift.SummaryPlan
	var cs []table.Column
	var at []int
	for _, c := range cols {
		p := want[c.Name]
		switch {
		case p == nil:
		case p.Type == spec.TypeNumeric && c.Kind != table.Numeric:
			out = append(out, Current{Name: c.Name, NotNumbers: true})
		default:
			at = append(at, len(out))
			out = append(out, Current{Name: c.Name})
			ps, cs = append(ps, plans[c.Name]), append(cs, c)
		}
	}
	sums, err := drift.Summarize(ps, cs)
	if err != nil {
		return nil, err
	}
	for k, i := range at {
		out[i].Summary = sums[k]
	}
	return out, nil
}

// Compare judges the current inputs cur (in the data's column order)
// against the selected training profiles with opt, as `normguard drift
// --artifact` reports them: the compared features in cur's order, then
// the selected features the data lacks (MissingFeatures, in profile
// order), then the numeric inputs holding text as skipped features.
//
// When no input can be compared, the report lists the skipped and missing
// features only; answered tells whether the caller's other checks (the
// validate anomalies, vector columns) have something to say, and when
// they have not this is an error wrapping ErrNoInputs.
func Compare(selected []profile.Feature, cur []Current, opt drift.Options, answered bool) (*drift.Report, error) {
	var notNumbers []drift.Feature
	skipped := map[string]bool{}
	have := map[string]bool{}
	var plans []*drift.SummaryPlan
	var sums []*drift.Summary
	for _, c := range cur {
		if c.NotNumbers {
			skipped[c.Name] = true
			nan := drift.JSONFloat(math.NaN())
			notNumbers = append(notNumbers, drift.Feature{Name: c.Name, Type: spec.TypeNumeric, Method: "-",
				Statistic: nan, PValue: nan, Threshold: nan, Skipped: notNumbersReason})
			continue
		}
		if c.Summary == nil {
			return nil, fmt.Errorf("drift: input %q has no summary", c.Name)
		}
		have[c.Name] = true
		plans, sums = append(plans, c.Summary.Plan()), append(sums, c.Summary)
	}
	var missing []profile.Feature
	for _, p := range selected {
		if !have[p.Name] && !skipped[p.Name] {
			missing = append(missing, p)
		}
	}
	if len(plans) == 0 {
		if !answered {
			return nil, ErrNoInputs
		}
		rep := &drift.Report{Features: notNumbers, MissingFeatures: []string{}}
		for _, p := range missing {
			rep.MissingFeatures = append(rep.MissingFeatures, p.Name)
		}
		return rep, nil
	}
	for _, pl := range drift.SummaryPlans(missing, opt) {
		plans, sums = append(plans, pl), append(sums, nil)
	}
	rep, err := drift.CompareSummaries(plans, sums, opt)
	if err != nil {
		return nil, err
	}
	rep.Features = append(rep.Features, notNumbers...)
	return rep, nil
}

// Status is the outcome of a drift check once its report is written:
//
//   - an error (exit 2) naming the features whose statistic could not be
//     computed: the report is incomplete;
//   - ErrFound (exit 1) when a feature drifts or is missing from the
//     current data, only the current data holds infinite values of a
//     feature, a segment is new, or found (the caller's other
//     findings: validate anomalies, drifting vector columns);
//   - nil (exit 0) when at least one feature was judged, or none was
//     there to judge while other checks judged something (judgedElsewhere,
//     e.g. vector columns only);
//   - an error (exit 2) when every feature was skipped (an identifier, a
//     time column without an evenly covered cycle, a method that does not
//     apply): "no drift" of nothing tested must not pass as exit 0.
func Status(rep *drift.Report, found, judgedElsewhere bool) error {
	var failed []string
	found = found || len(rep.MissingFeatures) > 0 || len(rep.NewSegments) > 0
	for _, f := range rep.Features {
		if f.Error != "" {
			name := f.Name
			if f.Segment != "" {
				name = fmt.Sprintf("%s (segment %s)", f.Name, f.Segment)
			}
			failed = append(failed, fmt.Sprintf("%s: %s", name, f.Error))
		}
		// Infinite values only in the current data are found whatever the
		// verdict: a rank test may not move for one inf, but the transform
		// refuses it (validate's infinite_values; attack run 22 F7).
		found = found || f.Drift || f.InfiniteValues == drift.InfiniteCurrent
	}
	switch {
	case len(failed) > 0:
		return fmt.Errorf("drift: the statistic of %d feature(s) could not be computed, so the report is incomplete:\n  %s\nfix the data or leave those features out with --exclude",
			len(failed), strings.Join(failed, "\n  "))
	case found:
		return ErrFound
	case judgedElsewhere && len(rep.Features) == 0:
		return nil
	}
	var reasons []string
	for _, f := range rep.Features {
		if f.Skipped == "" {
			return nil
		}
		reasons = append(reasons, fmt.Sprintf("%s: %s", f.Name, f.Skipped))
	}
	return fmt.Errorf("drift: no feature could be judged, every one was skipped:\n  %s\nchoose other features with --columns, or another --method",
		strings.Join(reasons, "\n  "))
}
