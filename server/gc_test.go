package server

import (
	"runtime"
	rtmetrics "runtime/metrics"
	"testing"
)

func gcSample(name string) uint64 {
	s := []rtmetrics.Sample{{Name: name}}
	rtmetrics.Read(s)
	return s[0].Value.Uint64()
}

// TestHeapBallast: the ballast raises the collector's goal by about twice
// its size, and is off when GOGC is set. (That it is not resident holds in
// a fresh process, where its pages come untouched from the system: see
// the server's RSS in bench/load/run.sh.)
func TestHeapBallast(t *testing.T) {
	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	const floor = 256 << 20
	runtime.GC()
	goal0 := gcSample("/gc/heap/goal:bytes")
	b := heapBallast(floor)
	runtime.GC()
	goal1 := gcSample("/gc/heap/goal:bytes")
	keepBallast(b)
	if goal1 < goal0+2*floor*9/10 {
		t.Errorf("heap goal %d -> %d with a %d-byte ballast, want about %d more", goal0, goal1, floor, 2*floor)
	}
	t.Setenv("GOGC", "200")
	if b := heapBallast(floor); b != nil {
		t.Error("a ballast with GOGC set, want none")
	}
}
