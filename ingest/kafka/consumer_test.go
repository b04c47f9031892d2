package kafka

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	bolt "go.etcd.io/bbolt"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/monitor"
	"github.com/normguard/normguard/quickstart"
	"github.com/normguard/normguard/registry"
	"github.com/normguard/normguard/server"
	"github.com/normguard/normguard/table"
)

const (
	testModel  = "flight-delay"
	testTopic  = "rows"
	partitions = 3
)

// flightsDir holds the quickstart's data and artifact (made from the
// flights table embedded in the binary), made once.
var flightsDir = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "normguard-kafka-test")
	if err != nil {
		return "", err
	}
	_, err = quickstart.Run(context.Background(), dir, io.Discard)
	return dir, err
})

// fixture is a registry holding the flights model and the rows to send.
type fixture struct {
	reg    *registry.Local
	art    *artifact.Artifact
	header []string
	recs   [][]string
}

func newFixture(t testing.TB, rows int) *fixture {
	t.Helper()
	dir, err := flightsDir()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, quickstart.Files.Artifact))
	if err != nil {
		t.Fatal(err)
	}
	reg, err := registry.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := reg.Put(context.Background(), testModel, "v1", data, registry.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	a, err := artifact.Decode(data, "flights")
	if err != nil {
		t.Fatal(err)
	}
	// June's rows; more come from the training months.
	file := quickstart.Files.Later
	if rows > 6000 {
		file = quickstart.Files.Train
	}
	f, err := os.Open(filepath.Join(dir, file))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs)-1 < rows {
		t.Fatalf("%s has %d rows, want %d", file, len(recs)-1, rows)
	}
	return &fixture{reg: reg, art: a, header: recs[0], recs: recs[1 : rows+1]}
}

// rowJSON writes a CSV record as a JSON row: numbers as the CSV's text,
// empty as null.
func rowJSON(header, rec []string) []byte {
	var b strings.Builder
	b.WriteByte('{')
	for j, name := range header {
		if j > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%q:", name)
		v := rec[j]
		if _, err := strconv.ParseFloat(v, 64); v == "" {
			b.WriteString("null")
		} else if err == nil {
			b.WriteString(v)
		} else {
			fmt.Fprintf(&b, "%q", v)
		}
	}
	b.WriteByte('}')
	return []byte(b.String())
}

// badRecords are records the consumer must count and skip, by reason.
var badRecords = []struct {
	reason, model, value string
}{
	{ReasonNotJSON, testModel, `not json`},
	{ReasonNotJSON, testModel, `[1, 2]`},
	{ReasonNotJSON, testModel, `{"delay": 1`},
	{ReasonWrongType, testModel, `{"delay": "late", "distance": 100}`},
	{ReasonWrongType, testModel, `{"delay": true}`},
	{ReasonWrongType, testModel, `{"origin": {"code": "SFO"}}`},
	{ReasonWrongType, testModel, `{"delay": 1e999}`},
	{ReasonNoFeature, testModel, `{"unknown": 1}`},
	{ReasonNoFeature, testModel, `{}`},
	{ReasonUnknownModel, "no-such-model", `{"delay": 1}`},
	{ReasonUnknownModel, "", `{"delay": 1}`},
	{ReasonUnknownModel, "../bad name", `{"delay": 1}`},
	// Attack run 10: the last of two values counted, and records of
	// 95 MB were decoded whole (testMaxRecord stands for --max-body).
	{ReasonDuplicateKey, testModel, `{"delay": 1, "delay": 1000000}`},
	{ReasonTooLarge, testModel, `{"delay": 1, "origin": "` + strings.Repeat("A", testMaxRecord) + `"}`},
}

// testMaxRecord is the replicas' Config.MaxRecordBytes.
const testMaxRecord = 4096

