// Package odirect writes a new output file past the page cache (O_DIRECT
// on Linux), on a goroutine of its own.
//
// Writing a transform's 412 MB of CSV into the page cache cost 0.3-0.8 s
// of kernel CPU (copying into freshly allocated cache pages), and the
// fsync before the rename then waited another 0.3 s for the device. With
// O_DIRECT the device reads the text from this package's aligned
// buffers while the caller formats the next rows, the copy into the page
// cache disappears (about 40 ms of CPU for the same bytes), and the
// final fsync has only metadata left to write.
//
// O_DIRECT puts the bytes on the device but not necessarily on stable
// storage: the virtual disk of a cloud machine keeps them in the host's
// cache until a flush, and the fsync before the rename then waited
// 0.2-0.3 s for the whole file's flush, with both cores idle. So every
// SyncEvery bytes the Writer asks for an fsync on a goroutine of its
// own, while the next rows are formatted, and the final fsync has only
// the last stretch left.
//
// Where O_DIRECT is not available (another system, a file system that
// refuses it, such as some tmpfs), the Writer writes through to the file
// as it is. The bytes in the file are the same either way.
package odirect

import (
	"errors"
	"fmt"
	"os"
	"sync"
)

// align is the alignment of buffer addresses, lengths and file offsets
// of direct writes: the largest logical block size in common use.
const align = 4096

// BufferSize is the size of each buffer handed to the device: with
// 4 MiB requests (a virtio disk's usual max_sectors_kb), two requests are
// in flight per write.
const BufferSize = 8 << 20

// SyncEvery is how many bytes are written directly between two early
// fsyncs (see the package comment).
const SyncEvery = 64 << 20

// buffers is how many buffers a Writer owns: one being filled while the
// others are written or wait to be.
const buffers = 3

// Writer writes to a file opened for writing at offset 0 (a new or
// truncated file). It is not safe for concurrent use. Close must be
// called to write the last bytes; until then the file may hold only a
// prefix of what was written.
type Writer struct {
	f      *os.File
	direct bool // O_DIRECT is set on f: buffer, align and write on the goroutine

	// The buffers are cut from mapping, memory mapped outside the Go
	// heap: a streaming transform keeps its heap under a soft limit
	// (160 MiB), and 24 MiB more of heap made the collector run without
	// pause near it. They are unmapped by Close and Abort.
	mapping []byte
	cur     []byte      // the buffer being filled, len = bytes in it
	full    chan []byte // buffers to write, in order
	free    chan []byte // buffers written
	done    chan struct{}

	// Early syncs: writeLoop asks for one after every SyncEvery bytes;
	// syncLoop runs them, one at a time, until syncReq closes.
	sinceSync int
	syncReq   chan struct{}
	syncDone  chan struct{}

	mu     sync.Mutex
	err    error // the first write error
	closed bool
}

// New returns a Writer of f. It turns O_DIRECT on for f when the system
// allows it; otherwise writes go straight to f.
func New(f *os.File) *Writer {
	w := &Writer{f: f}
	region, mapping, err := mapBuffers(buffers * BufferSize)
	if err != nil {
		return w
	}
	if setDirect(f, true) != nil {
		unmap(mapping)
		return w
	}
	w.direct, w.mapping = true, mapping
	w.full = make(chan []byte, buffers)
	w.free = make(chan []byte, buffers)
	w.done = make(chan struct{})
	w.syncReq = make(chan struct{}, 1)
	w.syncDone = make(chan struct{})
	for i := range buffers - 1 {
		w.free <- region[i*BufferSize : (i+1)*BufferSize : (i+1)*BufferSize]
	}
	w.cur = region[(buffers-1)*BufferSize : (buffers-1)*BufferSize : buffers*BufferSize]
	go w.writeLoop()
	go w.syncLoop()
	return w
}

// Direct reports whether the writer writes past the page cache.
func (w *Writer) Direct() bool { return w.direct }

