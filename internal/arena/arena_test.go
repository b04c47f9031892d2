package arena

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"unsafe"
)

func TestFloatsZeroedWritableAndFreed(t *testing.T) {
	var a Arena
	xs, err := a.Floats(100_000)
	if err != nil {
		t.Fatal(err)
	}
	if len(xs) != 100_000 || cap(xs) != 100_000 {
		t.Fatalf("len %d cap %d, want 100000", len(xs), cap(xs))
	}
	for i, x := range xs {
		if x != 0 {
			t.Fatalf("xs[%d] = %v, want 0", i, x)
		}
	}
	for i := range xs {
		xs[i] = float64(i)
	}
	if xs[99_999] != 99_999 {
		t.Fatalf("xs[99999] = %v after writing", xs[99_999])
	}
	ys, err := a.Floats(10)
	if err != nil {
		t.Fatal(err)
	}
	wantMapped := 0
	if a.Mapped() > 0 { // Linux: both are mappings, 8 bytes a value rounded up to pages
		wantMapped = a.Mapped()
		if wantMapped < 8*100_010 {
			t.Fatalf("mapped %d bytes, want at least %d", wantMapped, 8*100_010)
		}
	}
	a.Free(xs[:0]) // a reslice from the first value frees the mapping
	if a.Mapped() > 0 && a.Mapped() >= wantMapped {
		t.Fatalf("mapped %d bytes after Free, want less than %d", a.Mapped(), wantMapped)
	}
	a.Free(make([]float64, 5)) // not the arena's: ignored
	a.Free(nil)
	ys[9] = 1
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if a.Mapped() != 0 {
		t.Fatalf("mapped %d bytes after Close, want 0", a.Mapped())
	}
	// The arena can be used again after Close.
	zs, err := a.Floats(3)
	if err != nil || len(zs) != 3 {
		t.Fatalf("Floats after Close: %v, len %d", err, len(zs))
	}
	a.Close()
}

func TestNilArenaAndEmptyRequests(t *testing.T) {
	var a *Arena
	xs, err := a.Floats(7)
	if err != nil || len(xs) != 7 {
		t.Fatalf("nil arena: %v, len %d", err, len(xs))
	}
	a.Free(xs)
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	var b Arena
	if ys, err := b.Floats(0); err != nil || len(ys) != 0 {
		t.Fatalf("Floats(0): %v, len %d", err, len(ys))
	}
	if _, err := b.Floats(-1); err == nil {
		t.Fatal("Floats(-1) gave no error")
	}
	if b.Mapped() != 0 {
		t.Fatalf("mapped %d bytes for empty requests", b.Mapped())
	}
}

func TestConcurrentUse(t *testing.T) {
	var a Arena
	defer a.Close()
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				xs, err := a.Floats(1000 + i)
				if err != nil {
					t.Error(err)
					return
				}
				xs[len(xs)-1] = float64(g)
				if i%2 == 0 {
					a.Free(xs)
				}
			}
		}()
	}
	wg.Wait()
}

// TestStringsHoldInternedValues fills storage from Strings with interned
// values, checks that equal values share one copy, that copies outlive
// the arena, and that Intern refuses values past its bounds.
func TestStringsHoldInternedValues(t *testing.T) {
	var a Arena
	xs, err := a.Strings(1000)
	if err != nil {
		t.Fatal(err)
	}
	for i, x := range xs {
		if x != "" {
			t.Fatalf("xs[%d] = %q, want \"\"", i, x)
		}
	}
	for i := range xs {
		src := fmt.Sprintf("v%d", i%7) // a new heap string every time
		v, ok := Intern(src)
		if !ok || v != src {
			t.Fatalf("Intern(%q) = %q, %v", src, v, ok)
		}
		xs[i] = v
	}
	if unsafe.StringData(xs[0]) != unsafe.StringData(xs[7]) {
		t.Error("equal values interned twice")
	}
	kept := xs[3]
	a.FreeStrings(xs[:0])
	if a.Mapped() != 0 {
		t.Errorf("mapped %d bytes after FreeStrings, want 0", a.Mapped())
	}
	a.Close()
	if kept != "v3" {
		t.Errorf("an interned value reads %q after the arena is closed, want v3", kept)
	}
	if v, ok := Intern(""); !ok || v != "" || !Interned(v) {
		t.Errorf(`Intern("") = %q, %v`, v, ok)
	}
	long := strings.Repeat("x", maxInternLen+1)
	if v, ok := Intern(long); ok || v != long {
		t.Errorf("Intern of a %d-byte value: ok %v, want refused", len(long), ok)
	}
}
