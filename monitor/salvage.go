package monitor

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/normguard/normguard/internal/regular"
)

// RecoveryReport says what Recover did with a damaged state file.
type RecoveryReport struct {
	// Path is the state file; MovedTo the damaged file's new name (empty
	// when the file verified and nothing was done).
	Path    string `json:"path"`
	MovedTo string `json:"moved_to,omitempty"`
	// Damage is what Open found wrong.
	Damage string `json:"damage,omitempty"`
	// Kept and Lost count the stored records by kind: "refs" (a model's
	// reference), "checkpoint" (a window state), "log" (a batch of
	// observations after a checkpoint), "history" (a closed window's
	// summary), "ledger" (a stage's row count), "offsets" (a source
	// partition's next offset).
	Kept map[string]int `json:"kept"`
	Lost map[string]int `json:"lost"`
	// Offsets are the source positions the recovered file resumes from
	// (a Kafka consumer reads on from them), each partition once.
	Offsets []RecoveredOffset `json:"offsets,omitempty"`
	// Stages accounts for the rows of each model and stage.
	Stages []StageRecovery `json:"stages"`
	// Uncounted says what may be lost beyond the counts (a damaged meta
	// page may hide the last commit, a file may be unreadable).
	Uncounted string `json:"uncounted,omitempty"`
}

// StageRecovery is the rows of one model and stage after a recovery. When
// Counted, RowsKept + RowsLost are the rows the damaged file held;
// otherwise its ledger entry was lost and RowsLost is unknown (0).
type StageRecovery struct {
	Model    string `json:"model"`
	Stage    Stage  `json:"stage"`
	RowsKept int64  `json:"rows_kept"`
	RowsLost int64  `json:"rows_lost"`
	Counted  bool   `json:"counted"`
}

// String describes the recovery in a few lines for the log.
func (r *RecoveryReport) String() string {
	if r.MovedTo == "" && r.Damage == "" {
		return fmt.Sprintf("monitor: %s verifies; nothing to recover", r.Path)
	}
	var b strings.Builder
	if r.MovedTo == "" { // the file was gone: started empty
		fmt.Fprintf(&b, "monitor: starting %s empty (%s)\n", r.Path, r.Damage)
	} else {
		fmt.Fprintf(&b, "monitor: recovered %s (%s); the damaged file is now %s\n", r.Path, r.Damage, r.MovedTo)
		fmt.Fprintf(&b, "  records kept: %s; lost: %s\n", countList(r.Kept), countList(r.Lost))
	}
	for _, s := range r.Stages {
		switch {
		case !s.Counted:
			fmt.Fprintf(&b, "  model %q stage %s: %d rows kept; its row count was lost, so rows lost cannot be counted\n", s.Model, s.Stage, s.RowsKept)
		case s.RowsLost > 0:
			fmt.Fprintf(&b, "  model %q stage %s: %d rows kept, %d acknowledged rows lost\n", s.Model, s.Stage, s.RowsKept, s.RowsLost)
		default:
			fmt.Fprintf(&b, "  model %q stage %s: all %d rows kept\n", s.Model, s.Stage, s.RowsKept)
		}
	}
	for _, o := range r.Offsets {
		fmt.Fprintf(&b, "  %s partition %d resumes at offset %d (%s)\n", o.Source, o.Partition, o.Next, o.From)
		if o.Note != "" {
			fmt.Fprintf(&b, "    warning: %s\n", o.Note)
		}
	}
	if r.Uncounted != "" {
		fmt.Fprintf(&b, "  also: %s\n", r.Uncounted)
	}
	return strings.TrimRight(b.String(), "\n")
}

func countList(m map[string]int) string {
	if len(m) == 0 {
		return "none"
	}
	var parts []string
	for _, k := range []string{"refs", "checkpoint", "log", "history", "ledger", "offsets"} {
		if m[k] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", m[k], k))
		}
	}
	return strings.Join(parts, ", ")
}

// kindOf names the records of a bucket in a RecoveryReport.
func kindOf(top []byte) string {
	switch string(top) {
	case string(bucketCkpt):
		return "checkpoint"
	default:
		return string(top)
	}
}

// salvagedValue is a value that verified, with where it goes.
type salvagedValue struct {
	top, sub, key, val []byte // val still sealed
}

