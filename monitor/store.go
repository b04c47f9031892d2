package monitor

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

var (
	bucketMeta    = []byte("meta")
	bucketRefs    = []byte("refs")
	bucketCkpt    = []byte("ckpt")
	bucketLog     = []byte("log")
	bucketHistory = []byte("history")
	// bucketLedger holds, per model and stage, the rows the file holds
	// (windows and history), updated in the transaction that changes them:
	// a check at Open and the count of what Recover lost.
	bucketLedger = []byte("ledger")
	keyFormat    = []byte("format")
	// keyStoreID holds the file's identity, a random id given at creation
	// and recorded in the marker: a state file replaced by another valid
	// one is told apart.
	keyStoreID = []byte("id")
	// keyGeneration holds the generation of the Open that last wrote the
	// file (the marker's): an older copy of the file is told apart.
	keyGeneration = []byte("gen")
	// keyCheckpoints counts the checkpoints the file has taken, counted up
	// in each checkpoint's transaction and recorded in the marker right
	// after: a copy of the file taken while it was served (of the
	// generation its marker records) is told apart once a checkpoint has
	// followed the copy.
	keyCheckpoints = []byte("ckpts")
	keyStage       = []byte("s")
)

// storeFormat is the layout version of the bbolt file: /2 seals every
// value (integrity.go) and keeps a ledger; /1 files are converted at Open.
const (
	storeFormat   = "normguard.monitor/2"
	storeFormatV1 = "normguard.monitor/1"
)

// checkpointBytes is the log size after which a checkpoint is taken before
// CheckpointInterval has passed.
const checkpointBytes = 64 << 20

// stageState holds the windows of one model and stage.
type stageState struct {
	model string
	stage Stage

	mu      sync.Mutex
	windows []*window // by start, ascending; at most the last one is open
	ref     *reference
	dirty   bool // changed since the last checkpoint
	history []WindowSummary

	// Committer-owned: sequence numbers and the latest window assigned.
	seq, ckptSeq  uint64
	hasLast       bool
	last, lastEnd int64
	lastClosed    bool
	// held is the rows the file holds for the stage (the ledger).
	held int64
	// diskBytes is, per window start, the bytes of its checkpoint and of
	// the log after it (committer-owned; summed into the model's budget).
	diskBytes map[int64]int64
}

// addDisk adds n bytes to the window starting at start.
func (ss *stageState) addDisk(start, n int64) {
	if ss.diskBytes == nil {
		ss.diskBytes = map[int64]int64{}
	}
	ss.diskBytes[start] += n
}

// updateBudget recomputes the disk bytes of the models of states.
func (m *Monitor) updateBudget(states []*stageState) {
	seen := map[string]bool{}
	for _, ss := range states {
		if seen[ss.model] {
			continue
		}
		seen[ss.model] = true
		ms := m.model(ss.model)
		var total int64
		for _, st := range ms.stages {
			for _, n := range st.diskBytes {
				total += n
			}
		}
		ms.diskBytes.Store(total)
	}
}

// finalization asks the committer to move a closed window to the history.
type finalization struct {
	ss      *stageState
	start   int64
	summary WindowSummary
}

func (ss *stageState) key() []byte { return []byte(ss.model + "\x00" + string(ss.stage)) }

// splitKey splits a sub-bucket name into model and stage.
func splitKey(k []byte) (string, Stage, bool) {
	s := string(k)
	i := strings.LastIndexByte(s, 0)
	if i < 0 || Stage(s[i+1:]).index() < 0 {
		return "", "", false
	}
	return s[:i], Stage(s[i+1:]), true
}

// windowKey orders window starts as bbolt orders keys.
func windowKey(start int64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(start)^(1<<63))
	return b[:]
}

func keyStart(k []byte) int64 { return int64(binary.BigEndian.Uint64(k[:8]) ^ (1 << 63)) }

// resolve returns the window a record observed in the window starting at
// start goes to: never an earlier window than the latest one, and never a
// closed one (the next window then).
func (ss *stageState) resolve(start, length int64) int64 {
	if ss.hasLast {
		if start < ss.last {
			start = ss.last
		}
		if start == ss.last && ss.lastClosed {
			start = ss.lastEnd
		}
	}
	if !ss.hasLast || start != ss.last {
		ss.hasLast, ss.last, ss.lastEnd, ss.lastClosed = true, start, start+length, false
	}
	return start
}

