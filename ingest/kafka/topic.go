package kafka

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/normguard/normguard/monitor"
)

// A topic deleted and created again under its name (attack run 17 F2,
// F3) starts its offsets from 0 under a new topic ID. The positions the
// state holds belong to the old topic: applied to the new one they
// passed over its records below them without a word. The state keeps,
// beside the positions, the ID of the topic they were read from (under
// a source of its own, idSource, as four 32-bit "offsets": the monitor
// keeps non-negative offsets by source and partition only). At each
// assignment the topic's current ID is compared with it: a different
// one means the topic was recreated, and it is read from its start. A
// state written before IDs were kept holds none: the current ID is
// adopted. While serve runs, the client fails a recreated topic with
// UNKNOWN_TOPIC_ID for ever (it does not adopt the new ID): the consumer
// looks the topic up, reports it missing while it is, and purges and
// re-adds a recreated one, whose partitions then resume as above.

// idSource is the source under which the state keeps the topic's ID. A
// topic name holds no '#', so no consumer's Source ends so.
func (c *Consumer) idSource() string { return c.source + "#topic-id" }

type topicID [16]byte

func (id topicID) String() string { return hex.EncodeToString(id[:]) }

// idOffsets returns id as the offsets kept under idSource.
func (c *Consumer) idOffsets(id topicID) []monitor.Offset {
	out := make([]monitor.Offset, 4)
	for i := range out {
		out[i] = monitor.Offset{Source: c.idSource(), Partition: int32(i), Next: int64(binary.BigEndian.Uint32(id[4*i:]))}
	}
	return out
}

// storedID returns the topic ID the state keeps, zero when none.
func (c *Consumer) storedID() (topicID, error) {
	return storedTopicID(c.cfg.Monitor, c.idSource())
}

// storedTopicID returns the topic ID mon keeps under the ID source
// idSource, zero when none.
func storedTopicID(mon *monitor.Monitor, idSource string) (topicID, error) {
	held, err := mon.Offsets(idSource)
	if err != nil {
		return topicID{}, err
	}
	var id topicID
	if len(held) != 4 {
		return id, nil
	}
	for i := range int32(4) {
		v, ok := held[i]
		if !ok || v < 0 || v > 1<<32-1 {
			return topicID{}, nil
		}
		binary.BigEndian.PutUint32(id[4*i:], uint32(v))
	}
	return id, nil
}

// topicMeta looks up the topic: whether it exists, its ID (zero when the
// broker does not say: Kafka before 2.8) and each partition's leader.
func (c *Consumer) topicMeta(ctx context.Context) (exists bool, id topicID, leaders map[int32]int32, err error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	select {
	case <-c.clSet: // resume may run before New returns
	case <-ctx.Done():
		return false, id, nil, ctx.Err()
	}
	topic := c.cfg.Topic
	meta := kmsg.NewPtrMetadataRequest()
	mt := kmsg.NewMetadataRequestTopic()
	mt.Topic = kmsg.StringPtr(topic)
	meta.Topics = append(meta.Topics, mt)
	mresp, err := meta.RequestWith(ctx, c.side)
	if err != nil {
		return false, id, nil, fmt.Errorf("metadata: %w", err)
	}
	for _, t := range mresp.Topics {
		if t.Topic == nil || *t.Topic != topic {
			continue
		}
		if err := kerr.ErrorForCode(t.ErrorCode); err != nil {
			if errors.Is(err, kerr.UnknownTopicOrPartition) || errors.Is(err, kerr.UnknownTopicID) {
				return false, id, nil, nil
			}
			return false, id, nil, fmt.Errorf("metadata: %w", err)
		}
		leaders = map[int32]int32{}
		for _, tp := range t.Partitions {
			leaders[tp.Partition] = tp.Leader
		}
		return true, t.TopicID, leaders, nil
	}
	return false, id, nil, nil
}

