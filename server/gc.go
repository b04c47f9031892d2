package server

import (
	"context"
	"os"
	"runtime"
	"runtime/debug"
	rtmetrics "runtime/metrics"
	"sync"
)

// DefaultHeapFloor is Config.HeapFloor's zero value.
const DefaultHeapFloor = 64 << 20

// The transform path allocates about 10 KB per request for a heap whose
// live part is a few MB: at the default GOGC=100 the collector then runs
// ten times a second at 5,000 requests/s, and each cycle's stop-the-world
// phases and mark assists land on requests in flight, the tail of the
// latency. tuneGC gives the collector a heap goal of
//
//	max(floor, 2 × live heap)
//
// by setting GOGC after every cycle from the live heap that cycle found
// (the runtime's goal is live + (live + stacks + globals) × GOGC/100, at
// least 4 MiB × GOGC/100, so GOGC = (floor - live) / (live + stacks +
// globals) × 100, at most floor / 4 MiB × 100, while that is over 100,
// else 100). A
// small server then collects about once a second at that rate, holding
// up to floor bytes of garbage between cycles; a large one behaves as
// with GOGC=100. A GOGC set in the environment is left alone, and so is a
// target another part of the program set (the registry lowers it while
// it decodes a large upload) until it is put back.
func tuneGC(ctx context.Context, floor int64) {
	if floor <= 0 || os.Getenv("GOGC") != "" {
		return
	}
	t := &gcTuner{floor: floor, current: 100,
		sample: []rtmetrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/gc/gogc:percent"},
			{Name: "/gc/scan/stack:bytes"}, {Name: "/gc/scan/globals:bytes"}}}
	orig := debug.SetGCPercent(100)
	t.set()
	t.arm()
	<-ctx.Done()
	t.mu.Lock()
	t.stopped = true
	if t.owned() {
		debug.SetGCPercent(orig)
	}
	t.mu.Unlock()
}

// minimumHeap is the runtime's smallest heap goal at GOGC=100.
const minimumHeap = 4 << 20

// gcTuner sets GOGC after every collection (see tuneGC).
type gcTuner struct {
	floor   int64
	mu      sync.Mutex
	current int // the GOGC last set
	stopped bool
	sample  []rtmetrics.Sample
}

// gcSentinel is garbage whose finalizer runs after each collection.
type gcSentinel struct{ t *gcTuner }

// arm makes the next collection call afterGC.
func (t *gcTuner) arm() {
	runtime.SetFinalizer(&gcSentinel{t: t}, func(s *gcSentinel) { s.t.afterGC() })
}

func (t *gcTuner) afterGC() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped {
		return
	}
	t.setLocked()
	t.arm()
}

func (t *gcTuner) set() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.setLocked()
}

// owned tells whether GOGC is still the value the tuner set. t.mu is held.
func (t *gcTuner) owned() bool {
	rtmetrics.Read(t.sample)
	return int(t.sample[1].Value.Uint64()) == t.current
}

// setLocked sets GOGC from the live heap of the last cycle. t.mu is held.
func (t *gcTuner) setLocked() {
	if !t.owned() {
		return
	}
	live := int64(t.sample[0].Value.Uint64())
	if live == 0 {
		return // no cycle yet
	}
	// The runtime's goal is live + (live + stacks + globals) × GOGC/100,
	// and at least its minimum heap, 4 MiB × GOGC/100.
	roots := live + int64(t.sample[2].Value.Uint64()) + int64(t.sample[3].Value.Uint64())
	want := 100
	if live+roots < t.floor {
		want = int(min((t.floor-live)*100/roots, t.floor*100/minimumHeap))
	}
	if want != t.current {
		debug.SetGCPercent(want)
		t.current = want
	}
}
