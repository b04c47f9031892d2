package kafka

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"maps"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/normguard/normguard/monitor"
)

// A broker that lost the tail of a partition and took new records at the
// offsets lost before serve looked again ends the log at or past the
// position: the end check (truncated.go) cannot see it (attack run 31 F1,
// its repro). The state keeps, with each partition's position, what the
// last record counted was: its offset, its batch's leader epoch, its
// producer id and a hash of its contents (under tag sources beside the
// positions, as the topic's ID is kept). At assignment the batch holding
// that offset is fetched: a record of another leader epoch or producer,
// or (producers without idempotence all have producer id -1: attack run
// 33 F2) other contents, is not the one counted. With
// a later leader epoch (an unclean leader election), the broker tells
// where the counted epoch ends (OffsetForLeaderEpoch, as KIP-320 clients
// do): the records from there were written again, and are read from
// there. Otherwise where the loss begins cannot be told: it is logged and
// a /healthz problem naming the record found changed.

// Tag sources of the last record counted, by partition: its offset + 1,
// its leader epoch + 1 and its producer id + 1 (the monitor keeps
// non-negative offsets only).
func (c *Consumer) lastOffsetSource() string   { return c.source + "#last-offset" }
func (c *Consumer) lastEpochSource() string    { return c.source + "#last-epoch" }
func (c *Consumer) lastProducerSource() string { return c.source + "#last-producer" }
func (c *Consumer) lastHashSource() string     { return c.source + "#last-hash" }

// lastRecord is what the state keeps of the last record counted of a
// partition.
type lastRecord struct {
	offset   int64
	epoch    int32
	producer int64
	// hash is recordHash of the record (-1: not kept, a state written
	// before it was): records of producers without idempotence all have
	// producer id -1, and one written again under the same leader epoch
	// differs from the one counted by its contents only (attack run 33 F2).
	hash int64
}

