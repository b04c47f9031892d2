package server

import (
	"context"
	"runtime"
	rtmetrics "runtime/metrics"
	"testing"
	"time"
)

func gcSample(name string) uint64 {
	s := []rtmetrics.Sample{{Name: name}}
	rtmetrics.Read(s)
	return s[0].Value.Uint64()
}

// TestTuneGCHeapGoal: while tuning, the heap goal after a collection is
// max(floor, 2 × live): the floor for a small live heap, and twice the
// live heap once it grows past half the floor (not the floor's multiple
// of it). GOGC is restored when tuning stops.
func TestTuneGCHeapGoal(t *testing.T) {
	t.Setenv("GOGC", "")
	const floor = 256 << 20
	runtime.GC()
	before := gcSample("/gc/gogc:percent")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { tuneGC(ctx, floor); close(done) }()

	goalAfterGC := func() (goal, live uint64) {
		t.Helper()
		runtime.GC()
		time.Sleep(50 * time.Millisecond) // the finalizer goroutine sets GOGC
		return gcSample("/gc/heap/goal:bytes"), gcSample("/gc/heap/live:bytes")
	}
	const tolerance = 0.1
	goal, live := goalAfterGC()
	if live*2 >= floor {
		t.Fatalf("live heap %d at the start, want one well under the floor", live)
	}
	if g := float64(goal); g < floor*(1-tolerance) || g > floor*(1+tolerance) {
		t.Errorf("small heap (%d live): goal %d, want about the floor %d", live, goal, floor)
	}
	big := make([][]byte, 0, 64)
	for i := 0; i < 64; i++ { // 512 MiB live, twice the floor
		big = append(big, make([]byte, 8<<20))
	}
	goal, live = goalAfterGC()
	if live < floor {
		t.Fatalf("live heap %d after allocating 512 MiB", live)
	}
	if g := float64(goal); g > 2*float64(live)*(1+tolerance) {
		t.Errorf("large heap (%d live): goal %d, want about twice the live heap", live, goal)
	}
	runtime.KeepAlive(big)
	big = nil
	cancel()
	<-done
	if got := gcSample("/gc/gogc:percent"); got != before {
		t.Errorf("GOGC after tuning: got %d, want %d restored", got, before)
	}
}
