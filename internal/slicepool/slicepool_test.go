package slicepool

import "testing"

// TestPool checks that Get gives a slice of length 0 and at least the
// capacity asked for, whether or not a slice given back is reused.
func TestPool(t *testing.T) {
	var p Pool[float64]
	for _, n := range []int{0, 1, 100, 10, 1000, 5} {
		b := p.Get(n)
		if len(b) != 0 || cap(b) < n {
			t.Fatalf("Get(%d): len %d, cap %d", n, len(b), cap(b))
		}
		b = append(b, make([]float64, n)...)
		p.Put(b)
	}
	p.Put(nil) // nothing to keep
	if b := p.Get(3); len(b) != 0 || cap(b) < 3 {
		t.Fatalf("Get(3): len %d, cap %d", len(b), cap(b))
	}
}