// windowAt returns the window starting at start, opening it (and closing
// the earlier ones) when it does not exist. ss.mu is held.
func (ss *stageState) windowAt(start, length int64, k int) *window {
	for i := len(ss.windows) - 1; i >= 0; i-- {
		if ss.windows[i].start == start {
			return ss.windows[i]
		}
	}
	for _, w := range ss.windows {
		if w.start < start {
			w.closed = true
		}
	}
	w := newWindow(ss.model, ss.stage, start, length, k)
	i := len(ss.windows)
	for i > 0 && ss.windows[i-1].start > start {
		i--
	}
	ss.windows = append(ss.windows, nil)
	copy(ss.windows[i+1:], ss.windows[i:])
	ss.windows[i] = w
	return w
}

// pauseEvery is the number of records the committer applies between
// pauses (see applyEntry and commit's spread).
const pauseEvery = 32

// applyEntry applies the records of a log entry after the checkpoint to
// the window starting at start. ss.mu is held; pause, when not nil, is
// called with it held every pauseEvery records.
func (ss *stageState) applyEntry(start, length int64, k int, entry []byte, scratch *[]float64, pause func()) error {
	var w *window
	applied := 0
	return decodeEntry(entry, func(seq uint64, feats []featureDesc, rec []byte) error {
		if seq <= ss.ckptSeq {
			return nil
		}
		if applied++; pause != nil && applied%pauseEvery == 0 {
			pause()
		}
		if w == nil {
			w = ss.windowAt(start, length, k)
		}
		if seq > ss.seq {
			ss.seq = seq
		}
		w.ss = ss // the window finds its summary plans through its stage
		return w.apply(feats, rec, scratch)
	})
}

// stageStates returns every stage state, models in name order.
func (m *Monitor) stageStates() []*stageState {
	m.mu.RLock()
	defer m.mu.RUnlock()
	names := make([]string, 0, len(m.models))
	for name := range m.models {
		names = append(names, name)
	}
	slices.Sort(names)
	out := make([]*stageState, 0, 2*len(m.models))
	for _, name := range names {
		ms := m.models[name]
		out = append(out, ms.stages[0], ms.stages[1])
	}
	return out
}

// commitLoop is the committer: the one goroutine that writes the store.
func (m *Monitor) commitLoop() {
	defer close(m.commitDone)
	t := time.NewTicker(m.opt.FlushInterval)
	defer t.Stop()
	for {
		select {
		case <-m.kick:
		case <-t.C:
		case <-m.stopCommit:
			if m.abandon {
				return
			}
			m.commit(true)
			return
		}
		m.commit(false)
	}
}

// group is the records of one log entry being built.
type group struct {
	ss      *stageState
	start   int64
	first   uint64
	tables  [][]featureDesc
	tableOf map[*reference]int
	recs    []entryRecord
	lastRef *reference
	entry   []byte
}

