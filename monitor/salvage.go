package monitor

import (
	"encoding/binary"
	"encoding/json"
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
	// References says, for each model whose windows were kept without
	// its reference (its refs record lost), which artifact was
	// re-attached (Options.Reattach) or why none was: its rows are then
	// kept but not judged until its next row.
	References []Reattachment `json:"references,omitempty"`

	// found is the tree salvage found by reading every page when neither
	// meta page verified (findtree.go).
	found *foundTree
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
		lost := countList(r.Lost)
		if len(r.Lost) == 0 && r.Uncounted != "" {
			lost = "none counted (see \"also\" below)"
		}
		fmt.Fprintf(&b, "  records kept: %s; lost: %s\n", countList(r.Kept), lost)
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
	for _, ra := range r.References {
		fmt.Fprintf(&b, "  %s\n", ra)
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
	if rep.found != nil {
		if rep.Uncounted != "" {
			rep.Uncounted += "; "
		}
		rep.Uncounted += rep.found.describe()
	}
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
	// A tree found by reading every page that is older than the marker:
	// the marker counts more (as for an older copy).
	behind := rep.found != nil && rep.found.meta.root != 0 && mk != nil && (rep.found.gen < mk.Generation || rep.found.ckpts < mk.Checkpoints)
	switch {
	case de.stale && mk != nil && mk.Generation > 0:
		markerFloor(rep, mk, olderCopy) // an older or another file: its marker counts more
	case behind && mk.Generation > 0:
		markerFloor(rep, mk, olderTree)
	case len(rep.Stages) == 0 && mk != nil && mk.total() > 0:
		markerLosses(rep, mk) // a replaced file: its marker is all that counts
	case mk != nil:
		markerUncounted(rep, mk) // a stage's ledger entry lost: its marker's count
	}
	sort.Slice(rep.Stages, func(i, j int) bool {
		a, b := rep.Stages[i], rep.Stages[j]
		if a.Model != b.Model {
			return a.Model < b.Model
		}
		return a.Stage < b.Stage
	})
	rep.References = m.Reattached()
	if rep.Offsets, err = m.restoreOffsets(); err != nil {
		m.Close()
		return nil, fmt.Errorf("monitor: recover %s: %w", path, err)
	}
	if err := m.Close(); err != nil {
		return nil, err
	}
	return rep, nil
}

// markerUncounted counts the rows lost of each stage in rep whose ledger
// entry was lost (a page of the ledger past a truncation) against the
// rows its marker counted at its last update: at least those were
// acknowledged, so the rows lost are at least that count less the rows
// kept; rows acknowledged after the marker's update may be lost too.
func markerUncounted(rep *RecoveryReport, mk *marker) {
	n := 0
	for i := range rep.Stages {
		s := &rep.Stages[i]
		want, ok := mk.Rows[s.Model+"/"+string(s.Stage)]
		if s.Counted || !ok {
			continue
		}
		s.RowsLost, s.Counted = max(0, want-s.RowsKept), true
		n++
	}
	if n == 0 {
		return
	}
	note := fmt.Sprintf("the row count of %d stage(s) was lost in the file: their rows lost are counted against the marker's count of %s", n, mk.Updated.UTC().Format(time.RFC3339))
	note += "; rows acknowledged after it, if any, were lost too and cannot be counted"
	if rep.Uncounted != "" {
		rep.Uncounted += "; "
	}
	rep.Uncounted += note
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
		ft, ok := findTree(f, st.Size())
		if !ok {
			return nil, ledger, "neither of its meta pages verifies, and reading every page found no tree of a state" + nothing
		}
		m, rep.found = ft.meta, ft
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
	noRoot := m.root == 0 // found by findTree: no root page left, only leaves to scan
	if !noRoot {
		if err := w.tree(nil, m.root, 0); err != nil { // only a read error: damage is noted
			w.noted++
			w.notes = append(w.notes, err.Error())
		}
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
	walked := map[string]bool{} // the records the walk reached, by identity
	for _, r := range found {
		top := r.path[0]
		switch {
		case len(r.path) == 1 && (string(top) == string(bucketRefs) || string(top) == string(bucketLedger) || string(top) == string(bucketOffsets)):
			walked[recordID(top, nil, r.kv[0])] = true
			keep(top, nil, r.kv[0], r.kv[1])
		case len(r.path) == 2 && (string(top) == string(bucketCkpt) || string(top) == string(bucketLog) || string(top) == string(bucketHistory)):
			if _, _, ok := splitKey(r.path[1]); ok {
				walked[recordID(top, r.path[1], r.kv[0])] = true
				keep(top, r.path[1], r.kv[0], r.kv[1])
			}
		}
	}
	if w.noted > 0 || noRoot {
		if w.noted > 0 {
			list := strings.Join(w.notes, "; ")
			if w.noted > len(w.notes) {
				list += fmt.Sprintf("; and %d more", w.noted-len(w.notes))
			}
			readErr = fmt.Sprintf("%d damaged page(s) or element(s) could not be read (%s); records in them are lost, counted only by the ledger", w.noted, list)
		}
		if !v1 { // (a /1 file's values carry no seal to verify)
			var subs [][]byte
			for _, r := range found {
				if len(r.path) == 2 {
					subs = append(subs, r.path[1])
				}
			}
			freelist := w.markFree(m.freelist)
			orphans, buckets, pages := w.scanLeaves()
			sc := &scan{rep: rep, ledger: ledger, values: values, walked: walked}
			sc.resolve(orphans, append(subs, buckets...))
			values = sc.values
			if readErr != "" {
				readErr += "; "
			}
			readErr += sc.describe(pages, freelist)
		}
	}
	return values, ledger, readErr
}

// recordID names a record by its bucket path and key.
func recordID(top, sub, key []byte) string {
	var b []byte
	for _, p := range [][]byte{top, sub, key} {
		b = binary.AppendUvarint(b, uint64(len(p)))
		b = append(b, p...)
	}
	return string(b)
}

// scan keeps the records found on leaf pages the walk did not reach (when
// a branch or bucket page above them is lost, such as a truncation
// cutting the tree's upper pages, which bbolt writes last). Such a page
// may be current, or an older version of a page, freed and not yet
// reused: a record is kept only when
//   - its seal verifies under one bucket path (the path the record's own
//     checksum covers: refs, ledger or offsets, or ckpt, log or history of
//     a model and stage named by the file),
//   - the walk did not reach a record of that path and key (the tree's
//     copy is the current one),
//   - every copy found of it holds the same bytes (copies that differ are
//     one record lost: which one is current cannot be told),
//   - it is not older than what the stage holds: a window (checkpoint or
//     log entry) no later than the stage's newest history summary was
//     closed and summarized, a log entry within the checkpoint's sequence
//     number was folded into the checkpoint (both are left out, their rows
//     are counted where they went),
//   - a log entry does not share a sequence number with another one (it
//     is counted lost), nor follows a checkpoint whose sequence number is
//     lost (counted lost: it may be in the checkpoint's windows),
//   - and the rows of its stage, with it, are no more than the stage's
//     ledger counts (otherwise every scanned record of the stage is
//     counted lost: one was a stale copy counted twice).
//
// A ledger record found so is not used: it may be an older commit's
// count. A stage whose ledger entry the walk did not reach is counted
// against its marker (Recover).
//
// So a record is never kept twice, and kept + lost stays the ledger's
// count.
type scan struct {
	rep    *RecoveryReport
	ledger map[string]int64
	values []salvagedValue // the walk's, then the scanned ones kept
	walked map[string]bool
	// found: records whose seal verified; unverified: values none did;
	// conflicts: records found in copies that differ; stale: records
	// older than the stage's state (left out); lost: records counted lost
	// otherwise; kept: the scanned records kept.
	found, unverified, conflicts, stale, lost, kept int
	// ledgers: ledger records found, not used (see resolve).
	ledgers int
}

// scanned is a record found by the scan whose seal verified.
type scanned struct {
	salvagedValue
	payload []byte
	dropped bool
}

func (sc *scan) resolve(orphans []orphanValue, names [][]byte) {
	tops := [][]byte{bucketRefs, bucketLedger, bucketOffsets}
	stageTops := [][]byte{bucketCkpt, bucketLog, bucketHistory}
	var recs []*scanned
	try := func(o orphanValue, top, sub []byte) bool {
		p, err := unseal(top, sub, o.key, o.val)
		if err != nil {
			return false
		}
		recs = append(recs, &scanned{salvagedValue: salvagedValue{top: top, sub: sub, key: o.key, val: o.val}, payload: p})
		return true
	}
	// Top-level records first: their keys name the models and stages.
	subs := map[string]bool{}
	addSub := func(k []byte) {
		if _, _, ok := splitKey(k); ok {
			subs[string(k)] = true
		}
	}
	for _, n := range names {
		addSub(n)
	}
	for k := range sc.ledger {
		addSub([]byte(k))
	}
	var rest []orphanValue
	for _, o := range orphans {
		if string(o.inBucket) == string(bucketMeta) {
			continue // unsealed, and rewritten by the recovery
		}
		ok := false
		for _, top := range tops {
			if (o.inBucket == nil || string(o.inBucket) == string(top)) && try(o, top, nil) {
				ok = true
				break
			}
		}
		if !ok {
			rest = append(rest, o)
		}
	}
	for _, r := range recs {
		addSub(r.key)
		if string(r.top) == string(bucketRefs) {
			for _, st := range []Stage{StageInput, StageOutput} {
				addSub([]byte(string(r.key) + "\x00" + string(st)))
			}
		}
	}
	for _, v := range sc.values {
		if string(v.top) == string(bucketRefs) {
			for _, st := range []Stage{StageInput, StageOutput} {
				addSub([]byte(string(v.key) + "\x00" + string(st)))
			}
		}
	}
	subList := make([][]byte, 0, len(subs))
	for k := range subs {
		subList = append(subList, []byte(k))
	}
	sort.Slice(subList, func(i, j int) bool { return string(subList[i]) < string(subList[j]) })
	// A leaf page holds the values of one bucket: the stage a value of
	// its page verified under is tried first for the next.
	hint := map[uint64][]byte{}
	for _, o := range rest {
		cands := subList
		if o.inBucket != nil {
			cands = [][]byte{o.inBucket}
		} else if h := hint[o.page]; h != nil {
			cands = append([][]byte{h}, subList...)
		}
		ok := false
		for _, top := range stageTops {
			switch {
			case len(o.key) == 16 && string(top) != string(bucketLog),
				len(o.key) == 8 && string(top) == string(bucketLog),
				len(o.key) != 16 && len(o.key) != 8 && string(top) != string(bucketCkpt):
				continue
			}
			for _, sub := range cands {
				if try(o, top, sub) {
					ok = true
					if o.inBucket == nil {
						hint[o.page] = sub
					}
					break
				}
			}
			if ok {
				break
			}
		}
		if !ok {
			sc.unverified++
		}
	}
	sc.found = len(recs)

	// One copy per record; the walk's copy wins; copies that differ are
	// a record lost.
	byID := map[string][]*scanned{}
	var order []string
	for _, r := range recs {
		id := recordID(r.top, r.sub, r.key)
		if sc.walked[id] {
			r.dropped = true
			continue
		}
		if byID[id] == nil {
			order = append(order, id)
		}
		byID[id] = append(byID[id], r)
	}
	var cands []*scanned
	for _, id := range order {
		copies := byID[id]
		same := true
		for _, c := range copies[1:] {
			same = same && string(c.val) == string(copies[0].val)
		}
		if !same {
			sc.conflicts++
			sc.rep.Lost[kindOf(copies[0].top)]++
			continue
		}
		cands = append(cands, copies[0])
	}
	sc.filter(cands)
	for _, c := range cands {
		if c.dropped {
			continue
		}
		if string(c.top) == string(bucketLedger) {
			// A count of some commit, the last or an older one: not
			// the stage's count (the marker's is, as a floor).
			sc.ledgers++
			continue
		}
		sc.values = append(sc.values, c.salvagedValue)
		sc.kept++
		sc.rep.Kept[kindOf(c.top)]++
	}
}

// filter drops (marks) the scanned records older than their stage's state
// and counts lost the ones that cannot be placed, then checks each
// stage's rows against its ledger.
func (sc *scan) filter(cands []*scanned) {
	// What each stage holds: the walk's records (verified) and the
	// scanned candidates.
	type entry struct {
		first, last uint64
		rec         *scanned // nil: the walk's
	}
	type stageInfo struct {
		histMax  int64
		hasHist  bool
		ckptSeq  uint64
		hasSeq   bool
		windows  bool
		entries  []entry
		scanned  []*scanned
		walkVals []salvagedValue
	}
	stages := map[string]*stageInfo{}
	info := func(sub []byte) *stageInfo {
		si := stages[string(sub)]
		if si == nil {
			si = &stageInfo{}
			stages[string(sub)] = si
		}
		return si
	}
	note := func(si *stageInfo, top, key, payload []byte, rec *scanned) {
		switch string(top) {
		case string(bucketHistory):
			if len(key) == 8 && (!si.hasHist || keyStart(key) > si.histMax) {
				si.hasHist, si.histMax = true, keyStart(key)
			}
		case string(bucketCkpt):
			if string(key) == string(keyStage) && len(payload) == 8 {
				si.hasSeq, si.ckptSeq = true, binary.BigEndian.Uint64(payload)
			} else if len(key) == 8 {
				si.windows = true
			}
		case string(bucketLog):
			if len(payload) >= 16 {
				si.entries = append(si.entries, entry{first: binary.BigEndian.Uint64(payload[8:16]), last: binary.BigEndian.Uint64(payload[0:8]), rec: rec})
			}
		}
	}
	for _, v := range sc.values {
		if v.sub == nil {
			continue
		}
		p, err := unseal(v.top, v.sub, v.key, v.val)
		if err != nil {
			continue
		}
		si := info(v.sub)
		si.walkVals = append(si.walkVals, v)
		note(si, v.top, v.key, p, nil)
	}
	for _, c := range cands {
		if c.sub == nil {
			continue
		}
		si := info(c.sub)
		si.scanned = append(si.scanned, c)
		note(si, c.top, c.key, c.payload, c)
	}
	lose := func(c *scanned) {
		if !c.dropped {
			c.dropped = true
			sc.lost++
			sc.rep.Lost[kindOf(c.top)]++
		}
	}
	for _, si := range stages {
		for _, c := range si.scanned {
			isWindow := string(c.top) == string(bucketLog) || (string(c.top) == string(bucketCkpt) && len(c.key) == 8)
			if isWindow && si.hasHist && keyStart(c.key[:8]) <= si.histMax {
				c.dropped = true // a window closed since: in the history
				sc.stale++
			}
		}
		for _, e := range si.entries {
			switch {
			case e.rec == nil || e.rec.dropped:
			case si.hasSeq && e.last <= si.ckptSeq:
				e.rec.dropped = true // folded into the checkpoint
				sc.stale++
			case !si.hasSeq && si.windows:
				lose(e.rec) // it may be in the checkpoint's windows
			}
		}
		// Log entries sharing a sequence number: the scanned ones are
		// lost (the walk's are current).
		for i, a := range si.entries {
			for _, b := range si.entries[i+1:] {
				if (a.rec != nil && a.rec.dropped) || (b.rec != nil && b.rec.dropped) || a.first > b.last || b.first > a.last {
					continue
				}
				for _, e := range []entry{a, b} {
					if e.rec != nil {
						lose(e.rec)
					}
				}
			}
		}
	}
	// The rows each stage would hold, against the ledger the walk
	// reached.
	for sub, si := range stages {
		want, ok := sc.ledger[sub]
		if !ok || len(si.scanned) == 0 {
			continue
		}
		model, stage, _ := splitKey([]byte(sub))
		var rows int64
		count := func(top, key, payload []byte) {
			switch string(top) {
			case string(bucketHistory):
				var s struct{ Rows int64 }
				if json.Unmarshal(payload, &s) == nil {
					rows += s.Rows
				}
			case string(bucketCkpt):
				if len(key) == 8 {
					if w, err := decodeWindow(model, stage, payload); err == nil {
						rows += w.rows
					}
				}
			case string(bucketLog):
				decodeEntry(payload, func(seq uint64, _ []featureDesc, rec []byte) error {
					if !si.hasSeq || seq > si.ckptSeq {
						rows += recordRows(rec)
					}
					return nil
				})
			}
		}
		for _, v := range si.walkVals {
			if p, err := unseal(v.top, v.sub, v.key, v.val); err == nil {
				count(v.top, v.key, p)
			}
		}
		for _, c := range si.scanned {
			if !c.dropped {
				count(c.top, c.key, c.payload)
			}
		}
		if rows > want {
			for _, c := range si.scanned {
				lose(c)
			}
		}
	}
}

// describe says what the scan did, for the report.
func (sc *scan) describe(pages int, freelist bool) string {
	s := fmt.Sprintf("the pages the walk could not reach were scanned: %d leaf page(s) read", pages)
	if !freelist {
		s += " (the freelist could not be read, so pages of older versions of the tree were read too)"
	}
	s += fmt.Sprintf(", %d record(s) on them verified, %d kept", sc.found, sc.kept)
	if sc.stale > 0 {
		s += fmt.Sprintf(", %d left out as older than what their stage holds (their rows are counted where they went)", sc.stale)
	}
	if sc.conflicts > 0 {
		s += fmt.Sprintf(", %d found in copies that differ counted lost (which one is current cannot be told)", sc.conflicts)
	}
	if sc.lost > 0 {
		s += fmt.Sprintf(", %d counted lost (a sequence number shared, a checkpoint's lost, or more rows than the ledger counts)", sc.lost)
	}
	if sc.ledgers > 0 {
		s += fmt.Sprintf("; %d ledger record(s) found there are not used as row counts (whether each is the last commit's cannot be told)", sc.ledgers)
	}
	if sc.unverified > 0 {
		s += fmt.Sprintf("; %d value(s) found verify under no bucket (of an older version, or damaged) and are not counted", sc.unverified)
	}
	return s
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
