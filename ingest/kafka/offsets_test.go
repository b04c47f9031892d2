package kafka

import (
	"context"
	"encoding/binary"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"

	"github.com/normguard/normguard/monitor"
)

// rawRecord is one well-formed record of a raw batch at offset delta
// delta, a valid row of the test model.
func rawRecord(delta int64, i int) []byte {
	v := []byte(fmt.Sprintf(`{"delay": %d}`, i))
	hk, hv := []byte(ModelHeader), []byte(testModel)
	body := []byte{0x00, 0x00} // attributes, timestamp delta
	body = binary.AppendVarint(body, delta)
	body = binary.AppendVarint(body, -1) // no key
	body = binary.AppendVarint(body, int64(len(v)))
	body = append(body, v...)
	body = binary.AppendVarint(body, 1)
	body = binary.AppendVarint(body, int64(len(hk)))
	body = append(body, hk...)
	body = binary.AppendVarint(body, int64(len(hv)))
	body = append(body, hv...)
	return append(binary.AppendVarint(nil, int64(len(body))), body...)
}

// TestParseRecordsOffsets: a record at an offset delta outside its
// batch's 0..LastOffsetDelta, or not after the record before it, makes
// the batch bad; one past its end says where the client moves to.
func TestParseRecordsOffsets(t *testing.T) {
	cat := func(bs ...[]byte) []byte {
		var out []byte
		for _, b := range bs {
			out = append(out, b...)
		}
		return out
	}
	cases := []struct {
		name      string
		data      []byte
		n, last   int32
		reach     int32
		wantError bool
	}{
		{"in order", cat(rawRecord(0, 0), rawRecord(1, 1), rawRecord(2, 2)), 3, 2, 2, false},
		{"compacted", cat(rawRecord(0, 0), rawRecord(2, 1)), 2, 2, 2, false},
		{"past the end", rawRecord(5, 0), 1, 0, 5, true},
		{"before the batch", rawRecord(-2, 0), 1, 0, -1, true},
		{"not after the one before", cat(rawRecord(0, 0), rawRecord(2, 1), rawRecord(1, 2)), 3, 2, 2, true},
		{"twice the same", cat(rawRecord(0, 0), rawRecord(0, 1)), 2, 1, 0, true},
	}
	for _, tc := range cases {
		reach, _, err := parseRecords(tc.data, tc.n, tc.last)
		if reach != tc.reach || (err != nil) != tc.wantError {
			t.Errorf("%s: reach %d, error %v; want reach %d, an error %v", tc.name, reach, err, tc.reach, tc.wantError)
		}
	}
}

// TestRecordPastItsBatch (attack run 14 F7a, F7c): a batch covering one
// offset whose one well-formed record claims offset delta 5 made the
// client move past the five good rows behind it as already read (lost,
// /healthz ok); one claiming offset delta -2 was dropped unseen. The batch
// is counted bad_batch and every row behind it is read once.
func TestRecordPastItsBatch(t *testing.T) {
	t.Parallel() // each on a cluster and a state of its own
	for _, delta := range []int64{5, -2} {
		t.Run(fmt.Sprint("delta ", delta), func(t *testing.T) {
			t.Parallel()
			fx := newFixture(t, 10)
			c := newCluster(t)
			prod := compressedProducer(t, c)
			rows := produceRows(t, prod)
			rows(0, 2)
			produceRaw(t, c, 0, 0, 1, rawRecord(delta, 99))
			rows(0, 3)
			rows(0, 3)
			rows(1, 2)
			const want = 2 + 1 + 3 + 3 + 2
			r := startChecked(t, c, fx)
			waitRecords(t, want, r)
			time.Sleep(300 * time.Millisecond) // nothing more may come
			st := r.cons.Stats()
			if st.Records != want || st.Rows != want-1 || st.Bad[ReasonBadBatch] != 1 || st.Problem() != "" {
				t.Errorf("records %d, rows %d, bad %v, problem %q; want %d records, %d rows, 1 bad_batch, no problem",
					st.Records, st.Rows, st.Bad, st.Problem(), want, want-1)
			}
			if next, err := r.mon.Offsets(Source("g", testTopic)); err != nil || next[0] != 9 {
				t.Errorf("partition 0's stored offset %d (%v), want 9", next[0], err)
			}
		})
	}
}

