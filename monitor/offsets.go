package monitor

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/table"
)

// Source offsets let a consumer of a partitioned log (Kafka) count each
// record once: the position reached in each partition is written in the
// very bbolt transaction that makes the rows read up to it durable, so
// after any crash the file holds either both the rows and the position
// that covers them or neither. A consumer resumes from Offsets, not from
// what it last told the broker.
//
//	offsets  source|partition → the next offset to read (sealed, 8 bytes)

var bucketOffsets = []byte("offsets")

// Offset is the position a consumer reached in one partition of a source:
// every record before Next has been observed (or judged unusable).
type Offset struct {
	// Source names the log, e.g. "kafka:<group>/<topic>". It must be
	// non-empty and hold no NUL byte.
	Source string
	// Partition is the partition number.
	Partition int32
	// Next is the offset of the first record not yet observed.
	Next int64
}

// Batch is a set of rows of one model and stage, as Observe takes them.
type Batch struct {
	Model    string
	Artifact *artifact.Artifact
	Stage    Stage
	Cols     []table.Column
	N        int
	// Read are the source records the rows were read from (ranges.go):
	// kept, with the rows, by every window they fall in, so that merging
	// replicas' windows can refuse records counted by two of them. A
	// range may include records between them that gave no rows (skipped,
	// or another model's).
	Read []OffsetRange
}

// ObserveAt records batches like Observe (by event time with
// Options.TimeColumn) and writes offs in the same transaction: once it returns nil, the rows and the offsets are on disk
// together. A batch the monitor refuses (its error wraps ErrInvalid or
// ErrBudget) is left out and its error is set at the same index of
// refused; the other batches and the offsets are still committed, so a
// consumer moves past rows it cannot use. err is non-nil when nothing
// could be committed (ctx ended, monitor closed or failed); then the
// rows and offsets may or may not be on disk, and Offsets tells which.
func (m *Monitor) ObserveAt(ctx context.Context, batches []Batch, offs []Offset) (refused []error, err error) {
	for _, o := range offs {
		if o.Source == "" || strings.IndexByte(o.Source, 0) >= 0 || o.Next < 0 || o.Partition < 0 {
			return nil, fmt.Errorf("monitor: offset %+v: the source must be non-empty without NUL bytes, partition and offset non-negative: %w", o, ErrInvalid)
		}
	}
	refused = make([]error, len(batches))
	var ps []*pending
	for i, b := range batches {
		if b.N < 0 {
			refused[i] = fmt.Errorf("monitor: %d rows: %w", b.N, ErrInvalid)
			continue
		}
		if j := slices.IndexFunc(b.Read, func(r OffsetRange) bool { return r.check() != nil }); j >= 0 {
			refused[i] = b.Read[j].check()
			continue
		}
		if b.N == 0 {
			continue
		}
		// With Options.TimeColumn, one record per event window.
		bps, err := m.prepareBatches(b.Model, b.Artifact, b.Stage, b.Cols, b.N)
		if err == nil {
			err = checkColumns(b.Model, &bps[0].ref.stages[bps[0].stage], b.Cols, b.N)
		}
		if err != nil {
			if errors.Is(err, ErrBudget) {
				m.dropped.Add(1)
			}
			refused[i] = err
			continue
		}
		for _, p := range bps {
			p.data = appendRanges(p.data, b.Read) // each event window of the rows keeps them
			// A waiter's record, not an ObserveAsync one: a commit that
			// fails drops it with the offsets instead of queueing it again
			// (attack run 23 F7: the next commit, once the file could be
			// written, stored the rows without their offsets, and the
			// consumer, stopped by the failure, read them again at the
			// restart). Only last's answer is read.
			p.done = make(chan error, 1)
		}
		ps = append(ps, bps...)
	}
	// The offsets ride on a record of their own that carries no rows (the
	// committer skips its data), queued after the rows: the committer
	// takes the whole queue in one transaction.
	last := &pending{offsets: offs, done: make(chan error, 1)}
	ps = append(ps, last)
	if err := m.enqueueAll(ps); err != nil {
		return refused, err
	}
	select {
	case err := <-last.done:
		return refused, err
	case <-ctx.Done():
		return refused, fmt.Errorf("monitor: observe at offsets: %w", ctx.Err())
	}
}

