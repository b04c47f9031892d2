package arena

import (
	"sync"
	"unsafe"
)

// Interned values: bytes outside the Go heap, never freed, one copy per
// distinct value in the process.
//
// A string column in Strings' storage must not point into the Go heap
// (the collector does not see that storage), and its values escape the
// column: a fit keeps categories, the profile's most frequent values and
// the value an error names, and all of them may outlive the Arena. So the
// bytes live in a store that is never unmapped. It is bounded: past
// maxInterned bytes, or for a value longer than maxInternLen, Intern
// refuses and the caller keeps the column on the heap. A string column
// worth interning has few distinct values (a category), and equal values
// share one copy in the whole process, so repeated fits on the same data
// add nothing.
const (
	// maxInternLen is the longest value interned (the CSV reader's
	// bound for sharing a value's storage).
	maxInternLen = 256
	// maxInterned bounds the bytes held for interned values in a process.
	maxInterned = 16 << 20
	// internChunk is the size of one mapping of the store.
	internChunk = 64 << 10
)

var interned struct {
	mu     sync.Mutex
	values map[string]string // value -> its copy (key and value are the copy)
	chunk  []byte            // the free tail of the current mapping
	chunks [][]byte          // every mapping, for Interned
	held   int               // bytes mapped
}

// Intern returns a string equal to s whose bytes live outside the Go heap
// and are never freed, the same copy for every equal string interned in
// the process, so that it may be stored in Strings' storage and kept by
// anything afterwards. ok is false when s is longer than maxInternLen or
// the store is full (16 MB); "" is interned as itself. Outside Linux,
// where Strings allocates on the heap, Intern returns s.
func Intern(s string) (v string, ok bool) {
	if s == "" {
		return "", true
	}
	if len(s) > maxInternLen {
		return s, false
	}
	x := &interned
	x.mu.Lock()
	defer x.mu.Unlock()
	if v, ok := x.values[s]; ok {
		return v, true
	}
	if len(s) > len(x.chunk) {
		if x.held+internChunk > maxInterned {
			return s, false
		}
		b, mapping, err := mapZeroed(internChunk)
		if err != nil {
			return s, false
		}
		if b == nil { // no mapping on this system: the heap
			return s, true
		}
		x.held += len(mapping)
		x.chunks = append(x.chunks, b)
		x.chunk = b
	}
	n := copy(x.chunk, s)
	v = unsafe.String(unsafe.SliceData(x.chunk), n)
	x.chunk = x.chunk[n:]
	if x.values == nil {
		x.values = map[string]string{}
	}
	x.values[v] = v
	return v, true
}

// Interned reports whether s is "" or a value Intern returned (its bytes
// in the store outside the Go heap).
func Interned(s string) bool {
	if s == "" {
		return true
	}
	p := uintptr(unsafe.Pointer(unsafe.StringData(s)))
	x := &interned
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, c := range x.chunks {
		at := uintptr(unsafe.Pointer(unsafe.SliceData(c)))
		if p >= at && p+uintptr(len(s)) <= at+uintptr(len(c)) {
			return true
		}
	}
	return false
}