// TestRecordPastItsBatchAsLast (attack run 14 F7b): the batch whose
// record claims offset delta 5 as its partition's last: the client's next
// offset was out of range, it reset to the start and its rows were
// counted again every few seconds. They are counted once, the batch
// bad_batch, and the partition reads on.
func TestRecordPastItsBatchAsLast(t *testing.T) {
	t.Parallel() // each on a cluster and a state of its own
	fx := newFixture(t, 10)
	c := newCluster(t)
	rows := produceRows(t, compressedProducer(t, c))
	rows(0, 2)
	produceRaw(t, c, 0, 0, 1, rawRecord(5, 99))
	rows(1, 2)
	r := startChecked(t, c, fx)
	waitRecords(t, 5, r)
	time.Sleep(500 * time.Millisecond)
	if st := r.cons.Stats(); st.Records != 5 || st.Rows != 4 || st.Bad[ReasonBadBatch] != 1 || st.Problem() != "" {
		t.Errorf("records %d, rows %d, bad %v, problem %q; want 5 records, 4 rows, 1 bad_batch, no problem", st.Records, st.Rows, st.Bad, st.Problem())
	}
	// The partition reads on from the batch's end.
	rows(0, 3)
	waitRecords(t, 8, r)
	time.Sleep(300 * time.Millisecond)
	if st := r.cons.Stats(); st.Records != 8 || st.Rows != 7 {
		t.Errorf("after 3 more rows: records %d, rows %d; want 8 and 7", st.Records, st.Rows)
	}
}

// TestOpenTransactionIsAProblem (attack run 14 F6): a transaction left
// open stops its partition (the rows behind it are not readable) with no
// word. It is a problem naming the partition and the records behind it
// until the transaction ends, logged once when it begins and once when it
// clears.
func TestOpenTransactionIsAProblem(t *testing.T) {
	t.Parallel() // each on a cluster and a state of its own
	fx := newFixture(t, 10)
	c := newCluster(t)
	ctx := context.Background()
	rows := produceRows(t, compressedProducer(t, c))
	tx := txnClient(t, c, "open")
	rows(0, 2)
	if err := tx.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	produceRows(t, tx)(0, 1)
	rows(0, 5)
	var logs logBuffer
	r := startWith(t, c, fx, filepath.Join(t.TempDir(), "m.db"), logTo(&logs))
	waitRecords(t, 2, r)
	var st Stats
	waitFor(t, 20*time.Second, func() bool {
		st = r.cons.Stats()
		p := st.Problem()
		return strings.Contains(p, "partition 0 waits behind an open transaction at offset 2") && strings.Contains(p, "(6 records behind it") && strings.Contains(p, "must commit or abort it")
	}, func() string { return fmt.Sprintf("no problem reported within 20 s: %+v", st) })
	// The problem is read when Stats is called, the log line written by
	// the consumer's loop: wait for it before ending the transaction (CI:
	// ended before the loop saw it, neither line was written).
	waitFor(t, 20*time.Second, func() bool {
		return strings.Contains(logs.String(), "partition waits behind an open transaction")
	}, func() string { return "the open transaction was not logged within 20 s" })
	if err := tx.EndTransaction(ctx, kgo.TryCommit); err != nil {
		t.Fatal(err)
	}
	waitRecords(t, 8, r)
	waitFor(t, 10*time.Second, func() bool {
		st = r.cons.Stats()
		return st.Problem() == "" && st.Records == 8 && st.Rows == 8
	}, func() string {
		return fmt.Sprintf("after the commit: records %d, rows %d, problem %q; want 8 rows, no problem", st.Records, st.Rows, st.Problem())
	})
	// Logged when it began and when it cleared (attack run 28 note).
	waitFor(t, 20*time.Second, func() bool {
		return strings.Contains(logs.String(), "partition no longer waits behind an open transaction")
	}, func() string { return "the end of the open transaction was not logged within 20 s" })
	for _, want := range []string{"partition waits behind an open transaction", "partition no longer waits behind an open transaction"} {
		if n := strings.Count(logs.String(), want); n != 1 {
			t.Errorf("log lines %q: %d; want 1", want, n)
		}
	}
}