// enqueueAll queues ps for the committer under one lock, so that one
// transaction commits them all.
func (m *Monitor) enqueueAll(ps []*pending) error {
	m.qmu.Lock()
	switch {
	case m.closing:
		m.qmu.Unlock()
		return ErrClosed
	case m.storeErr != nil:
		err := m.storeErr
		m.qmu.Unlock()
		return err
	}
	for _, p := range ps {
		m.queue = append(m.queue, p)
		m.queueBytes += len(p.data)
	}
	m.qmu.Unlock()
	select {
	case m.kick <- struct{}{}:
	default:
	}
	return nil
}

// queuedOffsets returns the offsets carried by the records of q, the
// latest winning per source and partition.
func queuedOffsets(q []*pending) []Offset {
	var out []Offset
	for _, p := range q {
		out = append(out, p.offsets...)
	}
	return out
}

func offsetKey(source string, partition int32) []byte {
	return binary.BigEndian.AppendUint32([]byte(source+"\x00"), uint32(partition))
}

// putOffsets writes offs into the offsets bucket of tx (the committer's
// transaction).
func putOffsets(tx *bolt.Tx, offs []Offset) error {
	if len(offs) == 0 {
		return nil
	}
	b, err := tx.CreateBucketIfNotExists(bucketOffsets)
	if err != nil {
		return err
	}
	for _, o := range offs {
		key := offsetKey(o.Source, o.Partition)
		v := binary.BigEndian.AppendUint64(nil, uint64(o.Next))
		if err := b.Put(key, seal(bucketOffsets, nil, key, v)); err != nil {
			return err
		}
	}
	return nil
}

// Offsets returns the next offset of every partition of source that the
// state file holds (none for a source never observed). A damaged value
// is an error wrapping ErrDamaged: resuming from a guess could count
// records twice or lose them.
func (m *Monitor) Offsets(source string) (map[int32]int64, error) {
	out := map[int32]int64{}
	prefix := []byte(source + "\x00")
	err := m.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketOffsets)
		if b == nil {
			return nil
		}
		c := b.Cursor()
		for k, v := c.Seek(prefix); k != nil && strings.HasPrefix(string(k), string(prefix)); k, v = c.Next() {
			data, err := unseal(bucketOffsets, nil, k, v)
			if err != nil || len(k) != len(prefix)+4 || len(data) != 8 {
				return &DamageError{Path: m.path, What: fmt.Sprintf("the offset of source %q is damaged; move the state file aside or reset the consumer", source)}
			}
			out[int32(binary.BigEndian.Uint32(k[len(prefix):]))] = int64(binary.BigEndian.Uint64(data))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("monitor: read the offsets of %q: %w", source, err)
	}
	return out, nil
}

// Sources returns, sorted, the name of every source the state file holds
// positions of (and of tags kept beside them, see RecreatedTag) or the
// windows and history in memory hold offset ranges of: a consumer can
// tell from them which sources the state has read.
func (m *Monitor) Sources() ([]string, error) {
	seen := map[string]bool{}
	for _, ss := range m.stageStates() {
		ss.mu.Lock()
		for _, w := range ss.windows {
			for _, p := range w.offsets {
				seen[p.Source] = true
			}
		}
		for _, h := range ss.history {
			if h.State != nil {
				for _, p := range h.State.Offsets {
					seen[p.Source] = true
				}
			}
		}
		ss.mu.Unlock()
	}
	if err := m.storedSources(seen); err != nil {
		return nil, fmt.Errorf("monitor: list the sources read: %w", err)
	}
	return slices.Sorted(maps.Keys(seen)), nil
}

// storedSources adds to seen the name of every source the state file
// holds positions of (and of tags kept beside them).
func (m *Monitor) storedSources(seen map[string]bool) error {
	return m.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketOffsets)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, _ []byte) error {
			if i := strings.IndexByte(string(k), 0); i > 0 {
				seen[string(k[:i])] = true
			}
			return nil
		})
	})
}

