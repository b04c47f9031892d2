package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/normguard/normguard/ingest/kafka"
	"github.com/normguard/normguard/monitor"
	"github.com/normguard/normguard/quickstart"
)

const kafkaTopic = "rows"

// kafkaCluster starts an in-process Kafka broker (franz-go's kfake,
// which speaks the real protocol) with a topic of 3 partitions.
func kafkaCluster(t *testing.T) *kfake.Cluster {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(3, kafkaTopic), kfake.GroupMinSessionTimeout(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// kafkaProducer sends records to the topic, record i to partition i mod 3.
type kafkaProducer struct {
	t    *testing.T
	cl   *kgo.Client
	n    int
	sent atomic.Int64 // records acknowledged by the broker
}

func newKafkaProducer(t *testing.T, c *kfake.Cluster) *kafkaProducer {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.DefaultProduceTopic(kafkaTopic),
		kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return &kafkaProducer{t: t, cl: cl}
}

func (p *kafkaProducer) send(values ...[]byte) {
	var recs []*kgo.Record
	for _, v := range values {
		recs = append(recs, &kgo.Record{Partition: int32(p.n % 3), Value: v})
		p.n++
	}
	if err := p.cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		p.t.Error(err)
	}
	p.sent.Add(int64(len(recs)))
}

// kafkaRows turns CSV records into one JSON row each, as rowsJSON writes
// them.
func kafkaRows(header []string, recs [][]string) [][]byte {
	out := make([][]byte, len(recs))
	for i, rec := range recs {
		body := string(rowsJSON(header, [][]string{rec}, nil))
		out[i] = []byte(strings.TrimSuffix(strings.TrimPrefix(body, `{"rows":[`), `]}`))
	}
	return out
}

type kafkaHealth struct {
	Status   string   `json:"status"`
	Problems []string `json:"problems"`
	Ingest   struct {
		Kafka struct {
			Records    int64            `json:"records"`
			Rows       int64            `json:"rows"`
			BadRecords int64            `json:"bad_records"`
			Bad        map[string]int64 `json:"bad"`
			Brokers    []struct {
				Address string `json:"address"`
				Up      bool   `json:"up"`
				Error   string `json:"error"`
			} `json:"brokers"`
		} `json:"kafka"`
	} `json:"ingest"`
}

func health(t *testing.T, s *serverProc) kafkaHealth {
	t.Helper()
	var h kafkaHealth
	if err := json.Unmarshal(s.mustDo("GET", "/healthz", "", nil, http.StatusOK), &h); err != nil {
		t.Fatal(err)
	}
	return h
}

// windowRows returns the rows of the open window (0 before any).
func windowRows(t *testing.T, s *serverProc) int {
	t.Helper()
	code, b, _ := s.do("GET", "/v1/models/flight-delay/drift", "", nil)
	if code == http.StatusNotFound {
		return 0
	}
	var d driftJSON
	if code != http.StatusOK || json.Unmarshal(b, &d) != nil {
		t.Fatalf("/drift answered %d %s", code, b)
	}
	return d.Window.Rows
}

// waitFor polls cond every 20 ms for up to 60 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("waited 60 s for %s", what)
		}
	}
}