// produceTxRaw writes, in one transaction of its own on partition p, a
// valid row and then a raw transactional batch of valid rows at the
// offset deltas given (its LastOffsetDelta is len(deltas)-1), compressed
// with codec (nil: none), and commits or aborts the transaction.
func produceTxRaw(t *testing.T, c *kfake.Cluster, p int32, codec kgo.CompressionCodec, deltas []int64, commit bool) {
	t.Helper()
	ctx := context.Background()
	id := fmt.Sprintf("txraw-%d", time.Now().UnixNano())
	tc := txnClient(t, c, id, kgo.MaxVersions(kversion.V3_5_0()))
	if err := tc.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	produceRows(t, tc)(p, 1)
	pid, epoch, err := tc.ProducerID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var records []byte
	for i, d := range deltas {
		records = append(records, rawRecord(d, 100+i)...)
	}
	attrs := int16(0x10) // transactional
	if codec != (kgo.CompressionCodec{}) {
		out, typ := compressed(t, codec, records)
		records, attrs = out, attrs|int16(typ)
	}
	now := time.Now().UnixMilli()
	b := kmsg.RecordBatch{PartitionLeaderEpoch: -1, Magic: 2, Attributes: attrs, LastOffsetDelta: int32(len(deltas) - 1),
		FirstTimestamp: now, MaxTimestamp: now, ProducerID: pid, ProducerEpoch: epoch, FirstSequence: 1,
		NumRecords: int32(len(deltas)), Records: records}
	sendBatch(t, tc, p, b, kmsg.StringPtr(id))
	if err := tc.EndTransaction(ctx, kgo.TransactionEndTry(commit)); err != nil {
		t.Fatal(err)
	}
}

// startWith starts a consumer on a state of its own with cfg adjusted by
// adjust.
func startWith(t *testing.T, c *kfake.Cluster, fx *fixture, state string, adjust func(*Config), opts ...kgo.Opt) *replica {
	t.Helper()
	mon := openState(t, state)
	cfg := Config{
		Brokers: c.ListenAddrs(), Topic: testTopic, Group: "g", Registry: fx.reg, Monitor: mon,
		MaxPollRecords: 250, MaxRecordBytes: testMaxRecord, ProgressCheck: 100 * time.Millisecond,
		Opts: append([]kgo.Opt{kgo.SessionTimeout(3 * time.Second), kgo.RebalanceTimeout(3 * time.Second), kgo.HeartbeatInterval(300 * time.Millisecond)}, opts...),
	}
	if adjust != nil {
		adjust(&cfg)
	}
	cons, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &replica{mon: mon, cons: cons, stop: cancel, done: make(chan error, 1)}
	go func() { r.done <- cons.Run(ctx) }()
	t.Cleanup(func() { r.close(t) })
	return r
}

// settle waits until the replica's counts stop changing for a while, and
// returns its stats.
func settle(t *testing.T, r *replica, quiet time.Duration) Stats {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	last, since := r.cons.Stats(), time.Now()
	for time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		st := r.cons.Stats()
		if st.Records != last.Records || st.Rows != last.Rows || st.BadRecords != last.BadRecords {
			last, since = st, time.Now()
			continue
		}
		if time.Since(since) >= quiet {
			return st
		}
	}
	return r.cons.Stats()
}

