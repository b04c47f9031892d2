package kafka

import (
	"context"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/normguard/normguard/internal/errtext"
)

// A partition resumes from the group's committed offset when it is past
// the state's position: another replica of the group read the records
// between them into its own windows. A state restored from a backup
// holds an older position too, and resumed there passed over, without a
// word, the records it had itself counted since the backup (attack run 31
// F5): its windows lost them with the rest of the disk. Each commit of
// the consumer's offsets therefore carries, as its metadata, the identity
// of the state file that counted them (monitor.Monitor.StoreID, kept in
// the file: a backup holds the same), and the partition's custody
// (custody.go): at assignment the offsets between the state's position
// and the group's are split by it, those this state counted read again
// and those another counted passed over. A commit without custody (an
// earlier normguard's) tells the cases apart by its metadata:
//
//   - this state's own identity: the state is an older copy of itself;
//     the records between its position and the group's offset are not in
//     its windows, and are read again from its position (logged);
//   - another state's: another replica counted them; resumed at the
//     group's offset as before (logged once, at info);
//   - none (kafka-consumer-groups.sh --reset-offsets: the group moved by
//     hand, past a batch that cannot be read, say): resumed at the
//     group's offset, logged;
//   - other metadata (an earlier normguard's commit names its member id,
//     as franz-go does): which it is cannot be told; resumed at the
//     group's offset, logged and a /healthz problem for RecreatedNotice
//     naming the offsets passed over.

// commitMetaPrefix starts the metadata of the consumer's offset commits;
// the state's identity follows.
const commitMetaPrefix = "normguard-store:"

// commitCtx returns ctx with the consumer's commit metadata, naming its
// state file and the partition's custody (custody.go), set on every
// partition of the commits made with it. A partition reading again below
// the group's offset it was assigned at (floor: offsets this state counted
// before, lost with its windows) commits that offset until it is past it:
// the offsets from there on are counted (by this state or another), and
// a replica given the partition meanwhile must not read them again.
func (c *Consumer) commitCtx(ctx context.Context) context.Context {
	if c.storeID == "" {
		return ctx
	}
	return kgo.PreCommitFnContext(ctx, func(req *kmsg.OffsetCommitRequest) error {
		c.partsMu.Lock()
		defer c.partsMu.Unlock()
		for i := range req.Topics {
			for j := range req.Topics[i].Partitions {
				cp := &req.Topics[i].Partitions[j]
				hist := c.custody[cp.Partition]
				if hist == nil {
					// Assigned without a custody (a start the client looked
					// up): this state counts from the offset committed.
					hist = takeOver(nil, c.storeID, cp.Offset)
					c.custody[cp.Partition] = hist
				}
				owed := c.owed[cp.Partition]
				if f, ok := c.floor[cp.Partition]; ok && cp.Offset < f {
					// Said in the commit: a replica given the partition
					// before this one is past f reads on from f, and
					// reports the offsets owed (attack run 34 F2).
					owed = &owing{store: c.storeID, from: cp.Offset}
					cp.Offset, cp.LeaderEpoch = f, -1
				}
				meta := formatCustody(hist, owed)
				cp.Metadata = &meta
			}
		}
		return nil
	})
}

// setCustody sets partition p's custody to the group's commit's (its
// metadata as fetched) with this state taking the partition over at at.
// A damaged custody is not kept (its entries are not committed again:
// attack run 34 F3), said at warn.
func (c *Consumer) setCustody(p int32, at int64) {
	c.partsMu.Lock()
	meta := c.commitMeta[p]
	m := parseCustody(meta)
	c.custody[p] = takeOver(m.hist, c.storeID, at)
	c.partsMu.Unlock()
	if m.damaged != "" {
		c.log.Warn(fmt.Sprintf("kafka: partition %d: the group's commit carries a custody that is not a normguard's (%s), metadata %s: it is not kept; this state's commits carry its own from offset %d", p, m.damaged, errtext.Quote(meta), at),
			"topic", c.cfg.Topic, "group", c.cfg.Group)
	}
}

