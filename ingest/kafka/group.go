package kafka

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/normguard/normguard/monitor"
)

// otherGroupError is checkGroup's refusal: the state read the topic under
// other groups only.
type otherGroupError struct{ msg string }

func (e *otherGroupError) Error() string { return e.msg }

// checkGroup refuses to read topic under group into a state that read it
// under another group and never under this one (attack run 23 F1): the
// state keeps its positions per group, so the new group would read the
// topic again from its start (or from its own committed offsets) into
// the same windows, and count every record the state counted already a
// second time, without a word. newGroup (Config.NewGroup) lets it: for a
// topic deleted and created again, whose records are all new to the
// windows, when the topic's ID cannot tell (see topic.go). When the
// state kept the topic's ID as another group read it and the brokers give
// the same ID now, the topic was not recreated (attack run 31 F3: every
// record counted twice without a word): newGroup does not let it then,
// and the group is refused as without it, saying why.
func checkGroup(cfg Config) error {
	mon, group, topic := cfg.Monitor, cfg.Group, cfg.Topic
	sources, err := mon.Sources()
	if err != nil {
		return fmt.Errorf("kafka: %w", err)
	}
	var others []string
	mine := false
	for _, src := range sources {
		g, ok := groupOf(src, topic)
		switch {
		case !ok:
		case g == group:
			mine = true
		default:
			others = append(others, g)
		}
	}
	if len(others) == 0 {
		return nil
	}
	note := ""
	if cfg.NewGroup {
		if note, err = notRecreated(cfg, others); err != nil || note == "" {
			return err
		}
	}
	if mine {
		// This group read it before and resumes from its positions: refused
		// only where another group's reach past them (a later group
		// counted records this one would read again).
		if err := checkBehind(mon, group, topic, others); err != nil {
			return fmt.Errorf("%w%s", err, note)
		}
		return nil
	}
	var read []string
	for _, g := range others {
		held, err := mon.Offsets(Source(g, topic))
		if err != nil {
			return fmt.Errorf("kafka: %w", err)
		}
		desc := fmt.Sprintf("group %q", g)
		if len(held) > 0 {
			var parts []string
			for _, p := range slices.Sorted(maps.Keys(held)) {
				parts = append(parts, fmt.Sprintf("%d up to offset %d", p, held[p]))
			}
			desc += " (partition " + strings.Join(parts, ", ") + ")"
		}
		read = append(read, desc)
	}
	return &otherGroupError{msg: fmt.Sprintf("kafka: the state file holds the positions of topic %q read by consumer %s, and none read by group %q: "+
		"the state keeps positions per group, so group %q would read the topic again from its start (or from its own committed offsets) into the same windows, "+
		"counting a second time every record the state counted already. Restart with --kafka-group %q to go on where it stopped, "+
		"or give --state another file to count the topic afresh under group %q. "+
		"To count only the records written from now on under group %q, start it with --kafka-start latest (let through while the group holds no committed offsets for the topic). "+
		"Only if the topic was deleted and created again since (its records are all new to these windows), add --kafka-new-group to read it under group %q into this state",
		topic, strings.Join(read, " and "), group, group, others[0], group, group, group) + note}
}

