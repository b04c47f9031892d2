package hugemap

import (
	"testing"
	"unsafe"
)

// TestMap maps a region asking for huge pages and a plain one: each has
// the length asked for, reads as zeros and takes writes; the first
// starts on a huge page boundary.
func TestMap(t *testing.T) {
	if !Supported {
		region, mapping, err := Map(PageSize, PageSize)
		if region != nil || mapping != nil || err != nil {
			t.Fatalf("Map off Linux: %d, %d bytes, %v; want nothing", len(region), len(mapping), err)
		}
		return
	}
	for _, c := range []struct{ n, huge int }{{3*PageSize + 4096, 3 * PageSize}, {12345, 0}} {
		region, mapping, err := Map(c.n, c.huge)
		if err != nil {
			t.Fatal(err)
		}
		if len(region) != c.n || cap(region) != c.n {
			t.Fatalf("Map(%d, %d): %d bytes (capacity %d)", c.n, c.huge, len(region), cap(region))
		}
		if at := uintptr(unsafe.Pointer(&region[0])); c.huge > 0 && at%PageSize != 0 {
			t.Errorf("Map(%d, %d) starts at %#x, not on a huge page boundary", c.n, c.huge, at)
		}
		for i := 0; i < len(region); i += 4096 {
			if region[i] != 0 {
				t.Fatalf("byte %d reads %d, want 0", i, region[i])
			}
			region[i] = 1
		}
		region[len(region)-1] = 7
		Discard(mapping)
		if region[0] != 0 || region[len(region)-1] != 0 {
			t.Errorf("after Discard the region reads %d and %d, want zeros", region[0], region[len(region)-1])
		}
		Unmap(mapping)
	}
}
