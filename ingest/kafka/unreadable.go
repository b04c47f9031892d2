package kafka

import (
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kbin"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/normguard/normguard/monitor"
)

// A record batch the client cannot read (attack run 12): inflating past
// the bound, inflating to nothing, damaged record bytes behind a valid
// CRC. The client either reports an error for the partition at every
// fetch, never moving past the batch (a stall: the records after it are
// never counted), or, when the batch is followed by readable ones in the
// same fetch, moves past it without a word (a silent loss). The consumer
// handles both by reading the batch headers itself, with a fetch request
// of its own: it skips a batch the client keeps failing on, and checks a
// gap in a partition's offsets for batches the client passed over.
// Either way the batch's records are counted bad_batch.

// batchHeader is what the consumer reads of a record batch: the fixed
// header of the v2 format.
type batchHeader struct {
	base, last int64 // the first and last offsets it covers
	records    int32 // the records it claims
	epoch      int32 // the partition leader epoch it was written under
	attrs      int16
	producer   int64
	raw        []byte // the whole batch, or nil when the fetch cut it short
	// aborted: a data batch of a transaction that was aborted, which the
	// client (reading committed records only) passes over (markAborted).
	aborted bool
}

func (h batchHeader) control() bool       { return h.attrs&0x20 != 0 }
func (h batchHeader) transactional() bool { return h.attrs&0x10 != 0 }

// batchHeaderSize is the v2 record batch header: base offset (8), length
// (4), leader epoch (4), magic (1), CRC (4), attributes (2), last offset
// delta (4), timestamps (16), producer id (8) and epoch (2), base
// sequence (4), record count (4).
const batchHeaderSize = 61

// parseBatchHeaders reads the headers of the batches in a fetch
// response's record bytes, stopping at a batch cut short or not in the v2
// format.
func parseBatchHeaders(b []byte) []batchHeader {
	var out []batchHeader
	for len(b) >= batchHeaderSize {
		length := int64(int32(binary.BigEndian.Uint32(b[8:12])))
		if length < batchHeaderSize-12 || b[16] != 2 {
			break
		}
		h := batchHeader{
			base:     int64(binary.BigEndian.Uint64(b[0:8])),
			attrs:    int16(binary.BigEndian.Uint16(b[21:23])),
			producer: int64(binary.BigEndian.Uint64(b[43:51])),
			epoch:    int32(binary.BigEndian.Uint32(b[12:16])),
			records:  int32(binary.BigEndian.Uint32(b[57:61])),
		}
		h.last = h.base + int64(int32(binary.BigEndian.Uint32(b[23:27])))
		if int64(len(b)) < 12+length {
			out = append(out, h)
			break
		}
		h.raw = b[:12+length]
		out = append(out, h)
		b = b[12+length:]
	}
	return out
}

// fetchedBatches is a fetch of a partition's batches from an offset on.
type fetchedBatches struct {
	headers []batchHeader
}

// markAborted marks the data batches of aborted transactions among hs
// (in offset order), as a consumer reading committed records does: a
// producer's transaction listed as aborted starts at the first of its
// transactional batches reaching the listed first offset and ends at its
// next marker; its other transactions (committed) are not aborted
// (attack run 13: every transactional batch of a producer that once
// aborted was taken for aborted).
func markAborted(hs []batchHeader, list []kmsg.FetchResponseTopicPartitionAbortedTransaction) {
	pending := map[int64][]int64{}
	for _, a := range list {
		pending[a.ProducerID] = append(pending[a.ProducerID], a.FirstOffset)
	}
	for _, fs := range pending {
		slices.Sort(fs)
	}
	active := map[int64]bool{}
	for i := range hs {
		h := &hs[i]
		if !h.transactional() {
			continue
		}
		if fs := pending[h.producer]; len(fs) > 0 && fs[0] <= h.last {
			active[h.producer] = true
			pending[h.producer] = fs[1:]
		}
		if h.control() {
			delete(active, h.producer) // its marker ends the transaction
			continue
		}
		h.aborted = active[h.producer]
	}
}

