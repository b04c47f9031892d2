package kafka

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/normguard/normguard/monitor"
)

// groupCommit returns the offset and metadata group g holds for partition
// p of the test topic.
func groupCommit(t *testing.T, c *kfake.Cluster, g string, p int32) (int64, string) {
	t.Helper()
	adm, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer adm.Close()
	req := kmsg.NewPtrOffsetFetchRequest()
	req.Group = g
	rt := kmsg.NewOffsetFetchRequestTopic()
	rt.Topic, rt.Partitions = testTopic, []int32{p}
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(context.Background(), adm)
	if err != nil {
		t.Fatal(err)
	}
	for _, tp := range resp.Topics {
		for _, pp := range tp.Partitions {
			if tp.Topic == testTopic && pp.Partition == p {
				meta := ""
				if pp.Metadata != nil {
					meta = *pp.Metadata
				}
				return pp.Offset, meta
			}
		}
	}
	t.Fatalf("group %s holds no offset for partition %d: %+v", g, p, resp)
	return 0, ""
}

// restoredAt returns a state holding the test topic's ID and position pos
// of partition 0, and its identity.
func restoredAt(t *testing.T, c *kfake.Cluster, pos int64) (string, string) {
	t.Helper()
	state := stateWithID(t, c, monitor.Offset{Source: Source("g", testTopic), Partition: 0, Next: pos})
	mon := openState(t, state)
	defer mon.Close()
	return state, mon.StoreID()
}

// TestLogEndBelowGroupOffset (attack run 34 F1): a state restored at 3
// reads again its own 3..4 below the group's offset 20, whose custody
// gives 5..19 to b; the log ends at 10 (an unclean election lost 10..19).
// The truncation check compared the end with the position reading again
// resumed at, 3, and found nothing: the records written at 10 on were
// passed over as b's, with no word. They are read, and the loss of 10..19
// is the problem and counted.
func TestLogEndBelowGroupOffset(t *testing.T) {
	t.Parallel() // a cluster and a state of its own
	fx := newFixture(t, 10)
	c := newCluster(t)
	rows := produceRows(t, compressedProducer(t, c))
	rows(0, 10) // offsets 0..9
	state, self := restoredAt(t, c, 3)
	b := strings.Repeat("b", 32)
	commitGroup(t, c, "g", 0, 20, kmsg.StringPtr(formatCustody([]custodyEntry{{self, 0}, {b, 5}}, nil)))

	var logs logBuffer
	r := startWith(t, c, fx, state, logTo(&logs))
	waitRecords(t, 2, r)
	rows(0, 5) // offsets 10..14, written after the loss
	waitRecordsWithin(t, 7, 20*time.Second, r)
	st := settle(t, r, 500*time.Millisecond)
	if st.Records != 7 {
		t.Errorf("records %d, want 7: 3..4 read again and the new 10..14 (b counted 5..9)", st.Records)
	}
	for _, want := range []string{"the log ends at 10, below the group's offset 20", "the broker lost offsets 10..19", "from offset 10 on"} {
		if !strings.Contains(st.Problem(), want) {
			t.Errorf("problem %q lacks %q", st.Problem(), want)
		}
	}
	if got := counterValue(t, r.cons.metricLost); got != 10 {
		t.Errorf("normguard_kafka_lost_offsets_total %v, want 10 (offsets 10..19)", got)
	}
	if want := "were counted by another replica of the group (state store " + b; !strings.Contains(logs.String(), want) {
		t.Errorf("log lacks %q:\n%s", want, logs.String())
	}
	if next, err := r.mon.Offsets(Source("g", testTopic)); err != nil || next[0] != 15 {
		t.Errorf("stored position %v (%v), want 15", next, err)
	}
	r.close(t)
	at, meta := groupCommit(t, c, "g", 0)
	m := parseCustody(meta)
	if want := []custodyEntry{{self, 0}, {b, 5}, {self, 10}}; at != 15 || len(m.hist) != 3 || m.hist[2] != want[2] || m.hist[1] != want[1] {
		t.Errorf("group's commit %d %q, want 15 with custody %v", at, meta, want)
	}
}