// driftFeatures returns /drift's features without their plots, as JSON.
func driftFeatures(t *testing.T, s *serverProc) string {
	t.Helper()
	var d struct {
		Features []map[string]json.RawMessage `json:"features"`
	}
	if err := json.Unmarshal(s.mustDo("GET", "/v1/models/flight-delay/drift", "", nil, http.StatusOK), &d); err != nil {
		t.Fatal(err)
	}
	for _, f := range d.Features {
		delete(f, "plot")
	}
	b, err := json.Marshal(d.Features)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// kafkaArgs are the serve flags of replica id: a static member, so that
// a replica killed and restarted within the session timeout gets its
// partitions back without another replica reading them meanwhile (which
// could read its last batch again, see ingest/kafka's documentation).
func kafkaArgs(c *kfake.Cluster, state, id string) []string {
	return []string{"--kafka-brokers", strings.Join(c.ListenAddrs(), ","), "--kafka-topic", kafkaTopic,
		"--kafka-group", "monitors", "--kafka-model", "flight-delay", "--kafka-instance-id", id,
		"--kafka-session-timeout", "10s", "--state", state, "--window", "100000h"}
}

// TestServeKafkaKill9 feeds June's rows to `normguard serve --kafka-...`
// while it is killed with SIGKILL and restarted: the window holds every
// row exactly once, its statistics equal those of a server fed the same
// rows through POST /observations, and bad records sent after the restart
// are counted in /healthz.
func TestServeKafkaKill9(t *testing.T) {
	dir, art := flights(t)
	header, recs := csvRows(t, filepath.Join(dir, quickstart.Files.Later))
	recs = recs[:6000]
	rows := kafkaRows(header, recs)
	c := kafkaCluster(t)
	reg := t.TempDir()
	args := kafkaArgs(c, filepath.Join(t.TempDir(), "state.db"), "replica-0")
	s := startServer(t, reg, args...)
	pushFlights(t, s, "v1", art)

	p := newKafkaProducer(t, c)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for lo := 0; lo < len(rows); lo += 50 {
			p.send(rows[lo : lo+50]...)
			time.Sleep(15 * time.Millisecond)
		}
	}()
	waitFor(t, "1,000 records consumed", func() bool { return health(t, s).Ingest.Kafka.Records >= 1000 })
	s.cmd.Process.Kill()
	s.kill()
	if at := p.sent.Load(); at >= int64(len(rows)) {
		t.Fatalf("every record was produced before the kill: not mid-stream")
	} else {
		t.Logf("killed with %d of %d records produced", at, len(rows))
	}
	s = startServer(t, reg, args...)
	wg.Wait()
	if got := int64(p.n); got != int64(len(rows)) {
		t.Fatalf("produced %d records, want %d", got, len(rows))
	}
	waitFor(t, "the window to hold every row", func() bool { return windowRows(t, s) >= len(rows) })
	bad := [][]byte{[]byte(`not json`), []byte(`{"delay": "late"}`), []byte(`{"unknown": 1}`)}
	p.send(bad...)
	waitFor(t, "the bad records", func() bool { return health(t, s).Ingest.Kafka.BadRecords >= int64(len(bad)) })
	h := health(t, s).Ingest.Kafka
	if got, want := h.Bad, map[string]int64{"not_json": 1, "wrong_type": 1, "no_feature": 1}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("bad records by reason: got %v, want %v", got, want)
	}
	if n := windowRows(t, s); n != len(rows) {
		t.Fatalf("after kill -9 and restart the window holds %d rows, %d were produced", n, len(rows))
	}
	metrics := string(s.mustDo("GET", "/metrics", "", nil, http.StatusOK))
	if want := `normguard_kafka_bad_records_total{reason="not_json",topic="rows"} 1`; !strings.Contains(metrics, want) {
		t.Errorf("/metrics lacks %s", want)
	}

	ref := startServer(t, t.TempDir(), "--window", "100000h")
	pushFlights(t, ref, "v1", art)
	for lo := 0; lo < len(recs); lo += 1000 {
		observe(t, ref, rowsJSON(header, recs[lo:lo+1000], nil))
	}
	if got, want := driftFeatures(t, s), driftFeatures(t, ref); got != want {
		t.Errorf("the Kafka-fed window differs from the one fed by /observations:\n got %s\nwant %s", got, want)
	}
}

