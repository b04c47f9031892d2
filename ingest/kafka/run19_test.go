package kafka

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/normguard/normguard/monitor"
)

// waitRecordsWithin is waitRecords with a deadline of its own.
func waitRecordsWithin(t *testing.T, n int64, d time.Duration, r *replica) {
	t.Helper()
	waitFor(t, d, func() bool { return r.cons.Stats().Records >= n }, func() string {
		st := r.cons.Stats()
		return fmt.Sprintf("consumed %d records within %v, want %d; problem %q", st.Records, d, n, st.Problem())
	})
}

// TestRecreatedSeenByResumeFirst (attack run 19 F1): the topic recreated
// while serve runs, and an assignment's resume finding (and storing) the
// new ID before the consumer's own topic check: the check then saw no
// change and never purged and re-added the topic, which the client kept
// failing with UNKNOWN_TOPIC_ID for ever, /healthz claiming it was read
// from its start. The client's failures make it re-added.
func TestRecreatedSeenByResumeFirst(t *testing.T) {
	t.Parallel() // a cluster and a state of its own
	rt := startReadingTopic(t)
	r := rt.r

	recreate(t, rt.c, partitions)
	// resume's lookup first, as when the group's assignment reaches it
	// before the topic check: the new ID is the consumer's and the
	// state's.
	if valid, verified, err := r.cons.resumeID(context.Background()); err != nil || valid || !verified {
		t.Fatalf("resumeID: valid %v verified %v (%v); want the recreation found", valid, verified, err)
	}
	st := rt.readNewTopic(t, 20*time.Second)
	if !strings.Contains(rt.logs.String(), "purged from the Kafka client") {
		t.Errorf("log:\n%s\nwant the topic purged and added back", rt.logs.String())
	}
	if len(st.Stuck) != 0 {
		t.Errorf("stuck %v once read; want none", st.Stuck)
	}
	// The recreation is tagged for a --state-recover (attack run 19 F3).
	if tag, err := r.mon.Offsets(Source("g", testTopic) + monitor.RecreatedTag); err != nil || tag[0] < time.Now().Add(-time.Minute).Unix() {
		t.Errorf("recreation tag %v (%v); want partition 0 holding the time", tag, err)
	}
}

// TestStuckPartitionNoReadNotice (attack run 19 F1): while the client
// fails a partition with UNKNOWN_TOPIC_ID it is a problem naming it, and
// the recreation notice (which says the topic is read from its start) is
// not shown; once it reads again the notice is back.
func TestStuckPartitionNoReadNotice(t *testing.T) {
	c := &Consumer{cfg: Config{Topic: "rows", Group: "g"}, assigned: map[int32]bool{0: true, 1: true}, noTopicID: map[int32]idFail{},
		stalled: map[int32]string{}, resets: map[int32]string{}, behind: map[int32]string{}, waiting: map[int32]openTxn{},
		unchecked: map[int32]*unchecked{}, bad: map[string]int64{},
		recreated: "topic rows was deleted and created again ...: the new topic is read from its start", recreatedAt: time.Now()}
	c.failedID(0)
	c.failedID(2) // not assigned: not noted
	if p := c.Stats().Problem(); !strings.Contains(p, "read from its start") || strings.Contains(p, "UNKNOWN_TOPIC_ID") {
		t.Errorf("problem %q at the first failure; want the notice only", p)
	}
	f := c.noTopicID[0]
	f.since = time.Now().Add(-stuckAfter)
	c.noTopicID[0] = f
	st := c.Stats()
	if p := st.Problem(); strings.Contains(p, "read from its start") || !strings.Contains(p, "partition 0 is not read since") || !strings.Contains(p, "restart serve") {
		t.Errorf("problem %q; want partition 0 named stuck, no notice saying it is read", p)
	}
	if len(st.Stuck) != 1 {
		t.Errorf("stuck %v; want partition 0 only", st.Stuck)
	}
	c.unassign(context.Background(), nil, map[string][]int32{"rows": {0}})
	if p := c.Stats().Problem(); !strings.Contains(p, "read from its start") || strings.Contains(p, "UNKNOWN_TOPIC_ID") {
		t.Errorf("problem %q once revoked; want the notice back", p)
	}
}

