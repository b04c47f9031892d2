package kafka

import (
	"fmt"
	"strings"
	"testing"
	"time"

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

// TestFencedInstanceIDProblem (attack run 23 F2): two replicas given the
// same --kafka-instance-id: the second to join fences the first out of
// the group, which read nothing from then on while /healthz said "ok".
// The fenced one is a /healthz problem naming the instance ID and what to
// do, logged once; it clears once the consumer joins the group again.
func TestFencedInstanceIDProblem(t *testing.T) {
	c := newCluster(t)
	fx := newFixture(t, 1)
	logs := [2]*logBuffer{{}, {}}
	start := func(i int) *replica {
		return startWith(t, c, fx, t.TempDir()+"/m.db", func(cfg *Config) {
			cfg.InstanceID = "same"
			logTo(logs[i])(cfg)
		})
	}
	a := start(0)
	waitFor(t, 20*time.Second, func() bool { return len(a.cons.Stats().Partitions) == partitions }, func() string {
		return "the first replica was not assigned the partitions"
	})
	b := start(1)
	rs := []*replica{a, b}
	fenced := -1
	waitFor(t, 30*time.Second, func() bool {
		for i, r := range rs {
			if r.cons.Stats().Fenced != "" {
				fenced = i
				return true
			}
		}
		return false
	}, func() string {
		return "neither replica says it was fenced: A " + a.cons.Stats().Problem() + ", B " + b.cons.Stats().Problem()
	})
	f := rs[fenced]
	// The client retries its join (each time fenced) and warns: one
	// line says so.
	time.Sleep(3 * time.Second)
	st := f.cons.Stats()
	problem := st.Problem()
	for _, want := range []string{`--kafka-instance-id "same"`, `group "g"`, "FENCED_INSTANCE_ID", "reads nothing", "Give each replica its own --kafka-instance-id"} {
		if !strings.Contains(problem, want) {
			t.Errorf("problem %q lacks %q", problem, want)
		}
	}
	if len(st.Partitions) != 0 {
		t.Errorf("fenced replica holds partitions %v", st.Partitions)
	}
	if other := rs[1-fenced].cons.Stats(); other.Fenced != "" || other.Problem() != "" {
		t.Errorf("the replica that holds the ID: fenced %q, problem %q; want none", other.Fenced, other.Problem())
	}
	if n := strings.Count(logs[fenced].String(), "the group fenced this one out"); n != 1 {
		t.Errorf("%d log lines say the replica was fenced; want 1:\n%s", n, logs[fenced].String())
	}

	// The other one leaves: the fenced one joins again, reads the
	// partitions and is no longer a problem.
	rs[1-fenced].close(t)
	waitFor(t, 30*time.Second, func() bool {
		st := f.cons.Stats()
		return len(st.Partitions) == partitions && st.Fenced == "" && st.Problem() == ""
	}, func() string {
		st := f.cons.Stats()
		return fmt.Sprintf("once the other left: partitions %v, fenced %q, problem %q; want all partitions and no problem", st.Partitions, st.Fenced, st.Problem())
	})
	if !strings.Contains(logs[fenced].String(), "joined the group again after being fenced out") {
		t.Errorf("no line says the replica joined again:\n%s", logs[fenced].String())
	}
}