// TestServeKafkaThreeReplicas runs three replicas in one consumer group,
// kills one with SIGKILL mid-stream and restarts it: together their
// windows hold every row exactly once, and the restarted one, given the
// others as --peers, answers /drift as one server fed every row.
func TestServeKafkaThreeReplicas(t *testing.T) {
	dir, art := flights(t)
	header, recs := csvRows(t, filepath.Join(dir, quickstart.Files.Later))
	rows := kafkaRows(header, recs[:6000])
	c := kafkaCluster(t)
	reg := t.TempDir()
	states := t.TempDir()
	replicaArgs := func(i int) []string {
		return kafkaArgs(c, filepath.Join(states, fmt.Sprintf("r%d.db", i)), fmt.Sprintf("replica-%d", i))
	}
	var rs []*serverProc
	for i := range 3 {
		rs = append(rs, startServer(t, reg, replicaArgs(i)...))
	}
	pushFlights(t, rs[0], "v1", art)

	p := newKafkaProducer(t, c)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for lo := 0; lo < len(rows); lo += 50 {
			p.send(rows[lo : lo+50]...)
			time.Sleep(15 * time.Millisecond)
		}
	}()
	waitFor(t, "replica 1 to consume", func() bool { return health(t, rs[1]).Ingest.Kafka.Records >= 200 })
	rs[1].cmd.Process.Kill()
	rs[1].kill()
	// Restarted, it answers /drift for all three (--peers).
	rs[1] = startServer(t, reg, append(replicaArgs(1), "--peers", rs[0].url+","+rs[2].url)...)
	wg.Wait()
	// Replica 1's /drift is the merged window of the three.
	waitFor(t, "the windows to hold every row", func() bool { return windowRows(t, rs[1]) >= len(rows) })
	time.Sleep(500 * time.Millisecond)
	if n := windowRows(t, rs[1]); n != len(rows) {
		t.Fatalf("the three windows hold %d rows together, %d were produced", n, len(rows))
	}
	for _, i := range []int{0, 2} {
		if n := windowRows(t, rs[i]); n == 0 || n == len(rows) {
			t.Errorf("replica %d holds %d of %d rows: the partitions were not shared", i, n, len(rows))
		}
	}
	// The merged windows equal one server fed every row.
	ref := startServer(t, t.TempDir(), "--window", "100000h")
	pushFlights(t, ref, "v1", art)
	for lo := 0; lo < 6000; lo += 1000 {
		observe(t, ref, rowsJSON(header, recs[lo:lo+1000], nil))
	}
	if got, want := driftFeatures(t, rs[1]), driftFeatures(t, ref); got != want {
		t.Errorf("the replicas' merged /drift differs from one server fed every row:\n got %s\nwant %s", got, want)
	}
}

// TestServeKafkaFlags refuses incomplete or contradictory Kafka flags
// with exit 2 and a message naming the flag.
func TestServeKafkaFlags(t *testing.T) {
	reg := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--kafka-brokers", "127.0.0.1:1"}, "--kafka-topic and --kafka-group"},
		{[]string{"--kafka-topic", "t"}, "need --kafka-brokers"},
		{[]string{"--kafka-instance-id", "r1"}, "--kafka-instance-id given"},
		{[]string{"--kafka-brokers", "127.0.0.1:1", "--kafka-topic", "t", "--kafka-group", "g", "--no-monitor"}, "drop --no-monitor"},
		{[]string{"--kafka-brokers", "127.0.0.1:1,", "--kafka-topic", "t", "--kafka-group", "g"}, "empty entry"},
		// An empty value was said to be missing while listed as given.
		{[]string{"--kafka-brokers", "", "--kafka-topic", "t", "--kafka-group", "g"}, `--kafka-brokers "" names no broker`},
		// Attack run 10: a malformed address was retried and logged for ever.
		{[]string{"--kafka-brokers", "::::", "--kafka-topic", "t", "--kafka-group", "g"}, `entry "::::" is not host:port`},
		{[]string{"--kafka-brokers", "h:1,h:99999", "--kafka-topic", "t", "--kafka-group", "g"}, `entry "h:99999" is not host:port`},
		{[]string{"--kafka-brokers", "broker", "--kafka-topic", "t", "--kafka-group", "g"}, `entry "broker" is not host:port`},
		{[]string{"--kafka-brokers", "127.0.0.1:1", "--kafka-topic", "t", "--kafka-group", "g", "--kafka-stage", "middle"}, "--kafka-stage"},
		{[]string{"--kafka-brokers", "127.0.0.1:1", "--kafka-topic", "t", "--kafka-group", "g", "--kafka-model", "../x"}, "model"},
	} {
		code, _, stderr := runCLI(t, append([]string{"serve", "--registry", reg, "--addr", "127.0.0.1:0"}, tc.args...)...)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("serve %v: exit %d, stderr %q; want exit 2 naming %q", tc.args, code, stderr, tc.want)
		}
	}
}

