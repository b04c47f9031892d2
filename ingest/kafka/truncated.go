package kafka

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/normguard/normguard/monitor"
)

// A broker that lost the tail of a partition but kept the topic (an
// unclean leader election, a broker restored from an older disk) ends
// the partition's log below the position the consumer reached, under the
// same topic ID. Producers then write new records at offsets the
// consumer counted before the loss. Resumed at its position, the
// consumer passed those new records over without a word (attack run 31
// F1). At each assignment the log's end is compared with the position,
// and while serve runs a client reset below the position looks the end
// up (a log refilled past the position is epoch.go's to find). An end
// below the position resumes the partition at the end (records from
// there on are new), stored in the state at once and committed to the
// group, logged, counted (normguard_kafka_lost_offsets_total) and a
// /healthz problem for RecreatedNotice naming the offsets lost.

// notice is a problem of a partition found at a time, a /healthz problem
// for RecreatedNotice: its log found ending below the consumer's position
// (truncated), or offsets passed over that no commit says who counted
// (skipped, committer.go).
type notice struct {
	msg string
	at  time.Time
}

// checkTruncated looks up where the partitions (parts, at their
// positions) end and returns those ending below their position, with
// the end to resume from, each stored in the state as its position and
// reported (noteTruncated). A partition reading again below the group's
// offset (reach: its custody, committer.go) whose log ends between its
// position and that offset goes on reading where it is, up to the end,
// and from there on reads every record (the skips past the end named
// offsets lost; attack run 34 F1): reported as a loss of the offsets from
// the end to the group's (noteTruncatedBelowGroup). A failed look-up is
// logged and leaves the positions as they are; a state that cannot store
// the new position is an error.
func (c *Consumer) checkTruncated(ctx context.Context, parts, reach map[int32]int64) (map[int32]int64, error) {
	if len(parts) == 0 {
		return nil, nil
	}
	ps := slices.Sorted(maps.Keys(parts))
	ends, err := c.listOffsetsAt(ctx, c.cfg.Topic, ps, -1, false)
	if err != nil {
		c.log.Warn("kafka: looking up where partitions end, to find records the broker lost", "topic", c.cfg.Topic, "partitions", ps, "err", err)
	}
	lost := map[int32]int64{}
	var offs []monitor.Offset
	cut := map[int32]int64{}
	for _, p := range ps {
		end, ok := ends[p]
		switch {
		case ok && end < parts[p]:
			lost[p] = end
			offs = append(offs, monitor.Offset{Source: c.source, Partition: p, Next: end})
		case ok && end < reach[p]:
			c.cutCustody(p, end)
			c.noteTruncatedBelowGroup(p, parts[p], reach[p], end)
			cut[p] = parts[p]
		}
	}
	if len(cut) > 0 {
		// The group's offset goes back to the end at once (commitCtx):
		// another replica given the partition reads the new records.
		c.queueStarts(cut)
	}
	if len(offs) == 0 {
		return nil, nil
	}
	// Stored at once: resumed at the old position after a restart, the
	// records written there again since would be passed over.
	if _, err := c.cfg.Monitor.ObserveAt(context.WithoutCancel(ctx), nil, offs); err != nil {
		return nil, fmt.Errorf("kafka: storing the positions of partitions whose log ends below them: %w", err)
	}
	for _, p := range ps {
		if end, ok := lost[p]; ok {
			c.restartCustody(p, end)
			c.noteTruncated(p, parts[p], end, "when the partition was assigned")
		}
	}
	return lost, nil
}

// restartCustody has this state take partition p over at end, where its
// log now ends: the hand-overs past it name offsets the broker lost, and
// nothing is passed over or kept committed from there on.
func (c *Consumer) restartCustody(p int32, end int64) {
	c.partsMu.Lock()
	defer c.partsMu.Unlock()
	c.custody[p] = takeOver(c.custody[p], c.storeID, end)
	delete(c.skips, p)
	delete(c.floor, p)
	delete(c.owed, p)
}

// cutCustody has partition p, reading again below the group's offset,
// end where its log now ends: this state takes the partition over at end,
// offsets another counted are passed over below end only, and the group's
// offset committed meanwhile is end.
func (c *Consumer) cutCustody(p int32, end int64) {
	c.partsMu.Lock()
	defer c.partsMu.Unlock()
	c.custody[p] = takeOver(c.custody[p], c.storeID, end)
	var skips []offRange
	for _, s := range c.skips[p] {
		if s.from < end {
			skips = append(skips, offRange{s.from, min(s.to, end)})
		}
	}
	c.skips[p] = skips
	if f, ok := c.floor[p]; ok && f > end {
		c.floor[p] = end
	}
	if o := c.owed[p]; o != nil && o.from >= end {
		delete(c.owed, p)
	}
}

// noteTruncatedBelowGroup reports that partition p's log ends at end,
// below the group's offset group and at or past the position pos this
// state reads again from: logged, counted and a problem.
func (c *Consumer) noteTruncatedBelowGroup(p int32, pos, group, end int64) {
	now := time.Now()
	msg := fmt.Sprintf("topic %s partition %d: the log ends at %d, below the group's offset %d, and the topic's ID is unchanged (found when the partition was assigned, at %s): the broker lost offsets %d..%d that the group's commits say were counted, by this state or another replica (an unclean leader election, or a broker restored from an older disk); this state reads again from %d what it counted below %d, and records written there again are read, from offset %d on",
		c.cfg.Topic, p, end, group, now.UTC().Format(time.RFC3339), end, group-1, pos, end, end)
	c.noteLost(p, msg, group-end, now, "position", pos, "group_offset", group, "log_end", end)
}

// noteTruncated reports that partition p's log ends at end, below the
// consumer's position pos: logged, counted and a problem.
func (c *Consumer) noteTruncated(p int32, pos, end int64, when string) {
	now := time.Now()
	msg := fmt.Sprintf("topic %s partition %d: the log ends at %d, below the position %d the consumer reached, and the topic's ID is unchanged (found %s, at %s): the broker lost offsets %d..%d that were counted (an unclean leader election, or a broker restored from an older disk); records written there again are read, from offset %d on",
		c.cfg.Topic, p, end, pos, when, now.UTC().Format(time.RFC3339), end, pos-1, end)
	c.noteLost(p, msg, pos-end, now, "position", pos, "log_end", end)
}

// noteLost reports msg, offsets of partition p the broker lost (lost of
// them counted in the metric; 0 when it cannot be told): logged at
// error with attrs, and a /healthz problem for RecreatedNotice.
func (c *Consumer) noteLost(p int32, msg string, lost int64, at time.Time, attrs ...any) {
	c.log.Error("kafka: "+msg, append([]any{"topic", c.cfg.Topic, "partition", p}, attrs...)...)
	if lost > 0 {
		c.metricLost.Add(float64(lost))
	}
	c.partsMu.Lock()
	c.truncated[p] = notice{msg: msg, at: at}
	c.partsMu.Unlock()
}

// recentProblems returns the notices of m found within RecreatedNotice;
// c.partsMu held.
func recentProblems(m map[int32]notice) map[int32]string {
	var out map[int32]string
	for p, t := range m {
		if time.Since(t.at) >= RecreatedNotice {
			continue
		}
		if out == nil {
			out = map[int32]string{}
		}
		out[p] = t.msg
	}
	return out
}
