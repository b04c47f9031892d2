package monitor

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/normguard/normguard/table"
)

func benchMonitor(b *testing.B) *Monitor {
	b.Helper()
	m, err := Open(filepath.Join(b.TempDir(), "m.db"), Options{EvalInterval: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { m.Close() })
	return m
}

// finishBench waits until everything queued is committed and applied, and
// reports the batches dropped per operation (the benchmark offers rows far
// faster than a server would: drops show the committer's limit), the time
// per operation including that wait, and the values committed per second.
func finishBench(b *testing.B, m *Monitor, start time.Time, values int) {
	b.Helper()
	if err := m.barrier(context.Background()); err != nil {
		b.Fatal(err)
	}
	elapsed := time.Since(start)
	drops := float64(m.dropped.Load())
	b.ReportMetric(drops/float64(b.N), "drops/op")
	b.ReportMetric(float64(elapsed.Nanoseconds())/float64(b.N), "sustained-ns/op")
	b.ReportMetric((float64(b.N)-drops)*float64(values)/elapsed.Seconds(), "committed-values/s")
}

// BenchmarkObserveAsync1Row is the transform hot path: one request of one
// row, raw inputs (4 features) and transformed outputs (6 features).
func BenchmarkObserveAsync1Row(b *testing.B) {
	a := testArtifact(b)
	m := benchMonitor(b)
	in := normalRows(1, 1, trainMean)
	out := []table.Column{
		{Name: "x", Kind: table.Numeric, Num: []float64{0.3}},
		{Name: "y", Kind: table.Numeric, Num: []float64{0.5}},
		{Name: "c_a", Kind: table.Numeric, Num: []float64{1}},
		{Name: "c_b", Kind: table.Numeric, Num: []float64{0}},
		{Name: "c_c", Kind: table.Numeric, Num: []float64{0}},
		{Name: "d", Kind: table.String, Str: []string{"u"}},
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		if i%2 == 0 {
			m.ObserveAsync("m", a, StageInput, in, 1)
		} else {
			m.ObserveAsync("m", a, StageOutput, out, 1)
		}
	}
	b.StopTimer()
	finishBench(b, m, start, 5) // per batch: 10 values in 2 batches
}

// BenchmarkObserveAsync1000Rows is a transform request of 1,000 rows.
func BenchmarkObserveAsync1000Rows(b *testing.B) {
	a := testArtifact(b)
	m := benchMonitor(b)
	in := normalRows(1, 1000, trainMean)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		m.ObserveAsync("m", a, StageInput, in, 1000)
	}
	b.StopTimer()
	finishBench(b, m, start, 4000)
}

// BenchmarkObserve1000Rows is POST /observations of 1,000 rows: each call
// waits for its fsync'd commit.
func BenchmarkObserve1000Rows(b *testing.B) {
	a := testArtifact(b)
	m := benchMonitor(b)
	in := normalRows(1, 1000, trainMean)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		if err := m.Observe(ctx, "m", a, StageInput, in, 1000); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	finishBench(b, m, start, 4000)
}

// BenchmarkObserve1000RowsParallel is concurrent POST /observations: the
// callers share commits.
func BenchmarkObserve1000RowsParallel(b *testing.B) {
	a := testArtifact(b)
	m := benchMonitor(b)
	in := normalRows(1, 1000, trainMean)
	ctx := context.Background()
	b.ReportAllocs()
	b.SetParallelism(8)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := m.Observe(ctx, "m", a, StageInput, in, 1000); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	finishBench(b, m, start, 4000)
}
