package diagnose

import (
	"fmt"
	"slices"

	"github.com/normguard/normguard/profile"
	"github.com/normguard/normguard/table"
)

// unpairedCandidates describes opt.Candidates and checks the observed
// schema: the numeric outputs of the artifact (names; ours holds all its
// outputs) absent from observed are returned, with the candidate whose
// outputs the observed columns hold (schemaCandidate). Absent outputs no
// candidate explains are an error.
func unpairedCandidates(names []string, ours map[string]bool, observed []table.Column, cands []Candidate) ([]staleOutput, []string, *staleOutput, error) {
	var stale []staleOutput
	for i, c := range cands {
		so, _, err := describeCandidate(i, c)
		if err != nil {
			return nil, nil, nil, err
		}
		if so.art.Profile == nil || len(so.art.Profile.Outputs) != len(so.art.Outputs) {
			return nil, nil, nil, fmt.Errorf("diagnose: %s has no profile of its outputs; refit it to diagnose without raw rows", so.label)
		}
		stale = append(stale, so)
	}
	var absent []string
	for _, name := range names {
		if find(observed, name) == nil {
			absent = append(absent, name)
		}
	}
	schema, err := schemaCandidate(stale, observed, absent, ours)
	if err != nil {
		return nil, nil, nil, err
	}
	return stale, absent, schema, nil
}

// profileOf returns the candidate's training profile of output name (nil
// when it has no such output).
func (s *staleOutput) profileOf(name string) *profile.Feature {
	for j, f := range s.art.Outputs {
		if f.Name == name && j < len(s.art.Profile.Outputs) {
			return &s.art.Profile.Outputs[j]
		}
	}
	return nil
}

// unpairedStale looks again at the columns unpaired mode found mismatched
// (not per-batch statistics, not already explained by a candidate): when
// a column drifted from the artifact's training output but is distributed
// like a candidate's training output of the same column (no drift by
// drift.CompareProfile, auto), production most likely transforms with that
// candidate, and the verdict becomes stale_parameters naming it. Then the
// observed columns only the schema candidate produces are reported as
// stale_parameters, appended after the artifact's outputs.
//
// A candidate's output profile describes its own training data: the
// match says production's features look like that artifact's output, which
// holds when production's inputs resemble the data it was fitted on.
func unpairedStale(observed []table.Column, rep *Report, stale []staleOutput, schema *staleOutput, ours map[string]bool) error {
	for i := range rep.Features {
		v := &rep.Features[i]
		if v.Verdict == OK || v.Verdict == PerBatchStatistics || v.Verdict == StaleParameters {
			continue
		}
		c := find(observed, v.Name)
		if c == nil || c.Kind != table.Numeric {
			continue
		}
		values := dropNaN(c.Num)
		if len(values) == 0 {
			continue
		}
		// A drift verdict may rest on proof that the artifact's own map was
		// applied: a value its training output repeats (or its output for a
		// missing input) recurs exactly. A candidate explains the column
		// only if its training output shares such a value as well.
		_, anchored := v.Evidence["anchor_value"]
		_, filled := v.Evidence["missing_fill_output"]
		for k := range stale {
			p := stale[k].profileOf(v.Name)
			if p == nil {
				continue
			}
			if anchored || filled {
				if _, n := sharedMass(p, values); n < minMass {
					continue
				}
			}
			d, err := compareWith(p, values)
			if err != nil {
				return err
			}
			if d.Drift {
				continue
			}
			was := v.Verdict
			v.Verdict = StaleParameters
			v.Evidence["instead_of"] = was
			putDrift(v.Evidence, "candidate_", d)
			stale[k].cite(v.Evidence)
			v.explain(fmt.Sprintf("the observed values are not distributed like the artifact's training output (which alone would read %s), but like the training output of %s (KS %s, no drift): production most likely transforms with that artifact",
				was, stale[k].label, fmtNum(float64(d.Statistic))),
				"production uses stale parameters; deploy the current artifact (rerun with --raw to confirm row by row)")
			break
		}
	}
	if schema == nil {
		return nil
	}
	for _, name := range schema.names {
		if ours[name] || slices.ContainsFunc(rep.Features, func(v Verdict) bool { return v.Name == name }) {
			continue
		}
		v := Verdict{Name: name, Verdict: StaleParameters, Evidence: map[string]any{"in_artifact": false}}
		schema.cite(v.Evidence)
		what := fmt.Sprintf("this column is not an output of the artifact; %s produces it", schema.label)
		if c := find(observed, name); c != nil {
			if values := dropNaN(c.Num); len(values) > 0 {
				d, err := compareWith(schema.profileOf(name), values)
				if err != nil {
					return err
				}
				putDrift(v.Evidence, "candidate_", d)
				if d.Drift {
					what += fmt.Sprintf(", though its values moved from that artifact's training output too (KS %s)", fmtNum(float64(d.Statistic)))
				}
			}
		}
		v.explain(what, "production uses stale parameters; deploy the current artifact")
		rep.Features = append(rep.Features, v)
	}
	return nil
}
