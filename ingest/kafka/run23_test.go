package kafka

import (
	"strings"
	"testing"

	"github.com/normguard/normguard/monitor"
)

// TestNewGroupOnStateRefused (attack run 23 F1a): a state that read the
// topic under group g, started under group g2 it never read it with, was
// read again from the topic's start into the same windows, every record
// counted twice without a word. New refuses it, naming the state's group
// and topic and what to do; the same group, a state that read the topic
// under both (an earlier build's), another topic, or Config.NewGroup
// start.
func TestNewGroupOnStateRefused(t *testing.T) {
	fx := newFixture(t, 1)
	state := stateAt(t, monitor.Offset{Source: Source("g", testTopic), Partition: 0, Next: 5},
		monitor.Offset{Source: Source("g", testTopic), Partition: 2, Next: 7},
		monitor.Offset{Source: Source("g", testTopic) + "#topic-id", Partition: 0, Next: 1},
		monitor.Offset{Source: Source("g", "other"), Partition: 0, Next: 3})
	mon := openState(t, state)
	defer mon.Close()
	start := func(group, topic string, newGroup bool) error {
		t.Helper()
		c, err := New(Config{Brokers: []string{"127.0.0.1:1"}, Topic: topic, Group: group, NewGroup: newGroup, Registry: fx.reg, Monitor: mon})
		if err == nil {
			c.cl.Close()
			c.side.Close()
		}
		return err
	}
	err := start("g2", testTopic, false)
	if err == nil {
		t.Fatal("group g2 on a state that read the topic under group g started; want it refused")
	}
	for _, want := range []string{`topic "rows" read by consumer group "g" (partition 0 up to offset 5, 2 up to offset 7)`, `none read by group "g2"`,
		"counting a second time", `--kafka-group "g" to go on`, "--state another file", "--kafka-new-group"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	for _, ok := range []struct {
		group, topic string
		newGroup     bool
	}{{"g", testTopic, false}, {"g2", "fresh", false}, {"g2", testTopic, true}} {
		if err := start(ok.group, ok.topic, ok.newGroup); err != nil {
			t.Errorf("group %s, topic %s, new group %v: %v", ok.group, ok.topic, ok.newGroup, err)
		}
	}

	// A state of an earlier build that read the topic under both groups
	// goes on under either.
	both := stateAt(t, monitor.Offset{Source: Source("g", testTopic), Partition: 0, Next: 5},
		monitor.Offset{Source: Source("a/b", testTopic), Partition: 0, Next: 9})
	mon.Close()
	mon = openState(t, both)
	for _, g := range []string{"g", "a/b"} {
		if err := start(g, testTopic, false); err != nil {
			t.Errorf("group %s on a state that read the topic under both: %v", g, err)
		}
	}
	if err := start("h", testTopic, false); err == nil || !strings.Contains(err.Error(), `consumer group "a/b" (partition 0 up to offset 9) and group "g" (partition 0 up to offset 5)`) {
		t.Errorf("a third group: got %v, want both groups named", err)
	}
}