// batchesAt fetches the batches of partition p from offset on (at most
// about 1 MiB of them, at least the first whole) from the partition's
// leader, with a request of the consumer's own.
func (c *Consumer) batchesAt(ctx context.Context, p int32, offset int64) (fetchedBatches, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	topic := c.cfg.Topic
	meta := kmsg.NewPtrMetadataRequest()
	mt := kmsg.NewMetadataRequestTopic()
	mt.Topic = kmsg.StringPtr(topic)
	meta.Topics = append(meta.Topics, mt)
	mresp, err := meta.RequestWith(ctx, c.side)
	if err != nil {
		return fetchedBatches{}, fmt.Errorf("metadata: %w", err)
	}
	leader, id := int32(-1), [16]byte{}
	for _, t := range mresp.Topics {
		if t.Topic == nil || *t.Topic != topic {
			continue
		}
		id = t.TopicID
		for _, tp := range t.Partitions {
			if tp.Partition == p {
				leader = tp.Leader
			}
		}
	}
	if leader < 0 {
		return fetchedBatches{}, fmt.Errorf("metadata: no leader for partition %d", p)
	}
	req := kmsg.NewPtrFetchRequest()
	req.ReplicaID = -1
	req.MinBytes = 1
	// The partition's bound cuts the answer, not the request's: a broker
	// cutting an answer at the request's bound may leave out the aborted
	// transactions of the batches it returns (kfake does), and the
	// aborted batches would be taken for data.
	req.MaxBytes = 2 << 20
	req.IsolationLevel = 1 // read committed, as the consumer reads
	req.SessionEpoch = -1
	ft := kmsg.NewFetchRequestTopic()
	ft.Topic, ft.TopicID = topic, id
	fp := kmsg.NewFetchRequestTopicPartition()
	fp.Partition = p
	fp.FetchOffset = offset
	fp.PartitionMaxBytes = 1 << 20
	fp.CurrentLeaderEpoch = -1
	fp.LastFetchedEpoch = -1
	fp.LogStartOffset = -1
	ft.Partitions = append(ft.Partitions, fp)
	req.Topics = append(req.Topics, ft)
	kresp, err := c.side.Broker(int(leader)).Request(ctx, req)
	if err != nil {
		return fetchedBatches{}, fmt.Errorf("fetch: %w", err)
	}
	resp, ok := kresp.(*kmsg.FetchResponse)
	if !ok {
		return fetchedBatches{}, fmt.Errorf("fetch: answered %T", kresp)
	}
	if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
		return fetchedBatches{}, fmt.Errorf("fetch: %w", err)
	}
	for _, t := range resp.Topics {
		for _, rp := range t.Partitions {
			if rp.Partition != p {
				continue
			}
			if err := kerr.ErrorForCode(rp.ErrorCode); err != nil {
				return fetchedBatches{}, fmt.Errorf("fetch: %w", err)
			}
			out := fetchedBatches{headers: parseBatchHeaders(rp.RecordBatches)}
			markAborted(out.headers, rp.AbortedTransactions)
			return out, nil
		}
	}
	return fetchedBatches{}, fmt.Errorf("fetch: the answer holds no partition %d", p)
}

// unreadableErr tells whether err, reported by the client for a
// partition of the topic, is about the batch at the partition's position
// (it fails the same way at every fetch) rather than the broker or the
// connection.
func unreadableErr(err error) bool {
	var ke *kerr.Error
	var loss *kgo.ErrDataLoss
	switch {
	case errors.As(err, &ke), errors.As(err, &loss), errors.Is(err, errBudget),
		errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded), errors.Is(err, kgo.ErrClientClosed):
		return false
	}
	return true
}

// badBatch is a batch to move past: partition, the offset the consumer
// is at, and why.
type badBatch struct {
	partition int32
	at        int64
	err       error
	// h is the batch when the caller has read it already (checkProgress).
	h *batchHeader
}

// nextBatch returns the first batch of partition p from offset at on
// that a read-committed client stops at: a data batch, or an aborted
// batch it cannot read (the client inflates and parses a batch before it
// looks whether its transaction was aborted, so such a batch stops it
// too; attack run 14). It walks past the batches that end before at,
// transaction markers, aborted batches that decode and, when skipEmpty,
// batches claiming no records, with as many fetches as they span, up to
// maxGapFetches (aborted transactions of more than 1 MiB in front of a
// batch hid it from a single fetch). passed is where the batches walked
// past end (at when none). h is nil, with a nil error, when the log holds
// no such batch from at on within the bound.
func (c *Consumer) nextBatch(ctx context.Context, p int32, at int64, skipEmpty bool) (h *batchHeader, passed int64, err error) {
	passed = at
	for range maxGapFetches {
		fb, err := c.batchesAt(ctx, p, passed)
		if err != nil {
			return nil, passed, err
		}
		moved := false
		for i := range fb.headers {
			h := &fb.headers[i]
			if h.last < passed {
				continue
			}
			if h.raw == nil && !h.control() {
				break // cut short: fetch from it
			}
			if h.control() || skipEmpty && h.records == 0 {
				passed, moved = h.last+1, true
				continue
			}
			if h.aborted {
				if err := c.decodes(*h); err == nil {
					passed, moved = h.last+1, true
					continue
				}
			}
			return h, passed, nil
		}
		if !moved {
			return nil, passed, nil
		}
	}
	return nil, passed, nil
}