// notRecreated tells whether the topic is, by its ID, the one the other
// groups (others) read into the state: it returns a note saying so to
// add to the refusal, or "" when no other group's ID was kept or the
// brokers give none (Kafka before 2.8: --kafka-new-group is taken at its
// word) or it differs (the topic was recreated). Brokers that cannot be
// asked are an error: the double count could not be ruled out.
func notRecreated(cfg Config, others []string) (string, error) {
	kept := map[topicID][]string{}
	var first string // a group whose ID was kept
	for _, g := range others {
		id, err := storedTopicID(cfg.Monitor, Source(g, cfg.Topic)+"#topic-id")
		if err != nil {
			return "", fmt.Errorf("kafka: %w", err)
		}
		if id != (topicID{}) {
			kept[id] = append(kept[id], g)
			if first == "" {
				first = g
			}
		}
	}
	if len(kept) == 0 {
		return "", nil
	}
	cur, err := currentTopicID(cfg)
	if err != nil {
		return "", fmt.Errorf("kafka: --kafka-new-group: the state keeps the ID of topic %q as consumer group %q read it, but asking the brokers for the topic's current ID failed (%v), so it cannot be told whether the topic was deleted and created again (else group %q would count its records a second time): start again once the brokers answer",
			cfg.Topic, first, err, cfg.Group)
	}
	groups, same := kept[cur]
	if cur == (topicID{}) || !same {
		return "", nil
	}
	return fmt.Sprintf(". Refused with --kafka-new-group too: topic %q has the ID %s it had when consumer group %q read it into this state, so it was not deleted and created again and its records are counted in these windows already",
		cfg.Topic, cur, groups[0]), nil
}

// currentTopicID asks the brokers for the topic's ID (zero when they give
// none: Kafka before 2.8), through a client of its own that joins no
// group.
func currentTopicID(cfg Config) (topicID, error) {
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(cfg.Brokers...)}, cfg.Opts...)...)
	if err != nil {
		return topicID{}, err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), committedTimeout)
	defer cancel()
	req := kmsg.NewPtrMetadataRequest()
	rt := kmsg.NewMetadataRequestTopic()
	rt.Topic = kmsg.StringPtr(cfg.Topic)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return topicID{}, err
	}
	for _, t := range resp.Topics {
		if t.Topic == nil || *t.Topic != cfg.Topic {
			continue
		}
		if err := kerr.ErrorForCode(t.ErrorCode); err != nil {
			if errors.Is(err, kerr.UnknownTopicOrPartition) {
				return topicID{}, nil // not there now: not the topic the state read
			}
			return topicID{}, err
		}
		return t.TopicID, nil
	}
	return topicID{}, nil
}

// committedTimeout bounds the question to the brokers of committedOffsets
// (a variable for tests).
var committedTimeout = 15 * time.Second

// checkNewGroupAtEnd lets a group the state never read the topic with
// start when it reads from the end (Config.FromEnd) and holds no committed
// offset for the topic (attack run 26 F2): it then reads only records
// written from now on, none of which the state counted. A group holding
// offsets would resume from them, into records the state may have counted
// under the other group: refused as checkGroup refuses, saying so. When
// the brokers cannot be asked, refused too, saying that.
func checkNewGroupAtEnd(cfg Config, refusal error) error {
	held, err := committedOffsets(cfg, cfg.Group, cfg.Topic)
	if err != nil {
		return fmt.Errorf("%w. (With --kafka-start latest, group %q would start where the topic ends if it held no committed offsets for it, but asking the brokers failed: %v.)", refusal, cfg.Group, err)
	}
	if len(held) == 0 {
		return nil
	}
	var parts []string
	for _, p := range slices.Sorted(maps.Keys(held)) {
		parts = append(parts, fmt.Sprintf("%d at offset %d", p, held[p]))
	}
	return fmt.Errorf("%w. (--kafka-start latest does not help: group %q holds committed offsets for the topic (partition %s) and would resume from them.)", refusal, cfg.Group, strings.Join(parts, ", "))
}