// noteOwed reports, for partition p assigned with the group's offset
// group, the offsets the group's commit says a state was reading again
// below it (owedMark) that this replica does not read: not in that
// state's windows, nor in any replica's until that state is given the
// partition again (attack run 34 F2). Logged and a /healthz problem; the
// mark is kept in this replica's commits.
func (c *Consumer) noteOwed(p int32, group int64) {
	c.partsMu.Lock()
	m := parseCustody(c.commitMeta[p])
	c.partsMu.Unlock()
	if m.owed == nil || m.hist == nil || m.owed.store == c.storeID || c.storeID == "" {
		return
	}
	s := splitCustody(m.hist, m.owed.store, m.owed.from, group)
	if len(s.mine) == 0 {
		return
	}
	now := time.Now()
	msg := fmt.Sprintf("topic %s partition %d: offsets %s are counted by no replica of the group (found at %s): the replica whose state file is store %s, restored from a backup, was reading them again below the group's offset %d when it lost the partition, and this replica reads on from the group's offset. They are read when that replica is given the partition again: stop this replica (or the others) while it runs",
		c.cfg.Topic, p, joinRanges(s.mine), now.UTC().Format(time.RFC3339), m.owed.store, group)
	c.log.Warn("kafka: "+msg, "topic", c.cfg.Topic, "partition", p)
	c.partsMu.Lock()
	c.owed[p] = m.owed
	c.skipped[p] = notice{msg: msg, at: now}
	c.partsMu.Unlock()
}

// offsetsFetched keeps the metadata of the group's committed offsets of
// the topic, by partition, for resume (kgo calls it just before).
func (c *Consumer) offsetsFetched(_ context.Context, _ *kgo.Client, resp *kmsg.OffsetFetchResponse) error {
	meta := map[int32]string{}
	keep := func(topic string, p int32, m *string) {
		if topic == c.cfg.Topic && m != nil {
			meta[p] = *m
		}
	}
	for _, t := range resp.Topics {
		for _, p := range t.Partitions {
			keep(t.Topic, p.Partition, p.Metadata)
		}
	}
	for _, g := range resp.Groups {
		if g.Group != c.cfg.Group {
			continue
		}
		for _, t := range g.Topics {
			for _, p := range t.Partitions {
				keep(t.Topic, p.Partition, p.Metadata)
			}
		}
	}
	c.partsMu.Lock()
	c.commitMeta = meta
	c.partsMu.Unlock()
	return nil
}

// groupAhead decides where partition p resumes when the group's committed
// offset group is past the state's position held, from the commit's
// metadata (see above), and reports it. It sets the partition's custody,
// and the offsets to pass over while reading up to group (skips).
func (c *Consumer) groupAhead(p int32, held, group int64) int64 {
	c.partsMu.Lock()
	meta, ok := c.commitMeta[p]
	c.partsMu.Unlock()
	m := parseCustody(meta)
	by, hist, ours := m.by, m.hist, m.ours
	if hist != nil && c.storeID != "" {
		return c.byCustody(p, held, group, by, hist)
	}
	switch {
	case m.damaged != "":
		// Not a normguard's custody, nor an earlier normguard's identity
		// alone: who counted the offsets cannot be told from it (attack
		// run 34 F4), below.

	case ours && c.storeID != "" && by == c.storeID:
		c.log.Warn(fmt.Sprintf("kafka: partition %d: the group's offset %d was committed by this state file (store %s), whose position is %d: the state is an older copy of itself (restored from a backup?) and its windows do not hold offsets %d..%d, which are read again from %d",
			p, group, by, held, held, group-1, held), "topic", c.cfg.Topic, "group", c.cfg.Group)
		c.setCustody(p, held)
		c.partsMu.Lock()
		c.floor[p] = group
		c.partsMu.Unlock()
		return held
	case ours:
		c.log.Info(fmt.Sprintf("kafka: partition %d: offsets %d..%d were counted by another replica of the group (state store %s), into its windows; resumed at the group's offset %d", p, held, group-1, by, group),
			"topic", c.cfg.Topic, "group", c.cfg.Group)
		c.setCustody(p, group)
		return group
	}
	c.setCustody(p, group)
	if !ok || meta == "" {
		// What kafka-consumer-groups.sh --reset-offsets commits: the group
		// moved by hand (past a batch that cannot be read, say).
		c.log.Warn(fmt.Sprintf("kafka: partition %d: the group's offset %d is past this state's position %d and was committed without metadata, as kafka-consumer-groups.sh --reset-offsets commits: offsets %d..%d are passed over, not read here", p, group, held, held, group-1),
			"topic", c.cfg.Topic, "group", c.cfg.Group)
		return group
	}
	now := time.Now()
	what := "(an earlier normguard's member id, or another consumer's)"
	if m.damaged != "" {
		what = fmt.Sprintf("whose custody is not a normguard's (%s)", m.damaged)
	}
	msg := fmt.Sprintf("topic %s partition %d: the group %s's offset %d is past this state's position %d and was committed with metadata %s %s, so it cannot be told who counted offsets %d..%d (found at %s): they are counted by another replica of the group, or by no one if this state is a restored copy; they are not read here. To read them into this state, stop serve and move the group to %d (kafka-consumer-groups.sh --reset-offsets --to-offset %d)",
		c.cfg.Topic, p, c.cfg.Group, group, held, errtext.Quote(meta), what, held, group-1, now.UTC().Format(time.RFC3339), held, held)
	c.log.Warn("kafka: "+msg, "topic", c.cfg.Topic, "partition", p)
	c.partsMu.Lock()
	c.skipped[p] = notice{msg: msg, at: now}
	c.partsMu.Unlock()
	return group
}

