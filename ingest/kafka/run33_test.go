package kafka

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/normguard/normguard/monitor"
)

// handOver is a turn of a replica (a or b) holding the partition while n
// records are written.
type handOver struct {
	replica string
	n       int
}

// restoreAfter runs replicas a and b of group g, each with its own state,
// one at a time through turns after a's state was backed up holding the
// first backedUp records, then restores a's backup and starts a again. It
// returns the restored replica (settled), its logs and b's state.
func restoreAfter(t *testing.T, backedUp int, turns []handOver) (*replica, *logBuffer, string) {
	t.Helper()
	fx := newFixture(t, 10)
	c := newCluster(t)
	rows := produceRows(t, compressedProducer(t, c))
	dir := t.TempDir()
	live, backup := filepath.Join(dir, "a"), filepath.Join(dir, "backup")
	states := map[string]string{"a": filepath.Join(live, "m.db"), "b": filepath.Join(dir, "b", "m.db")}
	for _, d := range []string{live, filepath.Join(dir, "b")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	rows(0, backedUp)
	r := startWith(t, c, fx, states["a"], nil)
	waitRecords(t, backedUp, r)
	settle(t, r, 300*time.Millisecond)
	r.close(t)
	copyDir(t, live, backup)
	for _, turn := range turns {
		r := startWith(t, c, fx, states[turn.replica], nil)
		rows(0, turn.n)
		waitRecords(t, turn.n, r)
		settle(t, r, 300*time.Millisecond)
		r.close(t)
	}
	if err := os.RemoveAll(live); err != nil {
		t.Fatal(err)
	}
	copyDir(t, backup, live)
	var logs logBuffer
	r = startWith(t, c, fx, states["a"], logTo(&logs))
	return r, &logs, states["b"]
}

// checkNoOverlap fails when the restored replica r's windows and those of
// the state at other read an offset both.
func checkNoOverlap(t *testing.T, r *replica, other string) {
	t.Helper()
	exA, err := r.mon.Export(testModel)
	if err != nil {
		t.Fatal(err)
	}
	monB := openState(t, other)
	defer monB.Close()
	exB, err := monB.Export(testModel)
	if err != nil {
		t.Fatal(err)
	}
	if err := monitor.CheckOverlaps([]*monitor.Export{exA, exB}); err != nil {
		t.Errorf("the two replicas' windows overlap: %v", err)
	}
}

// TestRestoreAfterHandOver (attack run 33 F1): replica a's state backed up
// at offset 3, a counts 3..4, goes down, b takes the partition over at 5
// and counts 5..6; a's backup restored resumed at b's 7 (the commit named
// b only), and 3..4 were in no replica's windows, with an info line
// calling 3..6 b's. The commits carry the partition's custody: a reads
// 3..4 again, passes 5..6 over, and every record is counted once across
// the two replicas.
func TestRestoreAfterHandOver(t *testing.T) {
	t.Parallel() // a cluster and states of its own
	r, logs, b := restoreAfter(t, 3, []handOver{{"a", 2}, {"b", 2}})
	waitRecords(t, 2, r)
	st := settle(t, r, 500*time.Millisecond)
	if st.Records != 2 || st.Problem() != "" {
		t.Errorf("restored: records %d, problem %q; want offsets 3..4 read again, no problem", st.Records, st.Problem())
	}
	for _, want := range []string{"counted offsets 3..4 since", "read again from 3", "offsets 5..6 were counted by another replica"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs.String())
		}
	}
	if strings.Contains(logs.String(), "offsets 3..6") {
		t.Errorf("log names 3..6 (b counted 5..6 only):\n%s", logs.String())
	}
	if next, err := r.mon.Offsets(Source("g", testTopic)); err != nil || next[0] != 7 {
		t.Errorf("stored position %v (%v), want 7", next, err)
	}
	checkNoOverlap(t, r, b)
}

// TestRestoreChainByCustody (attack run 33 F4): a counts 3..4 after its
// backup, b 5..6, a 7..8; a's backup restored found the group's offset
// committed by itself and read 3..8 again, b's 5..6 counted twice, with a
// warning saying a counted them. By the custody it reads again 3..4 and
// 7..8 only.
func TestRestoreChainByCustody(t *testing.T) {
	t.Parallel() // a cluster and states of its own
	r, logs, b := restoreAfter(t, 3, []handOver{{"a", 2}, {"b", 2}, {"a", 2}})
	waitRecords(t, 4, r)
	st := settle(t, r, 500*time.Millisecond)
	if st.Records != 4 || st.Problem() != "" {
		t.Errorf("restored: records %d, problem %q; want offsets 3..4 and 7..8 read again, no problem", st.Records, st.Problem())
	}
	for _, want := range []string{"the group's offset 9 was committed by this state file", "counted offsets 3..4, 7..8 since", "offsets 5..6 were counted by another replica"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs.String())
		}
	}
	if next, err := r.mon.Offsets(Source("g", testTopic)); err != nil || next[0] != 9 {
		t.Errorf("stored position %v (%v), want 9", next, err)
	}
	checkNoOverlap(t, r, b)
}

