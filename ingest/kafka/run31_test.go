package kafka

import (
	"strings"
	"testing"
	"time"

	"github.com/normguard/normguard/monitor"
)

// TestNewGroupSameTopicIDRefused (attack run 31 F3): --kafka-new-group on
// a topic that was not recreated (the ID the state kept as group g read it
// is the topic's ID now) read the topic again under the new group into
// the same windows, every record counted twice without a word. It is
// refused as without the flag, saying the topic has the same ID; once the
// topic is deleted and created again it starts; a state keeping no ID for
// the other group starts as before (the flag taken at its word), and
// brokers that cannot be asked for the ID are a refusal naming that.
func TestNewGroupSameTopicIDRefused(t *testing.T) {
	fx := newFixture(t, 1)
	c := newCluster(t)
	id := topicID(c.TopicInfo(testTopic).TopicID)
	idOffs := (&Consumer{source: Source("g", testTopic)}).idOffsets(id)
	withID := stateAt(t, append(idOffs, monitor.Offset{Source: Source("g", testTopic), Partition: 0, Next: 5})...)
	noID := stateAt(t, monitor.Offset{Source: Source("g", testTopic), Partition: 0, Next: 5})
	// g2 read the topic into the state before too, behind g.
	bothID := stateAt(t, append(append(idOffs,
		(&Consumer{source: Source("g2", testTopic)}).idOffsets(id)...),
		monitor.Offset{Source: Source("g", testTopic), Partition: 0, Next: 5},
		monitor.Offset{Source: Source("g2", testTopic), Partition: 0, Next: 2})...)
	start := func(state string, brokers []string) error {
		t.Helper()
		mon := openState(t, state)
		defer mon.Close()
		cons, err := New(Config{Brokers: brokers, Topic: testTopic, Group: "g2", NewGroup: true, Registry: fx.reg, Monitor: mon})
		if err == nil {
			cons.cl.Close()
			cons.side.Close()
		}
		return err
	}
	for _, tc := range []struct {
		name  string
		state string
		want  []string
	}{
		{"never read by g2", withID, []string{`none read by group "g2"`, "has the ID " + id.String(), `when consumer group "g" read it`, "not deleted and created again", `--kafka-group "g" to go on`}},
		{"g2 behind g", bothID, []string{`partition 0 up to offset 5, past group "g2"'s 2`, "has the ID " + id.String(), "not deleted and created again"}},
	} {
		err := start(tc.state, c.ListenAddrs())
		if err == nil {
			t.Errorf("%s: --kafka-new-group on a topic of the same ID started; want it refused", tc.name)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q lacks %q", tc.name, err, w)
			}
		}
	}
	if err := start(noID, c.ListenAddrs()); err != nil {
		t.Errorf("a state keeping no topic ID for group g: %v; want --kafka-new-group taken at its word", err)
	}

	defer func(d time.Duration) { committedTimeout = d }(committedTimeout)
	committedTimeout = time.Second
	if err := start(withID, []string{"127.0.0.1:1"}); err == nil || !strings.Contains(err.Error(), "asking the brokers for the topic's current ID failed") {
		t.Errorf("brokers not answering: %v; want a refusal naming the failed lookup", err)
	}

	recreate(t, c, partitions)
	if err := start(withID, c.ListenAddrs()); err != nil {
		t.Errorf("the topic deleted and created again: %v; want --kafka-new-group to start", err)
	}
}
