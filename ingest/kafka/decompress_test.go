package kafka

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"
)

// compressed returns src compressed with codec by franz-go's producer
// side.
func compressed(t *testing.T, codec kgo.CompressionCodec, src []byte) ([]byte, kgo.CompressionCodecType) {
	t.Helper()
	c, err := kgo.DefaultCompressor(codec)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	out, typ := c.Compress(&buf, src)
	if typ == kgo.CodecNone {
		t.Fatalf("%v: not compressed", codec)
	}
	return bytes.Clone(out), typ
}

// xerial frames src as the Java producer's snappy stream does, in blocks
// of block bytes.
func xerial(src []byte, block int) []byte {
	out := append(bytes.Clone(xerialMagic), 0, 0, 0, 1, 0, 0, 0, 1)
	for lo := 0; lo < len(src); lo += block {
		b := s2.EncodeSnappy(nil, src[lo:min(lo+block, len(src))])
		out = binary.BigEndian.AppendUint32(out, uint32(len(b)))
		out = append(out, b...)
	}
	return out
}

// TestDecompressBounds inflates each codec's batches up to the bound and
// refuses one byte more, damaged ones and ones inflating to nothing: the
// client reports them for the partition and the consumer skips them.
func TestDecompressBounds(t *testing.T) {
	const max = 100_000
	fits := bytes.Repeat([]byte("0123456789"), max/10)
	over := make([]byte, max+1)
	type input struct {
		name string
		src  []byte
		typ  kgo.CompressionCodecType
	}
	var ins []input
	for _, codec := range []kgo.CompressionCodec{kgo.GzipCompression(), kgo.SnappyCompression(), kgo.Lz4Compression(), kgo.ZstdCompression()} {
		name := fmt.Sprint(codec)
		src, typ := compressed(t, codec, fits)
		ins = append(ins, input{name + " fits", src, typ})
		src, typ = compressed(t, codec, over)
		ins = append(ins, input{name + " over", src, typ})
		damaged := bytes.Clone(src)
		for i := len(damaged) / 2; i < len(damaged); i++ {
			damaged[i] ^= 0x5a
		}
		ins = append(ins, input{name + " damaged", damaged, typ})
	}
	ins = append(ins,
		input{"xerial fits", xerial(fits, 32<<10), kgo.CodecSnappy},
		input{"xerial over", xerial(over, 32<<10), kgo.CodecSnappy},
		input{"xerial cut", xerial(fits, 32<<10)[:1000], kgo.CodecSnappy},
	)
	// zstd: two frames, each within the bound, together past it.
	enc, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	half := enc.EncodeAll(make([]byte, max/2+1), nil)
	ins = append(ins, input{"zstd two frames over", append(bytes.Clone(half), half...), kgo.CodecZstd},
		input{"zstd of nothing", nil, kgo.CodecZstd},
		input{"xerial of nothing", xerial(nil, 32<<10), kgo.CodecSnappy})

	for _, in := range ins {
		t.Run(in.name, func(t *testing.T) {
			d := newDecompressor(max)
			out, err := d.Decompress(in.src, in.typ)
			if strings.HasSuffix(in.name, " fits") {
				if err != nil || !bytes.Equal(out, fits) {
					t.Fatalf("got %d bytes, err %v; want the %d bytes compressed", len(out), err, len(fits))
				}
				return
			}
			var refused refusedBatch
			if !errors.As(err, &refused) || out != nil {
				t.Fatalf("got %d bytes, err %v; want the batch refused", len(out), err)
			}
		})
	}
}