// TestRewrittenWhileOtherReadOn (attack run 33 F3): a counted up to offset
// 6 under the first leader epoch; an unclean election lost 5..6 and the
// new leader took records at 5 on; b, given the partition at a's 7,
// counted 7..10 and committed 11. a started again found its last record
// rewritten and went back to where its epoch ended, 5, below b's offset:
// it read 5..10, b's 7..10 counted twice, reported as the loss of 5..10.
// Now a reads 5..6 again and passes b's 7..10 over; the problem and the
// metric name 5..6.
func TestRewrittenWhileOtherReadOn(t *testing.T) {
	t.Parallel() // a cluster and a state of its own
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
	src := Source("g", testTopic)
	a := stateWithID(t, c, monitor.Offset{Source: src + "#last-offset", Partition: 0, Next: 7},
		monitor.Offset{Source: src + "#last-epoch", Partition: 0, Next: int64(epoch) + 1}, monitor.Offset{Source: src + "#last-producer", Partition: 0, Next: producer + 1},
		monitor.Offset{Source: src, Partition: 0, Next: 7})
	mon := openState(t, a)
	self := mon.StoreID()
	mon.Close()
	b := strings.Repeat("b", 32)
	commitGroup(t, c, "g", 0, 11, kmsg.StringPtr(formatCustody([]custodyEntry{{self, 0}, {b, 7}}, nil)))

	var logs logBuffer
	r := startWith(t, c, fx, a, logTo(&logs))
	waitRecords(t, 2, r)
	st := settle(t, r, 500*time.Millisecond)
	if st.Records != 2 {
		t.Errorf("records %d, want offsets 5..6 only (b counted 7..10)", st.Records)
	}
	for _, want := range []string{"the broker lost offsets 5..6 that were counted", "from offset 5 on"} {
		if !strings.Contains(st.Problem(), want) {
			t.Errorf("problem %q lacks %q", st.Problem(), want)
		}
	}
	if want := "offsets 7..10 were counted by another replica of the group after the broker lost offsets from 5"; !strings.Contains(logs.String(), want) {
		t.Errorf("log lacks %q:\n%s", want, logs.String())
	}
	if got := counterValue(t, r.cons.metricLost); got != 2 {
		t.Errorf("normguard_kafka_lost_offsets_total %v, want 2 (offsets 5..6)", got)
	}
	if next, err := r.mon.Offsets(src); err != nil || next[0] != 11 {
		t.Errorf("stored position %v (%v), want 11", next, err)
	}
}

// TestRewrittenByNonIdempotentProducer (attack run 33 F2): records of a
// producer without idempotence all carry producer id -1, so a broker that
// lost the record counted last and took another at its offset under the
// same leader epoch passed the last-record check, and the records written
// again below the position were skipped without a word. The state keeps a
// hash of the record counted: another record there is the problem naming
// it. Cluster one holds the records counted; cluster two, under the same
// epoch, other records at the same offsets, as the broker refilled.
func TestRewrittenByNonIdempotentProducer(t *testing.T) {
	t.Parallel() // clusters and states of their own
	fx := newFixture(t, 10)
	produce := func(c *kfake.Cluster, seed int) {
		t.Helper()
		prod, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.DefaultProduceTopic(testTopic),
			kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.DisableIdempotentWrite())
		if err != nil {
			t.Fatal(err)
		}
		defer prod.Close()
		recs := paddedRows(0, 5, 100)
		for i, r := range recs {
			r.Value = []byte(fmt.Sprintf(`{"delay": %d}`, seed+i))
		}
		if err := prod.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	counted := newCluster(t)
	produce(counted, 0)
	state := filepath.Join(t.TempDir(), "m.db")
	r := startWith(t, counted, fx, state, nil)
	waitRecords(t, 5, r)
	settle(t, r, 300*time.Millisecond)
	r.close(t)
	src := Source("g", testTopic)
	mon := openState(t, state)
	var kept []monitor.Offset
	for _, tag := range []string{"#last-offset", "#last-epoch", "#last-producer", "#last-hash"} {
		offs, err := mon.Offsets(src + tag)
		if err != nil || len(offs) != 1 {
			t.Fatalf("state keeps %s %v (%v)", tag, offs, err)
		}
		kept = append(kept, monitor.Offset{Source: src + tag, Partition: 0, Next: offs[0]})
	}
	mon.Close()
	if kept[2].Next != 0 {
		t.Fatalf("producer kept %d, want -1 (+1): the producer is not idempotent", kept[2].Next-1)
	}

	refilled := newCluster(t)
	produce(refilled, 100)
	if e, _ := lastOf(t, refilled, 0, 4); e != int32(kept[1].Next-1) {
		t.Fatalf("leader epoch %d, want the counted one's, %d", e, kept[1].Next-1)
	}
	for _, tc := range []struct {
		name    string
		offs    []monitor.Offset
		problem bool
	}{
		{"the hash kept", kept, true},
		{"no hash (an older state)", kept[:3], false},
	} {
		state := stateWithID(t, refilled, append(tc.offs, monitor.Offset{Source: src, Partition: 0, Next: 5})...)
		r := startWith(t, refilled, fx, state, nil)
		if tc.problem {
			waitFor(t, 20*time.Second, func() bool { return len(r.cons.Stats().Truncated) > 0 }, func() string {
				return fmt.Sprintf("%s: no problem within 20 s: %q", tc.name, r.cons.Stats().Problem())
			})
		}
		st := settle(t, r, 500*time.Millisecond)
		if got := strings.Contains(st.Problem(), "the record at offset 4 is not the one counted (its key, value, timestamp or headers differ"); got != tc.problem || st.Records != 0 {
			t.Errorf("%s: records %d, problem %q; want none read, problem %v", tc.name, st.Records, st.Problem(), tc.problem)
		}
		r.close(t)
	}
}
