package monitor

import (
	"encoding/json"
	"fmt"
	"sync"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/drift"
	"github.com/normguard/normguard/profile"
	"github.com/normguard/normguard/step"
	"github.com/normguard/normguard/validate"
)

// Stage says which side of the transform observed columns are on.
type Stage string

const (
	// StageInput columns are raw features, compared with the artifact's
	// input profile.
	StageInput Stage = "input"
	// StageOutput columns are transformed features, compared with the
	// artifact's output profile.
	StageOutput Stage = "output"
)

// index returns the stage's position in per-stage arrays, or -1.
func (s Stage) index() int {
	switch s {
	case StageInput:
		return 0
	case StageOutput:
		return 1
	}
	return -1
}

var stages = [2]Stage{StageInput, StageOutput}

// reference is what the monitor needs of an artifact: per stage, the
// profiled features in order with their range and known categories.
type reference struct {
	digest string
	// art is the artifact the reference was built from; nil when it was
	// loaded from the store.
	art    *artifact.Artifact
	stages [2]refStage
	// src is what the refs bucket holds (as JSON).
	src storedRef
}

type refStage struct {
	profile  []profile.Feature
	features []refFeature
	byName   map[string]int
	// valid is the stage's schema for the validation rules (anomaly.go).
	valid *validate.Schema
	// plans are the drift summaries' plans of the profile, made on first
	// use (shared by copies of the reference).
	plans *planCache
}

// planCache holds a stage's summary plans for one number of bins.
type planCache struct {
	mu    sync.Mutex
	bins  int
	plans []*drift.SummaryPlan
}

// summaryPlans returns the plans of the stage's profiled features, in
// profile order, for drift options o.
func (rs *refStage) summaryPlans(o drift.Options) []*drift.SummaryPlan {
	bins := o.Bins
	if bins <= 0 {
		bins = drift.DefaultBins
	}
	c := rs.plans
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.plans == nil || c.bins != bins {
		c.plans, c.bins = drift.SummaryPlans(rs.profile, drift.Options{Bins: bins}), bins
	}
	return c.plans
}

type refFeature struct {
	name       string
	numeric    bool
	hasRange   bool
	min, max   float64
	categories map[string]struct{} // nil: unseen values are not counted
}

// sameRef reports whether a and b describe the same artifact: the same
// digest, or (for artifacts never encoded, without a digest) the same
// reference.
func sameRef(a, b *reference) bool {
	return a == b || (a != nil && b != nil && a.digest != "" && a.digest == b.digest)
}

// storedRef is the refs bucket's JSON.
type storedRef struct {
	Digest  string            `json:"digest"`
	Inputs  []profile.Feature `json:"inputs"`
	Outputs []profile.Feature `json:"outputs"`
	// Encoded holds the categories_ of the artifact's encoders per input
	// column.
	Encoded map[string][]string `json:"encoded,omitempty"`
}

// newReference builds the reference of an artifact.
func newReference(a *artifact.Artifact) (*reference, error) {
	if a == nil {
		return nil, fmt.Errorf("monitor: no artifact given")
	}
	if a.Profile == nil {
		return nil, fmt.Errorf("monitor: artifact %s has no training profile; fit it again with this normguard", a.Digest)
	}
	// Vector columns' dimension columns are no features of their own (a
	// vector is judged as a whole): the monitor leaves them out.
	s := storedRef{Digest: a.Digest, Inputs: a.ScalarProfiles(a.Profile.Inputs), Outputs: a.ScalarProfiles(a.Profile.Outputs), Encoded: encoderCategories(a)}
	r, err := buildReference(s)
	if err != nil {
		return nil, err
	}
	r.art = a
	return r, nil
}

// encoderCategories returns, per input column that an encoder encodes, the
// encoder's fitted categories (the missing-value category left out).
func encoderCategories(a *artifact.Artifact) map[string][]string {
	inputs := map[string]bool{}
	for _, f := range a.Inputs {
		inputs[f.Name] = true
	}
	out := map[string][]string{}
	for _, g := range a.Groups {
		for _, s := range g.Steps {
			var names []string
			var cats []step.CategoryList
			switch e := s.Fitted.(type) {
			case *step.OneHotEncoder:
				names, cats = e.Names, e.Categories
			case *step.OrdinalEncoder:
				names, cats = e.Names, e.Categories
			default:
				continue
			}
			for i, name := range names {
				if i >= len(cats) || !inputs[name] {
					continue
				}
				if _, seen := out[name]; seen {
					continue // the first encoder of a column decides
				}
				list := []string{}
				for _, c := range cats[i] {
					if c != nil {
						list = append(list, *c)
					}
				}
				out[name] = list
			}
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// decodeReference rebuilds a reference from the refs bucket's JSON.
func decodeReference(data []byte) (*reference, error) {
	var s storedRef
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("monitor: stored reference: %w", err)
	}
	return buildReference(s)
}

func buildReference(s storedRef) (*reference, error) {
	// A reference read back from the state file is checked as an
	// artifact's profile is when loaded: a damaged one is refused here,
	// not met by the drift evaluation.
	for _, st := range []struct {
		name  string
		feats []profile.Feature
	}{{"inputs", s.Inputs}, {"outputs", s.Outputs}} {
		if err := artifact.CheckFeatures("reference "+s.Digest+" "+st.name, st.feats); err != nil {
			return nil, fmt.Errorf("monitor: stored reference: %w", err)
		}
	}
	r := &reference{digest: s.Digest, src: s}
	for i, feats := range [2][]profile.Feature{s.Inputs, s.Outputs} {
		rs := &r.stages[i]
		rs.profile = feats
		rs.plans = &planCache{}
		rs.byName = make(map[string]int, len(feats))
		for j := range feats {
			p := &feats[j]
			f := refFeature{name: p.Name, numeric: p.Type != "categorical"}
			if f.numeric && p.Min != nil && p.Max != nil {
				f.hasRange, f.min, f.max = true, float64(*p.Min), float64(*p.Max)
			}
			if !f.numeric {
				var list []string
				if enc, ok := s.Encoded[p.Name]; ok && i == 0 {
					list = enc
				} else if p.Categories != nil && p.Categories.Other == 0 {
					list = p.Categories.Values
				}
				if list != nil {
					f.categories = make(map[string]struct{}, len(list))
					for _, c := range list {
						f.categories[c] = struct{}{}
					}
				}
			}
			rs.byName[p.Name] = j
			rs.features = append(rs.features, f)
		}
		rs.valid = rs.schema(s.Digest)
	}
	return r, nil
}