// skipUnreadable moves past the batch each partition of bad is stuck at:
// it finds the batch's end from its header, counts its records from the
// consumer's position bad_batch, stores the offset past it in the state,
// commits it and sets the client there. A partition whose batch cannot
// be found is reported by Stats.Problem.
func (c *Consumer) skipUnreadable(ctx context.Context, bad []badBatch) error {
	var offs []monitor.Offset
	set := map[int32]kgo.EpochOffset{}
	for _, b := range bad {
		h, passed, err := b.h, b.at, error(nil)
		if h == nil {
			// Markers and aborted transactions before it were passed
			// over by the client, rightly.
			h, passed, err = c.nextBatch(ctx, b.partition, b.at, false)
		}
		if err == nil && h == nil {
			err = fmt.Errorf("no batch holds offset %d", b.at)
			if passed > b.at {
				err = fmt.Errorf("no batch holds offset %d, nor any of the %d fetches past transaction markers and aborted transactions up to offset %d", b.at, maxGapFetches, passed)
			}
		}
		if err == nil {
			if h.aborted {
				// Its records are not read by a consumer of committed
				// records: passed, not counted.
				c.log.Warn("kafka: an aborted transaction's batch the Kafka client cannot read passed over (not counted: its transaction was aborted)",
					"topic", c.cfg.Topic, "partition", b.partition, "offsets", fmt.Sprintf("%d..%d", h.base, h.last), "error", b.err.Error())
			} else {
				c.countBadBatch(b.partition, max(b.at, h.base), h.last, "kafka: batch skipped", b.err)
			}
			offs = append(offs, monitor.Offset{Source: c.source, Partition: b.partition, Next: h.last + 1})
			set[b.partition] = kgo.EpochOffset{Epoch: -1, Offset: h.last + 1}
		}
		if err != nil {
			c.partsMu.Lock()
			c.stalled[b.partition] = fmt.Sprintf("partition %d stopped at offset %d: the Kafka client cannot read the batch there (%v), and finding where it ends failed (%v)", b.partition, b.at, b.err, err)
			c.partsMu.Unlock()
		}
	}
	if len(set) == 0 {
		return nil
	}
	if _, err := c.cfg.Monitor.ObserveAt(context.WithoutCancel(ctx), nil, offs); err != nil {
		return fmt.Errorf("kafka: storing the offset past a batch of %s: %w", c.cfg.Topic, err)
	}
	c.moveTo(ctx, set)
	return nil
}

// moveTo sets the client's position of partitions (past batches
// skipped), commits them to the group and records them as the
// consumer's; a partition the client cannot be moved on (it does not yet
// know its position) is reported by Stats.Problem until a restart, which
// resumes from the state.
func (c *Consumer) moveTo(ctx context.Context, set map[int32]kgo.EpochOffset) {
	c.cl.SetOffsets(map[string]map[int32]kgo.EpochOffset{c.cfg.Topic: set})
	at := c.cl.CommittedOffsets()[c.cfg.Topic] // SetOffsets sets them, where it applies
	c.partsMu.Lock()
	for p, o := range set {
		c.pos[p] = o.Offset
		if got, ok := at[p]; ok && got.Offset == o.Offset {
			delete(c.stalled, p)
			continue
		}
		c.stalled[p] = fmt.Sprintf("partition %d stopped at offset %d, a batch it could not read; its state holds the offset past it, %d: restart serve to resume from there", p, o.Offset, o.Offset)
	}
	c.partsMu.Unlock()
	c.cl.CommitOffsetsSync(c.commitCtx(ctx), map[string]map[int32]kgo.EpochOffset{c.cfg.Topic: set},
		func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, _ *kmsg.OffsetCommitResponse, err error) {
			if err != nil && ctx.Err() == nil {
				c.log.Warn("kafka: committing offsets to the group", "group", c.cfg.Group, "err", err)
			}
		})
}

// gap is a run of offsets of a partition the client moved past without a
// record: transaction markers, aborted transactions, compaction, or a
// batch it could not read.
type gap struct {
	partition int32
	from, to  int64 // [from, to)
	// old: the records after it were stored already (a gap left
	// unchecked by a poll before).
	old bool
}

// cut is where the records of a partition's poll stop being counted:
// from drop on they came from, or after, a batch holding a record at an
// offset past its end, and the client is set back to next, the batch's
// end (attack run 14 F7).
type cut struct {
	drop, next int64
}

