package kafka

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"

	"github.com/normguard/normguard/monitor"
)

// TestRestoredWithoutPositionReadsByCustody (attack run 34 F6): a state
// restored from a backup taken before it was given partition 0 holds no
// position for it; the custody of the group's commit (offset 7) says it
// counted 3..4 since (a 0..2 and 5..6). It resumed at the group's offset,
// and 3..4 were in no replica's windows, without a word. It reads 3..4
// again, passes a's 5..6 over, and reads on from 7.
func TestRestoredWithoutPositionReadsByCustody(t *testing.T) {
	t.Parallel() // a cluster and a state of its own
	fx := newFixture(t, 10)
	c := newCluster(t)
	rows := produceRows(t, compressedProducer(t, c))
	rows(0, 10) // offsets 0..9
	state := stateWithID(t, c)
	mon := openState(t, state)
	self := mon.StoreID()
	mon.Close()
	a := strings.Repeat("a", 32)
	commitGroup(t, c, "g", 0, 7, kmsg.StringPtr(formatCustody([]custodyEntry{{a, 0}, {self, 3}, {a, 5}}, nil)))

	var logs logBuffer
	r := startWith(t, c, fx, state, logTo(&logs))
	waitRecords(t, 5, r)
	st := settle(t, r, 500*time.Millisecond)
	if st.Records != 5 {
		t.Errorf("records %d, want 5: 3..4 read again and 7..9 (a counted 0..2 and 5..6)", st.Records)
	}
	for _, want := range []string{"counted offsets 3..4 since", "read again from 3", "offsets 5..6 were counted by another replica"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs.String())
		}
	}
	if next, err := r.mon.Offsets(Source("g", testTopic)); err != nil || next[0] != 10 {
		t.Errorf("stored position %v (%v), want 10", next, err)
	}
	r.close(t)
	at, meta := groupCommit(t, c, "g", 0)
	m := parseCustody(meta)
	if want := []custodyEntry{{a, 0}, {self, 3}, {a, 5}, {self, 7}}; at != 10 || !slices.Equal(m.hist, want) {
		t.Errorf("group's commit %d %q, want 10 with custody %v", at, meta, want)
	}
}

// commitGroupAt commits offset at of partition p for group g with
// metadata meta under leader epoch epoch, as a consumer that read the
// record before it under that epoch commits.
func commitGroupAt(t *testing.T, c *kfake.Cluster, g string, p int32, at int64, epoch int32, meta *string) {
	t.Helper()
	adm, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.MaxVersions(kversion.V3_5_0()))
	if err != nil {
		t.Fatal(err)
	}
	defer adm.Close()
	commit := kmsg.NewPtrOffsetCommitRequest()
	commit.Group, commit.Generation = g, -1
	ct := kmsg.NewOffsetCommitRequestTopic()
	ct.Topic = testTopic
	cp := kmsg.NewOffsetCommitRequestTopicPartition()
	cp.Partition, cp.Offset, cp.LeaderEpoch, cp.Metadata = p, at, epoch, meta
	ct.Partitions = append(ct.Partitions, cp)
	commit.Topics = append(commit.Topics, ct)
	resp, err := commit.RequestWith(context.Background(), adm)
	if err != nil || len(resp.Topics) != 1 || resp.Topics[0].Partitions[0].ErrorCode != 0 {
		t.Fatalf("committing for %s: %v %+v", g, err, resp)
	}
}

// TestOtherCountedBeforeElection (attack run 34 F5): a counted up to 5
// under the first leader epoch (its state restored holds the last record
// 5); b counted 6 on, under that epoch too, and committed. An unclean
// election lost 5 on, and the new leader took records at 5..10. a went
// back to 5, where its epoch ends, and passed b's offsets from 6 over as
// "counted under the new leader epoch": the new records there were
// counted by no one. b's commit is under the old epoch (or past the
// log's end): they are read, and b's offsets are reported lost with a's.
func TestOtherCountedBeforeElection(t *testing.T) {
	t.Parallel() // clusters and states of their own
	for _, tc := range []struct {
		name     string
		group    int64 // b's commit
		newEpoch bool  // b's commit under the new leader epoch
		records  int64
		lost     float64
		problem  string
	}{
		// The log ends at 11, below b's 14: b counted before the loss.
		{"past the log's end", 14, false, 6, 9, "the broker lost offsets 5..13"},
		// Within the log, but under the old epoch.
		{"under the old epoch", 11, false, 6, 6, "the broker lost offsets 5..10"},
		// Under the new epoch, within the log: b counted the new records.
		{"under the new epoch", 11, true, 1, 1, "the broker lost offsets 5..5"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fx := newFixture(t, 10)
			c, err := kfake.NewCluster(kfake.NumBrokers(2), kfake.SeedTopics(partitions, testTopic), kfake.GroupMinSessionTimeout(time.Second))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(c.Close)
			rows := produceRows(t, compressedProducer(t, c))
			rows(0, 5) // offsets 0..4 under the first leader epoch
			epoch, producer := lastOf(t, c, 0, 4)
			if err := c.MoveTopicPartition(testTopic, 0, 1-c.LeaderFor(testTopic, 0)); err != nil {
				t.Fatal(err)
			}
			rows(0, 6) // offsets 5..10 under a later epoch
			newEpoch, _ := lastOf(t, c, 0, 10)
			if newEpoch <= epoch {
				t.Fatalf("leader epoch %d after the move, want past %d", newEpoch, epoch)
			}
			src := Source("g", testTopic)
			a := stateWithID(t, c, monitor.Offset{Source: src + "#last-offset", Partition: 0, Next: 6},
				monitor.Offset{Source: src + "#last-epoch", Partition: 0, Next: int64(epoch) + 1}, monitor.Offset{Source: src + "#last-producer", Partition: 0, Next: producer + 1},
				monitor.Offset{Source: src, Partition: 0, Next: 6})
			mon := openState(t, a)
			self := mon.StoreID()
			mon.Close()
			b := strings.Repeat("b", 32)
			ce := epoch
			if tc.newEpoch {
				ce = newEpoch
			}
			commitGroupAt(t, c, "g", 0, tc.group, ce, kmsg.StringPtr(formatCustody([]custodyEntry{{self, 0}, {b, 6}}, nil)))

			var logs logBuffer
			r := startWith(t, c, fx, a, logTo(&logs))
			waitRecords(t, int(tc.records), r)
			st := settle(t, r, 500*time.Millisecond)
			if st.Records != tc.records {
				t.Errorf("records %d, want %d", st.Records, tc.records)
			}
			if !strings.Contains(st.Problem(), tc.problem) {
				t.Errorf("problem %q lacks %q", st.Problem(), tc.problem)
			}
			if got := counterValue(t, r.cons.metricLost); got != tc.lost {
				t.Errorf("normguard_kafka_lost_offsets_total %v, want %v", got, tc.lost)
			}
			if next, err := r.mon.Offsets(src); err != nil || next[0] != 11 {
				t.Errorf("stored position %v (%v), want 11", next, err)
			}
			if !tc.newEpoch && strings.Contains(logs.String(), "under the new leader epoch") {
				t.Errorf("log says b's offsets are under the new leader epoch:\n%s", logs.String())
			}
		})
	}
}