// resumeID compares the topic's current ID with the one the state keeps,
// before partitions resume: it returns whether the state's positions
// hold for the topic as it is (false: the topic was recreated and none
// of them do) and whether that was verified by the IDs (false: no ID
// could be had, or the state had none and the current one was adopted).
func (c *Consumer) resumeID(ctx context.Context) (valid, verified bool, err error) {
	stored, err := c.storedID()
	if err != nil {
		return false, false, err
	}
	exists, cur, _, merr := c.topicMeta(ctx)
	switch {
	case merr != nil || !exists || cur == (topicID{}):
		if merr != nil {
			c.log.Warn("kafka: looking up the topic's ID", "topic", c.cfg.Topic, "err", merr)
		}
		return true, false, nil
	case stored == (topicID{}):
		// A state written before IDs were kept (or a new one): adopted.
		if _, err := c.cfg.Monitor.ObserveAt(context.WithoutCancel(ctx), nil, c.idOffsets(cur)); err != nil {
			return false, false, fmt.Errorf("kafka: storing the topic's ID: %w", err)
		}
		c.setID(cur)
		c.partsMu.Lock()
		c.adopted = true
		c.partsMu.Unlock()
		return true, false, nil
	case stored == cur:
		c.setID(cur)
		return true, true, nil
	}
	msg := fmt.Sprintf("topic %s was deleted and created again (its ID is now %s; the positions the state held were read from %s, which is gone) at %s: the new topic is read from its start (or from where the group committed in it), none of its records having been counted. Nothing to do if it was recreated on purpose (this problem clears %v after it was found); if not, check who deleted it: the old topic's records not read before are gone",
		c.cfg.Topic, cur, stored, time.Now().UTC().Format(time.RFC3339), RecreatedNotice)
	c.log.Error("kafka: " + msg)
	c.partsMu.Lock()
	c.recreated = msg
	c.recreatedAt = time.Now()
	c.partsMu.Unlock()
	c.setID(cur)
	return false, true, nil
}

func (c *Consumer) setID(id topicID) {
	c.partsMu.Lock()
	c.topicID = id
	c.partsMu.Unlock()
}

// storeRecreated writes the new topic's ID into the state with the
// positions its partitions start from (starts, the partitions assigned)
// and 0 for every other partition the state holds (the old topic's, of
// partitions another replica reads: on assignment the group's offset
// covers them), in one transaction: the old positions are never applied
// to the new topic again.
func (c *Consumer) storeRecreated(ctx context.Context, held map[int32]int64, starts map[int32]int64) error {
	id := func() topicID {
		c.partsMu.Lock()
		defer c.partsMu.Unlock()
		return c.topicID
	}()
	offs := c.idOffsets(id)
	// A --state-recover reading the windows' offset ranges (the old
	// topic's, some of them) warns about positions it moves past them
	// (attack run 19 F3).
	offs = append(offs, monitor.Offset{Source: c.source + monitor.RecreatedTag, Partition: 0, Next: time.Now().Unix()})
	for _, p := range slices.Sorted(maps.Keys(held)) {
		next, ok := starts[p]
		if !ok {
			next = 0
		}
		offs = append(offs, monitor.Offset{Source: c.source, Partition: p, Next: next})
	}
	for p, next := range starts {
		if _, ok := held[p]; !ok {
			offs = append(offs, monitor.Offset{Source: c.source, Partition: p, Next: next})
		}
	}
	if _, err := c.cfg.Monitor.ObserveAt(context.WithoutCancel(ctx), nil, offs); err != nil {
		return fmt.Errorf("kafka: storing the recreated topic's ID and positions: %w", err)
	}
	return nil
}

// checkBelowEnd reports the partitions (of parts, at the state's
// positions held) whose log ends below the position the state holds,
// when the topic's ID could not verify the positions: the topic was
// recreated, or the broker lost records. Records below the position are
// not read, so it stays a problem (Stats.Behind) until the partition is
// revoked or serve restarts.
func (c *Consumer) checkBelowEnd(ctx context.Context, parts map[int32]int64) {
	if len(parts) == 0 {
		return
	}
	ps := slices.Sorted(maps.Keys(parts))
	ends, err := c.listOffsetsAt(ctx, c.cfg.Topic, ps, -1, false)
	if err != nil {
		c.log.Warn("kafka: looking up where partitions end", "topic", c.cfg.Topic, "err", err)
	}
	for _, p := range ps {
		end, ok := ends[p]
		if !ok || end >= parts[p] {
			continue
		}
		msg := fmt.Sprintf("partition %d: its log ends at %d, below the position %d the state holds for it, and the topic's ID could not tell whether it is the topic that position was read from: the topic was deleted and created again, or the broker lost records. Records below %d are not read; to read a recreated topic from its start, restart serve with a new --kafka-group and --kafka-new-group",
			p, end, parts[p], parts[p])
		c.log.Error("kafka: "+msg, "topic", c.cfg.Topic)
		c.partsMu.Lock()
		if c.assigned[p] {
			c.behind[p] = msg
		}
		c.partsMu.Unlock()
	}
}