// byCustody decides, from the custody of the group's commit (hist, by the
// state by), where partition p resumes when the group's offset group is
// past the state's position held: the offsets this state counted since
// are read again, those another state counted are passed over (skips),
// and those older than the custody kept cannot be told apart: not read,
// logged and a /healthz problem. It returns where the partition resumes.
func (c *Consumer) byCustody(p int32, held, group int64, by string, hist []custodyEntry) int64 {
	s := splitCustody(hist, c.storeID, held, group)
	var skips []offRange
	if s.unknown.from < s.unknown.to {
		skips = append(skips, s.unknown)
	}
	skips = append(skips, s.others...)
	c.partsMu.Lock()
	c.custody[p] = takeOver(hist, c.storeID, group)
	c.skips[p] = skips
	c.floor[p] = group
	c.partsMu.Unlock()
	attrs := []any{"topic", c.cfg.Topic, "group", c.cfg.Group}
	if len(s.mine) > 0 {
		who := fmt.Sprintf("this state file (store %s), whose position is %d, and", c.storeID, held)
		if by != c.storeID {
			who = fmt.Sprintf("another replica's state file (store %s); this state file (store %s), whose position is %d,", by, c.storeID, held)
		}
		c.log.Warn(fmt.Sprintf("kafka: partition %d: the group's offset %d was committed by %s counted offsets %s since, by the custody the group's commits keep: the state is an older copy of itself (restored from a backup?) whose windows do not hold them; they are read again from %d",
			p, group, who, joinRanges(s.mine), s.mine[0].from), attrs...)
	}
	for _, r := range s.others {
		c.log.Info(fmt.Sprintf("kafka: partition %d: offsets %s were counted by another replica of the group (state store %s), into its windows; they are not read again", p, r, s.by[r]), attrs...)
	}
	if s.unknown.from < s.unknown.to {
		now := time.Now()
		msg := fmt.Sprintf("topic %s partition %d: the group %s's offset %d is past this state's position %d, and the custody its commits keep (the last %d hand-overs) begins at offset %d, so it cannot be told who counted offsets %s (found at %s): another replica of the group, or no one if this state is a restored copy; they are not read here",
			c.cfg.Topic, p, c.cfg.Group, group, held, maxCustody, hist[0].from, s.unknown, now.UTC().Format(time.RFC3339))
		c.log.Warn("kafka: "+msg, "topic", c.cfg.Topic, "partition", p)
		c.partsMu.Lock()
		c.skipped[p] = notice{msg: msg, at: now}
		c.partsMu.Unlock()
	}
	return skipFrom(held, skips)
}

// custodyStart returns, for partition p the state holds no position for,
// where the custody of the group's commit (at offset group) first gives
// offsets below group to this state, if it does: a state restored from a
// backup taken before it was given the partition counted them since, and
// its windows do not hold them (attack run 34 F6). The partition then
// resumes as one held at that offset: this state's ranges are read again,
// others' passed over (byCustody).
func (c *Consumer) custodyStart(p int32, group int64) (int64, bool) {
	if group < 0 || c.storeID == "" {
		return 0, false
	}
	c.partsMu.Lock()
	m := parseCustody(c.commitMeta[p])
	c.partsMu.Unlock()
	for _, e := range m.hist {
		if e.store == c.storeID && e.from < group {
			return e.from, true
		}
	}
	return 0, false
}
