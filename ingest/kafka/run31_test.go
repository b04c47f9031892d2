package kafka

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"

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

// commitGroup commits offset at for partition p of the test topic to group
// g, as another member of it would.
func commitGroup(t *testing.T, c *kfake.Cluster, g string, p int32, at int64, meta *string) {
	t.Helper()
	// (Before version 10, an offset commit names its topic by name.)
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
	cp.Partition, cp.Offset, cp.Metadata = p, at, meta
	ct.Partitions = append(ct.Partitions, cp)
	commit.Topics = append(commit.Topics, ct)
	resp, err := commit.RequestWith(context.Background(), adm)
	if err != nil || len(resp.Topics) != 1 || resp.Topics[0].Partitions[0].ErrorCode != 0 {
		t.Fatalf("committing for %s: %v %+v", g, err, resp)
	}
}

// stateWithID returns a state holding the test topic's current ID for
// group g and the positions offs.
func stateWithID(t *testing.T, c *kfake.Cluster, offs ...monitor.Offset) string {
	t.Helper()
	ids := (&Consumer{source: Source("g", testTopic)}).idOffsets(topicID(c.TopicInfo(testTopic).TopicID))
	return stateAt(t, append(ids, offs...)...)
}

// TestLogEndBelowPositionAtAssignment (attack run 31 F1): a broker that
// lost the tail of a partition (its log ends below the state's position,
// the topic's ID unchanged), then took new records at the offsets lost:
// the consumer resumed at its position and passed the new records over
// without a word. At assignment the log's end is compared with the
// position: the partition resumes at the end, stored in the state and
// committed to the group at once, and the loss is logged, counted and a
// problem naming the offsets lost; the new records are read, once.
func TestLogEndBelowPositionAtAssignment(t *testing.T) {
	t.Parallel() // a cluster and a state of its own
	fx := newFixture(t, 10)
	c := newCluster(t)
	rows := produceRows(t, compressedProducer(t, c))
	rows(0, 5) // offsets 0..4: the broker kept them, and lost 5 and 6
	state := stateWithID(t, c, monitor.Offset{Source: Source("g", testTopic), Partition: 0, Next: 7})
	commitGroup(t, c, "g", 0, 7, nil)
	var logs logBuffer
	r := startWith(t, c, fx, state, logTo(&logs), kgo.FetchMaxWait(100*time.Millisecond))
	var st Stats
	waitFor(t, 20*time.Second, func() bool { st = r.cons.Stats(); return len(st.Truncated) > 0 },
		func() string { return fmt.Sprintf("no truncation reported within 20 s: %+v", st) })
	for _, want := range []string{"partition 0", "log ends at 5, below the position 7", "the broker lost offsets 5..6 that were counted", "records written there again are read"} {
		if !strings.Contains(st.Problem(), want) || !strings.Contains(logs.String(), want) {
			t.Errorf("problem %q or log lacks %q:\n%s", st.Problem(), want, logs.String())
		}
	}
	if got := counterValue(t, r.cons.metricLost); got != 2 {
		t.Errorf("normguard_kafka_lost_offsets_total %v, want 2 (offsets 5 and 6)", got)
	}
	// Stored and committed before any record comes: a restart before
	// the next record resumes at 5 too.
	if next, err := r.mon.Offsets(Source("g", testTopic)); err != nil || next[0] != 5 {
		t.Errorf("stored position %v (%v), want 5", next, err)
	}
	waitFor(t, 10*time.Second, func() bool {
		held, err := committedOffsets(r.cons.cfg, "g", testTopic)
		return err == nil && held[0] == 5
	}, func() string { return "the group's offset of partition 0 not committed as 5 within 10 s" })

	rows(0, 4) // offsets 5..8, new records
	waitRecords(t, 4, r)
	st = settle(t, r, 300*time.Millisecond)
	if st.Records != 4 || st.Rows != 4 || len(st.Truncated) != 1 || len(st.Reset) != 0 {
		t.Errorf("records %d, rows %d, problem %q; want offsets 5..8 counted, the loss a problem still", st.Records, st.Rows, st.Problem())
	}
	r.close(t)
	r = startWith(t, c, fx, state, nil)
	if st := settle(t, r, 500*time.Millisecond); st.Records != 0 || st.Problem() != "" {
		t.Errorf("restarted: records %d, problem %q; want nothing read again, no problem", st.Records, st.Problem())
	}
}