// checkUncommitted reports the partitions (of parts, at the state's
// positions) the group holds no committed offset for, when the state
// kept no topic ID and the current one was just adopted: Kafka drops a
// deleted topic's committed offsets, so the topic may have been deleted
// and created again while serve was stopped (its records below the
// position are then not read, and the log's end may well be past it:
// checkBelowEnd does not see it), or the group's offsets expired (attack
// run 19 F5). A problem (Stats.Behind) until the partition is revoked or
// serve restarts.
func (c *Consumer) checkUncommitted(parts map[int32]int64) {
	for _, p := range slices.Sorted(maps.Keys(parts)) {
		msg := fmt.Sprintf("partition %d: the state holds the position %d for it but the group holds no committed offset, and the state kept no topic ID to tell whether the topic is the one that position was read from (a state written before topic IDs were kept): the topic was deleted and created again while serve was stopped, or the group's offsets expired. If it was recreated, its records below %d are not read: restart serve with a new --kafka-group and --kafka-new-group to read it from its start",
			p, parts[p], parts[p])
		c.partsMu.Lock()
		if _, ok := c.behind[p]; ok {
			c.partsMu.Unlock()
			continue // its log ends below the position: reported so
		}
		if c.assigned[p] {
			c.behind[p] = msg
		}
		c.partsMu.Unlock()
		c.log.Error("kafka: "+msg, "topic", c.cfg.Topic)
	}
}

// topicCheckEvery is how often, at most, the consumer looks the topic
// up while the client reports it unknown (a variable for tests).
var topicCheckEvery = 2 * time.Second

// checkTopic looks the topic up after the client failed it as unknown
// (deleted, or recreated under a new ID the client does not adopt). A
// missing topic is a problem (Stats.Missing) until it exists again; a
// recreated one is purged from the client and added back (Run does it
// between polls), and its partitions resume from its start (resume).
//
// With unknownID (the client failed fetches with UNKNOWN_TOPIC_ID this
// poll) an existing topic is re-added too, at most once per readdEvery,
// whatever ID the consumer holds: resume may have found and stored the
// new ID first (an assignment reaching it before this check), while the
// client still holds the old one and fails the topic for ever (attack
// run 19 F1). The client's failures, not which path saw the ID first,
// decide.
func (c *Consumer) checkTopic(ctx context.Context, unknownID bool) (readd bool) {
	exists, id, _, err := c.topicMeta(ctx)
	if err != nil {
		// Every topic check while no broker answers: rate-limited.
		if n, ok := c.clientLogDue("looking up the topic", nil); ok {
			c.log.Warn("kafka: looking up the topic", "topic", c.cfg.Topic, "err", err, "count", n)
		}
		return false
	}
	c.partsMu.Lock()
	defer c.partsMu.Unlock()
	if !exists {
		if c.missing == "" {
			c.missing = fmt.Sprintf("topic %s does not exist (deleted? or --kafka-topic misspelt?) since %s: nothing is read from it. Create it (again, if it was deleted: it is then read from its start) or point serve at another --kafka-topic",
				c.cfg.Topic, time.Now().UTC().Format(time.RFC3339))
			c.log.Error("kafka: " + c.missing)
		}
		return false
	}
	if c.missing != "" {
		c.log.Warn("kafka: topic exists again", "topic", c.cfg.Topic, "id", id.String())
	}
	c.missing = ""
	if id != (topicID{}) && id != c.topicID {
		return true
	}
	return unknownID && time.Since(c.readdAt) >= readdEvery
}

// readdEvery is how often, at most, the topic is purged from the client
// and added back while the client fails it with UNKNOWN_TOPIC_ID and the
// consumer's ID is the topic's (a variable for tests).
var readdEvery = 10 * time.Second

// stuckAfter is how long the client fails a partition's fetches with
// UNKNOWN_TOPIC_ID before it is a problem (Stats.Stuck), and stuckFresh
// how recent the last failure must be (variables for tests).
var (
	stuckAfter = 3 * time.Second
	stuckFresh = 15 * time.Second
)

// idFail is since when, and when last, the client failed a partition's
// fetches with UNKNOWN_TOPIC_ID.
type idFail struct{ since, last time.Time }

// failedID notes that the client failed partition p's fetch with
// UNKNOWN_TOPIC_ID.
func (c *Consumer) failedID(p int32) {
	now := time.Now()
	c.partsMu.Lock()
	defer c.partsMu.Unlock()
	if !c.assigned[p] {
		return
	}
	f, ok := c.noTopicID[p]
	if !ok || now.Sub(f.last) >= stuckFresh {
		f.since = now
	}
	f.last = now
	c.noTopicID[p] = f
}

