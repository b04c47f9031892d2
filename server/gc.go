package server

import (
	"context"
	"os"
	"runtime/debug"
	rtmetrics "runtime/metrics"
	"time"
)

// DefaultHeapFloor is Config.HeapFloor's zero value.
const DefaultHeapFloor = 64 << 20

// gcTuneEvery is how often the GC target is adjusted.
const gcTuneEvery = time.Second

// The transform path allocates about 10 KB per request for a heap whose
// live part is a few MB: at the default GOGC=100 the collector then runs
// ten times a second at 5,000 requests/s, and each cycle's stop-the-world
// phases and mark assists land on requests in flight, the tail of the
// latency. tuneGC keeps the heap goal at least floor bytes (GOGC raised
// while the live heap is small, back to 100 once it is over floor/2), so
// a small server collects about once a second at that rate, at the cost
// of up to floor bytes of garbage held between cycles. A GOGC set in the
// environment is left alone, and so is a target another part of the
// program set until it is put back.
func tuneGC(ctx context.Context, floor int64) {
	if floor <= 0 || os.Getenv("GOGC") != "" {
		return
	}
	sample := []rtmetrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/gc/gogc:percent"}}
	orig := debug.SetGCPercent(100)
	defer debug.SetGCPercent(orig)
	current := 100
	set := func() {
		rtmetrics.Read(sample)
		live := int64(sample[0].Value.Uint64())
		if live == 0 {
			return // no cycle yet
		}
		if int(sample[1].Value.Uint64()) != current {
			// Set elsewhere for a while (the registry lowers it while it
			// decodes a large upload, then puts this value back).
			return
		}
		want := 100
		if 2*live < floor {
			want = int((floor - live) * 100 / live)
		}
		// Only a change of more than a fifth is applied: setting the
		// target is cheap but not free.
		if want*5 > current*6 || want*6 < current*5 {
			debug.SetGCPercent(want)
			current = want
		}
	}
	set()
	t := time.NewTicker(gcTuneEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			set()
		}
	}
}