// countGaps counts bad_batch the batches inside gaps (offsets the client
// passed over without a record) whose records do not all decode as the
// client decodes them (decodes), from the gap's start: the client keeps
// a batch's records before the first that does not parse. Markers,
// aborted transactions and compacted batches are passed. Every gap is
// checked (a one-offset gap after a transaction's record, once taken for
// its marker unchecked, hid an undecodable batch), and each whole: a
// partition's gaps are walked batch by batch with as many fetches as they
// span, up to maxGapFetches a poll (a gap behind more than 1 MiB of
// aborted records hid a batch). What a poll leaves unchecked (past the
// bound, or a fetch failed) is kept and checked first the next poll; a
// partition with offsets left unchecked for longer than a progress check
// is a problem (Stats.Unchecked) until they are.
//
// A batch in a gap of this poll holding a record at an offset past its
// end (the client moved its position there, passing over the records of
// the batches behind it as read) is counted bad_batch as a whole, and
// cuts says where the poll's records of its partition stop being counted
// and where the client is to be set back to, to read those batches.
func (c *Consumer) countGaps(ctx context.Context, gaps []gap) (cuts map[int32]cut) {
	cuts = map[int32]cut{}
	c.partsMu.Lock()
	for _, p := range slices.Sorted(maps.Keys(c.unchecked)) {
		for _, g := range c.unchecked[p].gaps {
			g.old = true
			gaps = append(gaps, g)
		}
	}
	left := c.unchecked
	c.unchecked = map[int32]*unchecked{}
	c.partsMu.Unlock()
	slices.SortStableFunc(gaps, func(a, b gap) int {
		return cmp.Or(cmp.Compare(a.partition, b.partition), cmp.Compare(a.from, b.from))
	})
	for len(gaps) > 0 {
		p := gaps[0].partition
		n := 1
		for n < len(gaps) && gaps[n].partition == p {
			n++
		}
		gs := gaps[:n]
		gaps = gaps[n:]
		cursor, gi := gs[0].from, 0
		var lastErr error
		for fetches := 0; fetches < maxGapFetches; fetches++ {
			// Offsets between gaps were read as records: fetch from the
			// next gap's start.
			for gi < len(gs) && gs[gi].to <= cursor {
				gi++
			}
			if gi == len(gs) {
				break
			}
			cursor = max(cursor, gs[gi].from)
			fb, err := c.batchesAt(ctx, p, cursor)
			if errors.Is(err, kerr.OffsetOutOfRange) {
				// Deleted by the broker (retention) before it was checked:
				// nothing there can be read any more.
				if start, ok := c.logStart(ctx, p); ok && start > cursor {
					c.log.Warn("kafka: offsets the client passed over were deleted by the broker before they could be checked", "topic", c.cfg.Topic, "partition", p,
						"offsets", fmt.Sprintf("%d..%d", cursor, start-1))
					cursor = start
					continue
				}
			}
			if err != nil {
				lastErr = err
				break
			}
			moved := false
			for _, h := range fb.headers {
				if h.last < cursor {
					continue
				}
				if h.raw == nil { // cut short: read from it next time
					moved = h.base > cursor
					cursor = max(cursor, h.base)
					break
				}
				for gi < len(gs) && gs[gi].to <= h.base {
					gi++
				}
				// A batch the gap overlaps: wholly passed over, or partly
				// (the client keeps the records before the first that does
				// not parse, and the gap starts after them). An aborted
				// transaction's batch is checked too: its records are not
				// rows, but one at an offset past its end moves the client
				// past the records behind it all the same (attack run 17
				// F1).
				if gi < len(gs) && h.last >= gs[gi].from && h.base < gs[gi].to && h.records != 0 && !h.control() {
					c.checkGapBatch(p, h, &gs, gi, cuts)
				}
				cursor, moved = h.last+1, true
				if gi == len(gs) || cursor >= gs[len(gs)-1].to {
					break
				}
			}
			if !moved {
				if lastErr == nil {
					lastErr = fmt.Errorf("no batch holds offset %d", cursor)
				}
				break
			}
		}
		// What is left, from the cursor on.
		var rest []gap
		for _, g := range gs[gi:] {
			if g.to > cursor {
				rest = append(rest, gap{partition: p, from: max(g.from, cursor), to: g.to})
			}
		}
		if len(rest) > 0 {
			c.keepUnchecked(p, rest, left[p], lastErr)
		}
	}
	return cuts
}

