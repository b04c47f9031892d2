package kafka

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/monitor"
	"github.com/normguard/normguard/quickstart"
	"github.com/normguard/normguard/registry"
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
	// goes on under the group that read furthest; the other would count
	// again what it read past it (offsets 5 to 8), and is refused.
	both := stateAt(t, monitor.Offset{Source: Source("g", testTopic), Partition: 0, Next: 5},
		monitor.Offset{Source: Source("a/b", testTopic), Partition: 0, Next: 9})
	mon.Close()
	mon = openState(t, both)
	if err := start("a/b", testTopic, false); err != nil {
		t.Errorf("group a/b, ahead on a state that read the topic under both: %v", err)
	}
	err = start("g", testTopic, false)
	if err == nil || !strings.Contains(err.Error(), `group "a/b" (partition 0 up to offset 9, past group "g"'s 5)`) || !strings.Contains(err.Error(), `--kafka-group "a/b"`) {
		t.Errorf("group g, behind a/b: got %v, want it refused naming a/b's position", err)
	}
	// Positions kept under another topic ID are the topic's before it was
	// recreated (read again whole under --kafka-new-group): a restart of
	// the group that read the new topic is not refused for them.
	idOf := func(group string, word uint32) []monitor.Offset {
		var out []monitor.Offset
		for i := range int32(4) {
			out = append(out, monitor.Offset{Source: Source(group, testTopic) + "#topic-id", Partition: i, Next: int64(word + uint32(i))})
		}
		return out
	}
	recreated := stateAt(t, append(append(idOf("g", 7), idOf("g2", 100)...),
		monitor.Offset{Source: Source("g", testTopic), Partition: 0, Next: 9},
		monitor.Offset{Source: Source("g2", testTopic), Partition: 0, Next: 2})...)
	mon.Close()
	mon = openState(t, recreated)
	if err := start("g2", testTopic, false); err != nil {
		t.Errorf("group g2 on the recreated topic, behind g's positions in the old one: %v", err)
	}
	sameID := stateAt(t, append(append(idOf("g", 7), idOf("g2", 7)...),
		monitor.Offset{Source: Source("g", testTopic), Partition: 0, Next: 9},
		monitor.Offset{Source: Source("g2", testTopic), Partition: 0, Next: 2})...)
	mon.Close()
	mon = openState(t, sameID)
	if err := start("g2", testTopic, false); err == nil {
		t.Error("group g2 behind g in the same topic (same ID) started; want it refused")
	}
	mon.Close()
	mon = openState(t, both)
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