// readFrom forgets the UNKNOWN_TOPIC_ID failures of partitions the poll
// brought records of, and that the topic was missing.
func (c *Consumer) readFrom(fetches kgo.Fetches) {
	c.partsMu.Lock()
	defer c.partsMu.Unlock()
	if len(c.noTopicID) == 0 && c.missing == "" {
		return
	}
	fetches.EachPartition(func(ftp kgo.FetchTopicPartition) {
		if ftp.Topic == c.cfg.Topic && ftp.Err == nil && len(ftp.Records) > 0 {
			delete(c.noTopicID, ftp.Partition)
			if c.missing != "" {
				c.log.Warn("kafka: topic exists again", "topic", c.cfg.Topic)
				c.missing = ""
			}
		}
	})
}

// stuckProblems returns the partitions the client has failed with
// UNKNOWN_TOPIC_ID for stuckAfter, with what it means; c.partsMu held.
// A missing topic is a problem of its own (Stats.Missing).
func (c *Consumer) stuckProblems() map[int32]string {
	if c.missing != "" || len(c.noTopicID) == 0 {
		return nil
	}
	now := time.Now()
	var out map[int32]string
	for p, f := range c.noTopicID {
		if now.Sub(f.since) < stuckAfter || now.Sub(f.last) >= stuckFresh {
			continue
		}
		if out == nil {
			out = map[int32]string{}
		}
		out[p] = fmt.Sprintf("partition %d is not read since %s: the Kafka client fails its fetches with UNKNOWN_TOPIC_ID (the topic %s was deleted and created again and the client holds its old ID); the consumer purges the topic from the client and adds it back every %v while this lasts: if it stays, restart serve",
			p, f.since.UTC().Format(time.RFC3339), c.cfg.Topic, readdEvery)
	}
	return out
}

// idleTopicCheckEvery is how often, at most, the consumer looks the
// topic up while none of its partitions is assigned (a variable for
// tests).
var idleTopicCheckEvery = 10 * time.Second

func (c *Consumer) noneAssigned() bool {
	c.partsMu.Lock()
	defer c.partsMu.Unlock()
	return len(c.assigned) == 0
}

func (c *Consumer) isMissing() bool {
	c.partsMu.Lock()
	defer c.partsMu.Unlock()
	return c.missing != ""
}

// readd purges the topic from the group client and adds it back, so that
// the client takes its new ID and the group assigns its partitions again.
func (c *Consumer) readd() {
	c.log.Warn("kafka: the topic was recreated (or the client fails it with UNKNOWN_TOPIC_ID): it is purged from the Kafka client and added back", "topic", c.cfg.Topic)
	c.partsMu.Lock()
	c.readdAt = time.Now()
	c.partsMu.Unlock()
	c.cl.PurgeTopicsFromClient(c.cfg.Topic)
	c.cl.AddConsumeTopics(c.cfg.Topic)
}

// fetchErrorLogEvery bounds how often one kind of fetch error of a
// partition is logged (a variable for tests).
var fetchErrorLogEvery = 30 * time.Second

// fetchErrLog is when a kind of fetch error of a partition was last
// logged, and how often it came since.
type fetchErrLog struct {
	at    time.Time
	count int64
}

// logFetchError logs a fetch error at most once per fetchErrorLogEvery
// for its kind and partition, with how many came since the last line (a
// deleted topic failed every fetch: 9,000 lines a second, attack run 17
// F2).
func (c *Consumer) logFetchError(topic string, p int32, err error) {
	kind := err.Error()
	var ke *kerr.Error
	if errors.As(err, &ke) {
		kind = ke.Message
	}
	key := fmt.Sprintf("%s\x00%d\x00%s", topic, p, kind)
	now := time.Now()
	c.fetchErrMu.Lock()
	l := c.fetchErrs[key]
	if l == nil {
		l = &fetchErrLog{}
		c.fetchErrs[key] = l
	}
	l.count++
	if !l.at.IsZero() && now.Sub(l.at) < fetchErrorLogEvery {
		c.fetchErrMu.Unlock()
		return
	}
	n := l.count
	l.at, l.count = now, 0
	c.fetchErrMu.Unlock()
	args := []any{"topic", topic, "partition", p}
	switch {
	case topic == "" && p < 0:
		// The fetch failed whole (the answer refused, the connection
		// lost): the client names no partition (attack run 23 F6:
		// topic="" partition=-1).
		args = []any{"topic", c.cfg.Topic, "partitions", c.assignedList(), "scope", "a whole fetch failed, naming no partition: those of the partitions listed (this replica's) that it asked for got nothing"}
	case topic == "":
		// The client's own error (joining the group, say), not a
		// partition's.
		args = []any{"topic", c.cfg.Topic, "partitions", c.assignedList(), "scope", "the client's error, not one partition's"}
	}
	c.log.Warn("kafka: fetch error", append(args, "err", err, "count", n,
		"note", fmt.Sprintf("logged at most once per %v per error and partition; count is how many since the last line", fetchErrorLogEvery))...)
}
