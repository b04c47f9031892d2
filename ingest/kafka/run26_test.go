package kafka

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"

	"github.com/normguard/normguard/monitor"
)

// TestNewGroupAtEndStarts (attack run 26 F2): a new group started with
// --kafka-start latest (FromEnd) on a state that read the topic under
// another group was refused, though it reads only records written from
// then on. It starts when the group holds no committed offsets for the
// topic, and counts exactly the records written after it joined; a group
// holding offsets (it would resume from them) is refused saying so, and so
// is one whose offsets the brokers cannot tell. Going back to the first
// group then is refused: it would count again what the second counted.
func TestNewGroupAtEndStarts(t *testing.T) {
	c := newCluster(t)
	fx := newFixture(t, 1)
	prod := manualProducer(t, c)
	send := produceRows(t, prod)
	state := filepath.Join(t.TempDir(), "m.db")
	r := startWith(t, c, fx, state, nil) // group "g"
	send(0, 3)
	waitFor(t, 20*time.Second, func() bool { return r.cons.Stats().Records == 3 }, func() string {
		return fmt.Sprintf("records %d, want 3", r.cons.Stats().Records)
	})
	r.close(t)

	// Group g3 holds a committed offset for partition 0.
	// (Before version 10, an offset commit names its topic by name.)
	adm, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.MaxVersions(kversion.V3_5_0()))
	if err != nil {
		t.Fatal(err)
	}
	defer adm.Close()
	commit := kmsg.NewPtrOffsetCommitRequest()
	commit.Group, commit.Generation = "g3", -1
	ct := kmsg.NewOffsetCommitRequestTopic()
	ct.Topic = testTopic
	cp := kmsg.NewOffsetCommitRequestTopicPartition()
	cp.Partition, cp.Offset = 0, 1
	ct.Partitions = append(ct.Partitions, cp)
	commit.Topics = append(commit.Topics, ct)
	resp, err := commit.RequestWith(context.Background(), adm)
	if err != nil || len(resp.Topics) != 1 || resp.Topics[0].Partitions[0].ErrorCode != 0 {
		t.Fatalf("committing for g3: %v %+v", err, resp)
	}

	mon := openState(t, state)
	refused := func(group string, fromEnd bool, brokers []string, want ...string) {
		t.Helper()
		c, err := New(Config{Brokers: brokers, Topic: testTopic, Group: group, FromEnd: fromEnd, Registry: fx.reg, Monitor: mon})
		if err == nil {
			c.cl.Close()
			c.side.Close()
			t.Fatalf("group %s (latest %v) started on a state that read the topic under group g; want it refused", group, fromEnd)
		}
		for _, w := range want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("group %s (latest %v): error %q lacks %q", group, fromEnd, err, w)
			}
		}
	}
	refused("g2", false, c.ListenAddrs(), `none read by group "g2"`, "start it with --kafka-start latest")
	refused("g3", true, c.ListenAddrs(), `none read by group "g3"`, `group "g3" holds committed offsets for the topic (partition 0 at offset 1)`)
	defer func(d time.Duration) { committedTimeout = d }(committedTimeout)
	committedTimeout = time.Second
	refused("g4", true, []string{"127.0.0.1:1"}, `none read by group "g4"`, "asking the brokers failed")
	mon.Close()

	r2 := startWith(t, c, fx, state, func(cfg *Config) { cfg.Group, cfg.FromEnd = "g2", true })
	defer r2.close(t)
	waitEndsLookedUp(t, r2, "g2")
	send(1, 2)
	waitFor(t, 20*time.Second, func() bool { return r2.cons.Stats().Records >= 2 }, func() string {
		return fmt.Sprintf("records %d, want the 2 written after g2 joined", r2.cons.Stats().Records)
	})
	if st := settle(t, r2, 500*time.Millisecond); st.Records != 2 || st.Rows != 2 {
		t.Errorf("group g2 with latest counted %d records, %d rows; want the 2 written after it joined, none of the 3 the state counted", st.Records, st.Rows)
	}
	r2.close(t)

	// Group g restarted on the state now would read partition 1 from its
	// start, counting again the 2 records g2 counted: refused.
	mon = openState(t, state)
	defer mon.Close()
	refused("g", false, c.ListenAddrs(), `read by consumer group "g2" (`, `partition 1 up to offset 2, where group "g" holds no position`, `--kafka-group "g2"`)
}

