package monitor

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// ErrUnjudged is wrapped by Drift when the open window holds rows but the
// model has no reference to judge them against: the state file lost the
// model's reference (its refs record) and none could be re-attached at
// Open (Options.Reattach). The model's next row attaches its artifact.
var ErrUnjudged = errors.New("window rows without a reference to judge them")

// Reattachment says what Open did for a model whose windows the state
// file holds without the model's reference (the artifact digest and
// training profile its rows are judged against), as a recovery that lost
// the model's refs record leaves it.
type Reattachment struct {
	Model string `json:"model"`
	// Rows are the rows of the model's windows (both stages).
	Rows int64 `json:"rows"`
	// Digest and Version name the artifact re-attached (Options.Reattach);
	// both are empty when none was.
	Digest  string `json:"artifact_digest,omitempty"`
	Version string `json:"version,omitempty"`
	// Problem says why no artifact was re-attached or, when one was, what
	// of the windows it could not take over.
	Problem string `json:"problem,omitempty"`
}

// String describes the re-attachment in a line.
func (r Reattachment) String() string {
	if r.Digest == "" {
		return fmt.Sprintf("model %q: its reference (the artifact profile its windows are judged against) was lost from the state file and could not be re-attached (%s): "+
			"its %d rows are kept but not judged, not answered by /drift and not exported until the model's next row (an observation or a transform) attaches its artifact",
			r.Model, r.Problem, r.Rows)
	}
	s := fmt.Sprintf("model %q: its reference was lost from the state file; re-attached artifact %s", r.Model, r.Digest)
	if r.Version != "" {
		s += fmt.Sprintf(" (version %s)", r.Version)
	}
	s += fmt.Sprintf(", which its next row would be judged with: its %d rows are judged and exported against it", r.Rows)
	if r.Problem != "" {
		s += "; " + r.Problem
	}
	return s
}

// Reattached returns what Open did for each model whose windows the state
// file held without the model's reference, by model name; none when every
// model had its reference.
func (m *Monitor) Reattached() []Reattachment { return slices.Clone(m.reattached) }

