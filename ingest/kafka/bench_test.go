package kafka

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	bolt "go.etcd.io/bbolt"

	"github.com/normguard/normguard/monitor"
)

// BenchmarkConsume measures rows per second read from Kafka into durable
// windows: 6,000 rows of June's flights, or 30,000 of the training months
// (5 input features) on 3 partitions, consumed from the start by a fresh group into a fresh
// state file, fsync per batch included. The broker (kfake) runs in the
// same process and takes its share of the CPUs: run with -cpu 1 for a
// per-core figure that includes it. It also reports the bytes of window
// state per feature after the consumer stops (the checkpoint).
func BenchmarkConsume(b *testing.B) {
	for _, rows := range []int{6000, 30000} {
		b.Run(fmt.Sprintf("rows=%d", rows), func(b *testing.B) { benchConsume(b, rows) })
	}
}

func benchConsume(b *testing.B, rows int) {
	fx := newFixture(b, rows)
	c := newCluster(b)
	sent := produce(b, c, fx)
	good := len(fx.recs)
	var stateBytes int64
	start := time.Now()
	for i := 0; b.Loop(); i++ {
		dir := b.TempDir()
		mon, err := monitor.Open(filepath.Join(dir, "m.db"), monitor.Options{Window: 1000 * time.Hour, EvalInterval: time.Hour})
		if err != nil {
			b.Fatal(err)
		}
		cons, err := New(Config{Brokers: c.ListenAddrs(), Topic: testTopic, Group: fmt.Sprintf("bench-%d", i),
			Registry: fx.reg, Monitor: mon, Opts: []kgo.Opt{kgo.SessionTimeout(3 * time.Second)}})
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- cons.Run(ctx) }()
		for cons.Stats().Records < int64(sent) {
			time.Sleep(time.Millisecond)
		}
		cancel()
		if err := <-done; err != nil {
			b.Fatal(err)
		}
		if err := mon.Close(); err != nil {
			b.Fatal(err)
		}
		if st := cons.Stats(); st.Rows != int64(good) {
			b.Fatalf("observed %d rows, want %d", st.Rows, good)
		}
		b.StopTimer()
		stateBytes = checkpointBytes(b, filepath.Join(dir, "m.db"))
		b.StartTimer()
	}
	elapsed := time.Since(start)
	b.ReportMetric(float64(good*b.N)/elapsed.Seconds(), "rows/s")
	b.ReportMetric(float64(stateBytes)/float64(len(fx.art.Inputs)), "state-bytes/feature")
}

// BenchmarkRowsAdd measures the decoding of one record's JSON row.
func BenchmarkRowsAdd(b *testing.B) {
	fx := newFixture(b, 1000)
	rs := newRows(inputFields(b, fx))
	values := make([][]byte, len(fx.recs))
	for i, rec := range fx.recs {
		values[i] = rowJSON(fx.header, rec)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if err := rs.add(values[i%len(values)], time.Time{}); err != nil {
			b.Fatal(err)
		}
		if i++; rs.n == 10000 {
			rs.reset()
		}
	}
}

// checkpointBytes sums the window checkpoints of a closed state file.
func checkpointBytes(b *testing.B, path string) int64 {
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	var n int64
	err = db.View(func(tx *bolt.Tx) error {
		ck := tx.Bucket([]byte("ckpt"))
		if ck == nil {
			return fmt.Errorf("no checkpoint bucket")
		}
		return ck.ForEachBucket(func(k []byte) error {
			return ck.Bucket(k).ForEach(func(_, v []byte) error {
				n += int64(len(v))
				return nil
			})
		})
	})
	if err != nil {
		b.Fatal(err)
	}
	return n
}
