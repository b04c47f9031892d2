package table

import (
	"io"
	"sync/atomic"
)

// Progresser is implemented by readers that can tell how much of their
// source they have consumed, for progress bars. done and total are in
// the reader's unit (bytes for text formats, rows for Parquet); total is 0
// when unknown. Progress is safe to call from another goroutine.
type Progresser interface {
	Progress() (done, total int64)
}

// RowCounter is implemented by readers that know their source's row count
// before reading it (Parquet, from its footer), so a caller can size whole
// columns once instead of growing them.
type RowCounter interface {
	NumRows() int64
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}