// TestLogEndBelowPositionWhileRunning (attack run 31 F1): the client
// reset below the consumer's position (the log ends below it) while
// serve runs: the records below the position it hands over again are not
// counted again, and the partition goes on from the log's end (it was set
// back to the position, where the records written at the offsets lost
// were passed over, and the problem cleared once the log passed it). The
// assignment's look-up of the end fails here, so that the client's reset
// finds it.
func TestLogEndBelowPositionWhileRunning(t *testing.T) {
	t.Parallel() // a cluster and a state of its own
	fx := newFixture(t, 10)
	c := newCluster(t)
	rows := produceRows(t, compressedProducer(t, c))
	rows(0, 5)
	var failed atomic.Bool
	c.ControlKey(int16(kmsg.ListOffsets), func(req kmsg.Request) (kmsg.Response, error, bool) {
		lo := req.(*kmsg.ListOffsetsRequest)
		if failed.Load() || lo.IsolationLevel != 0 || len(lo.Topics) != 1 || lo.Topics[0].Partitions[0].Timestamp != -1 {
			return nil, nil, false
		}
		failed.Store(true)
		resp := lo.ResponseKind().(*kmsg.ListOffsetsResponse)
		for _, rt := range lo.Topics {
			st := kmsg.NewListOffsetsResponseTopic()
			st.Topic = rt.Topic
			for _, rp := range rt.Partitions {
				sp := kmsg.NewListOffsetsResponseTopicPartition()
				sp.Partition, sp.ErrorCode = rp.Partition, kerr.UnknownServerError.Code
				st.Partitions = append(st.Partitions, sp)
			}
			resp.Topics = append(resp.Topics, st)
		}
		return resp, nil, true
	})
	state := stateWithID(t, c, monitor.Offset{Source: Source("g", testTopic), Partition: 0, Next: 7})
	r := startWith(t, c, fx, state, nil, kgo.MetadataMinAge(100*time.Millisecond), kgo.FetchMaxWait(100*time.Millisecond))
	var st Stats
	waitFor(t, 20*time.Second, func() bool {
		st = r.cons.Stats()
		if st.Records != 0 {
			t.Fatalf("records %d counted again below the stored position 7", st.Records)
		}
		return strings.Contains(st.Problem(), "the broker lost offsets 5..6 that were counted")
	}, func() string { return fmt.Sprintf("no truncation reported within 20 s: %+v", st) })
	if !failed.Load() || !strings.Contains(st.Problem(), "after the Kafka client was reset below the position") {
		t.Errorf("problem %q; want the loss found by the client's reset", st.Problem())
	}
	rows(0, 4)
	waitRecords(t, 4, r)
	st = settle(t, r, 300*time.Millisecond)
	if st.Records != 4 || st.Rows != 4 || len(st.Truncated) != 1 || len(st.Reset) != 0 {
		t.Errorf("records %d, rows %d, problem %q; want offsets 5..8 only, the loss a problem still", st.Records, st.Rows, st.Problem())
	}
	if got := counterValue(t, r.cons.metricLost); got != 2 {
		t.Errorf("normguard_kafka_lost_offsets_total %v, want 2", got)
	}
}

// counterValue returns the value of counter m, gathered from a registry
// of its own.
func counterValue(t *testing.T, m prometheus.Counter) float64 {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(m)
	mfs, err := reg.Gather()
	if err != nil || len(mfs) != 1 || len(mfs[0].GetMetric()) != 1 {
		t.Fatalf("gathering %v: %v", mfs, err)
	}
	return mfs[0].GetMetric()[0].GetCounter().GetValue()
}

