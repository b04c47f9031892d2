package parquetio

import (
	"sync"

	"github.com/normguard/normguard/internal/hugemap"
)

// hugePage is the size of a transparent huge page.
const hugePage = hugemap.PageSize

// chunkMem hands out the buffers a Writer encodes column chunks into as
// anonymous memory asked to be backed by huge pages (hugemap). On the Go heap they
// were filled 4 KiB page by page: the first two row groups of a Parquet
// transform of the benchmark table touched 66 MB of fresh memory, a
// quarter of the page faults of `fit --transform-out` (12,000 of 51,000),
// and a page fault costs about 12 µs in this virtual machine. A huge page
// is resident whole once touched, so only the whole huge pages of a
// buffer get them, its tail small pages: a buffer is sized for a row
// group of pages that do not compress, which a chunk of doubles nearly
// fills. The zero value is ready to use; release unmaps everything.
type chunkMem struct {
	mu   sync.Mutex
	maps [][]byte
}

// bytes returns a zeroed buffer of length 0 and capacity at least n.
func (m *chunkMem) bytes(n int) []byte {
	huge := n / hugePage * hugePage
	if huge == 0 || !hugemap.Supported {
		return make([]byte, 0, n)
	}
	buf, mapping, err := hugemap.Map((n+4095)&^4095, huge)
	if err != nil {
		return make([]byte, 0, n)
	}
	m.mu.Lock()
	m.maps = append(m.maps, mapping)
	m.mu.Unlock()
	return buf[:0]
}

// release unmaps every buffer bytes returned; nothing may use them
// afterwards.
func (m *chunkMem) release() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, b := range m.maps {
		hugemap.Unmap(b)
	}
	m.maps = nil
}

// discard gives the memory of every buffer back to the system, keeping
// the mappings (which then read as zeros) until release: the Reader
// discards its batch buffers when the input ends, while its last batch
// may still be referenced.
func (m *chunkMem) discard() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, b := range m.maps {
		hugemap.Discard(b)
	}
}