// TestOwedOffsetsReported (attack run 34 F2): a restored state a reading
// again its 3..4 below the group's offset 7 (b counted 5..6) lost the
// partition at 3; b, given it at the group's offset, read on from 7, and
// 3..4 were in no replica's windows, both /healthz ok. a's commits say
// from where it still reads again: b reports the offsets, and keeps the
// mark in its commits.
func TestOwedOffsetsReported(t *testing.T) {
	t.Parallel() // a cluster and a state of its own
	fx := newFixture(t, 10)
	c := newCluster(t)
	rows := produceRows(t, compressedProducer(t, c))
	rows(0, 10) // offsets 0..9
	state, b := restoredAt(t, c, 7)
	a := strings.Repeat("a", 32)
	commitGroup(t, c, "g", 0, 7, kmsg.StringPtr(formatCustody([]custodyEntry{{a, 0}, {b, 5}, {a, 7}}, &owing{a, 3})))

	r := startWith(t, c, fx, state, nil)
	waitRecords(t, 3, r)
	st := settle(t, r, 500*time.Millisecond)
	if st.Records != 3 {
		t.Errorf("records %d, want 7..9", st.Records)
	}
	for _, want := range []string{"offsets 3..4 are counted by no replica", "store " + a, "given the partition again"} {
		if !strings.Contains(st.Problem(), want) {
			t.Errorf("problem %q lacks %q", st.Problem(), want)
		}
	}
	r.close(t)
	at, meta := groupCommit(t, c, "g", 0)
	if m := parseCustody(meta); at != 10 || m.owed == nil || *m.owed != (owing{a, 3}) {
		t.Errorf("group's commit %d %q, want 10 still owing a's from 3", at, meta)
	}
}

// TestDamagedCustodyIsAProblem (attack run 34 F4): a custody that does not
// parse was taken for no custody, and the commit for an earlier
// normguard's naming another state: the offsets between the position and
// the group's offset were passed over with an info line. Who counted them
// cannot be told from it: the /healthz problem, as for foreign metadata.
func TestDamagedCustodyIsAProblem(t *testing.T) {
	t.Parallel() // a cluster and states of their own
	fx := newFixture(t, 10)
	c := newCluster(t)
	rows := produceRows(t, compressedProducer(t, c))
	rows(0, 10) // offsets 0..9
	z := strings.Repeat("f", 32)
	for _, tc := range []struct{ name, custody string }{
		{"a trailing comma", "%s@0," + z + "@5,"},
		{"a negative offset", "%s@0," + z + "@-5"},
		{"last not the committer", "%s@0," + strings.Repeat("e", 32) + "@5"},
	} {
		state, self := restoredAt(t, c, 3)
		meta := commitMetaPrefix + z + custodyMark + strings.Replace(tc.custody, "%s", self, 1)
		commitGroup(t, c, "g", 0, 10, &meta)
		r := startWith(t, c, fx, state, nil)
		waitFor(t, 20*time.Second, func() bool { return len(r.cons.Stats().Skipped) > 0 }, func() string {
			return tc.name + ": no problem within 20 s"
		})
		st := settle(t, r, 300*time.Millisecond)
		for _, want := range []string{"cannot be told who counted offsets 3..9", "custody is not a normguard's"} {
			if !strings.Contains(st.Problem(), want) {
				t.Errorf("%s: problem %q lacks %q", tc.name, st.Problem(), want)
			}
		}
		r.close(t)
	}
}

// TestForeignCustodyNotCommitted (attack run 34 F3): a custody naming a
// 6,000-character store was kept and committed again, past the 4096 bytes
// of metadata a broker allows. It is not a normguard's: dropped, and the
// state's commits carry its own custody only.
func TestForeignCustodyNotCommitted(t *testing.T) {
	t.Parallel() // a cluster and a state of its own
	fx := newFixture(t, 10)
	c := newCluster(t)
	rows := produceRows(t, compressedProducer(t, c))
	rows(0, 5) // offsets 0..4
	state, self := restoredAt(t, c, 3)
	meta := commitMetaPrefix + self + custodyMark + strings.Repeat("Q", 6000) + "@0," + self + "@2"
	commitGroup(t, c, "g", 0, 3, &meta)
	r := startWith(t, c, fx, state, nil)
	waitRecords(t, 2, r)
	settle(t, r, 300*time.Millisecond)
	r.close(t)
	at, got := groupCommit(t, c, "g", 0)
	if want := formatCustody([]custodyEntry{{self, 3}}, nil); at != 5 || got != want {
		t.Errorf("group's commit %d %q (%d bytes), want 5 %q", at, got, len(got), want)
	}
}