// TestServeKafkaBrokersInHealth: /healthz and /metrics say when the
// Kafka cluster cannot be reached (the service keeps serving: 200,
// status "degraded" with the broker named), and when it can again.
func TestServeKafkaBrokersInHealth(t *testing.T) {
	brokersUp := func(s *serverProc) string {
		for _, line := range strings.Split(string(s.mustDo("GET", "/metrics", "", nil, http.StatusOK)), "\n") {
			if strings.HasPrefix(line, "normguard_kafka_brokers_up{") {
				return line[strings.LastIndexByte(line, ' ')+1:]
			}
		}
		return "missing"
	}

	// Nothing listens on the address: degraded from the first attempt.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close()
	s := startServer(t, t.TempDir(), "--kafka-brokers", dead, "--kafka-topic", kafkaTopic, "--kafka-group", "g",
		"--kafka-model", "flight-delay", "--state", filepath.Join(t.TempDir(), "state.db"))
	waitFor(t, "the unreachable broker in /healthz", func() bool {
		h := health(t, s)
		return h.Status == "degraded" && len(h.Problems) == 1 && strings.Contains(h.Problems[0], dead+" unreachable")
	})
	// The registry is empty: the missing --kafka-model is named beside
	// the broker (attack run 23 F4), which it does not hide.
	if p := health(t, s).Problems[0]; !strings.Contains(p, `--kafka-model "flight-delay" names no model of the registry (it holds no model)`) {
		t.Errorf("problem %q does not name the missing --kafka-model", p)
	}
	if b := health(t, s).Ingest.Kafka.Brokers; len(b) != 1 || b[0].Address != dead || b[0].Up || b[0].Error == "" {
		t.Errorf("brokers: got %+v, want %s down with its error", b, dead)
	}
	if got := brokersUp(s); got != "0" {
		t.Errorf("normguard_kafka_brokers_up with no broker reachable: %s, want 0", got)
	}

	// A live cluster: ok; once it stops, degraded again.
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(3, kafkaTopic))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s = startServer(t, t.TempDir(), kafkaArgs(c, filepath.Join(t.TempDir(), "state.db"), "replica-0")...)
	_, art := flights(t)
	pushFlights(t, s, "v1", art) // --kafka-model's
	waitFor(t, "status ok with the broker up", func() bool {
		h := health(t, s)
		return h.Status == "ok" && len(h.Problems) == 0 && len(h.Ingest.Kafka.Brokers) > 0
	})
	if got := brokersUp(s); got != "1" {
		t.Errorf("normguard_kafka_brokers_up with the cluster up: %s, want 1", got)
	}
	c.Close()
	waitFor(t, "status degraded once the cluster stopped", func() bool {
		h := health(t, s)
		return h.Status == "degraded" && len(h.Problems) == 1 && strings.Contains(h.Problems[0], "unreachable since")
	})
	if got := brokersUp(s); got != "0" {
		t.Errorf("normguard_kafka_brokers_up after the cluster stopped: %s, want 0", got)
	}
}

// TestServeKafkaNewGroupRefused (attack run 23 F1a): serve restarted on
// its state with another --kafka-group read the topic again from its
// start into the same windows. It exits 2 naming the state's group and
// topic and what to do.
func TestServeKafkaNewGroupRefused(t *testing.T) {
	reg := t.TempDir()
	state := filepath.Join(t.TempDir(), "m.db")
	mon, err := monitor.Open(state, monitor.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mon.ObserveAt(context.Background(), nil, []monitor.Offset{{Source: kafka.Source("g", "t"), Partition: 0, Next: 6}}); err != nil {
		t.Fatal(err)
	}
	if err := mon.Close(); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCLI(t, "serve", "--registry", reg, "--addr", "127.0.0.1:0", "--state", state,
		"--kafka-brokers", "127.0.0.1:1", "--kafka-topic", "t", "--kafka-group", "g2")
	for _, want := range []string{`topic "t" read by consumer group "g" (partition 0 up to offset 6)`, `--kafka-group "g" to go on`, "--state another file", "--kafka-new-group"} {
		if code != 2 || !strings.Contains(stderr, want) {
			t.Errorf("exit %d, stderr %q; want exit 2 naming %q", code, stderr, want)
		}
	}
}
