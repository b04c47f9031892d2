// Package slicepool lends slices that are needed for a moment, many times
// over (the buffers of a sort, a profile's sample), instead of leaving
// each one as garbage for the collector to find.
package slicepool

import "sync"

// Pool lends slices of T. The zero value is ready to use.
type Pool[T any] struct {
	p sync.Pool // *[]T
}

// Get returns a slice of length 0 and capacity at least n, with unspecified
// contents past its length.
func (p *Pool[T]) Get(n int) []T {
	if b, ok := p.p.Get().(*[]T); ok && cap(*b) >= n {
		return (*b)[:0]
	}
	return make([]T, 0, n)
}

// Put gives back a slice from Get; the caller must no longer use it.
func (p *Pool[T]) Put(b []T) {
	if cap(b) > 0 {
		p.p.Put(&b)
	}
}
