//go:build !linux

package parquetio

// chunkMem allocates a Writer's chunk buffers on the Go heap outside
// Linux (see chunkmem_linux.go).
type chunkMem struct{}

func (m *chunkMem) bytes(n int) []byte { return make([]byte, 0, n) }

func (m *chunkMem) release() {}

func (m *chunkMem) discard() {}