// TestMissingAtStartIsAProblem (attack run 19 F2): a topic that does not
// exist when serve starts (deleted while it was stopped, or a typo in
// --kafka-topic) is assigned nothing and fails no fetch: /healthz said ok
// and nothing was logged. It is a problem naming it, logged once, and is
// read once created.
func TestMissingAtStartIsAProblem(t *testing.T) {
	t.Parallel() // a cluster and a state of its own
	fx := newFixture(t, 10)
	c := newCluster(t)
	if err := c.DeleteTopic(testTopic); err != nil {
		t.Fatal(err)
	}
	var logs logBuffer
	r := startWith(t, c, fx, filepath.Join(t.TempDir(), "m.db"), logTo(&logs),
		kgo.FetchMaxWait(100*time.Millisecond), kgo.MetadataMinAge(100*time.Millisecond), kgo.MetadataMaxAge(time.Second))
	waitFor(t, 15*time.Second, func() bool { return strings.Contains(r.cons.Stats().Problem(), "topic "+testTopic+" does not exist") },
		func() string {
			return fmt.Sprintf("problem %q 15 s after the start; want the missing topic named", r.cons.Stats().Problem())
		})
	time.Sleep(topicCheckEvery + 200*time.Millisecond) // a check of the missing topic more
	if n := strings.Count(logs.String(), "does not exist"); n != 1 {
		t.Errorf("%d log lines naming the missing topic; want 1:\n%s", n, logs.String())
	}
	if err := c.CreateTopic(testTopic, partitions, nil); err != nil {
		t.Fatal(err)
	}
	produceRows(t, compressedProducer(t, c))(0, 3)
	waitRecordsWithin(t, 3, 20*time.Second, r)
	if st := settle(t, r, 300*time.Millisecond); st.Records != 3 || strings.Contains(st.Problem(), "does not exist") {
		t.Errorf("records %d, problem %q once created; want 3, the topic no longer missing", st.Records, st.Problem())
	}
}

// TestClientWarningsRateLimited (attack run 19 F7): the client's own
// warnings (an unreachable broker: one every 1.3 s per broker, a group
// loop error every 5 s) were all logged. One line per message and
// broker per fetchErrorLogEvery, with the count since the last.
func TestClientWarningsRateLimited(t *testing.T) {
	var logs logBuffer
	c := &Consumer{log: slog.New(slog.NewTextHandler(&logs, nil)), fetchErrs: map[string]*fetchErrLog{}}
	l := clientLogger{c: c, group: true}
	for range 100 {
		l.Log(kgo.LogLevelWarn, "unable to open connection to broker", "addr", "127.0.0.1:1", "broker", "0", "err", "connection refused")
		l.Log(kgo.LogLevelWarn, "unable to open connection to broker", "addr", "127.0.0.1:1", "broker", "seed_0", "err", "connection refused")
		l.Log(kgo.LogLevelError, "group manage loop errored", "group", "g", "err", "refused", "consecutive_errors", 3)
	}
	out := logs.String()
	if n := strings.Count(out, "unable to open connection"); n != 2 {
		t.Errorf("%d connection lines for 200 warnings of 2 brokers; want 2:\n%s", n, out)
	}
	if n := strings.Count(out, "group manage loop errored"); n != 1 {
		t.Errorf("%d group loop lines for 100; want 1", n)
	}
	if c.lastErr.Load() == nil {
		t.Error("no last error kept")
	}
	for _, e := range c.fetchErrs {
		e.at = e.at.Add(-fetchErrorLogEvery)
	}
	l.Log(kgo.LogLevelWarn, "unable to open connection to broker", "addr", "127.0.0.1:1", "broker", "0", "err", "connection refused")
	if out := logs.String(); strings.Count(out, "unable to open connection") != 3 || !strings.Contains(out, "count=100") {
		t.Errorf("log:\n%s\nwant a third line with count=100 once the interval passed", out)
	}
}