// TestAbortedRecordPastItsBatch (attack run 17 F1): an aborted
// transaction's batch holding a record at an offset past its end moved
// the client past the abort marker and the committed rows behind it,
// which were lost without a word (the gap check passed aborted batches
// unparsed). The client is set back to the batch's end; the aborted
// records are not counted, the rows behind them are, once.
func TestAbortedRecordPastItsBatch(t *testing.T) {
	t.Parallel() // each on a cluster and a state of its own
	for _, tc := range []struct {
		name  string
		codec kgo.CompressionCodec
		last  bool // the batch is the log's last; the rows come later
	}{
		{"plain", kgo.CompressionCodec{}, false},
		{"zstd", kgo.ZstdCompression(), false},
		{"as the log's last", kgo.CompressionCodec{}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fx := newFixture(t, 10)
			c := newCluster(t)
			prod := compressedProducer(t, c)
			rows := produceRows(t, prod)
			// p0: rows 0-1 | aborted {row 2, batch 3..4 with rows at
			// deltas 0 and 5 ("offset 8")}, marker 5 | rows 6-8 | 9-11.
			rows(0, 2)
			produceTxRaw(t, c, 0, tc.codec, []int64{0, 5}, false)
			rows(1, 2)
			// Progress checks far apart: the gap check alone finds it.
			r := startWith(t, c, fx, filepath.Join(t.TempDir(), "m.db"), func(cfg *Config) { cfg.ProgressCheck = time.Hour },
				kgo.FetchMaxWait(100*time.Millisecond), kgo.MetadataMinAge(100*time.Millisecond))
			if tc.last {
				waitRecords(t, 4, r)
				time.Sleep(500 * time.Millisecond)
			}
			rows(0, 3)
			rows(0, 3)
			const want = 2 + 3 + 3 + 2
			waitRecords(t, want, r)
			st := settle(t, r, 500*time.Millisecond)
			if st.Records != want || st.Rows != want || st.BadRecords != 0 {
				t.Errorf("records %d, rows %d, bad %v; want %d rows, none bad", st.Records, st.Rows, st.Bad, want)
			}
			if next, err := r.mon.Offsets(Source("g", testTopic)); err != nil || next[0] != 12 {
				t.Errorf("partition 0's stored offset %d (%v), want 12", next[0], err)
			}
		})
	}
}

// logBuffer is a log's text, written by a consumer's goroutines.
type logBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// logTo makes a consumer log to buf.
func logTo(buf *logBuffer) func(*Config) {
	return func(cfg *Config) { cfg.Logger = slog.New(slog.NewTextHandler(buf, nil)) }
}

// TestPastBatchFoundLateCountedOnce (attack run 17 F4): a batch holding a
// record past its end, found after the poll that read it was stored (its
// gap was left unchecked past the walk's bound): the record the client
// read from it at "offset 15" was counted as a row then, and the batch
// bad_batch again. It is counted once, and the loss of the rows behind it
// is logged saying the record was stored.
func TestPastBatchFoundLateCountedOnce(t *testing.T) {
	defer func(n int) { maxGapFetches = n }(maxGapFetches)
	maxGapFetches = 1 // each 1 MiB fetch holds two of the 500 kB aborted records
	fx := newFixture(t, 10)
	c := newCluster(t)
	rows := produceRows(t, compressedProducer(t, c))
	rows(0, 2)
	abortLarge(t, c, 7)                         // offsets 2..8, the marker at 9
	produceRaw(t, c, 0, 0, 1, rawRecord(5, 99)) // offset 10, its record at "15"
	rows(0, 6)                                  // 11..16: the client reads "15" and 16 only
	var logs logBuffer
	r := startWith(t, c, fx, filepath.Join(t.TempDir(), "m.db"), logTo(&logs))
	waitRecords(t, 4, r)
	waitFor(t, 20*time.Second, func() bool { return strings.Contains(logs.String(), "those records are lost") },
		func() string { return "the loss was not logged within 20 s; log:\n" + logs.String() })
	st := settle(t, r, 300*time.Millisecond)
	if st.Records != 4 || st.Rows != 4 || st.BadRecords != 0 {
		t.Errorf("records %d, rows %d, bad %v; want 4 rows (the batch's record among them), none bad", st.Records, st.Rows, st.Bad)
	}
	if l := logs.String(); !strings.Contains(l, "offsets=11..15") || !strings.Contains(l, "counted as rows") {
		t.Errorf("the loss log does not name offsets 11..15 and the record stored:\n%s", l)
	}
}

// recreate deletes the test topic and creates it again with n
// partitions.
func recreate(t *testing.T, c *kfake.Cluster, n int32) {
	t.Helper()
	if err := c.DeleteTopic(testTopic); err != nil {
		t.Fatal(err)
	}
	if n > 0 {
		if err := c.CreateTopic(testTopic, n, nil); err != nil {
			t.Fatal(err)
		}
	}
}