// Write copies p into the writer's buffers; full buffers go to the
// device in order. An error of an earlier write is returned.
func (w *Writer) Write(p []byte) (int, error) {
	if w.closed {
		return 0, errors.New("odirect: write after close")
	}
	if !w.direct {
		return w.f.Write(p)
	}
	if err := w.firstErr(); err != nil {
		return 0, err
	}
	n := 0
	for len(p) > 0 {
		k := copy(w.cur[len(w.cur):cap(w.cur)], p)
		w.cur = w.cur[:len(w.cur)+k]
		p = p[k:]
		n += k
		if len(w.cur) == cap(w.cur) {
			w.full <- w.cur
			w.cur = (<-w.free)[:0]
			if err := w.firstErr(); err != nil {
				return n, err
			}
		}
	}
	return n, nil
}

// writeLoop writes full buffers in order. After an error it only hands
// the buffers back, so that Write never blocks.
func (w *Writer) writeLoop() {
	defer close(w.done)
	defer close(w.syncReq)
	for b := range w.full {
		if w.firstErr() == nil {
			w.setErr(w.writeDirect(b))
			w.sinceSync += len(b)
		}
		w.free <- b
		if w.sinceSync >= SyncEvery {
			w.sinceSync = 0
			select {
			case w.syncReq <- struct{}{}:
			default: // a sync is running or asked for: it covers these bytes too
			}
		}
	}
}

// syncLoop runs the early fsyncs writeLoop asks for. A failed one is the
// writer's error: after a failed fsync Linux may report success to the
// next one on the same file, so the final fsync alone could miss it.
func (w *Writer) syncLoop() {
	defer close(w.syncDone)
	for range w.syncReq {
		if w.firstErr() != nil {
			continue
		}
		if err := w.f.Sync(); err != nil {
			w.setErr(fmt.Errorf("odirect: sync: %w", err))
		}
	}
}

// writeDirect writes an aligned buffer. A file system that accepted the
// O_DIRECT flag but refuses the write (EINVAL) gets it through the page
// cache instead, as do all later writes.
func (w *Writer) writeDirect(b []byte) error {
	n, err := w.f.Write(b)
	if err == nil || !isInvalid(err) {
		return err
	}
	// The file offset is past the n bytes written: write the rest
	// without O_DIRECT.
	if e := setDirect(w.f, false); e != nil {
		return fmt.Errorf("%w (and turning O_DIRECT off: %v)", err, e)
	}
	_, err = w.f.Write(b[n:])
	return err
}

func (w *Writer) firstErr() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

func (w *Writer) setErr(err error) {
	if err == nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err == nil {
		w.err = err
	}
}

// Close writes what is buffered and waits for the writes in flight. The
// last partial buffer goes through the page cache (its length is not a
// multiple of the block size), so O_DIRECT is turned off for it. Close
// does not close or sync the file.
func (w *Writer) Close() error {
	if w.closed {
		return w.firstErr()
	}
	w.closed = true
	if !w.direct {
		return nil
	}
	close(w.full)
	<-w.done
	<-w.syncDone
	defer w.release()
	if err := w.firstErr(); err != nil {
		return err
	}
	if err := setDirect(w.f, false); err != nil {
		return fmt.Errorf("odirect: turning O_DIRECT off for the last bytes: %w", err)
	}
	if len(w.cur) > 0 {
		if _, err := w.f.Write(w.cur); err != nil {
			return err
		}
	}
	return nil
}

// Abort stops the writer without writing what is buffered; the file is
// to be discarded. It waits for the write in flight, if any.
func (w *Writer) Abort() {
	if w.closed {
		return
	}
	w.closed = true
	if w.direct {
		close(w.full)
		<-w.done
		<-w.syncDone
		w.release()
	}
}

// release unmaps the buffers, once no write uses them.
func (w *Writer) release() {
	w.cur = nil
	unmap(w.mapping)
	w.mapping = nil
}
