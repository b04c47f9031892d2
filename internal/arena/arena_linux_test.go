//go:build linux

package arena

import (
	"strings"
	"testing"
	"unsafe"
)

// TestLargeStorageStartsOnHugePage checks that storage of at least minHuge
// bytes starts on a huge page boundary (or the kernel could not back it
// with huge pages), that it is usable to its last value, and that Free
// finds its mapping although the storage does not start where the mapping
// does.
func TestLargeStorageStartsOnHugePage(t *testing.T) {
	var a Arena
	defer a.Close()
	n := minHuge/8 + 123
	xs, err := a.Floats(n)
	if err != nil {
		t.Fatal(err)
	}
	if at := uintptr(unsafe.Pointer(&xs[0])); at%hugePage != 0 {
		t.Fatalf("storage of %d bytes starts at %#x, not on a %d-byte boundary", 8*n, at, hugePage)
	}
	xs[n-1] = 7
	if a.Mapped() < 8*n+hugePage {
		t.Fatalf("mapped %d bytes, want the storage and a huge page to align it (%d)", a.Mapped(), 8*n+hugePage)
	}
	a.Free(xs)
	if a.Mapped() != 0 {
		t.Fatalf("mapped %d bytes after Free, want 0", a.Mapped())
	}
	small, err := a.Floats(1000)
	if err != nil {
		t.Fatal(err)
	}
	if a.Mapped() >= hugePage {
		t.Fatalf("small storage mapped %d bytes, want no alignment slack", a.Mapped())
	}
	small[999] = 1
}

// TestInternedOutsideHeap checks that Intern copies a heap string's bytes
// into its store (Interned), while the heap string itself is not there.
func TestInternedOutsideHeap(t *testing.T) {
	src := strings.Clone("a category")
	v, ok := Intern(src)
	if !ok || v != src {
		t.Fatalf("Intern(%q) = %q, %v", src, v, ok)
	}
	if !Interned(v) || Interned(src) {
		t.Errorf("Interned: copy %v, heap source %v; want true, false", Interned(v), Interned(src))
	}
}