// TestRecreatedWhileStoppedReadFromStart (attack run 17 F3): the topic
// deleted and created again while serve was stopped: the positions
// stored for the old topic were applied to the new one, whose records
// below them were passed over without a word (p0), or said to "have been
// counted" (p1). The topic's ID is kept with the positions: the new
// topic is read from its start, every record once, and the recreation is
// logged and a /healthz problem.
func TestRecreatedWhileStoppedReadFromStart(t *testing.T) {
	t.Parallel() // a cluster and a state of its own
	fx := newFixture(t, 10)
	c := newCluster(t)
	prod := compressedProducer(t, c)
	rows := produceRows(t, prod)
	rows(0, 5)
	rows(1, 2)
	state := filepath.Join(t.TempDir(), "m.db")
	r := startWith(t, c, fx, state, nil)
	waitRecords(t, 7, r)
	settle(t, r, 300*time.Millisecond)
	r.close(t)

	recreate(t, c, partitions)
	prod.PurgeTopicsFromClient(testTopic)
	rows(0, 8)
	rows(1, 1)
	var logs logBuffer
	r = startWith(t, c, fx, state, logTo(&logs))
	waitRecords(t, 9, r)
	st := settle(t, r, 500*time.Millisecond)
	if st.Records != 9 || st.Rows != 9 {
		t.Errorf("records %d, rows %d; want the new topic's 9 rows", st.Records, st.Rows)
	}
	if p := st.Problem(); !strings.Contains(p, "deleted and created again") || !strings.Contains(p, "read from its start") {
		t.Errorf("problem %q; want the recreation named", p)
	}
	if l := logs.String(); !strings.Contains(l, "deleted and created again") || strings.Contains(l, "not counted again") {
		t.Errorf("log:\n%s\nwant the recreation logged, no record said counted", l)
	}
	next, err := r.mon.Offsets(Source("g", testTopic))
	if err != nil || next[0] != 8 || next[1] != 1 {
		t.Errorf("stored positions %v (%v); want p0 8, p1 1", next, err)
	}
	r.close(t)
	// Restarted, the new topic's ID is the state's: nothing read again,
	// no problem.
	r = startWith(t, c, fx, state, nil)
	rows(0, 2)
	waitRecords(t, 2, r)
	if st := settle(t, r, 500*time.Millisecond); st.Records != 2 || st.Problem() != "" {
		t.Errorf("after a restart: records %d, problem %q; want 2, none", st.Records, st.Problem())
	}
}

// TestStateWithoutTopicIDAdopts: a state written before topic IDs were
// kept resumes from its positions (the ID is adopted and stored); a
// partition whose log ends below its position is a problem naming it
// (attack run 17 F3: the problem cleared once the log reached the
// position, and the new topic's records below it were lost unreported).
func TestStateWithoutTopicIDAdopts(t *testing.T) {
	t.Parallel() // a cluster and a state of its own
	fx := newFixture(t, 10)
	c := newCluster(t)
	rows := produceRows(t, compressedProducer(t, c))
	rows(0, 5)
	state := stateAt(t, monitor.Offset{Source: Source("g", testTopic), Partition: 0, Next: 3}, monitor.Offset{Source: Source("g", testTopic), Partition: 1, Next: 4})
	r := startWith(t, c, fx, state, nil, kgo.FetchMaxWait(100*time.Millisecond))
	waitRecords(t, 2, r)
	// Partition 1's log ends below its position 4 and no ID tells whether
	// the topic is the one it was read from: a problem, until restarted.
	// Partition 0's position has no commit of the group beside it (as
	// when the topic was recreated): a problem too (attack run 19 F5).
	st := settle(t, r, 500*time.Millisecond)
	if st.Records != 2 || len(st.Behind) != 2 || !strings.Contains(st.Problem(), "partition 1: its log ends at 0, below the position 4") ||
		!strings.Contains(st.Behind[0], "no committed offset") {
		t.Errorf("records %d, problem %q; want offsets 3 and 4 only, partition 1 named", st.Records, st.Problem())
	}
	rows(1, 6)
	waitRecords(t, 4, r)
	if st := settle(t, r, 500*time.Millisecond); st.Records != 4 || len(st.Behind) != 2 {
		t.Errorf("records %d, behind %v; want partition 1's offsets 4 and 5, the problem kept", st.Records, st.Behind)
	}
	id, err := r.cons.storedID()
	if err != nil || id != topicID(c.TopicInfo(testTopic).TopicID) {
		t.Errorf("stored topic ID %s (%v), want %x", id, err, c.TopicInfo(testTopic).TopicID)
	}
}