// commit writes the queued records and finalizations in one transaction,
// then applies them to the windows, closes windows whose end has passed
// and, when due (or forced), checkpoints.
func (m *Monitor) commit(forceCheckpoint bool) {
	m.qmu.Lock()
	q, fins := m.queue, m.fins
	m.queue, m.fins, m.queueBytes = nil, nil, 0
	failed := m.storeErr
	m.qmu.Unlock()
	if failed != nil {
		finish(q, failed)
		return
	}
	now := m.opt.Now()
	length := int64(m.opt.Window)
	// What this commit changes in the stages before its transaction,
	// undone if the transaction fails (health.go).
	undo := saveCommitter(m.stageStates())

	var groups []*group
	open := map[*stageState]*group{}
	added := map[*stageState]int64{}
	newRefs := map[*modelState]*reference{}
	for _, p := range q {
		if p.data == nil {
			continue
		}
		ss := p.ms.stages[p.stage]
		start := ss.resolve(p.start, length)
		ss.seq++
		g := open[ss]
		if g == nil || g.start != start {
			g = &group{ss: ss, start: start, first: ss.seq, tableOf: map[*reference]int{}}
			groups = append(groups, g)
			open[ss] = g
		}
		ti, ok := g.tableOf[p.ref]
		if !ok {
			ti = len(g.tables)
			g.tableOf[p.ref] = ti
			g.tables = append(g.tables, p.ref.stages[p.stage].descs())
		}
		g.recs = append(g.recs, entryRecord{table: ti, data: p.data})
		added[ss] += recordRows(p.data)
		g.lastRef = p.ref
		if !sameRef(p.ms.durable, p.ref) {
			newRefs[p.ms] = p.ref
		} else {
			delete(newRefs, p.ms)
		}
	}
	// Windows whose end has passed close now: every record still to come
	// was observed after now.
	var closing []*stageState
	for _, ss := range m.stageStates() {
		if ss.hasLast && !ss.lastClosed && ss.lastEnd <= now.UnixNano() && m.opt.TimeColumn == "" { // event time: closed by later rows (event.go)
			ss.lastClosed = true
			closing = append(closing, ss)
		}
	}
	written := 0
	held := map[*stageState]int64{}
	offs := queuedOffsets(q) // source offsets ride with the rows (offsets.go)
	if len(groups) > 0 || len(newRefs) > 0 || len(fins) > 0 || len(offs) > 0 {
		err := m.update(func(tx *bolt.Tx) error {
			if err := putOffsets(tx, offs); err != nil {
				return err
			}
			for ms, r := range newRefs {
				if err := putRef(tx, ms.name, r); err != nil {
					return err
				}
			}
			for ss, n := range added {
				held[ss] = ss.held + n
			}
			for _, g := range groups {
				b, err := tx.Bucket(bucketLog).CreateBucketIfNotExists(g.ss.key())
				if err != nil {
					return err
				}
				g.entry = encodeEntry(g.first, g.tables, g.recs)
				written += len(g.entry)
				key := append(windowKey(g.start), make([]byte, 8)...)
				binary.BigEndian.PutUint64(key[8:], g.first)
				if err := b.Put(key, seal(bucketLog, g.ss.key(), key, g.entry)); err != nil {
					return err
				}
			}
			for _, f := range fins {
				if err := m.writeFinalization(tx, f, held); err != nil {
					return err
				}
			}
			if m.probeLeft {
				if err := tx.Bucket(bucketMeta).Delete(keyProbe); err != nil {
					return err
				}
			}
			return putLedger(tx, held)
		})
		if err != nil {
			undo()
			m.commitFailed(q, fins, err)
			return
		}
		m.probeLeft = false
		m.commitSucceeded(queuedBytes(q))
	}
	for ms, r := range newRefs {
		ms.durable = r
	}
	for ss, n := range held {
		ss.held = n
	}
	var touched []*stageState
	for _, g := range groups {
		g.ss.addDisk(g.start, int64(len(g.entry)+5))
		touched = append(touched, g.ss)
	}
	for _, f := range fins {
		delete(f.ss.diskBytes, f.start)
		touched = append(touched, f.ss)
	}
	m.updateBudget(touched)
	var scratch []float64
	pause := m.spread(q, groups, forceCheckpoint)
	for _, g := range groups {
		ss := g.ss
		ss.mu.Lock()
		err := ss.applyEntry(g.start, length, m.opt.SampleSize, g.entry, &scratch, func() { pause(ss) })
		ss.ref, ss.dirty = g.lastRef, true
		ss.mu.Unlock()
		if err != nil { // our own bytes: a bug, not bad input
			m.fail(q, fmt.Errorf("monitor: apply a record of model %q: %w", ss.model, err))
			return
		}
	}
	for _, ss := range closing {
		ss.mu.Lock()
		for _, w := range ss.windows {
			if w.end <= now.UnixNano() && !w.closed {
				w.closed, ss.dirty = true, true
			}
		}
		ss.mu.Unlock()
	}
	for _, f := range fins {
		ss := f.ss
		ss.mu.Lock()
		for i, w := range ss.windows {
			if w.start == f.start {
				ss.windows = append(ss.windows[:i], ss.windows[i+1:]...)
				break
			}
		}
		ss.history = append(ss.history, f.summary)
		if over := len(ss.history) - m.opt.History; over > 0 {
			ss.history = append([]WindowSummary(nil), ss.history[over:]...)
		}
		ss.mu.Unlock()
	}
	finish(q, nil)
	if len(closing) > 0 {
		select {
		case m.evalKick <- struct{}{}:
		default:
		}
	}
	if !m.probe(now) { // after a failed commit (health.go)
		return
	}
	m.logBytes += written
	due := forceCheckpoint || m.logBytes >= checkpointBytes || now.Sub(m.lastCheckpoint) >= m.opt.CheckpointInterval
	if failing := m.checkpointFailing(); failing && !forceCheckpoint && now.Sub(m.ckptTried) < ckptRetryEvery {
		due = false // a failed checkpoint is tried again, not on every commit
	} else if failing || m.markerStale {
		due = true
	}
	if due {
		m.ckptTried = now
		if err := m.checkpoint(); err != nil {
			m.checkpointFailed(err)
			return
		}
		m.checkpointSucceeded()
		m.lastCheckpoint, m.logBytes = now, 0
	}
}

// saveCommitter returns a function restoring what commit changes in
// states before its transaction: the sequence numbers and the latest
// window of each stage.
func saveCommitter(states []*stageState) func() {
	type saved struct {
		ss            *stageState
		seq           uint64
		hasLast       bool
		last, lastEnd int64
		lastClosed    bool
	}
	all := make([]saved, len(states))
	for i, ss := range states {
		all[i] = saved{ss, ss.seq, ss.hasLast, ss.last, ss.lastEnd, ss.lastClosed}
	}
	return func() {
		for _, s := range all {
			s.ss.seq, s.ss.hasLast, s.ss.last, s.ss.lastEnd, s.ss.lastClosed = s.seq, s.hasLast, s.last, s.lastEnd, s.lastClosed
		}
	}
}