// TestLatestStartCommittedToTheGroup (attack run 28 F1, F2): with
// --kafka-start latest, the position found for a partition neither the
// state nor the group held one for was stored in the state only. A
// replica given that partition later, with a state that held a position
// for another partition, took it for one added since and read its whole
// history (F1: a scale-in, a rolling restart); one with an empty state
// started it at its end again and passed over the records written
// meanwhile (F2). The position is committed to the group: both read
// exactly the records written after the first replica looked it up.
func TestLatestStartCommittedToTheGroup(t *testing.T) {
	c := newCluster(t)
	fx := newFixture(t, 1)
	prod := manualProducer(t, c)
	send := produceRows(t, prod)
	for p := range int32(partitions) {
		send(p, 5) // history latest skips
	}
	latest := func(cfg *Config) { cfg.FromEnd = true }
	committed := func(want int) {
		t.Helper()
		waitFor(t, 20*time.Second, func() bool {
			held, err := committedOffsets(Config{Brokers: c.ListenAddrs()}, "g", testTopic)
			return err == nil && len(held) == want
		}, func() string { return "the start positions not committed to the group" })
	}

	// F2: replica B, alone on the topic, stops before any record; 2 rows
	// go to each partition; replica C with an empty state reads them.
	b := startWith(t, c, fx, filepath.Join(t.TempDir(), "b.db"), latest)
	committed(partitions)
	b.close(t)
	for p := range int32(partitions) {
		send(p, 2)
	}
	cr := startWith(t, c, fx, filepath.Join(t.TempDir(), "c.db"), latest)
	waitFor(t, 20*time.Second, func() bool { return cr.cons.Stats().Records >= 2*partitions }, func() string {
		return fmt.Sprintf("records %d, want the %d written while no replica ran", cr.cons.Stats().Records, 2*partitions)
	})
	if st := settle(t, cr, 500*time.Millisecond); st.Records != 2*partitions {
		t.Errorf("replica with an empty state counted %d records; want the %d written after the group's first replica started", st.Records, 2*partitions)
	}
	cr.close(t)

	// F1: a replica whose state holds partition 2 only (it was given that
	// one before), given every partition: none is read from its start.
	held := stateAt(t, monitor.Offset{Source: Source("g", testTopic), Partition: 2, Next: 7})
	a := startWith(t, c, fx, held, latest)
	waitFor(t, 20*time.Second, func() bool { return len(a.cons.Stats().Partitions) == partitions }, func() string { return "not assigned" })
	send(0, 1)
	waitFor(t, 20*time.Second, func() bool { return a.cons.Stats().Records >= 1 }, func() string { return "the new record not read" })
	if st := settle(t, a, 500*time.Millisecond); st.Records != 1 {
		t.Errorf("replica given partitions another replica read counted %d records; want the 1 written since, none of their history", st.Records)
	}
}

// waitEndsLookedUp waits until replica r, started with --kafka-start
// latest on a topic its state never read under group, has looked up where
// each partition ends (the positions are stored at once): a record
// produced before that may lie below the end found, and be passed over as
// latest says, where a test wants it read.
func waitEndsLookedUp(t *testing.T, r *replica, group string) {
	t.Helper()
	waitFor(t, 20*time.Second, func() bool {
		held, err := r.mon.Offsets(Source(group, testTopic))
		return err == nil && len(held) == partitions
	}, func() string { return "the partitions' ends not looked up" })
}
