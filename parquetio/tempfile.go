package parquetio

import (
	"fmt"
	"os"
	"sync"

	"github.com/normguard/normguard/internal/tempfile"
)

// tempFile is a temporary file beside its destination path, renamed into
// place on commit, as table's writers do. Unlike them it writes through
// the page cache: O_DIRECT (internal/odirect) made a Parquet transform
// of the benchmark table slower (0.73 -> 0.98 s), its 132 MB waiting on
// the device one request at a time, for little kernel CPU saved.
//
// Each row group written asks for an fsync on a goroutine of its own
// (earlySync), so the disk writes the file while the next row groups are
// encoded: the fsync before the rename of a Parquet transform of the
// benchmark table waited 0.11 s for its 132 MB otherwise.
//
// An existing character device or FIFO, or standard output, is written in
// place (tempfile.CreateOutput) and not synced: an fsync there fails or
// means nothing.
type tempFile struct {
	o    *tempfile.Output
	file *os.File
	path string

	syncReq  chan struct{} // closed by stopSync
	syncDone chan struct{}
	stop     sync.Once
	mu       sync.Mutex
	syncErr  error // the first early fsync's error
}

// createTemp opens the output at path (tempfile.CreateOutput): a
// temporary file in the directory of path (or of its symbolic link's
// target), named so that a later run removes it if this process dies
// before rename or remove (internal/tempfile); or, for a device, FIFO or
// standard output, the destination itself.
func createTemp(path string) (*tempFile, error) {
	o, err := tempfile.CreateOutput(path)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	t := &tempFile{o: o, file: o.File(), path: path, syncReq: make(chan struct{}, 1), syncDone: make(chan struct{})}
	go t.syncLoop()
	return t, nil
}

// earlySync asks for an fsync of what has been written so far, unless one
// is already waiting to run (it covers these bytes too). It does not
// block.
func (t *tempFile) earlySync() {
	if t.o.InPlace() {
		return
	}
	select {
	case t.syncReq <- struct{}{}:
	default:
	}
}

// syncLoop runs the fsyncs earlySync asks for until stopSync. A failed
// one is kept: after a failed fsync Linux may report success to the next
// one on the same file, so the final fsync alone could miss it.
func (t *tempFile) syncLoop() {
	defer close(t.syncDone)
	for range t.syncReq {
		t.mu.Lock()
		failed := t.syncErr != nil
		t.mu.Unlock()
		if failed {
			continue
		}
		if err := t.file.Sync(); err != nil {
			t.mu.Lock()
			t.syncErr = fmt.Errorf("sync: %w", err)
			t.mu.Unlock()
		}
	}
}

// stopSync waits for the early fsync running, if any, and returns the
// first early fsync's error. It must be called after the last
// earlySync; calling it again only returns the error.
func (t *tempFile) stopSync() error {
	t.stop.Do(func() { close(t.syncReq) })
	<-t.syncDone
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.syncErr
}

// rename commits the temporary file over the destination
// (tempfile.Output.Commit), unless an early fsync failed.
func (t *tempFile) rename() error {
	if err := t.stopSync(); err != nil {
		return err
	}
	return t.o.Commit()
}

// remove closes and deletes the temporary file.
func (t *tempFile) remove() error {
	t.stopSync()
	return t.o.Discard()
}

// resize returns s with length n, reusing its array when it is large
// enough (the old contents are kept, not cleared).
func resize[T any](s []T, n int) []T {
	if cap(s) >= n {
		return s[:n]
	}
	return make([]T, n)
}