// RecoveredOffset is where a recovered state resumes reading a source
// partition, and why.
type RecoveredOffset struct {
	Source    string `json:"source"`
	Partition int32  `json:"partition"`
	Next      int64  `json:"next"`
	// From is "kept" (the stored position verified) or "ranges" (it was
	// lost or behind, and the offset ranges of the rows kept say how far
	// they were read).
	From string `json:"from"`
	// Note warns that a position set from ranges may be wrong, and what
	// to do: the source's stream was replaced since (RecreatedTag), and
	// the ranges may be the old stream's.
	Note string `json:"note,omitempty"`
}

// A source's name holding '#' is a tag kept beside a source's positions
// (a Kafka topic's ID), not positions: the recovery keeps tags as they
// are and does not list them as positions. RecreatedTag is the tag a
// consumer sets (partition 0: the Unix time) when the stream a source
// reads was replaced under its name (a Kafka topic deleted and created
// again, its offsets from 0 again): the offset ranges the windows hold
// for the source may then be the old stream's, and a position moved
// past them would pass over the new stream's records.
const RecreatedTag = "#recreated"

// restoreOffsets makes the file resume each source partition after every
// record whose rows it kept: a position lost in the damage, or behind the
// ranges of the windows and history kept, is set past the last offset
// they read, so that no kept row is read, and counted, again. It returns
// every partition's position, by source and partition.
func (m *Monitor) restoreOffsets() ([]RecoveredOffset, error) {
	var read []PartitionRanges
	for _, ss := range m.stageStates() {
		ss.mu.Lock()
		for _, w := range ss.windows {
			read = unionRanges(read, w.offsets)
		}
		for _, h := range ss.history {
			if h.State != nil {
				read = unionRanges(read, h.State.Offsets)
			}
		}
		ss.mu.Unlock()
	}
	kept := map[string]map[int32]int64{}
	sources := map[string]bool{}
	if err := m.storedSources(sources); err != nil {
		return nil, err
	}
	for _, p := range read {
		sources[p.Source] = true
	}
	for src := range sources {
		held, err := m.Offsets(src)
		if err != nil {
			return nil, err
		}
		kept[src] = held
	}
	var out []RecoveredOffset
	var restore []Offset
	for _, p := range read {
		next := p.Ranges[len(p.Ranges)-1][1] + 1
		if have, ok := kept[p.Source][p.Partition]; !ok || have < next {
			restore = append(restore, Offset{Source: p.Source, Partition: p.Partition, Next: next})
			ro := RecoveredOffset{Source: p.Source, Partition: p.Partition, Next: next, From: "ranges"}
			if at, recreated := kept[p.Source+RecreatedTag][0]; recreated {
				from, was := "0", "lost"
				if ok {
					from, was = fmt.Sprint(have), fmt.Sprintf("kept at %d", have)
				}
				ro.Note = fmt.Sprintf("its stream was replaced under the same name at %s (a Kafka topic deleted and created again), and the offset ranges of the rows kept do not say which stream they were read from: if they are the old one's, offsets %s..%d of the new one are passed over unread (the position was %s). If rows of the old stream may be in these windows, restart the consumer with a new group (--kafka-group, with --kafka-new-group) to read the new stream from its start, which counts again the rows of the new stream these windows hold (if any); if they hold only rows of the new stream, nothing is passed over",
					time.Unix(at, 0).UTC().Format(time.RFC3339), from, next-1, was)
			}
			out = append(out, ro)
			delete(kept[p.Source], p.Partition)
		}
	}
	for src, parts := range kept {
		if strings.Contains(src, "#") {
			continue // a tag, not positions
		}
		for part, next := range parts {
			out = append(out, RecoveredOffset{Source: src, Partition: part, Next: next, From: "kept"})
		}
	}
	slices.SortFunc(out, func(a, b RecoveredOffset) int {
		return comparePartitions(PartitionRanges{Source: a.Source, Partition: a.Partition}, PartitionRanges{Source: b.Source, Partition: b.Partition})
	})
	if len(restore) > 0 {
		if err := m.db.Update(func(tx *bolt.Tx) error { return putOffsets(tx, restore) }); err != nil {
			return nil, fmt.Errorf("restore the offsets: %w", err)
		}
	}
	return out, nil
}