// checkGapBatch checks batch h of partition p, which gap (*gs)[gi]
// overlaps, for records the client did not read (countGaps). A batch of
// an aborted transaction is never counted (its records are not rows), but
// one holding a record past its end in a gap of this poll cuts the poll
// there as a committed one does.
func (c *Consumer) checkGapBatch(p int32, h batchHeader, gs *[]gap, gi int, cuts map[int32]cut) {
	g := (*gs)[gi]
	err := c.decodes(h)
	var past *pastBatchError
	isPast := errors.As(err, &past)
	switch {
	case err == nil:
	case isPast && !g.old:
		from := max(h.base, g.from)
		if h.aborted {
			c.log.Warn("kafka: an aborted transaction's batch holding a record past its end made the Kafka client pass over the records behind it; the client is set back to its end to read them (the batch is not counted: its transaction was aborted)",
				"topic", c.cfg.Topic, "partition", p, "offsets", fmt.Sprintf("%d..%d", h.base, h.last), "error", err.Error())
		} else {
			c.countBadBatch(p, from, h.last, "kafka: batch holding a record past its end skipped; the Kafka client is set back to its end to read the batches behind it", err)
		}
		cuts[p] = cut{drop: from, next: h.last + 1}
		// The poll's records from here on are not counted and are read
		// again: their gaps are checked then.
		*gs = (*gs)[:gi]
	case isPast:
		// Found after the records behind it were stored (a poll before
		// left the gap unchecked). The records the client read from it
		// at offsets past its end were counted as rows then (attack run
		// 17 F4): they are not counted bad_batch again.
		stored, counted := int64(0), int64(0)
		if !h.aborted {
			stored = int64(past.over)
			if counted = min(h.last, g.to-1) + 1 - max(h.base, g.from) - stored; counted > 0 {
				c.countBadBatch(p, max(h.base, g.from), max(h.base, g.from)+counted-1, "kafka: batch passed over by the Kafka client", err)
			}
		}
		if past.to-1 > h.last {
			args := []any{"topic", c.cfg.Topic, "partition", p, "offsets", fmt.Sprintf("%d..%d", h.last+1, past.to-1),
				"batch", fmt.Sprintf("%d..%d", h.base, h.last)}
			if h.aborted {
				args = append(args, "note", "the batch is an aborted transaction's: none of its records were counted")
			} else if stored > 0 {
				note := fmt.Sprintf("the batch's %d record(s) the client read at offsets past its end were counted as rows (read before the loss was found)", stored)
				if counted > 0 {
					note += fmt.Sprintf(", %d more of its offsets bad_batch", counted)
				}
				args = append(args, "note", note)
			}
			c.log.Error("kafka: a batch holding a record past its end made the Kafka client pass over the records behind it, found after they were stored: those records are lost", args...)
		}
	case h.aborted:
		// Not read by a consumer of committed records anyway.
	default:
		c.countBadBatch(p, max(h.base, g.from), min(h.last, g.to-1), "kafka: batch passed over by the Kafka client", err)
	}
}

// logStart returns where partition p's log starts now.
func (c *Consumer) logStart(ctx context.Context, p int32) (int64, bool) {
	starts, err := c.listOffsets(ctx, c.cfg.Topic, []int32{p}, false)
	if err != nil {
		return 0, false
	}
	start, ok := starts[p]
	return start, ok
}

// unchecked is what countGaps left unchecked of a partition's gaps.
type unchecked struct {
	gaps  []gap
	since time.Time // when offsets were first left unchecked
	err   error     // the last fetch error, if any
}

// maxUncheckedGaps bounds the gaps kept per partition: past it they are
// joined into one (its records that were read decode, so checking them
// again counts nothing).
const maxUncheckedGaps = 1024

// keepUnchecked keeps the gaps of partition p left unchecked for the next
// poll, unless p was revoked meanwhile (its next owner resumes past them:
// they are logged as lost to the check). prev is what was kept before this
// poll.
func (c *Consumer) keepUnchecked(p int32, rest []gap, prev *unchecked, err error) {
	if len(rest) > maxUncheckedGaps {
		rest = []gap{{partition: p, from: rest[0].from, to: rest[len(rest)-1].to}}
	}
	u := &unchecked{gaps: rest, since: time.Now(), err: err}
	if prev != nil {
		u.since = prev.since
	}
	offsets := fmt.Sprintf("%d..%d", rest[0].from, rest[len(rest)-1].to-1)
	c.partsMu.Lock()
	assigned := c.assigned[p]
	if assigned {
		c.unchecked[p] = u
	}
	c.partsMu.Unlock()
	if !assigned {
		c.log.Warn("kafka: offsets the client passed over were not checked before the partition was revoked", "topic", c.cfg.Topic, "partition", p,
			"offsets", offsets, "err", err)
		return
	}
	if prev == nil || err != nil {
		c.log.Warn("kafka: offsets the client passed over are left to check in the next poll", "topic", c.cfg.Topic, "partition", p,
			"offsets", offsets, "err", err)
	}
}

