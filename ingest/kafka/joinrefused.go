package kafka

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// refusedJoin are the broker's answers to a group join that retrying
// does not change: the consumer reads nothing until serve's flags or the
// broker's settings change (attack run 23 F2b: a --kafka-session-timeout
// below the broker's group.min.session.timeout.ms read nothing, /healthz
// "ok").
var refusedJoin = []*kerr.Error{kerr.InvalidSessionTimeout, kerr.GroupAuthorizationFailed, kerr.InvalidGroupID,
	kerr.GroupMaxSizeReached, kerr.InconsistentGroupProtocol, kerr.UnsupportedAssignor}

// joinRefusal is a group join the broker refused, since when, and the
// /healthz problem (msg, "" until Run has written it: it may look the
// broker's bounds up, which the client's goroutine that reports the
// error must not wait for).
type joinRefusal struct {
	err   *kerr.Error
	since time.Time
	msg   string
}

// noteJoinRefused marks the consumer refused by its group when err is one
// of refusedJoin; Run writes the problem (describeRefusal).
func (c *Consumer) noteJoinRefused(err error) {
	if err == nil || c.refused.Load() != nil {
		return
	}
	for _, ke := range refusedJoin {
		if errors.Is(err, ke) {
			c.refused.CompareAndSwap(nil, &joinRefusal{err: ke, since: time.Now().UTC()})
			return
		}
	}
}

// describeRefusal writes the problem of a join refusal noted since the
// last call, and logs it once.
func (c *Consumer) describeRefusal(ctx context.Context) {
	r := c.refused.Load()
	if r == nil || r.msg != "" {
		return
	}
	what := ""
	switch r.err {
	case kerr.InvalidSessionTimeout:
		bounds := "6s to 30m0s unless the brokers set otherwise"
		if lo, hi, err := c.sessionBounds(ctx); err == nil {
			bounds = fmt.Sprintf("%v to %v on this broker", lo, hi)
		}
		what = fmt.Sprintf("--kafka-session-timeout %v is outside what the broker allows (group.min.session.timeout.ms to group.max.session.timeout.ms: %s). Restart serve with a --kafka-session-timeout within those bounds (the default 45s is, on a broker left at its defaults), or widen the broker's bounds",
			c.sessionTimeout(), bounds)
	case kerr.GroupAuthorizationFailed:
		what = fmt.Sprintf("the broker's ACLs do not let this client use group %q: grant it (Read on the group, Describe and Read on the topic), or restart serve with a --kafka-group it may use", c.cfg.Group)
	case kerr.InvalidGroupID:
		what = fmt.Sprintf("the broker refuses the group's name %q: restart serve with another --kafka-group", c.cfg.Group)
	case kerr.GroupMaxSizeReached:
		what = fmt.Sprintf("group %q has as many members as the broker's group.max.size allows: run fewer replicas in it, or raise group.max.size", c.cfg.Group)
	default:
		what = fmt.Sprintf("group %q is used by consumers of another kind or assignor (not normguard replicas of this topic?): give serve a --kafka-group of its own", c.cfg.Group)
	}
	msg := fmt.Sprintf("the broker refuses this replica's join to consumer group %q since %s (%s: %s): it reads nothing of topic %s until it joins. %s",
		c.cfg.Group, r.since.Format(time.RFC3339), r.err.Message, r.err.Description, c.cfg.Topic, what)
	if c.refused.CompareAndSwap(r, &joinRefusal{err: r.err, since: r.since, msg: msg}) {
		c.log.Error("kafka: "+msg, "group", c.cfg.Group, "topic", c.cfg.Topic)
	}
}

// refusedProblem is the problem of a join refusal, once Run wrote it.
func (c *Consumer) refusedProblem() string {
	if r := c.refused.Load(); r != nil {
		return r.msg
	}
	return ""
}

// sessionTimeout is the session timeout the consumer joins with.
func (c *Consumer) sessionTimeout() time.Duration {
	if c.cfg.SessionTimeout > 0 {
		return c.cfg.SessionTimeout
	}
	return 45 * time.Second // franz-go's default
}

// sessionBounds looks up the session timeouts a broker allows.
func (c *Consumer) sessionBounds(ctx context.Context) (lo, hi time.Duration, err error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	meta := kmsg.NewPtrMetadataRequest()
	mresp, err := meta.RequestWith(ctx, c.side)
	if err != nil {
		return 0, 0, err
	}
	if len(mresp.Brokers) == 0 {
		return 0, 0, errors.New("no broker in the metadata")
	}
	id := mresp.Brokers[0].NodeID
	req := kmsg.NewPtrDescribeConfigsRequest()
	rr := kmsg.NewDescribeConfigsRequestResource()
	rr.ResourceType = kmsg.ConfigResourceTypeBroker
	rr.ResourceName = strconv.Itoa(int(id))
	rr.ConfigNames = []string{"group.min.session.timeout.ms", "group.max.session.timeout.ms"}
	req.Resources = append(req.Resources, rr)
	kresp, err := c.side.Broker(int(id)).Request(ctx, req)
	if err != nil {
		return 0, 0, err
	}
	resp, ok := kresp.(*kmsg.DescribeConfigsResponse)
	if !ok || len(resp.Resources) == 0 {
		return 0, 0, errors.New("no answer")
	}
	if err := kerr.ErrorForCode(resp.Resources[0].ErrorCode); err != nil {
		return 0, 0, err
	}
	for _, cfg := range resp.Resources[0].Configs {
		if cfg.Value == nil {
			continue
		}
		ms, err := strconv.ParseInt(*cfg.Value, 10, 64)
		if err != nil {
			continue
		}
		switch cfg.Name {
		case "group.min.session.timeout.ms":
			lo = time.Duration(ms) * time.Millisecond
		case "group.max.session.timeout.ms":
			hi = time.Duration(ms) * time.Millisecond
		}
	}
	if lo == 0 || hi == 0 {
		return 0, 0, errors.New("the broker did not give both bounds")
	}
	return lo, hi, nil
}