// copyDir copies the files of directory from into directory to (made).
func copyDir(t *testing.T, from, to string) {
	t.Helper()
	if err := os.MkdirAll(to, 0o755); err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		data, err := os.ReadFile(filepath.Join(from, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, e.Name()), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestRestoredStateReadsAgain (attack run 31 F5): a state restored from a
// backup (the file and its marker together) resumed at the group's
// committed offset, past its own position, and the records it had counted
// since the backup, lost with its windows, were never counted again, with
// no word. Commits name the state file: the group's offset committed by
// this same state makes it read again from its own position, logged.
func TestRestoredStateReadsAgain(t *testing.T) {
	t.Parallel() // a cluster and a state of its own
	fx := newFixture(t, 10)
	c := newCluster(t)
	rows := produceRows(t, compressedProducer(t, c))
	dir := t.TempDir()
	live, backup := filepath.Join(dir, "live"), filepath.Join(dir, "backup")
	state := filepath.Join(live, "m.db")
	if err := os.MkdirAll(live, 0o755); err != nil {
		t.Fatal(err)
	}
	rows(0, 3)
	r := startWith(t, c, fx, state, nil)
	waitRecords(t, 3, r)
	settle(t, r, 300*time.Millisecond)
	r.close(t)
	copyDir(t, live, backup)

	r = startWith(t, c, fx, state, nil)
	rows(0, 2) // offsets 3 and 4, counted into the windows the disk loses
	waitRecords(t, 2, r)
	settle(t, r, 300*time.Millisecond)
	r.close(t)
	if err := os.RemoveAll(live); err != nil {
		t.Fatal(err)
	}
	copyDir(t, backup, live)

	var logs logBuffer
	r = startWith(t, c, fx, state, logTo(&logs))
	waitRecords(t, 2, r)
	st := settle(t, r, 500*time.Millisecond)
	if st.Records != 2 || st.Rows != 2 || st.Problem() != "" {
		t.Errorf("records %d, rows %d, problem %q; want offsets 3 and 4 read again, no problem", st.Records, st.Rows, st.Problem())
	}
	for _, want := range []string{"the group's offset 5 was committed by this state file", "whose position is 3", "offsets 3..4", "read again from 3"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs.String())
		}
	}
	if next, err := r.mon.Offsets(Source("g", testTopic)); err != nil || next[0] != 5 {
		t.Errorf("stored position %v (%v), want 5", next, err)
	}
}

// TestGroupAheadByWhom (attack run 31 F5): the group's offset past the
// state's position, committed by another replica's state (named by the
// commit's metadata), resumes at the group's offset as before, logged
// once naming the offsets; so does one committed without metadata (the
// group moved by hand with kafka-consumer-groups.sh), logged; one with
// other metadata (an earlier normguard's member id) resumes there too,
// and the offsets passed over are logged and a problem, since they may
// be counted by no one.
func TestGroupAheadByWhom(t *testing.T) {
	t.Parallel() // a cluster and a state of its own
	fx := newFixture(t, 10)
	c := newCluster(t)
	rows := produceRows(t, compressedProducer(t, c))
	rows(0, 10)
	for _, tc := range []struct {
		name    string
		meta    *string
		log     []string
		problem []string
	}{
		{"another replica", kmsg.StringPtr(commitMetaPrefix + "0123456789abcdef"), []string{"offsets 5..8 were counted by another replica of the group (state store 0123456789abcdef)", "resumed at the group's offset 9"}, nil},
		{"no metadata (a reset by hand)", nil, []string{"offset 9 is past this state's position 5 and was committed without metadata", "offsets 5..8 are passed over"}, nil},
		{"an earlier normguard's member ID", kmsg.StringPtr("kgo-member-1"), []string{"kgo-member-1", "cannot be told who counted offsets 5..8"},
			[]string{"partition 0", "offset 9 is past this state's position 5", `with metadata "kgo-member-1"`, "cannot be told who counted offsets 5..8", "by no one if this state is a restored copy"}},
	} {
		state := stateWithID(t, c, monitor.Offset{Source: Source("g", testTopic), Partition: 0, Next: 5})
		commitGroup(t, c, "g", 0, 9, tc.meta)
		var logs logBuffer
		r := startWith(t, c, fx, state, logTo(&logs))
		waitRecords(t, 1, r)
		st := settle(t, r, 500*time.Millisecond)
		if st.Records != 1 {
			t.Errorf("%s: records %d, want offset 9 only", tc.name, st.Records)
		}
		for _, want := range tc.log {
			if !strings.Contains(logs.String(), want) {
				t.Errorf("%s: log lacks %q:\n%s", tc.name, want, logs.String())
			}
		}
		if p := st.Problem(); len(tc.problem) == 0 && p != "" {
			t.Errorf("%s: problem %q, want none", tc.name, p)
		}
		for _, want := range tc.problem {
			if !strings.Contains(st.Problem(), want) {
				t.Errorf("%s: problem %q lacks %q", tc.name, st.Problem(), want)
			}
		}
		r.close(t)
	}
}

