package kafka

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// fencedAt is a consumer fenced out of its group, since when, and the
// problem /healthz shows.
type fencedAt struct {
	at  time.Time
	msg string
}

// noteFenced marks the consumer fenced when err is the broker's
// FENCED_INSTANCE_ID (attack run 23 F2): another member joined the group
// with the same static instance ID (--kafka-instance-id), and the group
// gave it this one's place. This consumer then reads nothing, its group
// loop failing for ever, while the other one runs; the Kafka client's
// warnings alone, every 30 s, left /healthz "ok". Logged once, a
// /healthz problem until it joins the group again (joined).
func (c *Consumer) noteFenced(err error) {
	if err == nil || !errors.Is(err, kerr.FencedInstanceID) || c.fenced.Load() != nil {
		return
	}
	now := time.Now().UTC()
	f := &fencedAt{at: now, msg: fmt.Sprintf("another consumer joined group %q with this replica's --kafka-instance-id %q at %s and the group fenced this one out (FENCED_INSTANCE_ID): this replica reads nothing of topic %s while the other holds the ID. Give each replica its own --kafka-instance-id (say its host or pod name), then restart this one",
		c.cfg.Group, c.cfg.InstanceID, now.Format(time.RFC3339), c.cfg.Topic)}
	if c.fenced.CompareAndSwap(nil, f) {
		c.log.Error("kafka: "+f.msg, "group", c.cfg.Group, "instance_id", c.cfg.InstanceID)
	}
}

// joined is called each time the consumer joins its group (with the
// partitions newly assigned, none maybe): it is no longer fenced, nor
// refused (joinrefused.go).
func (c *Consumer) joined(context.Context, *kgo.Client, map[string][]int32) {
	if r := c.refused.Swap(nil); r != nil {
		c.log.Info("kafka: joined the group, which the broker refused before", "group", c.cfg.Group, "refused_since", r.since.Format(time.RFC3339), "error", r.err.Message)
	}
	if f := c.fenced.Swap(nil); f != nil {
		c.log.Info("kafka: joined the group again after being fenced out", "group", c.cfg.Group, "instance_id", c.cfg.InstanceID, "fenced_since", f.at.Format(time.RFC3339))
	}
}