// TestRecreatedWhileRunning (attack run 17 F2): the topic deleted, then
// created again, while serve runs: the client failed it with
// UNKNOWN_TOPIC_ID for ever, every error was logged (9,000 lines a
// second), a core spun, /healthz said ok. The missing topic is a problem
// naming it, errors are logged rate-limited, and the recreated topic is
// re-added and read from its start.
func TestRecreatedWhileRunning(t *testing.T) {
	t.Parallel() // a cluster and a state of its own
	rt := startReadingTopic(t)
	r := rt.r

	recreate(t, rt.c, 0)
	waitFor(t, 20*time.Second, func() bool { return strings.Contains(r.cons.Stats().Problem(), "does not exist") },
		func() string {
			return fmt.Sprintf("no problem within 20 s for the deleted topic: %q", r.cons.Stats().Problem())
		})
	// The client's errors come at every poll once its retries are spent.
	waitFor(t, 20*time.Second, func() bool { return strings.Contains(rt.logs.String(), "fetch error") },
		func() string { return "no fetch error logged within 20 s" })
	time.Sleep(2 * time.Second)
	if n := strings.Count(rt.logs.String(), "fetch error"); n > 2*partitions {
		t.Errorf("%d fetch error lines in about two seconds; want at most one per partition and kind", n)
	}

	if err := rt.c.CreateTopic(testTopic, partitions, nil); err != nil {
		t.Fatal(err)
	}
	st := rt.readNewTopic(t, 60*time.Second)
	if p := st.Problem(); strings.Contains(p, "does not exist") || !strings.Contains(p, "deleted and created again") {
		t.Errorf("problem %q; want the recreation named, the topic no longer missing", p)
	}
	rt.rows(0, 2)
	waitRecords(t, 13, r)
	if st := settle(t, r, 300*time.Millisecond); st.Records != 13 {
		t.Errorf("records %d after 2 more rows, want 13", st.Records)
	}
}

// TestLastBatchUndecodableNoSpin (attack run 17 F5): a batch whose record
// does not decode as its partition's last: the client drops it and
// fetches it again at once, spinning most of a core, until the second
// progress check (20 s) counted it. A poll that brings nothing checks the
// partitions at once: it is counted within a poll's wait, with progress
// checks an hour apart.
func TestLastBatchUndecodableNoSpin(t *testing.T) {
	t.Parallel() // a cluster and a state of its own
	fx := newFixture(t, 10)
	c := newCluster(t)
	produceRows(t, compressedProducer(t, c))(0, 2)
	// Attributes, timestamp and offset deltas 0, a key length of 50 with
	// no bytes.
	produceRaw(t, c, 0, 0, 1, []byte{0x08, 0x00, 0x00, 0x00, 0x64})
	start := time.Now()
	r := startWith(t, c, fx, filepath.Join(t.TempDir(), "m.db"), func(cfg *Config) { cfg.ProgressCheck = time.Hour })
	deadline := start.Add(8 * time.Second)
	for r.cons.Stats().Bad[ReasonBadBatch] == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the undecodable last batch was not counted within 8 s: %+v", r.cons.Stats())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if st := settle(t, r, 300*time.Millisecond); st.Records != 3 || st.Rows != 2 || st.Bad[ReasonBadBatch] != 1 || st.Problem() != "" {
		t.Errorf("records %d, rows %d, bad %v, problem %q; want 2 rows and 1 bad_batch", st.Records, st.Rows, st.Bad, st.Problem())
	}
}