// spread returns the pause the committer takes every pauseEvery records it
// applies to the windows (their stage's lock held).
//
// On a busy server the records of one FlushInterval (a thousand single-row
// requests at 5,000/s) take a few milliseconds to apply, and applied at
// once they take a core from the requests in flight for that long, every
// FlushInterval: requests due then were slow several times as often as
// the others. They are on disk already (committed above), so when nobody
// waits for them (ObserveAsync only, no Observe, barrier or Close) they
// are applied in slices over about half a FlushInterval, sleeping between
// slices with the stage's lock released: a reader then may see part of a
// commit's rows, as it may see one commit and not the next. A waiter
// arriving meanwhile (a kick) ends the spreading. Otherwise the pause
// yields the processor, so that with GOMAXPROCS=1 requests readied
// meanwhile run before the rest of the entry (the runtime preempts a
// goroutine only after 10 ms).
func (m *Monitor) spread(q []*pending, groups []*group, forced bool) func(ss *stageState) {
	yield := func(*stageState) { runtime.Gosched() }
	if forced {
		return yield
	}
	for _, p := range q {
		if p.done != nil {
			return yield
		}
	}
	records := 0
	for _, g := range groups {
		records += len(g.recs)
	}
	slices := records / pauseEvery
	if slices == 0 {
		return yield
	}
	gap := m.opt.FlushInterval / 2 / time.Duration(slices)
	if gap < minSpreadGap {
		return yield
	}
	return func(ss *stageState) {
		if len(m.kick) > 0 { // a waiter, or a full queue: no more sleeping
			runtime.Gosched()
			return
		}
		ss.mu.Unlock()
		time.Sleep(gap)
		ss.mu.Lock()
	}
}

// minSpreadGap is the shortest sleep between slices worth taking (see
// spread): below it, records come faster than slices could be spread.
const minSpreadGap = 200 * time.Microsecond

// finish answers the waiters of committed records.
func finish(q []*pending, err error) {
	for _, p := range q {
		if p.done != nil {
			p.done <- err
		}
	}
}

// fail makes err sticky and answers the waiters.
func (m *Monitor) fail(q []*pending, err error) {
	m.qmu.Lock()
	if m.storeErr == nil {
		m.storeErr = err
	}
	m.qmu.Unlock()
	finish(q, err)
}

func (rs *refStage) descs() []featureDesc {
	out := make([]featureDesc, len(rs.features))
	for i, f := range rs.features {
		out[i] = featureDesc{name: f.name, numeric: f.numeric}
	}
	return out
}

// putRef writes model's reference r to the refs bucket, sealed.
func putRef(tx *bolt.Tx, model string, r *reference) error {
	data, err := json.Marshal(r.src)
	if err != nil {
		return fmt.Errorf("encode the reference of model %q: %w", model, err)
	}
	return tx.Bucket(bucketRefs).Put([]byte(model), seal(bucketRefs, nil, []byte(model), data))
}

// putLedger writes the rows held of the stages in held.
func putLedger(tx *bolt.Tx, held map[*stageState]int64) error {
	for ss, n := range held {
		key := ss.key()
		v := binary.BigEndian.AppendUint64(nil, uint64(n))
		if err := tx.Bucket(bucketLedger).Put(key, seal(bucketLedger, nil, key, v)); err != nil {
			return err
		}
	}
	return nil
}

// recordRows returns the rows of an encoded record (its first field).
func recordRows(rec []byte) int64 {
	n, k := binary.Uvarint(rec)
	if k <= 0 {
		return 0
	}
	return int64(n)
}