// TestDecompressBudget refuses batches once those inflated since the last
// poll hold the budget, and takes them again after release.
func TestDecompressBudget(t *testing.T) {
	const max = 10_000
	d := newDecompressor(max)
	src, typ := compressed(t, kgo.ZstdCompression(), make([]byte, 9_000))
	// 2 x max = 20,000: the third batch starts at 18,000, under it.
	for i := range 3 {
		if _, err := d.Decompress(src, typ); err != nil {
			t.Fatalf("batch %d: %v", i, err)
		}
	}
	if _, err := d.Decompress(src, typ); !errors.Is(err, errBudget) {
		t.Fatalf("a batch past the budget: err %v, want errBudget", err)
	}
	if got, err := d.Decompress([]byte("plain"), kgo.CodecNone); err != nil || string(got) != "plain" {
		t.Fatalf("an uncompressed batch: %q, %v", got, err)
	}
	d.release()
	if _, err := d.Decompress(src, typ); err != nil {
		t.Fatalf("after release: %v", err)
	}
}

// compressedProducer produces to the test topic in zstd batches of up to
// 16 MB, partition by partition.
func compressedProducer(t *testing.T, c *kfake.Cluster) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.DefaultProduceTopic(testTopic),
		kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.ProducerBatchCompression(kgo.ZstdCompression()),
		kgo.ProducerBatchMaxBytes(16<<20), kgo.ProducerLinger(200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// paddedRows returns n records for partition p, each a valid row padded
// to about size bytes.
func paddedRows(p int32, n, size int) []*kgo.Record {
	recs := make([]*kgo.Record, n)
	for i := range recs {
		v := fmt.Sprintf(`{"delay": %d, "pad": "%s"}`, i, strings.Repeat("x", size-40))
		recs[i] = &kgo.Record{Partition: p, Value: []byte(v), Headers: []kgo.RecordHeader{{Key: ModelHeader, Value: []byte(testModel)}}}
	}
	return recs
}

// TestCompressedBombSkipped: a zstd batch inflating past --max-body + 1
// MiB, the first batch of a partition the group never read, is skipped
// with its records counted bad_batch, and every record after it and on
// the other partitions is read (attack run 11: ten 95 MB records in a
// 130 KB batch inflated to 1 GB, and serve ran out of memory; bounding
// the batch alone stopped the partition for good). A restart resumes
// past the batch.
func TestCompressedBombSkipped(t *testing.T) {
	fx := newFixture(t, 1400) // with every one of badRecords
	c := newCluster(t)
	prod := compressedProducer(t, c)
	// 400 records of 3 KB, each under testMaxRecord: 1.2 MB in one batch.
	const bomb = 400
	if err := prod.ProduceSync(context.Background(), paddedRows(0, bomb, 3000)...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	sent := produce(t, c, fx)
	state := filepath.Join(t.TempDir(), "m.db")
	r := startReplica(t, c, fx, state)
	waitRecords(t, sent+bomb, r)
	st := r.cons.Stats()
	want := wantBad()
	want[ReasonBadBatch] = bomb
	if fmt.Sprint(st.Bad) != fmt.Sprint(want) || st.Records != int64(sent+bomb) || st.Rows != int64(len(fx.recs)) {
		t.Errorf("records %d, rows %d, bad %v; want %d, %d, %v", st.Records, st.Rows, st.Bad, sent+bomb, len(fx.recs), want)
	}
	if p := st.Problem(); p != "" {
		t.Errorf("problem %q after the batch was skipped", p)
	}
	held, err := r.mon.Offsets(Source("g", testTopic))
	if err != nil {
		t.Fatal(err)
	}
	r.close(t)

	// Restarted on its state: the batch is not read or counted again.
	r = startReplica(t, c, fx, state)
	defer r.close(t)
	if err := prod.ProduceSync(context.Background(), paddedRows(0, 3, 100)...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	waitRecords(t, 3, r)
	time.Sleep(200 * time.Millisecond)
	if st := r.cons.Stats(); st.Records != 3 || st.Rows != 3 || st.BadRecords != 0 {
		t.Errorf("after a restart: records %d, rows %d, bad %v; want the 3 new rows only (state offsets %v)", st.Records, st.Rows, st.Bad, held)
	}
}

// TestCompressedBatchesBudget: many compressed batches, each under the
// bound, together far past the budget, are all read: the batches refused
// for the budget are fetched again after the poll.
func TestCompressedBatchesBudget(t *testing.T) {
	fx := newFixture(t, 10)
	c := newCluster(t)
	prod := compressedProducer(t, c)
	// 3 partitions x 4 batches of 300 records of 3 KB (0.9 MB each,
	// under testMaxRecord + 1 MiB): 10.8 MB, five times the budget.
	total := 0
	for range 4 {
		var recs []*kgo.Record
		for p := range int32(partitions) {
			recs = append(recs, paddedRows(p, 300, 3000)...)
		}
		if err := prod.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
			t.Fatal(err)
		}
		total += len(recs)
	}
	r := startReplica(t, c, fx, filepath.Join(t.TempDir(), "m.db"))
	defer r.close(t)
	waitRecords(t, total, r)
	if st := r.cons.Stats(); st.Records != int64(total) || st.Rows != int64(total) || st.BadRecords != 0 || st.LastError != nil {
		t.Errorf("records %d, rows %d, bad %v, last error %v; want %d rows, none bad", st.Records, st.Rows, st.Bad, st.LastError, total)
	}
}

// TestStalledIsAProblem: a partition the client could not be moved past
// makes /healthz degraded even with every broker up.
func TestStalledIsAProblem(t *testing.T) {
	s := Stats{Brokers: []BrokerState{{Address: "b:9092", Up: true}}, Stalled: map[int32]string{2: "partition 2 stopped at offset 7"}}
	if p := s.Problem(); !strings.Contains(p, "partition 2 stopped at offset 7") {
		t.Fatalf("problem %q does not name the stalled partition", p)
	}
	s.Stalled = nil
	if p := s.Problem(); p != "" {
		t.Fatalf("problem %q with every broker up and nothing stalled", p)
	}
}

// produceRaw writes one record batch made by hand to partition p: n
// records claimed, codec in the attributes, records the given bytes
// (which need not decode), with a valid CRC.
func produceRaw(t *testing.T, c *kfake.Cluster, p int32, codec int16, n int32, records []byte) {
	t.Helper()
	now := time.Now().UnixMilli()
	b := kmsg.RecordBatch{FirstOffset: 0, PartitionLeaderEpoch: -1, Magic: 2, Attributes: codec,
		LastOffsetDelta: n - 1, FirstTimestamp: now, MaxTimestamp: now, ProducerID: -1, ProducerEpoch: -1, FirstSequence: -1,
		NumRecords: n, Records: records}
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.MaxVersions(kversion.V3_5_0()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	sendBatch(t, cl, p, b, nil)
}

// sendBatch writes the batch b to partition p through cl as it is, with
// its length and CRC set, in the transaction txn (nil: none).
func sendBatch(t *testing.T, cl *kgo.Client, p int32, b kmsg.RecordBatch, txn *string) {
	t.Helper()
	enc := b.AppendTo(nil)
	binary.BigEndian.PutUint32(enc[8:], uint32(len(enc)-12))
	binary.BigEndian.PutUint32(enc[17:], crc32.Checksum(enc[21:], crc32.MakeTable(crc32.Castagnoli)))
	req := kmsg.NewPtrProduceRequest()
	req.Acks = -1
	req.TimeoutMillis = 10000
	req.TransactionID = txn
	tp := kmsg.NewProduceRequestTopic()
	tp.Topic = testTopic
	pp := kmsg.NewProduceRequestTopicPartition()
	pp.Partition, pp.Records = p, enc
	tp.Partitions = append(tp.Partitions, pp)
	req.Topics = append(req.Topics, tp)
	resp, err := req.RequestWith(context.Background(), cl)
	if err != nil {
		t.Fatal(err)
	}
	for _, rt := range resp.Topics {
		for _, rp := range rt.Partitions {
			if err := kerr.ErrorForCode(rp.ErrorCode); err != nil {
				t.Fatalf("producing a raw batch: %v", err)
			}
		}
	}
}

// TestUnreadableBatchesSkipped (attack run 12): batches the Kafka client
// cannot read are skipped and their records counted bad_batch, wherever
// they are, and every readable row is counted once:
//   - a zstd bomb as partition 0's first batch, skipped while partition
//     1's bomb, after rows, waited in a fetch the skip discarded (that
//     partition stalled for good, unreported);
//   - a zstd batch of no bytes claiming records (the partition stalled,
//     and the log took 9,000 lines a second);
//   - an uncompressed batch whose records do not decode, between rows in
//     one fetch (the client passed over it without a word);
//   - an uncompressed batch claiming records with no bytes.
func TestUnreadableBatchesSkipped(t *testing.T) {
	fx := newFixture(t, 10)
	c := newCluster(t)
	prod := compressedProducer(t, c)
	produceRows := func(p int32, n int) {
		t.Helper()
		if err := prod.ProduceSync(context.Background(), paddedRows(p, n, 100)...).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	const bomb = 400
	bombOn := func(p int32) {
		t.Helper()
		if err := prod.ProduceSync(context.Background(), paddedRows(p, bomb, 3000)...).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	garbage := bytes.Repeat([]byte{0xde, 0xad, 0xbe, 0xef}, 64)
	bombOn(0)
	produceRaw(t, c, 0, 4, 3, nil) // zstd of nothing
	produceRows(0, 7)
	produceRows(1, 5)
	bombOn(1)
	produceRows(1, 4)
	produceRaw(t, c, 2, 0, 3, garbage)
	produceRows(2, 6)
	produceRaw(t, c, 2, 0, 3, nil)
	produceRows(2, 2)
	const rows, bad = 7 + 5 + 4 + 6 + 2, bomb + 3 + bomb + 3 + 3
	state := filepath.Join(t.TempDir(), "m.db")
	r := startReplica(t, c, fx, state)
	waitRecords(t, rows+bad, r)
	time.Sleep(300 * time.Millisecond) // nothing more may come
	st := r.cons.Stats()
	if st.Records != rows+bad || st.Rows != rows || st.BadRecords != bad || st.Bad[ReasonBadBatch] != bad || st.Problem() != "" {
		t.Errorf("records %d, rows %d, bad %v, problem %q; want %d records, %d rows, %d bad_batch, no problem",
			st.Records, st.Rows, st.Bad, st.Problem(), rows+bad, rows, bad)
	}
	r.close(t)

	// Restarted on its state: nothing is read or counted again.
	r = startReplica(t, c, fx, state)
	defer r.close(t)
	produceRows(1, 2)
	waitRecords(t, 2, r)
	time.Sleep(300 * time.Millisecond)
	if st := r.cons.Stats(); st.Records != 2 || st.Rows != 2 || st.BadRecords != 0 {
		t.Errorf("after a restart: records %d, rows %d, bad %v; want the 2 new rows only", st.Records, st.Rows, st.Bad)
	}
}

// TestDecompressChunks: streamed codecs read in 1 MiB chunks give back
// every byte of a batch spanning several chunks, and refuse one byte past
// the bound across a chunk edge.
func TestDecompressChunks(t *testing.T) {
	src := make([]byte, 2*chunkSize+12345)
	for i := range src {
		src[i] = byte(i * 7 % 251)
	}
	for _, codec := range []kgo.CompressionCodec{kgo.GzipCompression(), kgo.Lz4Compression()} {
		in, typ := compressed(t, codec, src)
		if out, err := newDecompressor(len(src)).Decompress(in, typ); err != nil || !bytes.Equal(out, src) {
			t.Errorf("%v: %d bytes, %v; want the %d bytes back", codec, len(out), err, len(src))
		}
		if out, err := newDecompressor(len(src)-1).Decompress(in, typ); err == nil {
			t.Errorf("%v: %d bytes past a bound one byte short", codec, len(out))
		}
	}
}

// startChecked starts a replica on its own state whose consumer checks
// progress every 100 ms, with extra client options.
func startChecked(t *testing.T, c *kfake.Cluster, fx *fixture, opts ...kgo.Opt) *replica {
	t.Helper()
	return startWith(t, c, fx, filepath.Join(t.TempDir(), "m.db"), nil, opts...)
}

// TestLastBatchUndecodableCounted (attack run 12 F9): a batch that does
// not decode as the last of its partition is counted bad_batch without
// waiting for a later record (the client passed over it unseen).
func TestLastBatchUndecodableCounted(t *testing.T) {
	fx := newFixture(t, 10)
	c := newCluster(t)
	produceRows(t, compressedProducer(t, c))(0, 4)
	produceRaw(t, c, 0, 0, 3, bytes.Repeat([]byte{0xde, 0xad, 0xbe, 0xef}, 64))
	r := startChecked(t, c, fx)
	waitRecords(t, 7, r)
	if st := r.cons.Stats(); st.Records != 7 || st.Rows != 4 || st.Bad[ReasonBadBatch] != 3 || st.Problem() != "" {
		t.Errorf("records %d, rows %d, bad %v, problem %q; want 4 rows and 3 bad_batch", st.Records, st.Rows, st.Bad, st.Problem())
	}
}

// TestRecordPastClientReadIsAProblem (attack run 12 F11): a record larger
// than the client reads stopped its partition for good, unreported. Now
// it is skipped and counted with the rows after it read, or, when even
// its header cannot be fetched, a /healthz problem naming the partition
// and offset.
func TestRecordPastClientReadIsAProblem(t *testing.T) {
	fx := newFixture(t, 10)
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(partitions, testTopic), kfake.GroupMinSessionTimeout(time.Second),
		kfake.BrokerConfigs(map[string]string{"message.max.bytes": "10000000"}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	prod, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.DefaultProduceTopic(testTopic),
		kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.ProducerBatchMaxBytes(8<<20))
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	recs := append(paddedRows(0, 2, 100), &kgo.Record{Partition: 0, Value: make([]byte, 3<<20)})
	recs = append(recs, paddedRows(0, 2, 100)...)
	for _, r := range recs {
		if err := prod.ProduceSync(context.Background(), r).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	r := startChecked(t, c, fx, kgo.FetchMaxBytes(512<<10), kgo.FetchMaxPartitionBytes(512<<10), kgo.BrokerMaxReadBytes(2<<20))
	deadline := time.Now().Add(30 * time.Second)
	for {
		st := r.cons.Stats()
		if p := st.Problem(); strings.Contains(p, "partition 0") && strings.Contains(p, "offset 2") {
			if st.Rows != 2 {
				t.Errorf("rows %d, want the 2 before the record", st.Rows)
			}
			return
		}
		if st.Records == 5 && st.Rows == 4 && st.BadRecords == 1 && st.Problem() == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no problem reported within 30 s: %+v", st)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestMarkAborted: only the transaction the broker lists as aborted is
// passed over; the same producer's next, committed, transaction is read
// (attack run 13: every transactional batch of a producer that once
// aborted was taken for aborted, and the skip moved past committed rows).
func TestMarkAborted(t *testing.T) {
	const txn, ctl = 0x10, 0x30
	hs := []batchHeader{
		{base: 0, last: 1, records: 2, attrs: txn, producer: 7},   // aborted
		{base: 2, last: 2, records: 1, attrs: ctl, producer: 7},   // its abort marker
		{base: 3, last: 3, records: 1, attrs: 0, producer: -1},    // plain
		{base: 4, last: 5, records: 2, attrs: txn, producer: 7},   // committed
		{base: 6, last: 6, records: 1, attrs: ctl, producer: 7},   // its commit marker
		{base: 7, last: 7, records: 1, attrs: txn, producer: 9},   // another producer's, aborted
		{base: 8, last: 8, records: 1, attrs: txn, producer: 7},   // committed later
		{base: 9, last: 9, records: 1, attrs: ctl, producer: 9},   // abort marker
		{base: 10, last: 10, records: 1, attrs: ctl, producer: 7}, // commit marker
	}
	markAborted(hs, []kmsg.FetchResponseTopicPartitionAbortedTransaction{{ProducerID: 7, FirstOffset: 0}, {ProducerID: 9, FirstOffset: 7}})
	want := []bool{true, false, false, false, false, true, false, false, false}
	for i, h := range hs {
		if h.aborted != want[i] {
			t.Errorf("batch at %d: aborted %v, want %v", h.base, h.aborted, want[i])
		}
	}
}

// TestGarbageInsideTransactionCounted (attack run 13): an undecodable
// one-record batch written by a plain producer while a transaction is
// open on the partition sits one offset after a transactional record;
// that gap, once taken for the transaction's marker unchecked, is
// checked and the batch counted bad_batch.
func TestGarbageInsideTransactionCounted(t *testing.T) {
	fx := newFixture(t, 10)
	c := newCluster(t)
	txn := txnClient(t, c, "t1")
	txRows := produceRows(t, txn)
	if err := txn.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	txRows(0, 1)
	produceRaw(t, c, 0, 0, 1, bytes.Repeat([]byte{0xde, 0xad, 0xbe, 0xef}, 16))
	txRows(0, 1)
	if err := txn.EndTransaction(context.Background(), kgo.TryCommit); err != nil {
		t.Fatal(err)
	}
	produceRows(t, compressedProducer(t, c))(0, 2)
	r := startChecked(t, c, fx)
	waitRecords(t, 5, r)
	time.Sleep(300 * time.Millisecond)
	if st := r.cons.Stats(); st.Records != 5 || st.Rows != 4 || st.Bad[ReasonBadBatch] != 1 {
		t.Errorf("records %d, rows %d, bad %v; want 4 rows and 1 bad_batch", st.Records, st.Rows, st.Bad)
	}
}

// TestGapBehindLargeAbortedTransaction (attack run 13 F5): an undecodable
// batch behind more than 1 MiB of an aborted transaction, in one gap, is
// found (the check read 1 MiB from the gap's start), and the aborted
// records are not counted bad.
func TestGapBehindLargeAbortedTransaction(t *testing.T) {
	fx := newFixture(t, 10)
	c := newCluster(t)
	prod := compressedProducer(t, c)
	rows := produceRows(t, prod)
	rows(0, 2)
	abortLarge(t, c, 3)
	produceRaw(t, c, 0, 0, 2, bytes.Repeat([]byte{0xde, 0xad, 0xbe, 0xef}, 16))
	rows(0, 3)
	r := startChecked(t, c, fx)
	waitRecords(t, 7, r)
	time.Sleep(300 * time.Millisecond)
	if st := r.cons.Stats(); st.Records != 7 || st.Rows != 5 || st.Bad[ReasonBadBatch] != 2 || st.BadRecords != 2 {
		t.Errorf("records %d, rows %d, bad %v; want 5 rows and 2 bad_batch", st.Records, st.Rows, st.Bad)
	}
}

// TestGapLeftUncheckedIsCheckedNextPoll: what the gap walk of a poll
// leaves unchecked (past maxGapFetches) was logged and never checked, so
// an undecodable batch behind a long aborted transaction went uncounted.
// It is kept and checked the next poll, with no new record needed.
func TestGapLeftUncheckedIsCheckedNextPoll(t *testing.T) {
	defer func(n int) { maxGapFetches = n }(maxGapFetches)
	maxGapFetches = 1 // each 1 MiB fetch holds two of the 500 kB aborted records
	fx := newFixture(t, 10)
	c := newCluster(t)
	prod := compressedProducer(t, c)
	rows := produceRows(t, prod)
	rows(0, 2)
	abortLarge(t, c, 7)
	produceRaw(t, c, 0, 0, 2, bytes.Repeat([]byte{0xde, 0xad, 0xbe, 0xef}, 16))
	rows(0, 3)
	r := startChecked(t, c, fx)
	waitRecords(t, 7, r)
	time.Sleep(300 * time.Millisecond)
	st := r.cons.Stats()
	if st.Records != 7 || st.Rows != 5 || st.Bad[ReasonBadBatch] != 2 || st.BadRecords != 2 {
		t.Errorf("records %d, rows %d, bad %v; want 5 rows and 2 bad_batch", st.Records, st.Rows, st.Bad)
	}
	if len(st.Unchecked) != 0 || st.Problem() != "" {
		t.Errorf("unchecked %v, problem %q once all is checked", st.Unchecked, st.Problem())
	}
}

// incompressible returns n random bytes, which no codec shrinks: a batch
// holding them is as large in the log as its records.
func incompressible(n int) []byte {
	b := make([]byte, n)
	rand.NewChaCha8([32]byte{1}).Read(b)
	return b
}

// TestSkipBehindLargeAbortedTransaction: a batch the client cannot read
// behind more than 1 MiB of an aborted transaction. The skip read one
// fetch from the consumer's position: it found only aborted batches and
// reported the partition stopped ("no batch holds offset"), and with a
// broker that leaves the aborted list out of an answer cut at the
// request's bound (kfake), it took an aborted batch for the unreadable
// one. It walks past the aborted batches to the batch, skips it, and
// every row after it is read.
func TestSkipBehindLargeAbortedTransaction(t *testing.T) {
	fx := newFixture(t, 10)
	c := newCluster(t)
	prod := compressedProducer(t, c)
	rows := produceRows(t, prod)
	rows(0, 2)
	abortLarge(t, c, 5)
	// 400 records of 3 KB in one zstd batch: it inflates past the bound.
	const bomb = 400
	if err := prod.ProduceSync(context.Background(), paddedRows(0, bomb, 3000)...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	rows(0, 3)
	r := startChecked(t, c, fx)
	waitRecords(t, 2+bomb+3, r)
	time.Sleep(300 * time.Millisecond)
	st := r.cons.Stats()
	if st.Records != 2+bomb+3 || st.Rows != 5 || st.Bad[ReasonBadBatch] != bomb || st.BadRecords != bomb {
		t.Errorf("records %d, rows %d, bad %v; want 5 rows and %d bad_batch", st.Records, st.Rows, st.Bad, bomb)
	}
	if p := st.Problem(); p != "" {
		t.Errorf("problem %q after the batch was skipped", p)
	}
}

// TestAbortedBombPassedUncounted (attack run 14 F1): an aborted
// transaction holding a batch that inflates past the bound. The client
// inflates a batch before it looks whether its transaction was aborted,
// so it fails there at every fetch; the skip passed over the aborted
// batch and its marker as "rightly passed" and counted the next batch,
// three good rows, bad_batch (and with nothing after it, the partition
// was a /healthz problem for good). The aborted batch is passed without
// a count, and every row after it is read.
func TestAbortedBombPassedUncounted(t *testing.T) {
	for _, after := range []int{3, 0} {
		t.Run(fmt.Sprintf("%d rows after", after), func(t *testing.T) {
			fx := newFixture(t, 10)
			c := newCluster(t)
			ctx := context.Background()
			rows := produceRows(t, compressedProducer(t, c))
			rows(0, 2)
			txn := txnClient(t, c, "bomb",
				kgo.ProducerBatchCompression(kgo.ZstdCompression()), kgo.ProducerBatchMaxBytes(16<<20), kgo.ProducerLinger(200*time.Millisecond))
			if err := txn.BeginTransaction(); err != nil {
				t.Fatal(err)
			}
			// 400 records of 3 KB in one zstd batch: it inflates past the bound.
			if err := txn.ProduceSync(ctx, paddedRows(0, 400, 3000)...).FirstErr(); err != nil {
				t.Fatal(err)
			}
			if err := txn.EndTransaction(ctx, kgo.TryAbort); err != nil {
				t.Fatal(err)
			}
			if after > 0 {
				rows(0, after)
			}
			r := startChecked(t, c, fx)
			waitRecords(t, 2+after, r)
			// The skip needs two failures; the progress check two checks.
			time.Sleep(time.Second)
			st := r.cons.Stats()
			if st.Records != int64(2+after) || st.Rows != int64(2+after) || st.BadRecords != 0 {
				t.Errorf("records %d, rows %d, bad %v; want %d rows and nothing bad", st.Records, st.Rows, st.Bad, 2+after)
			}
			if p := st.Problem(); p != "" {
				t.Errorf("problem %q", p)
			}
			// Rows produced later are read: the partition moved past it.
			rows(0, 2)
			waitRecords(t, 4+after, r)
		})
	}
}

// TestRecordFieldsPastItsBytes (attack run 14 F4): a record whose length
// fits but whose fields run past it (a key length of 50 with no key
// bytes) is dropped by the client, which keeps the records before it. The
// check of a batch looked only at the records' lengths, so the batch
// "decoded" and its record was neither a row nor bad: in a gap, zstd
// compressed, after good records of its own batch, and as the
// partition's last batch (where the client fetched it again and again).
func TestRecordFieldsPastItsBytes(t *testing.T) {
	// attributes 0, timestamp delta 0, offset delta 0, key length 50 (zigzag 100), nothing more.
	bad := []byte{0x08, 0x00, 0x00, 0x00, 0x64}
	good := func(i int) []byte {
		v := []byte(fmt.Sprintf(`{"delay": %d}`, i))
		hk, hv := []byte(ModelHeader), []byte(testModel)
		body := []byte{0x00, 0x00}
		body = binary.AppendVarint(body, int64(i)) // offset delta
		body = binary.AppendVarint(body, -1)       // no key
		body = binary.AppendVarint(body, int64(len(v)))
		body = append(body, v...)
		body = binary.AppendVarint(body, 1)
		body = binary.AppendVarint(body, int64(len(hk)))
		body = append(body, hk...)
		body = binary.AppendVarint(body, int64(len(hv)))
		body = append(body, hv...)
		return append(binary.AppendVarint(nil, int64(len(body))), body...)
	}
	zstdOf := func(b []byte) []byte {
		enc, err := zstd.NewWriter(nil)
		if err != nil {
			t.Fatal(err)
		}
		return enc.EncodeAll(b, nil)
	}
	cases := []struct {
		name       string
		codec      int16
		n          int32
		records    []byte
		rows, last bool // good rows after it; it is the partition's last batch
		wantRows   int
	}{
		{name: "in a gap", n: 1, records: bad, rows: true},
		{name: "zstd", codec: 4, n: 1, records: zstdOf(bad), rows: true},
		{name: "after two good records of its batch", n: 3, records: append(append(good(0), good(1)...), bad...), rows: true, wantRows: 2},
		{name: "last", n: 1, records: bad, last: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fx := newFixture(t, 10)
			c := newCluster(t)
			rows := produceRows(t, compressedProducer(t, c))
			rows(0, 2)
			produceRaw(t, c, 0, tc.codec, tc.n, tc.records)
			after := 0
			if tc.rows {
				after = 3
				rows(0, after)
			}
			r := startChecked(t, c, fx)
			want := int64(2 + after + int(tc.n))
			waitRecords(t, int(want), r)
			time.Sleep(300 * time.Millisecond)
			st := r.cons.Stats()
			badN := int64(tc.n) - int64(tc.wantRows)
			if st.Records != want || st.Rows != want-badN || st.Bad[ReasonBadBatch] != badN {
				t.Errorf("records %d, rows %d, bad %v; want %d records, %d of them bad_batch", st.Records, st.Rows, st.Bad, want, badN)
			}
		})
	}
}
