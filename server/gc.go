package server

import (
	"os"
	"runtime"
)

// DefaultHeapFloor is Config.HeapFloor's zero value.
const DefaultHeapFloor = 64 << 20

// The transform path allocates about 10 KB per request for a heap whose
// live part is a few MB: at the default GOGC=100 the collector then runs
// ten times a second at 5,000 requests/s, and each cycle's stop-the-world
// phases and mark assists land on requests in flight, the tail of the
// latency. While serving, the server therefore holds a ballast: floor
// bytes allocated and never touched (so never resident), counted in the
// live heap, which makes the collector's goal
//
//	2 × (live + floor)    at GOGC=100
//
// instead of 2 × live: a small server collects about once a second at that
// rate, holding up to floor more bytes of garbage between cycles, and a
// large one changes by no more than that. (Setting GOGC from the live heap
// instead multiplies: a heap that grows between two settings gets a goal
// many times its size.) A GOGC or GOMEMLIMIT set in the environment turns
// the ballast off. Heap metrics (go_memstats_heap_alloc_bytes) include it;
// process_resident_memory_bytes does not.

// heapBallast returns the ballast for floor bytes (nil when off). Keep it
// reachable while serving.
func heapBallast(floor int64) []byte {
	if floor <= 0 || os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return nil
	}
	return make([]byte, floor)
}

// keepBallast keeps b reachable until it is called.
func keepBallast(b []byte) { runtime.KeepAlive(b) }