// Recover makes the state file at path usable again. When Open accepts it
// as it is, Recover changes nothing. Otherwise it copies the damaged file
// to path.damaged-<UTC time>, reads from the copy every record whose
// checksum verifies (a record in a page bbolt cannot read is lost), writes
// them into a new file at path, and reports, per model and stage, the
// rows kept and the acknowledged rows lost (counted against the ledger).
// The file is not held open afterwards: call Open.
func Recover(path string, opt Options) (*RecoveryReport, error) {
	rep := &RecoveryReport{Path: path, Kept: map[string]int{}, Lost: map[string]int{}}
	m, err := Open(path, opt)
	if err == nil {
		return rep, m.Close()
	}
	var de *DamageError
	if !errors.As(err, &de) {
		return nil, err
	}
	rep.Damage = de.What
	if de.olderMeta {
		rep.Uncounted = "a meta page was damaged: the state is that of the last commit the other one records; a later commit, if there was one, is lost and its rows cannot be counted"
	}
	stamp := time.Now().UTC().Format("20060102T150405.000Z")
	mk, err := readMarker(path)
	if err != nil {
		return nil, err
	}
	if mk != nil {
		// The Open after the recovery writes a new marker; the old one
		// is kept aside.
		if err := os.Rename(markerPath(path), markerPath(path)+".lost-"+stamp); err != nil {
			return nil, fmt.Errorf("monitor: recover %s: move its marker aside: %w", path, err)
		}
	}
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) && mk != nil {
		// Deleted: nothing to salvage, every row the marker counted is
		// lost. The next Open starts empty.
		markerLosses(rep, mk)
		return rep, nil
	}
	moved := fmt.Sprintf("%s.damaged-%s", path, stamp)
	if err := copyFile(path, moved); err != nil {
		return nil, fmt.Errorf("monitor: recover %s: keep a copy of the damaged file: %w", path, err)
	}
	rep.MovedTo = moved

	values, ledger, readErr := salvage(moved, rep)
	if readErr != "" {
		if rep.Uncounted != "" {
			rep.Uncounted += "; "
		}
		rep.Uncounted += readErr
	}
	tmp := path + ".recover-tmp"
	os.Remove(tmp)
	if err := rebuild(tmp, values); err != nil {
		os.Remove(tmp)
		return nil, fmt.Errorf("monitor: recover %s: write the new file: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return nil, fmt.Errorf("monitor: recover %s: %w", path, err)
	}
	syncDir(filepath.Dir(path))

	ropt := opt
	ropt.rebuildLedger = true
	ropt.EvalInterval = 24 * time.Hour
	m, err = Open(path, ropt)
	if err != nil {
		return nil, fmt.Errorf("monitor: recover %s: open the rebuilt file: %w", path, err)
	}
	for _, ss := range m.stageStates() {
		old, counted := ledger[string(ss.key())]
		delete(ledger, string(ss.key()))
		if ss.held == 0 && !counted {
			continue
		}
		s := StageRecovery{Model: ss.model, Stage: ss.stage, RowsKept: ss.held, Counted: counted}
		if counted {
			s.RowsLost = old - ss.held
		}
		rep.Stages = append(rep.Stages, s)
	}
	for k, old := range ledger { // stages none of whose records survived
		model, stage, _ := splitKey([]byte(k))
		rep.Stages = append(rep.Stages, StageRecovery{Model: model, Stage: stage, RowsLost: old, Counted: true})
	}
	switch {
	case de.stale && mk != nil && mk.Generation > 0:
		markerFloor(rep, mk) // an older or another file: its marker counts more
	case len(rep.Stages) == 0 && mk != nil && mk.total() > 0:
		markerLosses(rep, mk) // a replaced file: its marker is all that counts
	}
	sort.Slice(rep.Stages, func(i, j int) bool {
		a, b := rep.Stages[i], rep.Stages[j]
		if a.Model != b.Model {
			return a.Model < b.Model
		}
		return a.Stage < b.Stage
	})
	if rep.Offsets, err = m.restoreOffsets(); err != nil {
		m.Close()
		return nil, fmt.Errorf("monitor: recover %s: %w", path, err)
	}
	if err := m.Close(); err != nil {
		return nil, err
	}
	return rep, nil
}