// missingRefs returns the models with window state (checkpoints or log)
// in the file and no reference in the refs bucket, in name order.
func (m *Monitor) missingRefs() ([]string, error) {
	seen := map[string]bool{}
	err := m.db.View(func(tx *bolt.Tx) error {
		refs := tx.Bucket(bucketRefs)
		for _, top := range [][]byte{bucketCkpt, bucketLog} {
			b := tx.Bucket(top)
			if b == nil {
				continue
			}
			err := b.ForEachBucket(func(k []byte) error {
				model, _, ok := splitKey(k)
				if ok && (refs == nil || refs.Get([]byte(model)) == nil) {
					seen[model] = true
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	names := make([]string, 0, len(seen))
	for name := range seen {
		names = append(names, name)
	}
	slices.Sort(names)
	return names, err
}

// resolveRefs builds, for each model of names, the reference of the
// artifact Options.Reattach gives; the models it gives none for are
// recorded in m.reattached with why.
func (m *Monitor) resolveRefs(names []string) map[string]*reference {
	out := map[string]*reference{}
	for _, name := range names {
		ra := Reattachment{Model: name}
		if m.opt.Reattach == nil {
			ra.Problem = "no registry was given to take the model's artifact from"
			m.reattached = append(m.reattached, ra)
			continue
		}
		a, err := m.opt.Reattach(name)
		if err == nil && a == nil {
			err = fmt.Errorf("no artifact")
		}
		var r *reference
		if err == nil {
			r, err = newReference(a)
		}
		if err != nil {
			ra.Problem = firstLine(err)
			m.reattached = append(m.reattached, ra)
			continue
		}
		ra.Digest = a.Digest
		if a.Model != nil {
			ra.Version = a.Model.Version
		}
		m.reattached = append(m.reattached, ra)
		out[name] = r
	}
	return out
}

// attachRefs makes each reference of refs its model's, as a row of the
// model's would (before the file's windows are loaded, so that the log's
// rows are summarized against it).
func (m *Monitor) attachRefs(refs map[string]*reference) {
	for name, r := range refs {
		ms := m.model(name)
		ms.ref.Store(r)
		if r.digest != "" {
			ms.refs.Store(r.digest, r)
		}
		for _, ss := range ms.stages {
			ss.ref = r
		}
	}
}

// putRefs writes the re-attached references to the refs bucket, so that
// the file holds them as it holds references written by rows.
func (m *Monitor) putRefs(refs map[string]*reference) error {
	if len(refs) == 0 {
		return nil
	}
	err := m.db.Update(func(tx *bolt.Tx) error {
		for name, r := range refs {
			if err := putRef(tx, name, r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for name, r := range refs {
		m.model(name).durable = r
	}
	return nil
}

// matchReattached counts, for each re-attached model, the windows loaded
// from checkpoints whose drift summaries were made against another
// profile than the re-attached artifact's (they start again with it, as
// after a version made current mid-window). Called before the log is
// applied, which would start them again unseen.
func (m *Monitor) matchReattached() {
	for i := range m.reattached {
		ra := &m.reattached[i]
		if ra.Digest == "" {
			continue
		}
		other := 0
		for si, ss := range m.model(ra.Model).stages {
			for _, w := range ss.windows {
				if !w.summariesMatch(&ss.ref.stages[si], m.opt) {
					other++
				}
			}
		}
		if other > 0 {
			ra.Problem = fmt.Sprintf("the drift summaries of %d of its windows were made against another profile (the model's version changed since): "+
				"they start again with this artifact, and /drift counts the rows before as unprofiled_rows", other)
		}
	}
}

// noteReattached completes m.reattached once the windows are loaded (the
// rows of each model) and logs it.
func (m *Monitor) noteReattached() {
	for i := range m.reattached {
		ra := &m.reattached[i]
		for _, ss := range m.model(ra.Model).stages {
			for _, w := range ss.windows {
				ra.Rows += w.rows
			}
		}
		if ra.Digest == "" {
			m.opt.Logger.Warn("monitor: "+ra.String(), "model", ra.Model)
		} else {
			m.opt.Logger.Info("monitor: "+ra.String(), "model", ra.Model)
		}
	}
}

// summariesMatch reports whether every stored summary of the window's
// features decodes against the plans of reference stage rs.
func (w *window) summariesMatch(rs *refStage, o Options) bool {
	plans := rs.summaryPlans(o.Drift)
	for _, f := range w.feats {
		if f.sumRaw == nil {
			continue
		}
		j, ok := rs.byName[f.name]
		if !ok || rs.features[j].numeric != f.numeric || plans[j] == nil {
			return false
		}
		if _, err := plans[j].UnmarshalSummary(f.sumRaw); err != nil {
			return false
		}
	}
	return true
}

// noReference says why model has no reference, for the errors of Drift
// and the skipped windows of Export.
func (m *Monitor) noReference(model string) string {
	for _, ra := range m.reattached {
		if ra.Model == model && ra.Digest == "" {
			return "the state file lost the model's reference (its artifact digest and training profile) and none could be re-attached: " + ra.Problem
		}
	}
	return "the state file holds no reference (artifact digest and training profile) of the model"
}

// ReferenceProblems lists, for /healthz, the models whose windows hold
// rows that cannot be judged: the state file lost their reference and
// none could be re-attached at Open. A model drops off once a row of its
// attaches its artifact.
func (m *Monitor) ReferenceProblems() []string {
	var out []string
	for _, ra := range m.reattached {
		if ra.Digest != "" {
			continue
		}
		ms := m.lookupModel(ra.Model)
		if ms == nil || ms.ref.Load() != nil {
			continue
		}
		var rows int64
		for _, ss := range ms.stages {
			ss.mu.Lock()
			for _, w := range ss.windows {
				rows += w.rows
			}
			ss.mu.Unlock()
		}
		if rows > 0 {
			cur := ra
			cur.Rows = rows
			out = append(out, "monitor: "+strings.TrimSpace(cur.String()))
		}
	}
	return out
}

// lookupModel returns the state of the named model, or nil.
func (m *Monitor) lookupModel(name string) *modelState {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.models[name]
}