// committedOffsets asks the brokers which offsets group has committed for
// topic, through a client of its own that joins no group.
func committedOffsets(cfg Config, group, topic string) (map[int32]int64, error) {
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(cfg.Brokers...)}, cfg.Opts...)...)
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), committedTimeout)
	defer cancel()
	req := kmsg.NewPtrOffsetFetchRequest()
	req.Group = group // no topics: all the group's (a topic without partitions asks for none)
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return nil, err
	}
	topics, code := resp.Topics, resp.ErrorCode
	for _, g := range resp.Groups {
		if g.Group == group {
			topics, code = nil, g.ErrorCode
			for _, t := range g.Topics {
				topics = append(topics, kmsg.OffsetFetchResponseTopic{Topic: t.Topic, Partitions: groupParts(t.Partitions)})
			}
		}
	}
	if err := kerr.ErrorForCode(code); err != nil && !errors.Is(err, kerr.GroupIDNotFound) {
		return nil, err
	}
	held := map[int32]int64{}
	for _, t := range topics {
		if t.Topic != topic {
			continue
		}
		for _, p := range t.Partitions {
			if err := kerr.ErrorForCode(p.ErrorCode); err != nil && !errors.Is(err, kerr.UnknownTopicOrPartition) {
				return nil, fmt.Errorf("partition %d: %w", p.Partition, err)
			}
			if p.Offset >= 0 {
				held[p.Partition] = p.Offset
			}
		}
	}
	return held, nil
}

// groupParts converts a batched response's partitions to the single-group
// form.
func groupParts(ps []kmsg.OffsetFetchResponseGroupTopicPartition) []kmsg.OffsetFetchResponseTopicPartition {
	out := make([]kmsg.OffsetFetchResponseTopicPartition, len(ps))
	for i, p := range ps {
		out[i] = kmsg.OffsetFetchResponseTopicPartition{Partition: p.Partition, Offset: p.Offset, ErrorCode: p.ErrorCode}
	}
	return out
}

// checkBehind refuses group, which read topic into the state before, when
// another group read a partition of it further (or one group has no
// position for): group would resume below records the other counted and
// count them again (a group started with --kafka-start latest on the
// state, then the first group restarted). Positions kept with another
// topic ID than group's are the topic's before it was recreated (read
// under --kafka-new-group): not compared.
func checkBehind(mon *monitor.Monitor, group, topic string, others []string) error {
	own, err := mon.Offsets(Source(group, topic))
	if err != nil {
		return fmt.Errorf("kafka: %w", err)
	}
	ownID, err := storedTopicID(mon, Source(group, topic)+"#topic-id")
	if err != nil {
		return fmt.Errorf("kafka: %w", err)
	}
	for _, g := range others {
		id, err := storedTopicID(mon, Source(g, topic)+"#topic-id")
		if err != nil {
			return fmt.Errorf("kafka: %w", err)
		}
		if id != (topicID{}) && ownID != (topicID{}) && id != ownID {
			continue // positions in the topic as it was before it was recreated
		}
		held, err := mon.Offsets(Source(g, topic))
		if err != nil {
			return fmt.Errorf("kafka: %w", err)
		}
		var past []string
		for _, p := range slices.Sorted(maps.Keys(held)) {
			at, ok := own[p]
			switch {
			case !ok && held[p] > 0: // at 0 it read nothing there
				past = append(past, fmt.Sprintf("partition %d up to offset %d, where group %q holds no position", p, held[p], group))
			case ok && held[p] > at:
				past = append(past, fmt.Sprintf("partition %d up to offset %d, past group %q's %d", p, held[p], group, at))
			}
		}
		if len(past) > 0 {
			return fmt.Errorf("kafka: the state file holds positions of topic %q read by consumer group %q (%s): "+
				"group %q would read those records again into the same windows, counting them a second time. "+
				"Restart with --kafka-group %q to go on where the state stopped, or give --state another file to count the topic afresh under group %q. "+
				"Only if the topic was deleted and created again since, add --kafka-new-group",
				topic, g, strings.Join(past, "; "), group, g, group)
		}
	}
	return nil
}

// groupOf returns the group of source when it is topic's as a group reads
// it (Source), not a tag kept beside the positions.
func groupOf(source, topic string) (string, bool) {
	rest, ok := strings.CutPrefix(source, "kafka:")
	if !ok {
		return "", false
	}
	return strings.CutSuffix(rest, "/"+topic)
}