// produce sends the fixture's rows to the topic, row i to partition
// i mod partitions, with the bad records spread among them, and returns
// the records sent.
func produce(t testing.TB, c *kfake.Cluster, fx *fixture) int {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.DefaultProduceTopic(testTopic),
		kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var recs []*kgo.Record
	for i, rec := range fx.recs {
		recs = append(recs, &kgo.Record{Partition: int32(i % partitions), Value: rowJSON(fx.header, rec),
			Headers: []kgo.RecordHeader{{Key: ModelHeader, Value: []byte(testModel)}}})
		if k := i / 97; i%97 == 0 && k < len(badRecords) {
			b := badRecords[k]
			r := &kgo.Record{Partition: int32(k % partitions), Value: []byte(b.value)}
			if b.model != "" {
				r.Headers = []kgo.RecordHeader{{Key: ModelHeader, Value: []byte(b.model)}}
			}
			recs = append(recs, r)
		}
	}
	for lo := 0; lo < len(recs); lo += 500 {
		if err := cl.ProduceSync(context.Background(), recs[lo:min(lo+500, len(recs))]...).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	return len(recs)
}

func wantBad() map[string]int64 {
	out := map[string]int64{}
	for _, b := range badRecords {
		out[b.reason]++
	}
	return out
}

// replica is a consumer with its own monitor state.
type replica struct {
	mon    *monitor.Monitor
	cons   *Consumer
	stop   context.CancelFunc
	done   chan error
	closed bool
}

func startReplica(t *testing.T, c *kfake.Cluster, fx *fixture, state string) *replica {
	t.Helper()
	return startReplicaWith(t, c, fx, state, nil)
}

// startReplicaWith starts a replica whose consumer calls afterStore
// (Consumer.afterStore) once each poll is stored.
func startReplicaWith(t *testing.T, c *kfake.Cluster, fx *fixture, state string, afterStore func([]monitor.Batch) error) *replica {
	t.Helper()
	mon, err := monitor.Open(state, monitor.Options{Window: 1000 * time.Hour, EvalInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	cons, err := New(Config{
		Brokers: c.ListenAddrs(), Topic: testTopic, Group: "g", Registry: fx.reg, Monitor: mon,
		MaxPollRecords: 250, MaxRecordBytes: testMaxRecord,
		Opts: []kgo.Opt{kgo.SessionTimeout(3 * time.Second), kgo.RebalanceTimeout(3 * time.Second), kgo.HeartbeatInterval(300 * time.Millisecond)},
	})
	if err != nil {
		t.Fatal(err)
	}
	cons.afterStore = afterStore
	ctx, cancel := context.WithCancel(context.Background())
	r := &replica{mon: mon, cons: cons, stop: cancel, done: make(chan error, 1)}
	go func() { r.done <- cons.Run(ctx) }()
	return r
}

// close stops the consumer and closes the monitor.
func (r *replica) close(t *testing.T) {
	t.Helper()
	if r.closed {
		return
	}
	r.closed = true
	r.stop()
	if err := <-r.done; err != nil {
		t.Errorf("consumer: %v", err)
	}
	if err := r.mon.Close(); err != nil {
		t.Error(err)
	}
}

// waitRecords waits until the replicas together have consumed n records.
func waitRecords(t *testing.T, n int, rs ...*replica) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		var got int64
		for _, r := range rs {
			got += r.cons.Stats().Records
		}
		if got >= int64(n) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("consumed %d records within 60 s, want %d", got, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// reference is a monitor fed the fixture's rows directly, in one call.
func reference(t *testing.T, fx *fixture) *monitor.Monitor {
	t.Helper()
	mon, err := monitor.Open(filepath.Join(t.TempDir(), "ref.db"), monitor.Options{Window: 1000 * time.Hour, EvalInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mon.Close() })
	rs := newRows(inputFields(t, fx))
	for _, rec := range fx.recs {
		if err := rs.add(rowJSON(fx.header, rec), time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := mon.Observe(context.Background(), testModel, fx.art, monitor.StageInput, rs.cols, rs.n); err != nil {
		t.Fatal(err)
	}
	return mon
}

func inputFields(t testing.TB, fx *fixture) []table.Field {
	t.Helper()
	var fields []table.Field
	for _, f := range fx.art.Inputs {
		k := table.Numeric
		if f.Type == "categorical" {
			k = table.String
		}
		fields = append(fields, table.Field{Name: f.Name, Kind: k})
	}
	return fields
}

// sameDrift checks that two monitors report the same window statistics.
func sameDrift(t *testing.T, got, want *monitor.Monitor) {
	t.Helper()
	gr, gw, err := got.Drift(testModel, monitor.StageInput)
	if err != nil {
		t.Fatal(err)
	}
	wr, ww, err := want.Drift(testModel, monitor.StageInput)
	if err != nil {
		t.Fatal(err)
	}
	if gw.Rows != ww.Rows {
		t.Errorf("window rows: got %d, want %d", gw.Rows, ww.Rows)
	}
	if len(gr.Features) != len(wr.Features) {
		t.Fatalf("features: got %d, want %d", len(gr.Features), len(wr.Features))
	}
	for i := range gr.Features {
		g, w := gr.Features[i], wr.Features[i]
		g.Plot, w.Plot = nil, nil
		gj, err := json.Marshal(g)
		if err != nil {
			t.Fatal(err)
		}
		wj, err := json.Marshal(w)
		if err != nil {
			t.Fatal(err)
		}
		if string(gj) != string(wj) {
			t.Errorf("feature %s:\n got %s\nwant %s", w.Name, gj, wj)
		}
	}
}

func newCluster(t testing.TB) *kfake.Cluster {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(partitions, testTopic), kfake.GroupMinSessionTimeout(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// TestOneReplica consumes every record once: the window holds every good
// row and equals a monitor fed the rows directly; every bad record is
// counted under its reason; the state holds each partition's end offset.
func TestOneReplica(t *testing.T) {
	fx := newFixture(t, 3000)
	c := newCluster(t)
	sent := produce(t, c, fx)
	r := startReplica(t, c, fx, filepath.Join(t.TempDir(), "m.db"))
	waitRecords(t, sent, r)
	st := r.cons.Stats()
	if st.Records != int64(sent) || st.Rows != int64(len(fx.recs)) {
		t.Errorf("consumed %d records, %d rows; want %d records, %d rows", st.Records, st.Rows, sent, len(fx.recs))
	}
	if want := wantBad(); !reflect.DeepEqual(st.Bad, want) {
		t.Errorf("bad records: got %v, want %v", st.Bad, want)
	}
	sameDrift(t, r.mon, reference(t, fx))
	offs, err := r.mon.Offsets(Source("g", testTopic))
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, o := range offs {
		total += o
	}
	if len(offs) != partitions || total != int64(sent) {
		t.Errorf("state offsets %v (sum %d), want %d partitions summing to %d", offs, total, partitions, sent)
	}
	r.close(t)
}

// TestRestartCountsOnce stops a replica mid-stream, produces more, and
// restarts it on the same state: no record is read twice.
func TestRestartCountsOnce(t *testing.T) {
	fx := newFixture(t, 3000)
	c := newCluster(t)
	half := &fixture{reg: fx.reg, art: fx.art, header: fx.header, recs: fx.recs[:1500]}
	rest := &fixture{reg: fx.reg, art: fx.art, header: fx.header, recs: fx.recs[1500:]}
	sent := produce(t, c, half)
	state := filepath.Join(t.TempDir(), "m.db")
	r := startReplica(t, c, fx, state)
	waitRecords(t, sent, r)
	r.close(t)
	sent2 := produce(t, c, rest)
	r = startReplica(t, c, fx, state)
	waitRecords(t, sent2, r)
	// Nothing more comes: a second read of the first half would show.
	time.Sleep(300 * time.Millisecond)
	if got := r.cons.Stats().Records; got != int64(sent2) {
		t.Errorf("after the restart consumed %d records, want %d", got, sent2)
	}
	sameDrift(t, r.mon, reference(t, fx))
	r.close(t)
}

// TestThreeReplicas shares the partitions among three replicas in one
// group: together they read every record exactly once, and their windows
// merge into those of one monitor fed every row.
func TestThreeReplicas(t *testing.T) {
	fx := newFixture(t, 3000)
	c := newCluster(t)
	dir := t.TempDir()
	var rs []*replica
	for i := range 3 {
		rs = append(rs, startReplica(t, c, fx, filepath.Join(dir, fmt.Sprintf("m%d.db", i))))
	}
	// Produce once the group has spread the partitions over the three.
	waitSpread(t, rs...)
	sent := produce(t, c, fx)
	waitRecords(t, sent, rs...)
	time.Sleep(300 * time.Millisecond)
	var records, rows int64
	busy := 0
	bad := map[string]int64{}
	for _, r := range rs {
		st := r.cons.Stats()
		records += st.Records
		rows += st.Rows
		for k, v := range st.Bad {
			bad[k] += v
		}
		t.Logf("a replica consumed %d records, %d rows", st.Records, st.Rows)
		if st.Rows > 0 {
			busy++
		}
		if _, w, err := r.mon.Drift(testModel, monitor.StageInput); err == nil && w.Rows != st.Rows {
			t.Errorf("a replica's window holds %d rows, it observed %d", w.Rows, st.Rows)
		}
	}
	if records != int64(sent) || rows != int64(len(fx.recs)) {
		t.Errorf("together consumed %d records, %d rows; want %d, %d", records, rows, sent, len(fx.recs))
	}
	if want := wantBad(); !reflect.DeepEqual(bad, want) {
		t.Errorf("bad records: got %v, want %v", bad, want)
	}
	if busy < 2 {
		t.Errorf("%d replica(s) consumed rows; the group should have shared the partitions", busy)
	}
	// The replicas' windows merge into what one monitor fed every row
	// holds: counts and drift summaries, bit for bit.
	sameMerged(t, fx, rs...)
	for _, r := range rs {
		r.close(t)
	}
}

// sameMerged checks that the windows of rs merge into what one monitor
// fed every row of fx holds.
func sameMerged(t *testing.T, fx *fixture, rs ...*replica) {
	t.Helper()
	var exports []*monitor.Export
	for _, r := range rs {
		ex, err := r.mon.Export(testModel)
		if err != nil {
			t.Fatal(err)
		}
		exports = append(exports, ex)
	}
	merged, err := monitor.MergeExports(fx.art, exports)
	if err != nil {
		t.Fatal(err)
	}
	checkOffsetsCovered(t, merged, rs...)
	for i := range merged.Windows {
		merged.Windows[i].Offsets = nil // a monitor fed directly has none
	}
	merged.Format = 1
	one, err := reference(t, fx).Export(testModel)
	if err != nil {
		t.Fatal(err)
	}
	want, err := monitor.MergeExports(fx.art, []*monitor.Export{one})
	if err != nil {
		t.Fatal(err)
	}
	gj, _ := json.Marshal(merged)
	wj, _ := json.Marshal(want)
	if string(gj) != string(wj) {
		t.Errorf("merged replicas' windows differ from one monitor fed every row:\n got %s\nwant %s", gj, wj)
	}
}

// checkOffsetsCovered checks the offsets of a merged export: per
// partition, within what the replicas read (their stored next offsets),
// and covering all of it but for at most the bad records (a poll of bad
// records only gives no window a range).
func checkOffsetsCovered(t *testing.T, merged *monitor.Export, rs ...*replica) {
	t.Helper()
	end := map[int32]int64{}
	for _, r := range rs {
		offs, err := r.mon.Offsets(Source("g", testTopic))
		if err != nil {
			t.Fatal(err)
		}
		for p, o := range offs {
			end[p] = max(end[p], o)
		}
	}
	covered := map[int32]int64{}
	for _, w := range merged.Windows {
		for _, p := range w.Offsets {
			if p.Source != Source("g", testTopic) || p.Coarse {
				t.Errorf("offsets of %s partition %d (coarse %v): want only %s, not coarse", p.Source, p.Partition, p.Coarse, Source("g", testTopic))
			}
			for _, r := range p.Ranges {
				if r[0] < 0 || r[1] >= end[p.Partition] {
					t.Errorf("partition %d: range %v outside the %d records read", p.Partition, r, end[p.Partition])
				}
				covered[p.Partition] += r[1] - r[0] + 1
			}
		}
	}
	if len(end) != partitions {
		t.Errorf("offsets stored for %d partitions, want %d", len(end), partitions)
	}
	for p, n := range end {
		if covered[p] > n || covered[p] < n-int64(len(badRecords)) {
			t.Errorf("partition %d: the windows' ranges cover %d of its %d records", p, covered[p], n)
		}
	}
}

// waitSpread waits until every replica holds a partition.
func waitSpread(t *testing.T, rs ...*replica) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		spread := 0
		for _, r := range rs {
			if len(r.cons.Stats().Partitions) > 0 {
				spread++
			}
		}
		if spread == len(rs) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 60 s only %d of %d replicas hold partitions", spread, len(rs))
		}
	}
}

// TestRebalanceCountsOnce moves partitions while rows flow: a replica
// alone, a second one joining (partitions move to it), then leaving
// (they come back, to a state whose offsets for them are stale). Every
// record is read once, and the two windows merge into one monitor's.
func TestRebalanceCountsOnce(t *testing.T) {
	fx := newFixture(t, 3000)
	part := func(lo, hi int) *fixture {
		return &fixture{reg: fx.reg, art: fx.art, header: fx.header, recs: fx.recs[lo:hi]}
	}
	c := newCluster(t)
	dir := t.TempDir()
	r0 := startReplica(t, c, fx, filepath.Join(dir, "m0.db"))
	sent := produce(t, c, part(0, 1000))
	waitRecords(t, sent, r0)
	r1 := startReplica(t, c, fx, filepath.Join(dir, "m1.db"))
	waitSpread(t, r0, r1)
	sent += produce(t, c, part(1000, 2000))
	waitRecords(t, sent, r0, r1)
	// r1 leaves the group; its partitions go back to r0.
	r1.stop()
	if err := <-r1.done; err != nil {
		t.Fatal(err)
	}
	sent += produce(t, c, part(2000, 3000))
	waitRecords(t, sent, r0, r1)
	time.Sleep(300 * time.Millisecond)
	s0, s1 := r0.cons.Stats(), r1.cons.Stats()
	if s0.Records+s1.Records != int64(sent) || s0.Rows+s1.Rows != 3000 {
		t.Errorf("read %d+%d records, %d+%d rows; want %d records, 3000 rows", s0.Records, s1.Records, s0.Rows, s1.Rows, sent)
	}
	if s1.Rows == 0 {
		t.Errorf("the second replica read nothing: no partition moved")
	}
	sameMerged(t, fx, r0, r1)
	r0.close(t)
	if err := r1.mon.Close(); err != nil {
		t.Error(err)
	}
}

// TestDamagedOffsetsRecovered: a state whose stored offsets are damaged
// is refused at Open (resuming from a guess could count records twice or
// lose them); Recover keeps every offset that verifies and sets the
// damaged one past the records its windows hold, and the replica started
// on it reads nothing again.
func TestDamagedOffsetsRecovered(t *testing.T) {
	fx := newFixture(t, 300)
	c := newCluster(t)
	sent := produce(t, c, fx)
	state := filepath.Join(t.TempDir(), "m.db")
	r := startReplica(t, c, fx, state)
	waitRecords(t, sent, r)
	want, err := r.mon.Offsets(Source("g", testTopic))
	if err != nil {
		t.Fatal(err)
	}
	r.close(t)
	db, err := bolt.Open(state, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("offsets"))
		k, v := b.Cursor().First()
		v = append([]byte(nil), v...)
		v[len(v)-1] ^= 1
		return b.Put(append([]byte(nil), k...), v)
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	opt := monitor.Options{Window: 1000 * time.Hour, EvalInterval: time.Hour}
	if _, err := monitor.Open(state, opt); !errors.Is(err, monitor.ErrDamaged) {
		t.Fatalf("Open: got %v, want an error wrapping monitor.ErrDamaged", err)
	}
	rep, err := monitor.Recover(state, opt)
	if err != nil {
		t.Fatal(err)
	}
	resumed := 0 // the topic's ID is kept beside the positions (topic.go)
	for _, o := range rep.Offsets {
		if o.Source == Source("g", testTopic) {
			resumed++
		}
	}
	if rep.Lost["offsets"] != 1 || resumed != partitions {
		t.Errorf("recovery report: %d offsets lost, %d partitions resumed; want 1 and %d\n%s", rep.Lost["offsets"], resumed, partitions, rep)
	}
	r = startReplica(t, c, fx, state)
	got, err := r.mon.Offsets(Source("g", testTopic))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("offsets after the recovery %v, want %v", got, want)
	}
	time.Sleep(time.Second) // time to read anything read again
	if st := r.cons.Stats(); st.Records != 0 {
		t.Errorf("the recovered replica read %d records again", st.Records)
	}
	sameDrift(t, r.mon, reference(t, fx))
	r.close(t)
}

// TestKilledBeforeCommitRefused reproduces the double count the group
// cannot prevent: replica A stores a poll and is killed before committing
// it to the group; B takes the partitions and reads from the group's
// committed offsets, so that poll is counted by both. Merging their
// windows (the library, and /drift on a replica listing the other with
// --peers) refuses, naming the partition and the offsets both read; the
// ranges outlive a restart of A's state.
func TestKilledBeforeCommitRefused(t *testing.T) {
	fx := newFixture(t, 3000)
	c := newCluster(t)
	sent := produce(t, c, fx)
	dir := t.TempDir()
	var killed []monitor.Batch
	polls := 0
	a := startReplicaWith(t, c, fx, filepath.Join(dir, "a.db"), func(stored []monitor.Batch) error {
		if polls++; polls < 3 {
			return nil
		}
		killed = stored
		return errKilled
	})
	if err := <-a.done; !errors.Is(err, errKilled) {
		t.Fatalf("replica A: %v, want it killed", err)
	}
	if len(killed) != 1 || len(killed[0].Read) == 0 {
		t.Fatalf("the killed poll stored %d batches: %+v", len(killed), killed)
	}
	b := startReplica(t, c, fx, filepath.Join(dir, "b.db"))
	waitOffsets(t, b, int64(sent))
	time.Sleep(300 * time.Millisecond)
	sa, sb := a.cons.Stats(), b.cons.Stats()
	if sa.Rows+sb.Rows != int64(len(fx.recs))+int64(killed[0].N) {
		t.Errorf("A observed %d rows, B %d; want the %d rows plus the %d of the killed poll counted twice", sa.Rows, sb.Rows, len(fx.recs), killed[0].N)
	}

	// A's state restarts (closed and opened): its ranges come back.
	if err := a.mon.Close(); err != nil {
		t.Fatal(err)
	}
	monA, err := monitor.Open(filepath.Join(dir, "a.db"), monitor.Options{Window: 1000 * time.Hour, EvalInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer monA.Close()
	exA, err := monA.Export(testModel)
	if err != nil {
		t.Fatal(err)
	}
	exB, err := b.mon.Export(testModel)
	if err != nil {
		t.Fatal(err)
	}
	exA.Name, exB.Name = "a.json", "b.json"
	_, err = monitor.MergeExports(fx.art, []*monitor.Export{exA, exB})
	first := killed[0].Read[0]
	var oe *monitor.OverlapError
	if !errors.As(err, &oe) {
		t.Fatalf("merge: got %v, want an *monitor.OverlapError", err)
	}
	if oe.Source != first.Source || oe.Partition != first.Partition || oe.First != first.First || oe.Last != first.Last || oe.Exports != [2]string{"a.json", "b.json"} {
		t.Errorf("overlap %+v, want offsets %d-%d of partition %d of %s read by a.json and b.json", *oe, first.First, first.Last, first.Partition, first.Source)
	}

	// /drift on B, listing A as its peer, refuses the same way.
	srvA := driftServer(t, fx, monA, nil)
	srvB := driftServer(t, fx, b.mon, []string{srvA.URL})
	req, err := http.NewRequest(http.MethodGet, srvB.URL+"/v1/models/"+testModel+"/drift", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer t")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	var answer struct {
		Error struct{ Code, Message string }
	}
	if err := json.Unmarshal(body, &answer); err != nil {
		t.Fatalf("/drift answered %s: %s", res.Status, body)
	}
	wantMsg := fmt.Sprintf("offsets %d-%d of partition %d of %s were read by both", first.First, first.Last, first.Partition, first.Source)
	if res.StatusCode != http.StatusConflict || answer.Error.Code != "overlapping_offsets" || !strings.Contains(answer.Error.Message, wantMsg) ||
		!strings.Contains(answer.Error.Message, "peer "+srvA.URL) || !strings.Contains(answer.Error.Message, "this replica") {
		t.Errorf("/drift: %s %s; want 409 overlapping_offsets naming %q, this replica and peer %s", res.Status, body, wantMsg, srvA.URL)
	}
	b.close(t)
}

// errKilled stops a replica as a kill would.
var errKilled = errors.New("killed")

// waitOffsets waits until r's state holds n records read over all
// partitions.
func waitOffsets(t *testing.T, r *replica, n int64) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		offs, err := r.mon.Offsets(Source("g", testTopic))
		if err != nil {
			t.Fatal(err)
		}
		var got int64
		for _, o := range offs {
			got += o
		}
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the state reached %d records in 60 s, want %d", got, n)
		}
	}
}

// driftServer serves /drift of mon (token "t") with peers.
func driftServer(t *testing.T, fx *fixture, mon *monitor.Monitor, peers []string) *httptest.Server {
	t.Helper()
	s, err := server.New(server.Config{Registry: fx.reg, Monitor: mon, Token: "t", Peers: peers})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return ts
}

// eventHistory judges m's windows and returns them as JSON, without when
// they were judged.
func eventHistory(t *testing.T, m *monitor.Monitor) (string, int) {
	t.Helper()
	if err := m.Evaluate(context.Background()); err != nil {
		t.Fatal(err)
	}
	h := m.History(testModel, monitor.StageInput)
	for i := range h {
		h[i].EvaluatedAt = nil
	}
	b, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	return string(b), len(h)
}

// TestEventTime windows the rows by their own time (serve --time-column):
// June's flights, consumed from Kafka into daily windows by their date,
// give the windows of a monitor fed the same rows directly. One
// partition: across partitions, a row of a day that another partition
// has already left behind arrives late, and the monitor counts it in the
// latest window.
func TestEventTime(t *testing.T) {
	fx := newFixture(t, 3000)
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, testTopic), kfake.GroupMinSessionTimeout(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.DefaultProduceTopic(testTopic))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var recs []*kgo.Record
	for _, rec := range fx.recs {
		recs = append(recs, &kgo.Record{Value: rowJSON(fx.header, rec)})
	}
	if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	opt := monitor.Options{Window: 24 * time.Hour, EvalInterval: time.Hour, TimeColumn: "date"}
	mon, err := monitor.Open(filepath.Join(t.TempDir(), "m.db"), opt)
	if err != nil {
		t.Fatal(err)
	}
	defer mon.Close()
	cons, err := New(Config{Brokers: c.ListenAddrs(), Topic: testTopic, Group: "g", Model: testModel, EventTime: "date",
		Registry: fx.reg, Monitor: mon, MaxPollRecords: 250})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- cons.Run(ctx) }()
	for deadline := time.Now().Add(60 * time.Second); cons.Stats().Records < int64(len(recs)); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("consumed %d records in 60 s, want %d", cons.Stats().Records, len(recs))
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	ref, err := monitor.Open(filepath.Join(t.TempDir(), "ref.db"), opt)
	if err != nil {
		t.Fatal(err)
	}
	defer ref.Close()
	rs := newRows(inputFields(t, fx))
	for _, rec := range fx.recs {
		if err := rs.add(rowJSON(fx.header, rec), time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := ref.Observe(context.Background(), testModel, fx.art, monitor.StageInput, rs.cols, rs.n); err != nil {
		t.Fatal(err)
	}
	got, windows := eventHistory(t, mon)
	want, _ := eventHistory(t, ref)
	if windows < 5 {
		t.Errorf("%d window(s): the rows span 6 days", windows)
	}
	if got != want {
		t.Errorf("event-time windows from Kafka differ from a monitor fed the rows:\n got %s\nwant %s", got, want)
	}
}

// TestAbortedTransactionsNotCounted reads committed records only: the
// rows of a producer's aborted transaction are never in the window.
func TestAbortedTransactionsNotCounted(t *testing.T) {
	fx := newFixture(t, 300)
	c := newCluster(t)
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.DefaultProduceTopic(testTopic),
		kgo.TransactionalID("tx"), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx := context.Background()
	send := func(recs [][]string, end kgo.TransactionEndTry) {
		t.Helper()
		if err := cl.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		var rs []*kgo.Record
		for i, rec := range recs {
			rs = append(rs, &kgo.Record{Partition: int32(i % partitions), Value: rowJSON(fx.header, rec),
				Headers: []kgo.RecordHeader{{Key: ModelHeader, Value: []byte(testModel)}}})
		}
		if err := cl.ProduceSync(ctx, rs...).FirstErr(); err != nil {
			t.Fatal(err)
		}
		if err := cl.EndTransaction(ctx, end); err != nil {
			t.Fatal(err)
		}
	}
	send(fx.recs[:100], kgo.TryAbort)
	send(fx.recs[100:], kgo.TryCommit)
	r := startReplica(t, c, fx, filepath.Join(t.TempDir(), "m.db"))
	waitRecords(t, 200, r)
	time.Sleep(300 * time.Millisecond)
	if st := r.cons.Stats(); st.Records != 200 || st.Rows != 200 {
		t.Errorf("read %d records, %d rows; want the 200 committed", st.Records, st.Rows)
	}
	r.close(t)
}

// TestSameArtifactTwoModels: one artifact pushed under two model names is
// two models, each observing its own rows under its own name.
func TestSameArtifactTwoModels(t *testing.T) {
	fx := newFixture(t, 1)
	a := *fx.art
	a.Model = nil // fitted for no model: it may be pushed under any name
	data, err := artifact.Encode(&a)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, name := range []string{"model-a", "model-b"} {
		if _, _, err := fx.reg.Put(ctx, name, "v1", data, registry.PutOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	c := &Consumer{cfg: Config{Registry: fx.reg, Stage: monitor.StageInput}, loaded: map[string]*model{}}
	ma, reason := c.load(ctx, "model-a")
	if ma == nil {
		t.Fatalf("model-a: %s", reason)
	}
	mb, reason := c.load(ctx, "model-b")
	if mb == nil {
		t.Fatalf("model-b: %s", reason)
	}
	if ma == mb || ma.name != "model-a" || mb.name != "model-b" {
		t.Fatalf("the two names share a model: %q and %q", ma.name, mb.name)
	}
}

// failingStore is a registry whose Resolve fails (not "not found").
type failingStore struct{ registry.Store }

func (failingStore) Resolve(context.Context, string, string) (registry.Version, error) {
	return registry.Version{}, errors.New("registry unreachable")
}

// TestModelErrorReasonKept: every record of a model whose artifact cannot
// be loaded is counted model_error, not only the batch's first, and it is
// a problem until the artifact loads.
func TestModelErrorReasonKept(t *testing.T) {
	c := &Consumer{cfg: Config{Registry: failingStore{}, Stage: monitor.StageInput}, log: slog.New(slog.DiscardHandler),
		loaded: map[string]*model{}, models: map[string]found{}}
	r := &kgo.Record{Headers: []kgo.RecordHeader{{Key: ModelHeader, Value: []byte(testModel)}}}
	for i := 0; i < 2; i++ {
		if m, _, reason := c.modelOf(context.Background(), r); m != nil || reason != ReasonModelError {
			t.Fatalf("record %d: model %v, reason %q, want %q", i, m, reason, ReasonModelError)
		}
	}
	// A /healthz problem at once, naming the model and the registry's
	// error (attack run 28 note: only once the registry's own check found
	// the damage, ~30 s later), until the artifact loads.
	if p := c.modelErrorProblems()[testModel]; !strings.Contains(p, `records of model "flight-delay"`) || !strings.Contains(p, "registry unreachable") {
		t.Errorf("problem %q; want the model and the registry's error", p)
	}
	c.cfg.Registry = newFixture(t, 1).reg
	c.models = map[string]found{}
	if m, reason := c.load(context.Background(), testModel); m == nil {
		t.Fatalf("after the repair: %s", reason)
	}
	if p := c.modelErrorProblems(); len(p) != 0 {
		t.Errorf("after the artifact loaded: %v; want no problem", p)
	}
}

// TestNewVersionReplacesOld: a model's new current version replaces the
// artifact the consumer held for it rather than adding to them.
func TestNewVersionReplacesOld(t *testing.T) {
	fx := newFixture(t, 1)
	ctx := context.Background()
	c := &Consumer{cfg: Config{Registry: fx.reg, Stage: monitor.StageInput}, loaded: map[string]*model{}}
	m1, reason := c.load(ctx, testModel)
	if m1 == nil {
		t.Fatalf("v1: %s", reason)
	}
	a := *fx.art
	a.Model = &artifact.Model{Name: testModel, Version: "another"}
	data, err := artifact.Encode(&a)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := fx.reg.Put(ctx, testModel, "v2", data, registry.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	m2, reason := c.load(ctx, testModel)
	if m2 == nil {
		t.Fatalf("v2: %s", reason)
	}
	if m2 == m1 || m2.art.Digest != a.Digest || len(c.loaded) != 1 {
		t.Fatalf("after v2: %d artifacts held, current %s, want 1 and %s", len(c.loaded), m2.art.Digest, a.Digest)
	}
	if again, _ := c.load(ctx, testModel); again != m2 {
		t.Fatal("the current version was loaded again")
	}
}