// uncheckedProblems returns, per partition, offsets the client passed over
// that have waited longer than a progress check to be checked.
func (c *Consumer) uncheckedProblems() map[int32]string {
	c.partsMu.Lock()
	defer c.partsMu.Unlock()
	var out map[int32]string
	for p, u := range c.unchecked {
		if time.Since(u.since) < c.checkEvery() {
			continue
		}
		if out == nil {
			out = map[int32]string{}
		}
		why := "more than the consumer checks in a poll"
		if u.err != nil {
			why = u.err.Error()
		}
		out[p] = fmt.Sprintf("partition %d: offsets %d..%d the Kafka client passed over have not been checked for undecodable batches since %s (%s)",
			p, u.gaps[0].from, u.gaps[len(u.gaps)-1].to-1, u.since.UTC().Format(time.RFC3339), why)
	}
	return out
}

// maxGapFetches bounds the fetches checking one partition's gaps of a
// poll (a variable for tests).
var maxGapFetches = 64

// countBadBatch counts the records at offsets from..last of partition p
// consumed and bad_batch, and logs them with what happened and why.
func (c *Consumer) countBadBatch(p int32, from, last int64, what string, why error) {
	n := last + 1 - from
	c.records.Add(n)
	c.metricRecords.Add(float64(n))
	c.addBad(ReasonBadBatch, n)
	c.log.Warn(what+" (its records counted in normguard_kafka_bad_records_total{reason=\"bad_batch\"})",
		"topic", c.cfg.Topic, "partition", p, "offsets", fmt.Sprintf("%d..%d", from, last), "error", why.Error())
}

// pollWait bounds a poll, so that progress is checked when nothing comes
// (a poll that brings nothing checks at once: emptyPollCheck).
const pollWait = 2 * time.Second

// uncheckedPollWait bounds a poll while gaps are left to check.
const uncheckedPollWait = 50 * time.Millisecond

// DefaultCheckInterval is how often the consumer checks that partitions
// whose log goes on also move on.
const DefaultCheckInterval = 10 * time.Second

func (c *Consumer) checkEvery() time.Duration {
	if c.cfg.ProgressCheck > 0 {
		return c.cfg.ProgressCheck
	}
	return DefaultCheckInterval
}

// checkProgress finds partitions that did not move since the last check
// while their log goes on past the consumer's position (attack run 12: a
// batch that does not decode as a partition's last was passed over by
// the client unseen until another record came; a record larger than the
// client reads stopped its partition for good, /healthz ok). The batch
// at the position is read with a fetch of the consumer's own: one that
// does not decode is skipped and counted bad_batch; one that cannot be
// fetched makes the partition a /healthz problem; one that decodes is
// left to the client (it is behind, not stuck).
//
// With now (a poll brought nothing: attack run 17 F5, the client
// refetching a batch it drops, the partition's last, at once and again,
// spun most of a core until the second check) every partition is checked
// whether or not it moved since the last check.
func (c *Consumer) checkProgress(ctx context.Context, now bool) error {
	c.partsMu.Lock()
	pos := maps.Clone(c.pos)
	var still []int32
	for p, at := range pos {
		last, ok := c.checkedAt[p]
		switch {
		case ok && last == at:
			still = append(still, p)
		case now:
			still = append(still, p)
			fallthrough
		default:
			c.dropWaiting(p)
		}
		c.checkedAt[p] = at
	}
	c.partsMu.Unlock()
	if len(still) == 0 {
		return nil
	}
	slices.Sort(still)
	ends, err := c.listOffsets(ctx, c.cfg.Topic, still, true)
	if errors.Is(err, kerr.UnknownTopicOrPartition) || errors.Is(err, kerr.UnknownTopicID) {
		// Deleted, perhaps: Run looks the topic up (checkTopic).
		c.topicSuspect.Store(true)
	}
	if err != nil && !c.isMissing() {
		c.log.Warn("kafka: looking up where partitions end", "topic", c.cfg.Topic, "err", err)
	}
	var bad []badBatch
	var atEnd []int32
	for _, p := range still {
		end, ok := ends[p]
		if !ok {
			continue // not known: a stall found before stays reported
		}
		if end >= pos[p] {
			// The log holds the position: a reset of the client below it
			// (readAgain) is over.
			c.partsMu.Lock()
			delete(c.resets, p)
			c.partsMu.Unlock()
		}
		if end == pos[p] {
			atEnd = append(atEnd, p)
		} else {
			c.forgetWaiting(p)
		}
		if end <= pos[p] {
			c.clearStalled(p, pos[p])
			continue
		}
		h, passed, err := c.nextBatch(ctx, p, pos[p], true)
		if err != nil && passed == pos[p] {
			c.setStalled(p, pos[p], c.stallMsg(ctx, p, pos[p], end, err))
			continue
		}
		if h != nil {
			if err := c.decodes(*h); err != nil {
				// An aborted one is passed without a count (skipUnreadable).
				bad = append(bad, badBatch{partition: p, at: pos[p], err: err, h: h})
			} else {
				c.clearStalled(p, pos[p])
			}
		}
		if passed > pos[p] {
			// Passed over by the client rightly (transaction markers and
			// aborted batches at the end of the log): not checked again.
			c.partsMu.Lock()
			if c.pos[p] == pos[p] {
				c.pos[p], c.checkedAt[p] = passed, passed
			}
			c.partsMu.Unlock()
		}
	}
	c.checkOpenTxn(ctx, atEnd, pos)
	return c.skipUnreadable(ctx, bad)
}