// produceRows returns a function producing n padded rows to partition p
// through prod, failing the test on an error.
func produceRows(t *testing.T, prod *kgo.Client) func(p int32, n int) {
	return func(p int32, n int) {
		t.Helper()
		if err := prod.ProduceSync(context.Background(), paddedRows(p, n, 100)...).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
}

// openState opens the monitor state at path as the consumers of these
// tests do.
func openState(t *testing.T, path string) *monitor.Monitor {
	t.Helper()
	mon, err := monitor.Open(path, monitor.Options{Window: 1000 * time.Hour, EvalInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	return mon
}

// stateAt returns the path of a new state holding the positions offs.
func stateAt(t *testing.T, offs ...monitor.Offset) string {
	t.Helper()
	state := filepath.Join(t.TempDir(), "m.db")
	mon := openState(t, state)
	if _, err := mon.ObserveAt(context.Background(), nil, offs); err != nil {
		t.Fatal(err)
	}
	if err := mon.Close(); err != nil {
		t.Fatal(err)
	}
	return state
}

// waitFor polls cond every 20 ms until it holds, failing the test with
// what() when it does not within d.
func waitFor(t *testing.T, d time.Duration, cond func() bool, what func() string) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal(what())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// txnClient is a transactional producer to the test topic, partition by
// partition, closed when the test ends.
func txnClient(t *testing.T, c *kfake.Cluster, id string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(c.ListenAddrs()...), kgo.DefaultProduceTopic(testTopic),
		kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.TransactionalID(id)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// abortLarge writes n records of 500 kB, which no codec shrinks, to
// partition 0 in a transaction it aborts: n offsets and the marker's.
func abortLarge(t *testing.T, c *kfake.Cluster, n int) {
	t.Helper()
	ctx := context.Background()
	txn := txnClient(t, c, "big")
	if err := txn.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	for range n {
		if err := txn.ProduceSync(ctx, &kgo.Record{Partition: 0, Value: incompressible(500_000)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	if err := txn.EndTransaction(ctx, kgo.TryAbort); err != nil {
		t.Fatal(err)
	}
}

// readingTopic is a consumer that has read 5 rows of partition 0 and 2
// of partition 1, logging to logs, its client's metadata at most a
// second old and its retries 10 ms apart: quick to see the topic
// deleted or recreated.
type readingTopic struct {
	c    *kfake.Cluster
	prod *kgo.Client
	rows func(p int32, n int)
	r    *replica
	logs *logBuffer
}

func startReadingTopic(t *testing.T) *readingTopic {
	t.Helper()
	fx := newFixture(t, 10)
	rt := &readingTopic{c: newCluster(t), logs: &logBuffer{}}
	rt.prod = compressedProducer(t, rt.c)
	rt.rows = produceRows(t, rt.prod)
	rt.rows(0, 5)
	rt.rows(1, 2)
	rt.r = startWith(t, rt.c, fx, filepath.Join(t.TempDir(), "m.db"), logTo(rt.logs),
		kgo.FetchMaxWait(100*time.Millisecond), kgo.MetadataMinAge(100*time.Millisecond), kgo.MetadataMaxAge(time.Second),
		kgo.RetryBackoffFn(func(int) time.Duration { return 10 * time.Millisecond }))
	waitRecords(t, 7, rt.r)
	settle(t, rt.r, 300*time.Millisecond)
	return rt
}

// readNewTopic writes 3 rows to partition 0 and 1 to partition 1 of the
// recreated topic, checks they are read within d after the first 7, once
// each, and returns the stats then.
func (rt *readingTopic) readNewTopic(t *testing.T, d time.Duration) Stats {
	t.Helper()
	rt.prod.PurgeTopicsFromClient(testTopic)
	rt.rows(0, 3)
	rt.rows(1, 1)
	waitRecordsWithin(t, 7+4, d, rt.r)
	st := settle(t, rt.r, 500*time.Millisecond)
	if st.Records != 11 || st.Rows != 11 {
		t.Errorf("records %d, rows %d; want 7 + the new topic's 4", st.Records, st.Rows)
	}
	return st
}
