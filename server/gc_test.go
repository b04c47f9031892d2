package server

import (
	"context"
	"runtime"
	rtmetrics "runtime/metrics"
	"testing"
	"time"
)

func gogc() uint64 {
	s := []rtmetrics.Sample{{Name: "/gc/gogc:percent"}}
	rtmetrics.Read(s)
	return s[0].Value.Uint64()
}

// TestTuneGCRaisesTheTargetOfASmallHeap: with a live heap far under the
// floor, the GC target is raised so that the heap goal reaches the floor,
// and it is restored when tuning stops.
func TestTuneGCRaisesTheTargetOfASmallHeap(t *testing.T) {
	t.Setenv("GOGC", "")
	runtime.GC() // the live heap is known after a cycle
	before := gogc()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { tuneGC(ctx, 1<<40); close(done) }()
	deadline := time.Now().Add(5 * time.Second)
	for gogc() <= 100 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if got := gogc(); got <= 1000 {
		t.Errorf("GOGC while tuning with a 1 TiB floor: got %d, want well over 100", got)
	}
	cancel()
	<-done
	if got := gogc(); got != before {
		t.Errorf("GOGC after tuning: got %d, want %d restored", got, before)
	}
}
