package hugepage

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"unsafe"
)

// TestFloatsZeroedAndUsable checks that advised slices of every size
// class are zeroed, of the asked length, and hold what is written.
func TestFloatsZeroedAndUsable(t *testing.T) {
	for _, n := range []int{0, 1, 1000, Size/8 - 1, Size / 8, 3*Size/8 + 5, 5_000_000} {
		xs := Floats(n)
		if len(xs) != n || cap(xs) != n {
			t.Fatalf("Floats(%d) has length %d, capacity %d", n, len(xs), cap(xs))
		}
		if n*8 >= minAdvise && uintptr(unsafe.Pointer(&xs[0]))%Size != 0 {
			t.Fatalf("Floats(%d) starts at %p, not on a huge page boundary", n, &xs[0])
		}
		for i, x := range xs {
			if x != 0 {
				t.Fatalf("Floats(%d)[%d] = %v, want 0", n, i, x)
			}
		}
		for i := range xs {
			xs[i] = float64(i)
		}
		for i, x := range xs {
			if x != float64(i) {
				t.Fatalf("Floats(%d)[%d] = %v after writing %d", n, i, x, i)
			}
		}
	}
	Advise([]string(nil))
	Advise(make([]string, 1<<20))
}

// TestAdviseGivesHugePages checks, where the kernel offers transparent
// huge pages on request, that an advised slice is backed by some: the
// process's AnonHugePages (/proc/self/smaps_rollup) grows by at least
// half of the slice's aligned interior once it is written.
func TestAdviseGivesHugePages(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("huge pages are asked for with madvise on Linux only")
	}
	mode, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled")
	if err != nil || !strings.Contains(string(mode), "[madvise]") && !strings.Contains(string(mode), "[always]") {
		t.Skipf("transparent huge pages are not offered here (%q)", strings.TrimSpace(string(mode)))
	}
	before := anonHugeKB(t)
	xs := Floats(16 * Size / 8) // 32 MiB
	for i := range xs {
		xs[i] = 1
	}
	after := anonHugeKB(t)
	start := uintptr(unsafe.Pointer(&xs[0]))
	interior := ((start + uintptr(len(xs))*8) &^ (Size - 1)) - ((start + Size - 1) &^ (Size - 1))
	if got := (after - before) * 1024; got < int64(interior)/2 {
		t.Skipf("huge pages grew by %d kB for %d bytes advised: none free here (fragmented memory?)", after-before, interior)
	}
	runtime.KeepAlive(xs)
}

func anonHugeKB(t *testing.T) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/smaps_rollup")
	if err != nil {
		t.Skipf("no smaps_rollup: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "AnonHugePages:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			return kb
		}
	}
	t.Skip("no AnonHugePages line")
	return 0
}