// writeFinalization stores a closed window's summary, trims the history
// (subtracting the rows of the summaries it deletes from held) and deletes
// the window's checkpoint and log entries.
func (m *Monitor) writeFinalization(tx *bolt.Tx, f *finalization, held map[*stageState]int64) error {
	key := f.ss.key()
	h, err := tx.Bucket(bucketHistory).CreateBucketIfNotExists(key)
	if err != nil {
		return err
	}
	data, err := json.Marshal(f.summary)
	if err != nil {
		return fmt.Errorf("encode the summary of model %q: %w", f.ss.model, err)
	}
	if err := h.Put(windowKey(f.start), seal(bucketHistory, key, windowKey(f.start), data)); err != nil {
		return err
	}
	var keys [][]byte
	c := h.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		keys = append(keys, append([]byte(nil), k...))
	}
	if _, ok := held[f.ss]; !ok {
		held[f.ss] = f.ss.held
	}
	for i := 0; i < len(keys)-m.opt.History; i++ {
		var old struct{ Rows int64 }
		v, err := unseal(bucketHistory, key, keys[i], h.Get(keys[i]))
		if err == nil {
			err = json.Unmarshal(v, &old)
		}
		if err != nil {
			return fmt.Errorf("history of model %q stage %s: %w", f.ss.model, f.ss.stage, err)
		}
		held[f.ss] -= old.Rows
		if err := h.Delete(keys[i]); err != nil {
			return err
		}
	}
	if b := tx.Bucket(bucketCkpt).Bucket(key); b != nil {
		if err := b.Delete(windowKey(f.start)); err != nil {
			return err
		}
	}
	if b := tx.Bucket(bucketLog).Bucket(key); b != nil {
		prefix := windowKey(f.start)
		var del [][]byte
		c := b.Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			del = append(del, append([]byte(nil), k...))
		}
		for _, k := range del {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkpoint writes the state of every changed stage and deletes the log
// entries it covers, in one transaction.
func (m *Monitor) checkpoint() error {
	type snap struct {
		ss      *stageState
		windows map[int64][]byte
		meta    []byte
		seq     uint64
	}
	var snaps []snap
	for _, ss := range m.stageStates() {
		ss.mu.Lock()
		if !ss.dirty {
			ss.mu.Unlock()
			continue
		}
		s := snap{ss: ss, windows: map[int64][]byte{}, seq: ss.seq}
		for _, w := range ss.windows {
			data, err := w.encode()
			if err != nil {
				ss.mu.Unlock()
				return err
			}
			s.windows[w.start] = data
		}
		ss.dirty = false
		ss.mu.Unlock()
		s.meta = binary.BigEndian.AppendUint64(nil, s.seq)
		snaps = append(snaps, s)
	}
	if len(snaps) == 0 {
		if m.markerStale {
			return m.updateMarker()
		}
		return nil
	}
	ckpts := m.checkpoints + 1
	err := m.update(func(tx *bolt.Tx) error {
		// The checkpoint count, which the marker records after this
		// transaction: a copy of the file taken before it is told apart.
		if err := tx.Bucket(bucketMeta).Put(keyCheckpoints, binary.BigEndian.AppendUint64(nil, ckpts)); err != nil {
			return err
		}
		for _, s := range snaps {
			key := s.ss.key()
			ck, err := tx.Bucket(bucketCkpt).CreateBucketIfNotExists(key)
			if err != nil {
				return err
			}
			var stale [][]byte
			c := ck.Cursor()
			for k, _ := c.First(); k != nil; k, _ = c.Next() {
				if len(k) == 8 {
					if _, ok := s.windows[keyStart(k)]; !ok {
						stale = append(stale, append([]byte(nil), k...))
					}
				}
			}
			for _, k := range stale {
				if err := ck.Delete(k); err != nil {
					return err
				}
			}
			for start, data := range s.windows {
				if err := ck.Put(windowKey(start), seal(bucketCkpt, key, windowKey(start), data)); err != nil {
					return err
				}
			}
			if err := ck.Put(keyStage, seal(bucketCkpt, key, keyStage, s.meta)); err != nil {
				return err
			}
			lb := tx.Bucket(bucketLog).Bucket(key)
			if lb == nil {
				continue
			}
			var covered [][]byte
			lc := lb.Cursor()
			for k, v := lc.First(); k != nil; k, v = lc.Next() {
				entry, err := unseal(bucketLog, key, k, v)
				if err != nil {
					return err
				}
				last, err := entryLastSeq(entry)
				if err != nil {
					return err
				}
				if last <= s.seq {
					covered = append(covered, append([]byte(nil), k...))
				}
			}
			for _, k := range covered {
				if err := lb.Delete(k); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		for _, s := range snaps {
			s.ss.mu.Lock()
			s.ss.dirty = true
			s.ss.mu.Unlock()
		}
		return err
	}
	m.checkpoints = ckpts
	var touched []*stageState
	for _, s := range snaps {
		s.ss.ckptSeq = s.seq
		s.ss.diskBytes = map[int64]int64{}
		for start, data := range s.windows {
			s.ss.diskBytes[start] = int64(len(data) + 5)
		}
		touched = append(touched, s.ss)
	}
	m.updateBudget(touched)
	m.markerStale = true
	return m.updateMarker()
}

// updateMarker writes the marker after a checkpoint; a marker that could
// not be written is written again at the next commit (markerStale).
func (m *Monitor) updateMarker() error {
	if err := m.writeMarker(false); err != nil {
		return err
	}
	m.markerStale = false
	return nil
}

// recover loads the references, checkpoints, log, history and ledger of a
// verified file (creating the buckets of a new one, converting a /1 file),
// and checks the rows loaded against the ledger. Read-only, it writes
// nothing: a /1 file is read as it is, its ledger taken from the rows.
func (m *Monitor) recover() error {
	var migrate bool
	var err error
	if m.readOnly {
		migrate, err = m.checkReadOnly()
	} else {
		migrate, err = m.prepareFile()
	}
	if err != nil {
		return err
	}
	// Models whose windows the file holds without their reference get
	// the one Options.Reattach gives, before their rows are loaded.
	missing, err := m.missingRefs()
	if err != nil {
		return err
	}
	reattach := m.resolveRefs(missing)
	length := int64(m.opt.Window)
	loaded := map[*stageState]int64{}
	ledger := map[*stageState]int64{}
	err = m.db.View(func(tx *bolt.Tx) error {
		err := eachValue(tx.Bucket(bucketRefs), func(k, v []byte) error {
			data, err := m.unseal(bucketRefs, nil, k, v)
			if err != nil {
				return err
			}
			r, err := decodeReference(data)
			if err != nil {
				return fmt.Errorf("model %q: %w", k, err)
			}
			ms := m.model(string(k))
			ms.durable = r
			ms.ref.Store(r)
			ms.refs.Store(r.digest, r)
			for _, ss := range ms.stages {
				ss.ref = r
			}
			return nil
		})
		if err != nil {
			return err
		}
		m.attachRefs(reattach)
		err = eachValue(tx.Bucket(bucketLedger), func(k, v []byte) error {
			data, err := m.unseal(bucketLedger, nil, k, v)
			if err != nil {
				return err
			}
			model, stage, ok := splitKey(k)
			if !ok || len(data) != 8 {
				return fmt.Errorf("ledger key %q: %w", k, errCorrupt)
			}
			ledger[m.model(model).stages[stage.index()]] = int64(binary.BigEndian.Uint64(data))
			return nil
		})
		if err != nil {
			return err
		}
		// Checkpoints.
		err = forEachStage(tx.Bucket(bucketCkpt), m, func(ss *stageState, b *bolt.Bucket) error {
			key := ss.key()
			return b.ForEach(func(k, v []byte) error {
				data, err := m.unseal(bucketCkpt, key, k, v)
				if err != nil {
					return err
				}
				if string(k) == string(keyStage) {
					if len(data) == 8 {
						ss.ckptSeq = binary.BigEndian.Uint64(data)
						ss.seq = ss.ckptSeq
					}
					return nil
				}
				if len(k) != 8 {
					return nil
				}
				w, err := decodeWindow(ss.model, ss.stage, data)
				if err != nil {
					return fmt.Errorf("checkpoint of model %q stage %s: %w", ss.model, ss.stage, err)
				}
				ss.addDisk(w.start, int64(len(v)))
				ss.windows = append(ss.windows, w)
				return nil
			})
		})
		if err != nil {
			return err
		}
		// The log after the checkpoints, in sequence order.
		var scratch []float64
		err = forEachStage(tx.Bucket(bucketLog), m, func(ss *stageState, b *bolt.Bucket) error {
			key := ss.key()
			return b.ForEach(func(k, v []byte) error {
				if len(k) != 16 {
					return fmt.Errorf("log key of %d bytes: %w", len(k), errCorrupt)
				}
				entry, err := m.unseal(bucketLog, key, k, v)
				if err != nil {
					return err
				}
				if err := ss.applyEntry(keyStart(k), length, m.opt.SampleSize, entry, &scratch, nil); err != nil {
					return fmt.Errorf("log of model %q stage %s: %w", ss.model, ss.stage, err)
				}
				ss.addDisk(keyStart(k), int64(len(v)))
				return nil
			})
		})
		if err != nil {
			return err
		}
		err = forEachStage(tx.Bucket(bucketHistory), m, func(ss *stageState, b *bolt.Bucket) error {
			key := ss.key()
			return b.ForEach(func(k, v []byte) error {
				data, err := m.unseal(bucketHistory, key, k, v)
				if err != nil {
					return err
				}
				var s WindowSummary
				if err := json.Unmarshal(data, &s); err != nil {
					return fmt.Errorf("history of model %q stage %s: %w", ss.model, ss.stage, err)
				}
				ss.history = append(ss.history, s)
				loaded[ss] += s.Rows
				return nil
			})
		})
		if err != nil {
			return err
		}
		for _, ss := range m.stageStates() {
			for _, w := range ss.windows {
				loaded[ss] += w.rows
			}
			if n := len(ss.windows); n > 0 {
				w := ss.windows[n-1]
				ss.hasLast, ss.last, ss.lastEnd, ss.lastClosed = true, w.start, w.end, w.closed
			}
			if over := len(ss.history) - m.opt.History; over > 0 {
				ss.history = ss.history[over:]
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if migrate || m.opt.rebuildLedger {
		held := map[*stageState]int64{}
		for _, ss := range m.stageStates() {
			held[ss] = loaded[ss]
		}
		if !m.readOnly {
			if err := m.db.Update(func(tx *bolt.Tx) error { return putLedger(tx, held) }); err != nil {
				return err
			}
		}
		ledger = held
	}
	for _, ss := range m.stageStates() {
		want, ok := ledger[ss]
		if !ok && loaded[ss] != 0 {
			return &DamageError{Path: m.path, What: fmt.Sprintf("model %q stage %s holds %d rows but has no ledger entry", ss.model, ss.stage, loaded[ss])}
		}
		if want != loaded[ss] {
			return &DamageError{Path: m.path, What: fmt.Sprintf("model %q stage %s: the ledger counts %d acknowledged rows, its windows and history hold %d", ss.model, ss.stage, want, loaded[ss])}
		}
		ss.held = want
	}
	m.updateBudget(m.stageStates())
	m.noteReattached()
	if m.readOnly {
		return nil
	}
	if err := m.putRefs(reattach); err != nil {
		return err
	}
	return m.writeMarker(true)
}

// prepareFile is recover's first transaction: it creates the buckets of a
// new file, converts a /1 file (reporting it), and checks the file against
// its marker, recording this Open's generation.
func (m *Monitor) prepareFile() (migrate bool, err error) {
	err = m.db.Update(func(tx *bolt.Tx) error {
		meta, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return err
		}
		switch f := meta.Get(keyFormat); {
		case f == nil:
			// A new file: refused if a marker says a state existed.
			if mk, err := readMarker(m.path); err != nil {
				return err
			} else if mk != nil {
				return emptyError(m.path, mk)
			}
			if err := meta.Put(keyFormat, []byte(storeFormat)); err != nil {
				return err
			}
		case string(f) == storeFormatV1:
			migrate = true
			if err := sealAll(tx); err != nil {
				return err
			}
			if err := meta.Put(keyFormat, []byte(storeFormat)); err != nil {
				return err
			}
		case string(f) != storeFormat:
			return fmt.Errorf("the file holds format %q, this normguard reads %q and %q; use the normguard that wrote it", f, storeFormat, storeFormatV1)
		}
		for _, b := range [][]byte{bucketRefs, bucketCkpt, bucketLog, bucketHistory, bucketLedger} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		m.checkpoints, err = checkStoreID(meta, m.path)
		return err
	})
	return migrate, err
}

// checkReadOnly is prepareFile for OpenReadOnly: the same refusals, and no
// writes. A /1 file is read unsealed (m.v1) and reported as needing its
// ledger built from the rows.
func (m *Monitor) checkReadOnly() (migrate bool, err error) {
	err = m.db.View(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		var f []byte
		if meta != nil {
			f = meta.Get(keyFormat)
		}
		switch {
		case f == nil:
			// No state yet: refused if a marker says a state existed.
			if mk, err := readMarker(m.path); err != nil {
				return err
			} else if mk != nil {
				return emptyError(m.path, mk)
			}
			return nil
		case string(f) == storeFormatV1:
			migrate, m.v1 = true, true
		case string(f) != storeFormat:
			return fmt.Errorf("the file holds format %q, this normguard reads %q and %q; use the normguard that wrote it", f, storeFormat, storeFormatV1)
		}
		_, ckpts, err := checkMarker(meta, m.path)
		m.checkpoints = ckpts
		return err
	})
	return migrate, err
}

// unseal checks and strips the seal of a value the store holds; a /1 file
// read read-only holds its values unsealed.
func (m *Monitor) unseal(top, sub, key, v []byte) ([]byte, error) {
	if m.v1 {
		return v, nil
	}
	return unseal(top, sub, key, v)
}

// eachValue calls fn with every key and value of b, none when b is
// missing (a file read read-only is not given its buckets).
func eachValue(b *bolt.Bucket, fn func(k, v []byte) error) error {
	if b == nil {
		return nil
	}
	return b.ForEach(fn)
}

// sealAll seals every value of a /1 file in place.
func sealAll(tx *bolt.Tx) error {
	type kv struct{ k, v []byte }
	reseal := func(top, sub []byte, b *bolt.Bucket) error {
		var kvs []kv
		err := b.ForEach(func(k, v []byte) error {
			if v != nil {
				kvs = append(kvs, kv{append([]byte(nil), k...), seal(top, sub, k, v)})
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, e := range kvs {
			if err := b.Put(e.k, e.v); err != nil {
				return err
			}
		}
		return nil
	}
	if b := tx.Bucket(bucketRefs); b != nil {
		if err := reseal(bucketRefs, nil, b); err != nil {
			return err
		}
	}
	for _, top := range [][]byte{bucketCkpt, bucketLog, bucketHistory} {
		b := tx.Bucket(top)
		if b == nil {
			continue
		}
		var subs [][]byte
		if err := b.ForEachBucket(func(k []byte) error {
			subs = append(subs, append([]byte(nil), k...))
			return nil
		}); err != nil {
			return err
		}
		for _, sub := range subs {
			if err := reseal(top, sub, b.Bucket(sub)); err != nil {
				return err
			}
		}
	}
	return nil
}

// verify reads every value of the file and checks its seal, then runs
// bbolt's own consistency check. It changes nothing.
func (m *Monitor) verify() error {
	const maxListed = 3
	var bad []string
	nbad := 0
	note := func(err error) {
		nbad++
		if len(bad) < maxListed {
			bad = append(bad, firstLine(err))
		}
	}
	err := m.db.View(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if meta == nil {
			if tx.Bucket(bucketRefs) != nil || tx.Bucket(bucketLog) != nil || tx.Bucket(bucketCkpt) != nil {
				note(fmt.Errorf("the meta bucket is missing"))
			}
			return nil
		}
		f := meta.Get(keyFormat)
		if string(f) == storeFormatV1 {
			return nil // unsealed: converted, and decoded, by recover
		}
		if string(f) != storeFormat {
			note(fmt.Errorf("the format key holds %q, not %q", f, storeFormat))
			return nil
		}
		check := func(top, sub []byte, b *bolt.Bucket) error {
			return b.ForEach(func(k, v []byte) error {
				if v == nil {
					note(fmt.Errorf("%s: a bucket where a value belongs", where(top, sub, k)))
					return nil
				}
				if _, err := unseal(top, sub, k, v); err != nil {
					note(err)
				}
				return nil
			})
		}
		for _, top := range [][]byte{bucketRefs, bucketLedger, bucketOffsets} {
			if b := tx.Bucket(top); b != nil {
				if err := check(top, nil, b); err != nil {
					return err
				}
			}
		}
		for _, top := range [][]byte{bucketCkpt, bucketLog, bucketHistory} {
			b := tx.Bucket(top)
			if b == nil {
				continue
			}
			err := b.ForEach(func(k, v []byte) error {
				if v != nil {
					note(fmt.Errorf("%s: a value where a bucket belongs", where(top, nil, k)))
					return nil
				}
				if _, _, ok := splitKey(k); !ok {
					note(fmt.Errorf("%s bucket %q: not a model and stage", top, k))
					return nil
				}
				return check(top, k, b.Bucket(k))
			})
			if err != nil {
				return err
			}
		}
		if nbad > 0 {
			return nil
		}
		// Read every page of the tree here, where a fault is recovered,
		// before bbolt's check reads them in a goroutine of its own.
		if err := touchAll(tx); err != nil {
			return err
		}
		for err := range tx.Check() {
			note(fmt.Errorf("bbolt check: %w", err))
		}
		return nil
	})
	if err != nil {
		return err
	}
	if nbad > 0 {
		what := strings.Join(bad, "; ")
		if nbad > len(bad) {
			what += fmt.Sprintf("; and %d more", nbad-len(bad))
		}
		return &DamageError{Path: m.path, What: fmt.Sprintf("%d record(s) fail their checks: %s", nbad, what)}
	}
	return nil
}

// touchAll visits every key of every bucket.
func touchAll(tx *bolt.Tx) error {
	var walk func(b *bolt.Bucket) error
	walk = func(b *bolt.Bucket) error {
		return b.ForEach(func(k, v []byte) error {
			if v == nil {
				if sub := b.Bucket(k); sub != nil {
					return walk(sub)
				}
			}
			return nil
		})
	}
	return tx.ForEach(func(name []byte, b *bolt.Bucket) error { return walk(b) })
}

// forEachStage calls fn with every stage sub-bucket of b.
func forEachStage(b *bolt.Bucket, m *Monitor, fn func(ss *stageState, b *bolt.Bucket) error) error {
	if b == nil {
		return nil
	}
	return b.ForEachBucket(func(k []byte) error {
		model, stage, ok := splitKey(k)
		if !ok {
			return fmt.Errorf("sub-bucket %q: %w", k, errCorrupt)
		}
		return fn(m.model(model).stages[stage.index()], b.Bucket(k))
	})
}
