package monitor

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"math"
	"slices"
	"strings"

	bolt "go.etcd.io/bbolt"

	"github.com/normguard/normguard/artifact"
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
	// Problem says why no artifact was re-attached or, when one was and
	// the model's next row will be judged with another (the registry's
	// current version), which.
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
	s += fmt.Sprintf(", the one its windows were observed under: its %d rows are judged and exported against it", r.Rows)
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

// ReattachFunc gives the artifacts a model's windows may have been
// observed under (Options.Reattach), as a sequence of artifacts, or of
// errors for versions that could not be read: the one the model's next
// row would be judged with first (serve: the registry's current
// version), then the others, newest first. Open reads them all: it takes
// the first the windows fit, unless another that fits profiles the
// features differently.
type ReattachFunc func(model string) iter.Seq2[*artifact.Artifact, error]

// observed is what the checkpoints of the state file hold of the
// reference a model's rows were observed under: its windows (their
// features and the drift summaries made against the profile), by stage.
type observed struct {
	windows [2][]*window
}

// resolveRefs builds, for each model of names, the reference of the
// artifact its windows were observed under: the first of the artifacts
// Options.Reattach gives that judgedWith and logJudgedWith accept, when
// every other they accept profiles the features alike (sameProfiles);
// when one does not, which the rows were observed under is not known and
// the model gets none. The models it gives none for are recorded in
// m.reattached with why.
func (m *Monitor) resolveRefs(names []string) map[string]*reference {
	out := map[string]*reference{}
	for _, name := range names {
		ra := Reattachment{Model: name}
		if m.opt.Reattach == nil {
			ra.Problem = "no registry was given to take the model's artifact from"
			m.reattached = append(m.reattached, ra)
			continue
		}
		// A file that cannot be read is refused by the load that
		// follows, which says where.
		obs, _ := m.readObserved(name)
		var (
			fits    []fitting
			first   error
			refused []string
			given   string // the first artifact given, the next row's
		)
		for a, err := range m.opt.Reattach(name) {
			if err == nil && a == nil {
				err = fmt.Errorf("no artifact")
			}
			var r *reference
			if err == nil {
				r, err = newReference(a)
			}
			if err != nil {
				if first == nil {
					first = err
				}
				continue
			}
			if given == "" && first == nil {
				given = artifactName(a)
			}
			judged := obs.judgedWith(r, m.opt)
			if judged {
				// As for the checkpoints, a log that cannot be read is
				// refused by the load.
				judged, _ = m.logJudgedWith(name, r)
			}
			if !judged {
				refused = append(refused, artifactName(a))
				continue
			}
			// Every version is tried: the counts a logged record keeps
			// (out of range, unseen) are all it says of its judgement,
			// and a version whose ranges and categories cover the
			// values fits rows observed under another (attack run 36
			// F2).
			fits = append(fits, fitting{r, a})
		}
		var other []string
		for _, f := range fits[min(1, len(fits)):] {
			if !sameProfiles(fits[0].ref, f.ref) {
				other = append(other, artifactName(f.art))
			}
		}
		switch {
		case len(other) > 0:
			ra.Problem = fmt.Sprintf("more than one of its versions fits the rows its windows hold (%s and %s) and they profile its features differently, "+
				"so which one they were observed under is not known (rows kept only in the journal keep no artifact digest, only the counts of values out of range and unseen, which these versions give alike)",
				artifactName(fits[0].art), listSome(other, 5))
		case len(fits) > 0:
			chosen, art := fits[0].ref, fits[0].art
			ra.Digest = art.Digest
			if art.Model != nil {
				ra.Version = art.Model.Version
			}
			if an := artifactName(art); given != "" && given != an {
				ra.Problem = fmt.Sprintf("its windows were observed under this artifact, not under %s, which its next row will be judged with "+
					"(the drift summaries of its open window then start again, as when a version is made current mid-window)", given)
			}
			out[name] = chosen
		case len(refused) > 0:
			ra.Problem = fmt.Sprintf("its windows were observed under an artifact the registry no longer holds: none of its versions (%s) has the profile "+
				"their drift summaries were made against and the features their rows were judged on; push that version to the registry again and restart to judge them",
				listSome(refused, 5))
		case first != nil:
			ra.Problem = firstLine(first)
		default:
			ra.Problem = "the registry holds no artifact of the model"
		}
		m.reattached = append(m.reattached, ra)
	}
	return out
}

// fitting is an artifact whose reference a model's windows can have been
// observed under (resolveRefs).
type fitting struct {
	ref *reference
	art *artifact.Artifact
}

// sameProfiles reports whether references a and b judge rows alike: the
// same training profiles (inputs and outputs) and encoder categories, so
// that taking either for the other changes no drift summary, count or
// anomaly.
func sameProfiles(a, b *reference) bool {
	sa, sb := a.src, b.src
	sa.Digest, sb.Digest = "", ""
	ja, err1 := json.Marshal(sa)
	jb, err2 := json.Marshal(sb)
	return err1 == nil && err2 == nil && bytes.Equal(ja, jb)
}

// listSome joins the first n of names, saying how many more there are.
func listSome(names []string, n int) string {
	if len(names) <= n {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:n], ", "), len(names)-n)
}

// artifactName names an artifact for a Reattachment: its digest, and its
// version when it has one.
func artifactName(a *artifact.Artifact) string {
	if a.Model != nil && a.Model.Version != "" {
		return fmt.Sprintf("%s (version %s)", a.Digest, a.Model.Version)
	}
	return a.Digest
}

