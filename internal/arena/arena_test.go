package arena

import (
	"sync"
	"testing"
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