// TestMissingKafkaModelIsAProblem (attack run 23 F4): a misspelt
// --kafka-model skipped every record as unknown_model, its offset
// committed, with /healthz "ok" and a log line naming neither the model
// nor what to do. It is a problem from the start, naming the model, the
// models the registry holds and what to do, logged once; it clears once
// the model is pushed. A record whose header names an unknown model is
// logged once, naming it.
func TestMissingKafkaModelIsAProblem(t *testing.T) {
	c := newCluster(t)
	fx := newFixture(t, 6)
	var logs logBuffer
	r := startWith(t, c, fx, filepath.Join(t.TempDir(), "m.db"), func(cfg *Config) {
		cfg.Model = "flight-delai"
		logTo(&logs)(cfg)
	})
	waitFor(t, 20*time.Second, func() bool { return r.cons.Stats().NoModel != "" }, func() string {
		return "no problem before any record: " + r.cons.Stats().Problem()
	})
	prod := manualProducer(t, c)
	send := func(n int, header string) {
		t.Helper()
		var recs []*kgo.Record
		for i := range n {
			rec := &kgo.Record{Partition: int32(i % partitions), Value: rowJSON(fx.header, fx.recs[i])}
			if header != "" {
				rec.Headers = []kgo.RecordHeader{{Key: ModelHeader, Value: []byte(header)}}
			}
			recs = append(recs, rec)
		}
		if err := prod.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	send(5, "")
	waitFor(t, 20*time.Second, func() bool { return r.cons.Stats().Records == 5 }, func() string {
		return fmt.Sprintf("records %d, want 5", r.cons.Stats().Records)
	})
	st := r.cons.Stats()
	problem := st.Problem()
	for _, want := range []string{`--kafka-model "flight-delai" names no model of the registry`, `it holds "flight-delay"`, "unknown_model (5 so far)",
		"offset committed", "not monitored", "Push the model", "fix --kafka-model"} {
		if !strings.Contains(problem, want) {
			t.Errorf("problem %q lacks %q", problem, want)
		}
	}
	if st.Bad[ReasonUnknownModel] != 5 {
		t.Errorf("bad %v, want 5 unknown_model", st.Bad)
	}
	if n := strings.Count(logs.String(), "names no model of the registry"); n != 1 {
		t.Errorf("%d log lines name the missing model; want 1:\n%s", n, logs.String())
	}
	if !strings.Contains(logs.String(), `reason=unknown_model model=flight-delai`) || !strings.Contains(logs.String(), "push it, or fix --kafka-model") {
		t.Errorf("the skipped record's line names no model or what to do:\n%s", logs.String())
	}

	// Pushed: the problem clears, even with no record coming.
	data, err := os.ReadFile(filepath.Join(mustFlights(t), quickstart.Files.Artifact))
	if err != nil {
		t.Fatal(err)
	}
	a, err := artifact.Decode(data, "flights")
	if err != nil {
		t.Fatal(err)
	}
	a.Model = nil
	if data, err = artifact.Encode(a); err != nil {
		t.Fatal(err)
	}
	if _, _, err := fx.reg.Put(context.Background(), "flight-delai", "v1", data, registry.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, func() bool { return r.cons.Stats().Problem() == "" }, func() string {
		return "after the push: " + r.cons.Stats().Problem()
	})
	send(3, "")
	waitFor(t, 20*time.Second, func() bool { return r.cons.Stats().Rows == 3 }, func() string {
		return fmt.Sprintf("after the push: rows %d, want 3", r.cons.Stats().Rows)
	})

	// Header mode: an unknown model named by the header is logged once, named.
	var hlogs logBuffer
	h := startWith(t, c, fx, filepath.Join(t.TempDir(), "m.db"), func(cfg *Config) {
		cfg.Group = "h"
		logTo(&hlogs)(cfg)
	})
	send(4, "no-such")
	waitFor(t, 20*time.Second, func() bool { return h.cons.Stats().Records == 12 }, func() string {
		return fmt.Sprintf("header mode: records %d, want 12", h.cons.Stats().Records)
	})
	out := hlogs.String()
	if n := strings.Count(out, `name model \"no-such\" in their \"model\" header, which the registry does not hold`); n != 1 {
		t.Errorf("%d lines name the header's unknown model; want 1:\n%s", n, out)
	}
	if !strings.Contains(out, "Push the model") || !strings.Contains(out, "fix the producer's header") || !strings.Contains(out, `carry no \"model\" header`) {
		t.Errorf("the header mode's lines say not what to do:\n%s", out)
	}
}

// mustFlights returns the quickstart's folder.
func mustFlights(t *testing.T) string {
	t.Helper()
	dir, err := flightsDir()
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestRefusedSessionTimeoutIsAProblem (attack run 23 F2b): a
// --kafka-session-timeout below the broker's group.min.session.timeout.ms
// (INVALID_SESSION_TIMEOUT): the only replica joined no group and read
// nothing, /healthz "ok". It is a problem naming the flag, the broker's
// bounds and what to do, logged once; it clears once the broker lets it
// join.
func TestRefusedSessionTimeoutIsAProblem(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(partitions, testTopic), kfake.GroupMinSessionTimeout(6*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	fx := newFixture(t, 1)
	var logs logBuffer
	r := startWith(t, c, fx, filepath.Join(t.TempDir(), "m.db"), func(cfg *Config) {
		cfg.SessionTimeout = time.Second
		cfg.Opts = nil
		logTo(&logs)(cfg)
	})
	waitFor(t, 30*time.Second, func() bool { return r.cons.Stats().JoinRefused != "" }, func() string {
		st := r.cons.Stats()
		return fmt.Sprintf("no problem with the join refused: partitions %v, problem %q, last error %+v", st.Partitions, st.Problem(), st.LastError)
	})
	time.Sleep(2 * time.Second) // the client retries its join: one line says so
	problem := r.cons.Stats().Problem()
	for _, want := range []string{`consumer group "g"`, "INVALID_SESSION_TIMEOUT", "reads nothing of topic rows", "--kafka-session-timeout 1s",
		"6s to 5m0s on this broker", "Restart serve with a --kafka-session-timeout within those bounds"} {
		if !strings.Contains(problem, want) {
			t.Errorf("problem %q lacks %q", problem, want)
		}
	}
	if n := strings.Count(logs.String(), "the broker refuses this replica's join"); n != 1 {
		t.Errorf("%d log lines say the join is refused; want 1:\n%s", n, logs.String())
	}

	// The broker's bound lowered: the replica joins, the problem clears.
	adm, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer adm.Close()
	req := kmsg.NewPtrIncrementalAlterConfigsRequest()
	rr := kmsg.NewIncrementalAlterConfigsRequestResource()
	rr.ResourceType = kmsg.ConfigResourceTypeBroker
	rr.ResourceName = "0"
	cfg := kmsg.NewIncrementalAlterConfigsRequestResourceConfig()
	cfg.Name, cfg.Value = "group.min.session.timeout.ms", kmsg.StringPtr("500")
	rr.Configs = append(rr.Configs, cfg)
	req.Resources = append(req.Resources, rr)
	resp, err := req.RequestWith(context.Background(), adm)
	if err != nil {
		t.Fatal(err)
	}
	for _, res := range resp.Resources {
		if err := kerr.ErrorForCode(res.ErrorCode); err != nil {
			t.Fatalf("lowering the broker's bound: %v", err)
		}
	}
	waitFor(t, 60*time.Second, func() bool {
		st := r.cons.Stats()
		return len(st.Partitions) == partitions && st.JoinRefused == "" && st.Problem() == ""
	}, func() string {
		st := r.cons.Stats()
		return fmt.Sprintf("with the bound lowered: partitions %v, problem %q", st.Partitions, st.Problem())
	})
}

// TestTooLargeBatchSaysWhatToDo (attack run 23 F6): a batch larger than
// the client reads stops its partition for good; the problem named
// partition and offset but neither that every later record waits nor
// what to do, and the fetch errors were logged with topic="" and
// partition=-1. The problem says both, with the offset past the batch
// to move the group to; done so, a restart reads the records after it.
// The log's fetch errors name the topic and partitions.
func TestTooLargeBatchSaysWhatToDo(t *testing.T) {
	fx := newFixture(t, 10)
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(partitions, testTopic), kfake.GroupMinSessionTimeout(time.Second),
		kfake.BrokerConfigs(map[string]string{"message.max.bytes": "10000000"}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	prod, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.DefaultProduceTopic(testTopic),
		kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.ProducerBatchMaxBytes(8<<20), kgo.ProducerBatchCompression(kgo.NoCompression()))
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	sync := func(recs ...*kgo.Record) {
		t.Helper()
		if err := prod.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	sync(paddedRows(0, 2, 100)...)
	big := paddedRows(0, 3, 1200<<10) // one batch of 3.6 MiB: offsets 2..4
	sync(big...)
	sync(paddedRows(0, 2, 100)...)
	if big[0].Offset != 2 || big[2].Offset != 4 {
		t.Fatalf("the large batch holds offsets %d..%d, want 2..4", big[0].Offset, big[2].Offset)
	}
	opts := []kgo.Opt{kgo.FetchMaxBytes(512 << 10), kgo.FetchMaxPartitionBytes(512 << 10), kgo.BrokerMaxReadBytes(2 << 20)}
	state := filepath.Join(t.TempDir(), "m.db")
	var logs logBuffer
	r := startWith(t, c, fx, state, logTo(&logs), opts...)
	waitFor(t, 30*time.Second, func() bool { return len(r.cons.Stats().Stalled) > 0 }, func() string {
		st := r.cons.Stats()
		return fmt.Sprintf("no stalled partition: records %d, problem %q", st.Records, st.Problem())
	})
	problem := r.cons.Stats().Problem()
	for _, want := range []string{"partition 0 has not moved from offset 2", "the partition's records from there on (5, up to its end) wait behind it",
		`read by no replica of group "g"`, "a restart does not help", "smaller batches", "stop every replica of group",
		"--group g --topic rows:0 --reset-offsets --to-offset 5 --execute", "offsets 2..4 are then not counted"} {
		if !strings.Contains(problem, want) {
			t.Errorf("problem %q lacks %q", problem, want)
		}
	}
	waitFor(t, 10*time.Second, func() bool { return strings.Contains(logs.String(), "kafka: fetch error") }, func() string { return "no fetch error logged:\n" + logs.String() })
	// The problem is logged once, with what to do (attack run 25 F1).
	if n := strings.Count(logs.String(), "kafka: partition stalled: partition 0 has not moved"); n != 1 || !strings.Contains(logs.String(), "--reset-offsets --to-offset 5") {
		t.Errorf("the stall is logged %d times (want once, with the reset command):\n%s", n, logs.String())
	}
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, "kafka: fetch error") && (strings.Contains(line, `topic=""`) || strings.Contains(line, "partition=-1")) {
			t.Errorf("a fetch error names no topic or partition: %s", line)
		}
	}
	if !strings.Contains(logs.String(), "partitions=\"[0 1 2]\"") && !strings.Contains(logs.String(), "partitions=[0 1 2]") {
		t.Errorf("no fetch error names the topic's partitions:\n%s", logs.String())
	}
	r.close(t)

	// The advice followed: the group's offset of partition 0 set to 5.
	adm, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer adm.Close()
	req := kmsg.NewPtrOffsetCommitRequest()
	req.Group, req.Generation = "g", -1
	rt := kmsg.NewOffsetCommitRequestTopic()
	rt.Topic = testTopic
	meta := kmsg.NewPtrMetadataRequest()
	mt := kmsg.NewMetadataRequestTopic()
	mt.Topic = kmsg.StringPtr(testTopic)
	meta.Topics = append(meta.Topics, mt)
	mresp, err := meta.RequestWith(context.Background(), adm)
	if err != nil || len(mresp.Topics) != 1 {
		t.Fatalf("metadata: %v", err)
	}
	rt.TopicID = mresp.Topics[0].TopicID
	rp := kmsg.NewOffsetCommitRequestTopicPartition()
	rp.Partition, rp.Offset, rp.LeaderEpoch = 0, 5, -1
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	var commitErr error
	waitFor(t, 30*time.Second, func() bool {
		resp, err := req.RequestWith(context.Background(), adm)
		if err == nil && len(resp.Topics) == 1 {
			err = kerr.ErrorForCode(resp.Topics[0].Partitions[0].ErrorCode)
		}
		commitErr = err
		return err == nil
	}, func() string { return fmt.Sprintf("the group's offset could not be set: %v", commitErr) })
	r = startWith(t, c, fx, state, nil, opts...)
	waitFor(t, 30*time.Second, func() bool { st := r.cons.Stats(); return st.Records == 2 && st.Problem() == "" }, func() string {
		st := r.cons.Stats()
		return fmt.Sprintf("after moving the group past the batch: records %d, problem %q; want the 2 records after it and no problem", st.Records, st.Problem())
	})
}

// TestAddedPartitionReadFromStart (attack run 23 F5): partitions added
// while serve ran were assigned at the client's metadata refresh (5
// minutes) and, with --kafka-start latest, started at their end: the
// records written to them meanwhile were passed over, silently. A
// partition added after the first assignment is read from its start
// whatever FromEnd, and the metadata is refreshed every MetadataMaxAge.
func TestAddedPartitionReadFromStart(t *testing.T) {
	c := newCluster(t)
	fx := newFixture(t, 1)
	prod := manualProducer(t, c)
	send := produceRows(t, prod)
	send(0, 2) // before the start: passed over (latest)
	var logs logBuffer
	r := startWith(t, c, fx, filepath.Join(t.TempDir(), "m.db"), func(cfg *Config) {
		cfg.FromEnd = true
		logTo(&logs)(cfg)
	}, kgo.MetadataMaxAge(time.Second), kgo.MetadataMinAge(100*time.Millisecond))
	if got := r.cons.cl.OptValue(kgo.MetadataMaxAge); got != time.Second {
		t.Fatalf("the test's MetadataMaxAge is %v, not the 1s it gives", got)
	}
	waitEndsLookedUp(t, r, "g")
	send(1, 1)
	waitFor(t, 20*time.Second, func() bool { return r.cons.Stats().Records == 1 }, func() string {
		return fmt.Sprintf("records %d, want the 1 produced after the start", r.cons.Stats().Records)
	})

	added := addTwoPartitions(t, c, prod)
	waitFor(t, 30*time.Second, func() bool {
		st := r.cons.Stats()
		return len(st.Partitions) == partitions+2 && st.Records == 1+added
	}, func() string {
		st := r.cons.Stats()
		return fmt.Sprintf("partitions %v, records %d; want 5 partitions and %d records (the %d written to the added ones read from their start)", st.Partitions, st.Records, 1+added, added)
	})
	if !strings.Contains(logs.String(), "partitions added to the topic since it was first read are read from their start") {
		t.Errorf("no line says the added partitions are read from their start:\n%s", logs.String())
	}

	// serve's own client refreshes metadata every MetadataMaxAge.
	mon := openState(t, filepath.Join(t.TempDir(), "d.db"))
	defer mon.Close()
	d, err := New(Config{Brokers: []string{"127.0.0.1:1"}, Topic: testTopic, Group: "g", Registry: fx.reg, Monitor: mon})
	if err != nil {
		t.Fatal(err)
	}
	defer d.side.Close()
	defer d.cl.Close()
	if got := d.cl.OptValue(kgo.MetadataMaxAge); got != MetadataMaxAge || MetadataMaxAge > time.Minute {
		t.Errorf("the consumer's MetadataMaxAge is %v; want %v, at most a minute", got, MetadataMaxAge)
	}
}

// TestAddedWhileStoppedReadFromStart (attack run 25 F2): with
// --kafka-start latest, partitions added to the topic while serve was
// stopped started at their end at the restart, passing over the records
// written to them meanwhile, without a word. The state read the topic
// before: a partition it holds no position for (nor the group an offset)
// is read from its start.
func TestAddedWhileStoppedReadFromStart(t *testing.T) {
	c := newCluster(t)
	fx := newFixture(t, 1)
	prod := manualProducer(t, c)
	send := produceRows(t, prod)
	state := filepath.Join(t.TempDir(), "m.db")
	latest := func(cfg *Config) { cfg.FromEnd = true }
	r := startWith(t, c, fx, state, latest)
	waitEndsLookedUp(t, r, "g")
	send(0, 1)
	waitFor(t, 20*time.Second, func() bool { return r.cons.Stats().Records == 1 }, func() string {
		return fmt.Sprintf("records %d, want 1", r.cons.Stats().Records)
	})
	r.close(t)

	added := addTwoPartitions(t, c, prod)
	r2 := startWith(t, c, fx, state, latest)
	defer r2.close(t)
	waitFor(t, 30*time.Second, func() bool {
		st := r2.cons.Stats()
		return len(st.Partitions) == partitions+2 && st.Records == added
	}, func() string {
		st := r2.cons.Stats()
		return fmt.Sprintf("partitions %v, records %d; want 5 partitions and the %d records written to the added ones", st.Partitions, st.Records, added)
	})
}

// manualProducer returns a producer to the test topic that writes each
// record to the partition it names, closed when the test ends.
func manualProducer(t *testing.T, c *kfake.Cluster) *kgo.Client {
	t.Helper()
	prod, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.DefaultProduceTopic(testTopic), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(prod.Close)
	return prod
}

// addTwoPartitions grows the test topic by two partitions (3 and 4),
// produces two rows to each once the producer sees them, and returns how
// many records the two hold: an attempt that timed out on a loaded machine
// may have been written before it is tried again (CI17 counted 5).
func addTwoPartitions(t *testing.T, c *kfake.Cluster, prod *kgo.Client) int64 {
	t.Helper()
	adm, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer adm.Close()
	req := kmsg.NewPtrCreatePartitionsRequest()
	rt := kmsg.NewCreatePartitionsRequestTopic()
	rt.Topic, rt.Count = testTopic, partitions+2
	req.Topics = append(req.Topics, rt)
	req.TimeoutMillis = 5000
	resp, err := req.RequestWith(context.Background(), adm)
	if err != nil || len(resp.Topics) != 1 || resp.Topics[0].ErrorCode != 0 {
		t.Fatalf("adding partitions: %v %+v", err, resp)
	}
	// The producer sees the added partitions once its metadata does.
	for _, p := range []int32{3, 4} {
		waitFor(t, 20*time.Second, func() bool {
			prod.ForceMetadataRefresh()
			return prod.ProduceSync(context.Background(), paddedRows(p, 2, 100)...).FirstErr() == nil
		}, func() string { return fmt.Sprintf("producing to the added partition %d failed", p) })
	}
	lo := kmsg.NewPtrListOffsetsRequest()
	lo.ReplicaID = -1
	lt := kmsg.NewListOffsetsRequestTopic()
	lt.Topic = testTopic
	for _, p := range []int32{3, 4} {
		lp := kmsg.NewListOffsetsRequestTopicPartition()
		lp.Partition, lp.Timestamp = p, -1 // the log end
		lt.Partitions = append(lt.Partitions, lp)
	}
	lo.Topics = append(lo.Topics, lt)
	lresp, err := lo.RequestWith(context.Background(), adm)
	if err != nil || len(lresp.Topics) != 1 || len(lresp.Topics[0].Partitions) != 2 {
		t.Fatalf("log ends of the added partitions: %v %+v", err, lresp)
	}
	var n int64
	for _, lp := range lresp.Topics[0].Partitions {
		if lp.ErrorCode != 0 || lp.Offset < 2 {
			t.Fatalf("added partition %d: error code %d, log end %d; want at least the 2 rows produced", lp.Partition, lp.ErrorCode, lp.Offset)
		}
		n += lp.Offset
	}
	return n
}