// salvage reads the records of a damaged file that verify, counting kept
// and lost ones in rep, and returns them with the ledger they hold (rows
// per stage key). readErr says what could not be read at all.
//
// It does not hand the file to bbolt, which trusts every page it reaches
// (a damaged one sent it allocating without bound): it walks the pages
// itself (pagewalk.go) from the newest meta page that verifies, skipping
// a damaged page (and the pages under it) or a leaf element out of its
// page, each page at most once, with the walk's bounded depth.
func salvage(path string, rep *RecoveryReport) (values []salvagedValue, ledger map[string]int64, readErr string) {
	ledger = map[string]int64{}
	const nothing = "; whatever it held is lost and cannot be counted"
	f, _, err := regular.Open(path)
	if err != nil {
		return nil, ledger, "the file cannot be read (" + err.Error() + ")" + nothing
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || st.Size() == 0 {
		return nil, ledger, "the file held nothing readable" + nothing
	}
	metas, err := readMetas(f, st.Size())
	if err != nil {
		return nil, ledger, "the file cannot be read (" + err.Error() + ")" + nothing
	}
	m := metas[0]
	if !m.ok || (metas[1].ok && metas[1].txid > m.txid) {
		m = metas[1]
	}
	if !m.ok || m.pageSize < 512 || m.pageSize > 1<<20 {
		return nil, ledger, "neither of its meta pages verifies" + nothing
	}
	// Pages past the file's end (a truncated file) count as not in use.
	inUse := min(m.pgid, uint64(st.Size())/uint64(m.pageSize))
	if inUse < 3 {
		return nil, ledger, "the file holds fewer pages than a bbolt file" + nothing
	}
	type raw struct{ path, kv [][]byte }
	var found []raw
	w := newPageWalker(f, uint64(m.pageSize), inUse, uint64(st.Size()))
	w.salvage, w.metaPages = true, m.pgid
	w.seen[0], w.seen[1] = pageReached, pageReached
	w.visit = func(path [][]byte, k, v []byte) {
		if len(path) == 1 || len(path) == 2 {
			found = append(found, raw{path, [][]byte{k, v}})
		}
	}
	if err := w.tree(nil, m.root, 0); err != nil { // only a read error: damage is noted
		w.noted++
		w.notes = append(w.notes, err.Error())
	}
	v1 := false
	for _, r := range found {
		if len(r.path) == 1 && string(r.path[0]) == string(bucketMeta) && string(r.kv[0]) == string(keyFormat) {
			v1 = string(r.kv[1]) == storeFormatV1
		}
	}
	keep := func(top, sub, k, v []byte) {
		kind := kindOf(top)
		if v1 {
			v = seal(top, sub, k, v)
		}
		payload, err := unseal(top, sub, k, v)
		if err != nil {
			rep.Lost[kind]++
			return
		}
		if string(top) == string(bucketLedger) {
			if _, _, ok := splitKey(k); !ok || len(payload) != 8 {
				rep.Lost[kind]++
				return
			}
			ledger[string(k)] = int64(binary.BigEndian.Uint64(payload))
			rep.Kept[kind]++
			return // rebuilt from the rows kept
		}
		rep.Kept[kind]++
		values = append(values, salvagedValue{top: top, sub: sub, key: k, val: v})
	}
	for _, r := range found {
		top := r.path[0]
		switch {
		case len(r.path) == 1 && (string(top) == string(bucketRefs) || string(top) == string(bucketLedger) || string(top) == string(bucketOffsets)):
			keep(top, nil, r.kv[0], r.kv[1])
		case len(r.path) == 2 && (string(top) == string(bucketCkpt) || string(top) == string(bucketLog) || string(top) == string(bucketHistory)):
			if _, _, ok := splitKey(r.path[1]); ok {
				keep(top, r.path[1], r.kv[0], r.kv[1])
			}
		}
	}
	if w.noted > 0 {
		list := strings.Join(w.notes, "; ")
		if w.noted > len(w.notes) {
			list += fmt.Sprintf("; and %d more", w.noted-len(w.notes))
		}
		readErr = fmt.Sprintf("%d damaged page(s) or element(s) could not be read (%s); records in them are lost, counted only by the ledger", w.noted, list)
	}
	return values, ledger, readErr
}

func cp(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte(nil), b...)
}

// rebuild writes a new state file holding values.
func rebuild(path string, values []salvagedValue) error {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		return err
	}
	err = db.Update(func(tx *bolt.Tx) error {
		meta, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return err
		}
		if err := meta.Put(keyFormat, []byte(storeFormat)); err != nil {
			return err
		}
		for _, v := range values {
			b, err := tx.CreateBucketIfNotExists(v.top)
			if err != nil {
				return err
			}
			if v.sub != nil {
				if b, err = b.CreateBucketIfNotExists(v.sub); err != nil {
					return err
				}
			}
			if err := b.Put(v.key, v.val); err != nil {
				return err
			}
		}
		return nil
	})
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	return err
}

// copyFile copies src to a new file dst and syncs it.
func copyFile(src, dst string) error {
	in, _, err := regular.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		os.Remove(dst)
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		os.Remove(dst)
		return err
	}
	return out.Close()
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