// recordHash returns a hash of what a record holds, its key, value,
// timestamp (milliseconds) and headers (FNV-1a, 62 bits: the monitor keeps
// non-negative offsets, the hash + 1). A null key or value hashes as an
// empty one.
func recordHash(key, value []byte, ts int64, headers []kmsg.Header) int64 {
	h := fnv.New64a()
	var n [8]byte
	put := func(b []byte) {
		binary.BigEndian.PutUint64(n[:], uint64(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	put(key)
	put(value)
	binary.BigEndian.PutUint64(n[:], uint64(ts))
	h.Write(n[:])
	for _, hd := range headers {
		put([]byte(hd.Key))
		put(hd.Value)
	}
	return int64(h.Sum64() >> 2)
}

// hashOf returns recordHash of a record read by the client.
func hashOf(r *kgo.Record) int64 {
	hs := make([]kmsg.Header, len(r.Headers))
	for i, h := range r.Headers {
		hs[i] = kmsg.Header{Key: h.Key, Value: h.Value}
	}
	return recordHash(r.Key, r.Value, r.Timestamp.UnixMilli(), hs)
}

// hashAt returns recordHash of the record at offset of the batch h (raw),
// as the client would read it; false when it cannot be read.
func (c *Consumer) hashAt(h batchHeader, offset int64) (int64, bool) {
	var rb kmsg.RecordBatch
	if h.raw == nil || rb.ReadFrom(h.raw) != nil || rb.Magic != 2 {
		return 0, false
	}
	data := rb.Records
	if codec := kgo.CompressionCodecType(rb.Attributes & 7); codec != kgo.CodecNone {
		out, err := c.dec.inflate(data, codec)
		if err != nil {
			return 0, false
		}
		data = out
	}
	for i := int32(0); i < rb.NumRecords && len(data) > 0; i++ {
		length, used := binary.Varint(data)
		total := used + int(length)
		if used <= 0 || length < 0 || len(data) < total {
			return 0, false
		}
		var r kmsg.Record
		if err := r.ReadFrom(data[:total]); err != nil {
			return 0, false
		}
		data = data[total:]
		if rb.FirstOffset+int64(r.OffsetDelta) != offset {
			continue
		}
		ts := rb.FirstTimestamp + r.TimestampDelta64
		if rb.Attributes&0x08 != 0 { // log append time
			ts = rb.MaxTimestamp
		}
		return recordHash(r.Key, r.Value, ts, r.Headers), true
	}
	return 0, false
}

// lastOffsets returns the offsets that keep last, the last record counted
// of each partition, beside the positions.
func (c *Consumer) lastOffsets(last map[int32]*kgo.Record) []monitor.Offset {
	var out []monitor.Offset
	for _, p := range slices.Sorted(maps.Keys(last)) {
		r := last[p]
		if r.LeaderEpoch < -1 || r.ProducerID < -1 {
			continue
		}
		out = append(out,
			monitor.Offset{Source: c.lastOffsetSource(), Partition: p, Next: r.Offset + 1},
			monitor.Offset{Source: c.lastEpochSource(), Partition: p, Next: int64(r.LeaderEpoch) + 1},
			monitor.Offset{Source: c.lastProducerSource(), Partition: p, Next: r.ProducerID + 1},
			monitor.Offset{Source: c.lastHashSource(), Partition: p, Next: hashOf(r) + 1})
	}
	return out
}

// storedLast returns the last records counted the state keeps, by
// partition.
func (c *Consumer) storedLast() (map[int32]lastRecord, error) {
	offs, err := c.cfg.Monitor.Offsets(c.lastOffsetSource())
	if err != nil {
		return nil, err
	}
	epochs, err := c.cfg.Monitor.Offsets(c.lastEpochSource())
	if err != nil {
		return nil, err
	}
	producers, err := c.cfg.Monitor.Offsets(c.lastProducerSource())
	if err != nil {
		return nil, err
	}
	hashes, err := c.cfg.Monitor.Offsets(c.lastHashSource())
	if err != nil {
		return nil, err
	}
	out := map[int32]lastRecord{}
	for p, o := range offs {
		e, ok1 := epochs[p]
		pr, ok2 := producers[p]
		if ok1 && ok2 && o > 0 && e <= 1<<31 {
			lr := lastRecord{offset: o - 1, epoch: int32(e - 1), producer: pr - 1, hash: -1}
			if h, ok := hashes[p]; ok && h > 0 {
				lr.hash = h - 1
			}
			out[p] = lr
		}
	}
	return out, nil
}

// checkRewritten compares, for each partition of parts (where they
// resume), the last record the state counted with the batch the log
// holds at its offset, and returns the partitions found to have been
// rewritten with the offset to resume from, each stored in the state as
// its position and reported. The offsets read again are the state's own
// (below its position, held): those another replica counted (the skips
// of the custody, attack run 33 F3) are passed over still, unless they
// were counted before the loss (reach: the group's offsets past the
// positions, commitEpoch: the leader epochs of its commits; attack run 34
// F5): then they are read, and reported lost with this state's. A partition
// whose loss cannot be placed is reported only. Failed look-ups are
// logged and leave the positions.
func (c *Consumer) checkRewritten(ctx context.Context, parts, held, reach map[int32]int64, commitEpoch map[int32]int32) (map[int32]int64, error) {
	if len(parts) == 0 {
		return nil, nil
	}
	last, err := c.storedLast()
	if err != nil {
		return nil, fmt.Errorf("kafka: reading the last records counted: %w", err)
	}
	from := map[int32]int64{}
	var offs []monitor.Offset
	for _, p := range slices.Sorted(maps.Keys(parts)) {
		lr, ok := last[p]
		next := parts[p]
		if !ok || lr.offset >= next {
			continue
		}
		fb, err := c.batchesAt(ctx, p, lr.offset)
		if err != nil {
			// The check could not run: said so, not at debug level.
			c.log.Warn("kafka: fetching the last record counted failed, so whether the broker lost records it counted (and wrote others there) was not checked", "topic", c.cfg.Topic, "partition", p, "offset", lr.offset, "err", err)
			continue
		}
		i := slices.IndexFunc(fb.headers, func(h batchHeader) bool { return h.base <= lr.offset && lr.offset <= h.last })
		if i < 0 {
			// Retention or compaction removed it: nothing to compare.
			c.log.Info("kafka: the last record counted is no longer in the log (retention or compaction), so whether the broker lost records it counted (and wrote others there) was not checked", "topic", c.cfg.Topic, "partition", p, "offset", lr.offset)
			continue
		}
		h := fb.headers[i]
		found := fmt.Sprintf("the record at offset %d is not the one counted (its batch has leader epoch %d and producer %d; the one counted had %d and %d)",
			lr.offset, h.epoch, h.producer, lr.epoch, lr.producer)
		if h.epoch == lr.epoch && h.producer == lr.producer {
			got, ok := c.hashAt(h, lr.offset)
			if lr.hash >= 0 && !ok {
				// The check could not run: said so, as for a failed fetch.
				c.log.Warn("kafka: the last record counted could not be read from its batch, so whether the broker wrote another record there under the same leader epoch and producer was not checked", "topic", c.cfg.Topic, "partition", p, "offset", lr.offset)
			}
			if lr.hash < 0 || !ok || got == lr.hash {
				continue
			}
			found = fmt.Sprintf("the record at offset %d is not the one counted (its key, value, timestamp or headers differ, under the same leader epoch %d and producer %d: a producer without idempotence writes every batch with producer -1)",
				lr.offset, h.epoch, h.producer)
		}
		if h.epoch > lr.epoch && lr.epoch >= 0 {
			end, err := c.epochEnd(ctx, p, lr.epoch)
			if err == nil && end <= lr.offset {
				c.partsMu.Lock()
				skips := c.skips[p]
				floor, hasFloor := c.floor[p]
				c.partsMu.Unlock()
				pos := next
				if h, ok := held[p]; ok && h < pos {
					pos = h // past it, the offsets are another replica's (skips)
				}
				if old := c.countedBefore(p, end, h.epoch, skips, reach, commitEpoch); len(old) > 0 {
					// Another replica counted the records there before the
					// loss: those there now are new, read (attack run 34
					// F5), and its offsets are lost too.
					top, counted := pos, pos
					if hasFloor {
						counted = floor // from the floor on, checkTruncated counted them
						top = max(top, floor)
					}
					if group, ok := reach[p]; ok {
						top = max(top, group)
					}
					c.cutCustody(p, end)
					c.partsMu.Lock()
					skips = c.skips[p]
					c.partsMu.Unlock()
					from[p] = skipFrom(end, skips)
					offs = append(offs, monitor.Offset{Source: c.source, Partition: p, Next: from[p]})
					c.log.Warn(fmt.Sprintf("kafka: partition %d: offsets %s were counted by another replica of the group before the broker lost offsets from %d (the group's commit is under leader epoch %d, or past the log's end; the records there now are under leader epoch %d): they are new records and are read", p, joinRanges(old), end, commitEpoch[p], h.epoch),
						"topic", c.cfg.Topic, "group", c.cfg.Group)
					c.noteRewrittenLost(p, top, end, counted-end, found)
					continue
				}
				from[p] = skipFrom(end, skips)
				offs = append(offs, monitor.Offset{Source: c.source, Partition: p, Next: from[p]})
				c.noteRewritten(p, pos, end, found)
				for _, s := range skips {
					if s.from >= pos {
						c.log.Info(fmt.Sprintf("kafka: partition %d: offsets %s were counted by another replica of the group after the broker lost offsets from %d (they are under the new leader epoch); they are not read again", p, s, end),
							"topic", c.cfg.Topic, "group", c.cfg.Group)
					}
				}
				continue
			}
			if err != nil {
				found += fmt.Sprintf("; asking where leader epoch %d ends failed: %v", lr.epoch, err)
			}
		}
		c.noteRewritten(p, next, -1, found)
	}
	if len(offs) > 0 {
		if _, err := c.cfg.Monitor.ObserveAt(context.WithoutCancel(ctx), nil, offs); err != nil {
			return nil, fmt.Errorf("kafka: storing the positions of partitions the broker rewrote: %w", err)
		}
	}
	return from, nil
}

// noteRewritten reports that partition p's records below the position pos
// were lost and written again: from end on (logged, counted, a problem),
// or, with end -1, from an offset that cannot be told (logged, a problem).
func (c *Consumer) noteRewritten(p int32, pos, end int64, found string) {
	lost := int64(0)
	if end >= 0 {
		lost = pos - end
	}
	c.noteRewrittenLost(p, pos, end, lost, found)
}

// noteRewrittenLost is noteRewritten counting lost offsets in the metric
// (some of end..pos-1 may have been counted already: checkTruncated).
func (c *Consumer) noteRewrittenLost(p int32, pos, end, lost int64, found string) {
	now := time.Now()
	var msg string
	if end >= 0 {
		msg = fmt.Sprintf("topic %s partition %d: %s, found when the partition was assigned at %s: the broker lost offsets %d..%d that were counted (an unclean leader election) and records were written there again; they are read, from offset %d on",
			c.cfg.Topic, p, found, now.UTC().Format(time.RFC3339), end, pos-1, end)
	} else {
		msg = fmt.Sprintf("topic %s partition %d: %s, found when the partition was assigned at %s: the broker lost records that were counted, below the position %d, and records were written there again; the broker kept the leader epoch, so where the loss begins cannot be told, and those written again below %d are not read: this partition's count misses them (the broker's log of the restore or election tells how many)",
			c.cfg.Topic, p, found, now.UTC().Format(time.RFC3339), pos, pos)
	}
	c.noteLost(p, msg, lost, now)
}

// countedBefore returns the offsets from end (where the leader epoch the
// state counted under ends) that the skips of partition p give another
// replica when that replica counted them before the loss: the group's
// commit (offset reach[p], if past the position) is under a leader epoch
// below epoch, the one the log holds there now, or it is past the log's
// end (checkTruncated lowered the floor). A commit whose epoch is not
// known (-1) and within the log is taken as made after the loss, as
// before. Passed over, the new records there would be counted by no one
// (attack run 34 F5).
func (c *Consumer) countedBefore(p int32, end int64, epoch int32, skips []offRange, reach map[int32]int64, commitEpoch map[int32]int32) []offRange {
	var old []offRange
	for _, s := range skips {
		if s.to > end {
			old = append(old, offRange{max(s.from, end), s.to})
		}
	}
	if len(old) == 0 {
		return nil
	}
	group, ahead := reach[p]
	c.partsMu.Lock()
	floor, hasFloor := c.floor[p]
	c.partsMu.Unlock()
	pastEnd := ahead && hasFloor && floor < group
	ce, known := commitEpoch[p]
	if !pastEnd && (!known || ce < 0 || ce >= epoch) {
		return nil
	}
	return old
}

// epochEnd asks partition p's leader where leader epoch epoch ends in its
// log (OffsetForLeaderEpoch).
func (c *Consumer) epochEnd(ctx context.Context, p int32, epoch int32) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req := kmsg.NewPtrOffsetForLeaderEpochRequest()
	req.ReplicaID = -1
	t := kmsg.NewOffsetForLeaderEpochRequestTopic()
	t.Topic = c.cfg.Topic
	rp := kmsg.NewOffsetForLeaderEpochRequestTopicPartition()
	rp.Partition, rp.CurrentLeaderEpoch, rp.LeaderEpoch = p, -1, epoch
	t.Partitions = append(t.Partitions, rp)
	req.Topics = append(req.Topics, t)
	var errs []error
	for _, shard := range c.cl.RequestSharded(ctx, req) {
		if shard.Err != nil {
			errs = append(errs, shard.Err)
			continue
		}
		resp, ok := shard.Resp.(*kmsg.OffsetForLeaderEpochResponse)
		if !ok {
			continue
		}
		for _, rt := range resp.Topics {
			for _, sp := range rt.Partitions {
				if rt.Topic != c.cfg.Topic || sp.Partition != p {
					continue
				}
				if err := kerr.ErrorForCode(sp.ErrorCode); err != nil {
					return -1, err
				}
				if sp.EndOffset < 0 {
					return -1, errors.New("the broker does not know the epoch")
				}
				return sp.EndOffset, nil
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return -1, err
	}
	return -1, errors.New("no answer for the partition")
}
