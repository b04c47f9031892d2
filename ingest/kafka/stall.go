package kafka

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// tooLarge tells whether err is the client refusing an answer larger
// than it reads (kgo.BrokerMaxReadBytes, 100 MiB by default).
func tooLarge(err error) bool {
	s := err.Error()
	return strings.Contains(s, "BrokerMaxReadBytes") || strings.Contains(s, "invalid large response size")
}

// maxPastProbes bounds the fetches finding where batches too large to
// fetch end (pastTooLarge).
const maxPastProbes = 40

// pastTooLarge finds the first offset of partition p past at, up to end,
// whose fetch the client reads: the end of the batches too large for it
// from at on (a fetch at an offset inside a batch answers the batch
// whole). It returns -1 when a fetch fails otherwise or the probes run
// out. The answer is kept per partition and position.
func (c *Consumer) pastTooLarge(ctx context.Context, p int32, at, end int64) int64 {
	c.partsMu.Lock()
	k, ok := c.pastBig[p]
	c.partsMu.Unlock()
	if ok && k[0] == at {
		return k[1]
	}
	lo, hi := at+1, end // the fetch at at fails; the one at end reads nothing
	found := int64(-1)
	for probes := 0; lo <= hi && probes < maxPastProbes; probes++ {
		mid := lo + (hi-lo)/2
		_, err := c.batchesAt(ctx, p, mid)
		switch {
		case err == nil:
			found, hi = mid, mid-1
		case tooLarge(err):
			lo = mid + 1
		default:
			return -1
		}
	}
	if lo <= hi {
		return -1 // out of probes
	}
	if found < 0 {
		found = end
	}
	c.partsMu.Lock()
	c.pastBig[p] = [2]int64{at, found}
	c.partsMu.Unlock()
	return found
}

// stallMsg is the problem of partition p stopped at offset at, its log
// ending at end, where the batch there cannot be fetched (err): what
// waits behind it and what to do (attack run 23 F6: the problem said
// neither, and a batch past the client's read bound stops a partition
// for good, a restart too).
func (c *Consumer) stallMsg(ctx context.Context, p int32, at, end int64, err error) string {
	msg := fmt.Sprintf("partition %d has not moved from offset %d since the last check while its log ends at %d, and the batch there cannot be fetched (%v): the partition's records from there on (%d, up to its end) wait behind it, read by no replica of group %q",
		p, at, end, err, end-at, c.cfg.Group)
	if !tooLarge(err) {
		return msg + ". A broker problem, or a batch larger than the client reads: check the broker's log for the partition; this clears once the batch can be fetched"
	}
	past := c.pastTooLarge(ctx, p, at, end)
	to, which := "the offset past the batch (kafka-dump-log.sh shows where it ends)", "its records"
	if past > at {
		to = fmt.Sprint(past)
		which = fmt.Sprintf("offsets %d..%d", at, past-1)
	}
	return msg + fmt.Sprintf(", for good: a restart does not help. The batch is larger than the Kafka client reads (100 MiB): have the producers send smaller batches (their batch.size and max.request.size, the broker's message.max.bytes), and move the group past it: stop every replica of group %q, run kafka-consumer-groups.sh --bootstrap-server %s --group %s --topic %s:%d --reset-offsets --to-offset %s --execute once the group is empty, and start them again (a replica resumes from the group's offset when it is past its state's); %s are then not counted",
		c.cfg.Group, c.cfg.Brokers[0], c.cfg.Group, c.cfg.Topic, p, to, which)
}

// assignedList is the partitions assigned, ascending.
func (c *Consumer) assignedList() []int32 {
	c.partsMu.Lock()
	defer c.partsMu.Unlock()
	return slices.Sorted(maps.Keys(c.assigned))
}