// readObserved reads the checkpointed windows of model.
func (m *Monitor) readObserved(model string) (*observed, error) {
	obs := &observed{}
	err := m.db.View(func(tx *bolt.Tx) error {
		for i, s := range stages {
			key := []byte(model + "\x00" + string(s))
			if b := bucketOf(tx, bucketCkpt, key); b != nil {
				err := b.ForEach(func(k, v []byte) error {
					if len(k) != 8 {
						return nil
					}
					data, err := m.unseal(bucketCkpt, key, k, v)
					if err != nil {
						return err
					}
					w, err := decodeWindow(model, s, data)
					if err != nil {
						return err
					}
					obs.windows[i] = append(obs.windows[i], w)
					return nil
				})
				if err != nil {
					return err
				}
			}
		}
		return nil
	})
	return obs, err
}

// bucketOf returns the sub-bucket sub of the top-level bucket top, or nil.
func bucketOf(tx *bolt.Tx, top, sub []byte) *bolt.Bucket {
	if b := tx.Bucket(top); b != nil {
		return b.Bucket(sub)
	}
	return nil
}

// judgedWith reports whether the checkpointed windows obs holds can have
// been observed under reference r: every window holding rows holds every
// feature r profiles, as the same kind, with its drift summaries made
// against r's profile (a summary names the profile it was made against).
// A row is judged on each feature of its reference, so rows observed
// under another artifact lack a feature of r's, or hold a summary against
// another profile, unless the two artifacts profile the features alike
// (and judge the rows alike).
func (obs *observed) judgedWith(r *reference, o Options) bool {
	for si := range stages {
		rs := &r.stages[si]
		for _, w := range obs.windows[si] {
			if w.rows == 0 {
				continue
			}
			for _, rf := range rs.features {
				if f := w.byName[rf.name]; f == nil || f.numeric != rf.numeric {
					return false
				}
			}
			if !w.summariesMatch(rs, o) {
				return false
			}
		}
	}
	return true
}

// errNotJudged stops logJudgedWith's walk at the first record judged
// otherwise.
var errNotJudged = errors.New("record judged with another reference")

// logJudgedWith reports whether every record of model's log can have
// been judged with reference r (recordJudgedWith). The log's rows are
// summarized again from their values against the reference attached; the
// counts of values out of range and unseen are the only judgement a
// record keeps, and they must be r's.
func (m *Monitor) logJudgedWith(model string, r *reference) (bool, error) {
	err := m.db.View(func(tx *bolt.Tx) error {
		for i, s := range stages {
			key := []byte(model + "\x00" + string(s))
			b := bucketOf(tx, bucketLog, key)
			if b == nil {
				continue
			}
			rs := &r.stages[i]
			err := b.ForEach(func(k, v []byte) error {
				entry, err := m.unseal(bucketLog, key, k, v)
				if err != nil {
					return err
				}
				return decodeEntry(entry, func(_ uint64, feats []featureDesc, rec []byte) error {
					if !recordJudgedWith(rs, feats, rec) {
						return errNotJudged
					}
					return nil
				})
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if errors.Is(err, errNotJudged) {
		return false, nil
	}
	return err == nil, err
}

// recordJudgedWith reports whether a log record (record.go), whose
// features are feats, can have been judged with reference stage rs: it
// holds every feature rs profiles, as the same kind, and counted as many
// values out of rs's range (numeric) and not among rs's categories
// (categorical) as rs finds in its values. A categorical value over
// MaxValueBytes, kept as its marker, cannot be judged again: its
// feature's unseen count is not checked.
func recordJudgedWith(rs *refStage, feats []featureDesc, rec []byte) bool {
	d := &decoder{b: rec}
	n := d.uvarint()
	found := 0
	for _, fd := range feats {
		missing, oor, unseen := d.uvarint(), d.uvarint(), d.uvarint()
		if d.err != nil || missing > n {
			return false
		}
		present := int(n - missing)
		var rf *refFeature
		if j, ok := rs.byName[fd.name]; ok && rs.features[j].numeric == fd.numeric {
			rf = &rs.features[j]
			found++
		}
		if fd.numeric {
			raw := d.bytes(8 * present)
			if d.err != nil {
				return false
			}
			if rf == nil {
				continue
			}
			var out uint64
			for i := 0; rf.hasRange && i < present; i++ {
				x := math.Float64frombits(binary.LittleEndian.Uint64(raw[8*i:]))
				if x < rf.min || x > rf.max {
					out++
				}
			}
			if out != oor {
				return false
			}
			continue
		}
		var other uint64
		check := rf != nil
		for i := 0; i < present; i++ {
			v := d.bytes(d.count(1))
			if d.err != nil {
				return false
			}
			if !check || rf.categories == nil {
				continue
			}
			if _, ok := rf.categories[string(v)]; !ok {
				if isLongValue(v) {
					check = false
				}
				other++
			}
		}
		if check && other != unseen {
			return false
		}
	}
	return found == len(rs.features)
}

// isLongValue reports whether v is longValue's marker of a value over
// MaxValueBytes.
func isLongValue(v []byte) bool {
	s := string(v)
	return strings.HasPrefix(s, "<") && strings.HasSuffix(s, ">") && strings.Contains(s, " bytes, sha256:")
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
