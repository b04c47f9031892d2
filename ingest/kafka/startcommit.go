package kafka

import (
	"context"
	"maps"
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// With --kafka-start latest, a partition neither the state nor the group
// holds an offset for starts at its end, and that position is stored in
// the state at once (attack run 19 F6). It is committed to the group too
// (attack run 28): each replica's state holds only the partitions it was
// given, so a replica given another's partition later (a scale-in, a
// rolling restart, a scale-out while one is down) found neither a
// position nor an offset for it. It took the partition for one added
// since and read its whole history, or, with an empty state, started it
// at its end again and passed over what was written since the other
// replica looked it up. The group's offset carries the position over.

// queueStarts keeps the positions looked up for partitions (resume), to
// commit at the next poll.
func (c *Consumer) queueStarts(start map[int32]int64) {
	c.partsMu.Lock()
	defer c.partsMu.Unlock()
	if c.startsToCommit == nil {
		c.startsToCommit = map[int32]int64{}
	}
	maps.Copy(c.startsToCommit, start)
}

// commitStarts commits the positions queueStarts kept for partitions still
// assigned and not read past since (a record read is committed with its
// batch, further on). Run calls it after a poll, before the poll's
// records are stored and committed, so that the group's offsets only go
// forward. A commit that fails is logged, not tried again: the first
// record read from the partition commits its offset.
func (c *Consumer) commitStarts(ctx context.Context) {
	c.partsMu.Lock()
	offs := map[int32]kgo.EpochOffset{}
	for p, at := range c.startsToCommit {
		if c.assigned[p] && c.pos[p] == at {
			offs[p] = kgo.EpochOffset{Epoch: -1, Offset: at}
		}
	}
	c.startsToCommit = nil
	c.partsMu.Unlock()
	if len(offs) == 0 {
		return
	}
	var failed error
	var failedParts []int32
	c.cl.CommitOffsetsSync(c.commitCtx(ctx), map[string]map[int32]kgo.EpochOffset{c.cfg.Topic: offs},
		func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, err error) {
			if err != nil {
				failed, failedParts = err, slices.Sorted(maps.Keys(offs))
				return
			}
			for _, t := range resp.Topics {
				for _, p := range t.Partitions {
					if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
						failed = err
						failedParts = append(failedParts, p.Partition)
					}
				}
			}
		})
	if failed == nil || ctx.Err() != nil {
		return
	}
	c.noteFenced(failed)
	c.log.Warn("kafka: committing where partitions start to the group failed: another replica given them before a record comes reads them from the start (or, with an empty state, from their end)",
		"group", c.cfg.Group, "topic", c.cfg.Topic, "partitions", failedParts, "err", failed)
}
