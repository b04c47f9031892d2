package monitor

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
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
	keyFormat     = []byte("format")
	keyStage      = []byte("s")
)

// storeFormat is the layout version of the bbolt file.
const storeFormat = "normguard.monitor/1"

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

// applyEntry applies the records of a log entry after the checkpoint to
// the window starting at start. ss.mu is held.
func (ss *stageState) applyEntry(start, length int64, k int, entry []byte, scratch *[]float64) error {
	var w *window
	return decodeEntry(entry, func(seq uint64, feats []featureDesc, rec []byte) error {
		if seq <= ss.ckptSeq {
			return nil
		}
		if w == nil {
			w = ss.windowAt(start, length, k)
		}
		if seq > ss.seq {
			ss.seq = seq
		}
		return w.apply(feats, rec, scratch)
	})
}

// stageStates returns every stage state, models in name order.
func (m *Monitor) stageStates() []*stageState {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]*stageState, 0, 2*len(m.models))
	for _, ms := range m.models {
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

	var groups []*group
	open := map[*stageState]*group{}
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
		if ss.hasLast && !ss.lastClosed && ss.lastEnd <= now.UnixNano() {
			ss.lastClosed = true
			closing = append(closing, ss)
		}
	}
	written := 0
	if len(groups) > 0 || len(newRefs) > 0 || len(fins) > 0 {
		err := m.db.Update(func(tx *bolt.Tx) error {
			for ms, r := range newRefs {
				data, err := json.Marshal(r.src)
				if err != nil {
					return fmt.Errorf("encode the reference of model %q: %w", ms.name, err)
				}
				if err := tx.Bucket(bucketRefs).Put([]byte(ms.name), data); err != nil {
					return err
				}
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
				if err := b.Put(key, g.entry); err != nil {
					return err
				}
			}
			for _, f := range fins {
				if err := m.writeFinalization(tx, f); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			m.fail(q, fmt.Errorf("monitor: commit to %s: %w; restart the service", m.path, err))
			return
		}
	}
	for ms, r := range newRefs {
		ms.durable = r
	}
	var scratch []float64
	for _, g := range groups {
		ss := g.ss
		ss.mu.Lock()
		err := ss.applyEntry(g.start, length, m.opt.SampleSize, g.entry, &scratch)
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
	m.logBytes += written
	if forceCheckpoint || m.logBytes >= checkpointBytes || now.Sub(m.lastCheckpoint) >= m.opt.CheckpointInterval {
		if err := m.checkpoint(); err != nil {
			m.fail(nil, fmt.Errorf("monitor: checkpoint to %s: %w; restart the service", m.path, err))
			return
		}
		m.lastCheckpoint, m.logBytes = now, 0
	}
}

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

// writeFinalization stores a closed window's summary, trims the history
// and deletes the window's checkpoint and log entries.
func (m *Monitor) writeFinalization(tx *bolt.Tx, f *finalization) error {
	key := f.ss.key()
	h, err := tx.Bucket(bucketHistory).CreateBucketIfNotExists(key)
	if err != nil {
		return err
	}
	data, err := json.Marshal(f.summary)
	if err != nil {
		return fmt.Errorf("encode the summary of model %q: %w", f.ss.model, err)
	}
	if err := h.Put(windowKey(f.start), data); err != nil {
		return err
	}
	var keys [][]byte
	c := h.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		keys = append(keys, append([]byte(nil), k...))
	}
	for i := 0; i < len(keys)-m.opt.History; i++ {
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
		return nil
	}
	err := m.db.Update(func(tx *bolt.Tx) error {
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
				if err := ck.Put(windowKey(start), data); err != nil {
					return err
				}
			}
			if err := ck.Put(keyStage, s.meta); err != nil {
				return err
			}
			lb := tx.Bucket(bucketLog).Bucket(key)
			if lb == nil {
				continue
			}
			var covered [][]byte
			lc := lb.Cursor()
			for k, v := lc.First(); k != nil; k, v = lc.Next() {
				last, err := entryLastSeq(v)
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
	for _, s := range snaps {
		s.ss.ckptSeq = s.seq
	}
	return nil
}

// recover loads the references, checkpoints, log and history.
func (m *Monitor) recover() error {
	err := m.db.Update(func(tx *bolt.Tx) error {
		meta, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return err
		}
		switch f := meta.Get(keyFormat); {
		case f == nil:
			if err := meta.Put(keyFormat, []byte(storeFormat)); err != nil {
				return err
			}
		case string(f) != storeFormat:
			return fmt.Errorf("the file holds %q, this normguard reads %q; use another file", f, storeFormat)
		}
		for _, b := range [][]byte{bucketRefs, bucketCkpt, bucketLog, bucketHistory} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	length := int64(m.opt.Window)
	return m.db.View(func(tx *bolt.Tx) error {
		err := tx.Bucket(bucketRefs).ForEach(func(k, v []byte) error {
			r, err := decodeReference(v)
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
		// Checkpoints.
		err = forEachStage(tx.Bucket(bucketCkpt), m, func(ss *stageState, b *bolt.Bucket) error {
			if v := b.Get(keyStage); len(v) == 8 {
				ss.ckptSeq = binary.BigEndian.Uint64(v)
				ss.seq = ss.ckptSeq
			}
			return b.ForEach(func(k, v []byte) error {
				if len(k) != 8 {
					return nil
				}
				w, err := decodeWindow(ss.model, ss.stage, v)
				if err != nil {
					return fmt.Errorf("checkpoint of model %q stage %s: %w", ss.model, ss.stage, err)
				}
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
			return b.ForEach(func(k, v []byte) error {
				if len(k) != 16 {
					return fmt.Errorf("log key of %d bytes: %w", len(k), errCorrupt)
				}
				if err := ss.applyEntry(keyStart(k), length, m.opt.SampleSize, v, &scratch); err != nil {
					return fmt.Errorf("log of model %q stage %s: %w", ss.model, ss.stage, err)
				}
				return nil
			})
		})
		if err != nil {
			return err
		}
		err = forEachStage(tx.Bucket(bucketHistory), m, func(ss *stageState, b *bolt.Bucket) error {
			return b.ForEach(func(k, v []byte) error {
				var s WindowSummary
				if err := json.Unmarshal(v, &s); err != nil {
					return fmt.Errorf("history of model %q stage %s: %w", ss.model, ss.stage, err)
				}
				ss.history = append(ss.history, s)
				return nil
			})
		})
		if err != nil {
			return err
		}
		for _, ss := range m.stageStates() {
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
}

// forEachStage calls fn with every stage sub-bucket of b.
func forEachStage(b *bolt.Bucket, m *Monitor, fn func(ss *stageState, b *bolt.Bucket) error) error {
	return b.ForEachBucket(func(k []byte) error {
		model, stage, ok := splitKey(k)
		if !ok {
			return fmt.Errorf("sub-bucket %q: %w", k, errCorrupt)
		}
		return fn(m.model(model).stages[stage.index()], b.Bucket(k))
	})
}
