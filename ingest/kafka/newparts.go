package kafka

import (
	"context"
	"time"
)

// MetadataMaxAge is how often the consumer's Kafka client refreshes the
// topic's metadata at least, and so how soon partitions added to the
// topic are found and assigned (franz-go's default is 5 minutes).
const MetadataMaxAge = 30 * time.Second

// splitNew splits partitions neither the state nor the group holds an
// offset for into those the topic had at the consumer's first assignment
// and those added since (attack run 23 F5: with --kafka-start latest,
// a partition added while serve ran started at its end once assigned,
// passing over every record written to it meanwhile). An added partition
// is read from its start whatever Config.FromEnd, as Flink and Kafka
// Streams read a partition found after their start; FromEnd holds for
// the partitions found at the first assignment.
func (c *Consumer) splitNew(ctx context.Context, parts []int32) (old, added []int32) {
	c.partsMu.Lock()
	first := c.firstParts
	c.partsMu.Unlock()
	if first < 0 {
		n := int32(0)
		exists, _, leaders, err := c.topicMeta(ctx)
		switch {
		case err != nil:
			// Unknown: every partition assigned now is taken as found at
			// the first assignment.
			for _, p := range parts {
				n = max(n, p+1)
			}
		case exists:
			for p := range leaders {
				n = max(n, p+1)
			}
		}
		c.partsMu.Lock()
		if c.firstParts < 0 {
			c.firstParts = n
		}
		first = c.firstParts
		c.partsMu.Unlock()
	}
	for _, p := range parts {
		if p >= first {
			added = append(added, p)
		} else {
			old = append(old, p)
		}
	}
	return old, added
}