// lastOf returns the leader epoch and producer id of the record at offset
// at of partition p of the test topic.
func lastOf(t *testing.T, c *kfake.Cluster, p int32, at int64) (int32, int64) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{testTopic: {p: kgo.NewOffset().At(at)}}))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("no record at offset %d within 10 s", at)
		}
		for _, r := range fs.Records() {
			if r.Offset == at {
				return r.LeaderEpoch, r.ProducerID
			}
		}
	}
}

// TestRewrittenLogBelowPosition (attack run 31 F1, its repro): the broker
// lost the tail of a partition and took new records at the offsets lost
// before serve looked, so the log ends past the position again: the new
// records below it were passed over without a word. The state keeps the
// last record counted (offset, leader epoch, producer): written under a
// later leader epoch (an unclean election), the partition resumes where
// the counted epoch ends, and the new records are read, once; under the
// same epoch, where the loss begins cannot be told: it is logged and a
// problem.
func TestRewrittenLogBelowPosition(t *testing.T) {
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
	leader := c.LeaderFor(testTopic, 0)
	if err := c.MoveTopicPartition(testTopic, 0, 1-leader); err != nil {
		t.Fatal(err)
	}
	rows(0, 4) // offsets 5..8 under a later epoch
	if e, _ := lastOf(t, c, 0, 6); e <= epoch {
		t.Fatalf("leader epoch %d after the move, want past %d", e, epoch)
	}
	src := Source("g", testTopic)
	last := func(at int64, epoch int32, producer int64) []monitor.Offset {
		return []monitor.Offset{{Source: src + "#last-offset", Partition: 0, Next: at + 1},
			{Source: src + "#last-epoch", Partition: 0, Next: int64(epoch) + 1}, {Source: src + "#last-producer", Partition: 0, Next: producer + 1}}
	}

	// Counted up to offset 6 under the first epoch (a record the broker
	// lost): the epoch ended at 5, and 5..8 are new.
	state := stateWithID(t, c, append(last(6, epoch, producer), monitor.Offset{Source: src, Partition: 0, Next: 7})...)
	var logs logBuffer
	r := startWith(t, c, fx, state, logTo(&logs))
	waitRecords(t, 4, r)
	st := settle(t, r, 500*time.Millisecond)
	if st.Records != 4 {
		t.Errorf("records %d, want offsets 5..8", st.Records)
	}
	for _, want := range []string{"the record at offset 6 is not the one counted", "the broker lost offsets 5..6 that were counted", "from offset 5 on"} {
		if !strings.Contains(st.Problem(), want) || !strings.Contains(logs.String(), want) {
			t.Errorf("problem %q or log lacks %q", st.Problem(), want)
		}
	}
	if got := counterValue(t, r.cons.metricLost); got != 2 {
		t.Errorf("normguard_kafka_lost_offsets_total %v, want 2", got)
	}
	r.close(t)
	// Restarted, the last record counted is the log's: nothing read again.
	r = startWith(t, c, fx, state, nil)
	if st := settle(t, r, 500*time.Millisecond); st.Records != 0 || st.Problem() != "" {
		t.Errorf("restarted: records %d, problem %q; want none", st.Records, st.Problem())
	}
	r.close(t)

	// Counted up to offset 4 by another producer, under the same epoch:
	// the loss cannot be placed; reported. (The group's offset, 9, was
	// committed by the other state: resumed there.)
	state = stateWithID(t, c, append(last(4, epoch, producer+1), monitor.Offset{Source: src, Partition: 0, Next: 5})...)
	r = startWith(t, c, fx, state, nil)
	waitFor(t, 20*time.Second, func() bool { return len(r.cons.Stats().Truncated) > 0 }, func() string {
		return fmt.Sprintf("no problem within 20 s: %q", r.cons.Stats().Problem())
	})
	st = settle(t, r, 500*time.Millisecond)
	if st.Records != 0 || !strings.Contains(st.Problem(), "the record at offset 4 is not the one counted") || !strings.Contains(st.Problem(), "cannot be told") {
		t.Errorf("records %d, problem %q; want nothing read, the changed record a problem", st.Records, st.Problem())
	}
}