// TestStartLatestEmptyPartitionKept (attack run 19 F6): with --kafka-start
// latest, a partition that brought no record while serve ran had its
// starting position neither stored nor committed: at the restart it
// started at its end again, passing over what was written to it while
// serve was stopped. The position found at assignment is stored.
func TestStartLatestEmptyPartitionKept(t *testing.T) {
	t.Parallel() // a cluster and a state of its own
	fx := newFixture(t, 10)
	c := newCluster(t)
	prod := compressedProducer(t, c)
	rows := produceRows(t, prod)
	rows(0, 5) // before the start: not read
	state := filepath.Join(t.TempDir(), "m.db")
	latest := func(cfg *Config) { cfg.FromEnd = true }
	r := startWith(t, c, fx, state, latest, kgo.FetchMaxWait(100*time.Millisecond))
	waitEndsLookedUp(t, r, "g") // CI race stage: a record sent before the look-up was passed over
	rows(0, 1)
	waitRecordsWithin(t, 1, 20*time.Second, r)
	settle(t, r, 300*time.Millisecond)
	r.close(t)

	rows(0, 3)
	rows(2, 2) // a partition that never brought a record
	r = startWith(t, c, fx, state, latest, kgo.FetchMaxWait(100*time.Millisecond))
	waitRecordsWithin(t, 5, 20*time.Second, r)
	if st := settle(t, r, 500*time.Millisecond); st.Records != 5 {
		t.Errorf("records %d after the restart; want the 3 + 2 written while stopped", st.Records)
	}
}

// TestAdoptedIDUncommittedReported (attack run 19 F5): a state written
// before topic IDs were kept, the topic recreated while serve was
// stopped (and more written to it than the state's position): the new
// ID was adopted and the new records below the position passed over
// without a word (only a log ending below the position was reported).
// Kafka drops a deleted topic's commits: a partition the state holds a
// position for and the group none is a problem naming it.
func TestAdoptedIDUncommittedReported(t *testing.T) {
	t.Parallel() // a cluster and a state of its own
	fx := newFixture(t, 10)
	c := newCluster(t)
	ctx := context.Background()
	prod := compressedProducer(t, c)
	rows := produceRows(t, prod)
	rows(0, 8)
	rows(1, 3)
	state := stateAt(t, monitor.Offset{Source: Source("g", testTopic), Partition: 0, Next: 5}, monitor.Offset{Source: Source("g", testTopic), Partition: 1, Next: 2})
	// The group's commit of partition 1 is there, partition 0's is not.
	commit := kmsg.NewPtrOffsetCommitRequest()
	commit.Group, commit.Generation = "g", -1
	ct := kmsg.NewOffsetCommitRequestTopic()
	ct.Topic, ct.TopicID = testTopic, c.TopicInfo(testTopic).TopicID
	cp := kmsg.NewOffsetCommitRequestTopicPartition()
	cp.Partition, cp.Offset, cp.LeaderEpoch = 1, 2, -1
	ct.Partitions = append(ct.Partitions, cp)
	commit.Topics = append(commit.Topics, ct)
	resp, err := commit.RequestWith(ctx, prod)
	if err != nil {
		t.Fatal(err)
	}
	if err := kerr.ErrorForCode(resp.Topics[0].Partitions[0].ErrorCode); err != nil {
		t.Fatalf("commit: %v", err)
	}
	var logs logBuffer
	r := startWith(t, c, fx, state, logTo(&logs), kgo.FetchMaxWait(100*time.Millisecond))
	waitRecordsWithin(t, 3+1, 20*time.Second, r)
	st := settle(t, r, 500*time.Millisecond)
	if st.Records != 4 {
		t.Errorf("records %d; want offsets 5..7 of partition 0 and 2 of partition 1", st.Records)
	}
	if len(st.Behind) != 1 || !strings.Contains(st.Behind[0], "partition 0: the state holds the position 5 for it but the group holds no committed offset") {
		t.Errorf("behind %v; want partition 0 only, named with its position and the missing commit", st.Behind)
	}
	if n := strings.Count(logs.String(), "no committed offset"); n != 1 {
		t.Errorf("%d log lines naming the missing commit; want 1", n)
	}
}