// openTxn is a partition stopped at its last stable offset, at, with
// records behind it up to its high watermark hw: a transaction left
// open, found since.
type openTxn struct {
	at, hw int64
	since  time.Time
	logged bool
}

// checkOpenTxn looks up the high watermarks of the partitions stopped at
// their last stable offset (atEnd, at pos) since the last check: one
// with records behind that offset waits behind a transaction left open,
// and is a problem (Stats.Waiting) once it has waited longer than a
// progress check (attack run 14 F6: on a real broker up to
// transaction.max.timeout.ms, 15 min by default, or for ever for a
// hanging transaction, unreported).
func (c *Consumer) checkOpenTxn(ctx context.Context, atEnd []int32, pos map[int32]int64) {
	if len(atEnd) == 0 {
		return
	}
	hws, err := c.listOffsetsAt(ctx, c.cfg.Topic, atEnd, -1, false)
	if err != nil {
		c.log.Warn("kafka: looking up the high watermarks of partitions", "topic", c.cfg.Topic, "err", err)
	}
	now := time.Now()
	c.partsMu.Lock()
	defer c.partsMu.Unlock()
	for _, p := range atEnd {
		hw, ok := hws[p]
		switch {
		case !ok:
		case hw <= pos[p] || c.pos[p] != pos[p]:
			c.dropWaiting(p)
		default:
			w, found := c.waiting[p]
			if !found || w.at != pos[p] {
				w = openTxn{at: pos[p], since: now}
			}
			w.hw = hw
			if !w.logged && now.Sub(w.since) >= c.checkEvery() {
				w.logged = true
				c.log.Warn("kafka: partition waits behind an open transaction: the records behind it are not read until it is committed or aborted",
					"topic", c.cfg.Topic, "partition", p, "offset", w.at, "since", w.since.UTC().Format(time.RFC3339), "records_behind", hw-w.at)
			}
			c.waiting[p] = w
		}
	}
}

// dropWaiting forgets that partition p waits behind an open transaction,
// logging that it reads on when that wait was logged (attack run 28
// note: the problem was logged when it began, never when it cleared).
// The caller holds c.partsMu.
func (c *Consumer) dropWaiting(p int32) {
	if w, ok := c.waiting[p]; ok && w.logged {
		c.log.Info("kafka: partition no longer waits behind an open transaction", "topic", c.cfg.Topic, "partition", p, "offset", w.at,
			"waited", time.Since(w.since).Round(time.Second).String())
	}
	delete(c.waiting, p)
}

// forgetWaiting forgets that partition p waits behind an open
// transaction.
func (c *Consumer) forgetWaiting(p int32) {
	c.partsMu.Lock()
	c.dropWaiting(p)
	c.partsMu.Unlock()
}

// setStalled records partition p's stall at offset at, a /healthz
// problem, and logs it when it begins (attack run 25: a partition stuck
// behind a batch too large to fetch was on /healthz only, never in the
// log with what to do).
func (c *Consumer) setStalled(p int32, at int64, msg string) {
	c.partsMu.Lock()
	_, was := c.stalled[p]
	set := c.pos[p] == at
	if set {
		c.stalled[p] = msg
	}
	c.partsMu.Unlock()
	if set && !was {
		c.log.Error("kafka: partition stalled: "+msg, "topic", c.cfg.Topic, "partition", p, "offset", at)
	}
}

