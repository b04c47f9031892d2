package server

import (
	"os"
	"runtime"
)

// DefaultHeapFloor is Config.HeapFloor's zero value.
const DefaultHeapFloor = 16 << 20

// The transform path allocates about 6 KB per request (net/http's included)
// for a heap whose live part is a few MB: at the default GOGC=100 the
// collector then runs about 15 times a second at 5,000 requests/s, and
// each cycle's stop-the-world phases and mark assists land on requests in
// flight, the tail of the latency. While serving, the server therefore
// holds a ballast: floor bytes allocated and never touched (so never
// resident), counted in the live heap, which makes the collector's goal
//
//	2 × (live + floor)    at GOGC=100
//
// instead of 2 × live. (Setting GOGC from the live heap instead
// multiplies: a heap that grows between two settings gets a goal many
// times its size.) A GOGC or GOMEMLIMIT set in the environment turns the
// ballast off. Heap metrics (go_memstats_heap_alloc_bytes) include it;
// process_resident_memory_bytes does not.
//
// The floor is not "the larger the better": the garbage of a cycle, about
// floor bytes of small objects, is swept right after the cycle by the
// runtime's background sweeper in one burst of CPU, about 3 ms for 64 MiB
// and 1 ms for 16 MiB on the 2-core machine of bench/load. A thread the
// kernel has queued on that CPU waits for the burst to end even when the
// other CPU is idle: on a machine shared with the clients (bench/load's
// generator), requests due meanwhile go out that much late. With 64 MiB
// (a collection every 2.1 s at 5,000 requests/s) 2.9-5.7 requests over
// 1 ms came around each collection, with 16 MiB (1.7 a second) 0.25-1.4;
// no ballast (15 a second) did worse than either. bench/load/README.md
// has the runs and the traces.

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