// clearStalled forgets a stall of partition p that checkProgress found,
// now that its position or its log's end says otherwise.
func (c *Consumer) clearStalled(p int32, at int64) {
	c.partsMu.Lock()
	msg, ok := c.stalled[p]
	cleared := ok && strings.Contains(msg, "has not moved")
	if cleared {
		delete(c.stalled, p)
	}
	c.partsMu.Unlock()
	if cleared {
		c.log.Info("kafka: partition moves again", "topic", c.cfg.Topic, "partition", p, "offset", at)
	}
}

// decodes tells whether the Kafka client reads every record of batch h:
// its compressed bytes inflate (under the consumer's bound), it claims a
// record count the client accepts, and each record it claims parses
// field by field (length, attributes, timestamp and offset deltas, key,
// value, headers) as the client parses it, at an offset inside the batch
// after the record before it. The client keeps the records before the
// first that does not parse and passes over the rest without a word
// (attack run 14: a record whose key length ran past its bytes was
// dropped while the length-only check said the batch decoded). A record
// at an offset past the batch's end moves the client's position past it
// (the records behind the batch up to there are passed over as already
// read: the error is a *pastBatchError); one at an offset before the
// batch or not after the record before it is dropped as already read
// (attack run 14 F7).
func (c *Consumer) decodes(h batchHeader) error {
	var rb kmsg.RecordBatch
	if err := rb.ReadFrom(h.raw); err != nil {
		return fmt.Errorf("the batch does not parse: %w", err)
	}
	if rb.Magic != 2 {
		return fmt.Errorf("the batch has magic %d, not 2", rb.Magic)
	}
	data := rb.Records
	if codec := kgo.CompressionCodecType(rb.Attributes & 7); codec != kgo.CodecNone {
		out, err := c.dec.inflate(data, codec)
		if err != nil {
			return err
		}
		data = out
	}
	reach, over, err := parseRecords(data, rb.NumRecords, rb.LastOffsetDelta)
	if to := rb.FirstOffset + int64(reach) + 1; err != nil && reach > rb.LastOffsetDelta {
		return &pastBatchError{err: err, to: to, over: over}
	}
	return err
}

// pastBatchError is why a batch holding a record at an offset past its
// end is bad: the client moves its position to `to`, passing over the
// records of the batches behind it up to there.
type pastBatchError struct {
	err error
	to  int64
	// over is how many of the batch's records the client reads at
	// offsets past its end.
	over int
}

func (e *pastBatchError) Error() string { return e.err.Error() }

// parseRecords parses the records of a batch claiming n of them, whose
// offset deltas must run up from 0 to at most lastDelta, as the client
// does (kgo's readRawRecordsDirect, with kbin's readers), and says why not
// all of them can be read. reach is the largest offset delta of the
// records parsed (-1 when none): the client's position moves past it;
// over is how many of them the client reads at offsets past lastDelta.
func parseRecords(data []byte, n, lastDelta int32) (reach int32, over int, err error) {
	reach = -1
	claimed := int(n)
	switch {
	case claimed < 0:
		return reach, over, fmt.Errorf("the batch claims %d records", n)
	case claimed > len(data) && len(data) == 0:
		return reach, over, fmt.Errorf("the batch claims %d records and holds no record bytes", n)
	case claimed > len(data):
		claimed = len(data) // as the client bounds it
	}
	var misplaced error
	for i := range claimed {
		length, used := kbin.Varint(data)
		total := used + int(length)
		if used <= 0 || length < 0 || len(data) < total {
			return reach, over, cmp.Or(misplaced, fmt.Errorf("record %d of %d does not decode: its length is cut short", i+1, n))
		}
		b := kbin.Reader{Src: data[used:total]}
		b.Int8()    // attributes
		b.Varlong() // timestamp delta
		delta := b.Varint()
		b.VarintBytes()
		b.VarintBytes()
		if nh := int(b.VarintArrayLen()); nh > 0 {
			for range nh {
				b.VarintString()
				b.VarintBytes()
			}
		}
		if !b.Ok() {
			return reach, over, cmp.Or(misplaced, fmt.Errorf("record %d of %d does not decode: its fields run past its %d bytes", i+1, n, length))
		}
		switch {
		case misplaced != nil:
		case delta < 0 || delta > lastDelta:
			misplaced = fmt.Errorf("record %d of %d is at offset delta %d, outside its batch's 0..%d", i+1, n, delta, lastDelta)
		case delta <= reach:
			misplaced = fmt.Errorf("record %d of %d is at offset delta %d, not after the record before it (at %d)", i+1, n, delta, reach)
		}
		if delta > reach && delta > lastDelta {
			over++
		}
		reach = max(reach, delta)
		data = data[total:]
	}
	return reach, over, misplaced
}
