package registry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"
)

// A server that accepts the connection but never answers (wedged, or a
// wrong port whose program waits for its client to speak), or one that
// sends a byte now and then, hung `normguard list`, `pull` and `push`
// for good (attack run 15). A request to a registry fails once nothing
// moves in either direction for DefaultStall (after an upload the server
// gets longer to answer, as it checks the artifact whole), or when over
// such a period fewer than minRate bytes a second moved.

// DefaultStall is how long a registry request may go without a byte sent
// or received before it fails.
const DefaultStall = 30 * time.Second

// uploadCheckRate is the rate the answer to an upload is waited for at
// least, on top of the stall: a server checks a 1 GiB artifact in about
// 10 s; this allows 50 s more.
const uploadCheckRate = 20 << 20 // bytes per second

// minRate is the rate, in bytes a second over a stall period, below which
// a request fails: a server sending a byte now and then is not serving.
const minRate = 16 << 10

// errStalled is the cause of a request canceled by its watchdog.
var errStalled = errors.New("the server stalled")

// watchdog cancels a request when its deadline passes (every byte sent
// or received moves it on), or when over a stall period fewer than
// minRate bytes a second moved, unless the server is checking an upload.
type watchdog struct {
	stall    time.Duration
	moved    atomic.Int64 // bytes sent and received
	deadline atomic.Int64 // unix nanoseconds
	waiting  atomic.Bool  // an upload is sent whole and its answer not begun
	timer    *time.Timer
	cancel   context.CancelCauseFunc
	stopped  atomic.Bool

	// checked and movedThen are when the rate was last checked and the
	// bytes moved then (used by fire only).
	checked   time.Time
	movedThen int64
}

func newWatchdog(stall time.Duration, cancel context.CancelCauseFunc) *watchdog {
	w := &watchdog{stall: stall, cancel: cancel, checked: time.Now()}
	w.deadline.Store(time.Now().Add(stall).UnixNano())
	w.timer = time.AfterFunc(stall, w.fire)
	return w
}

// touch counts n bytes moved and moves the deadline to a stall from now.
func (w *watchdog) touch(n int) {
	w.moved.Add(int64(n))
	w.deadline.Store(time.Now().Add(w.stall).UnixNano())
}

// sent gives the server a stall and extra to begin its answer.
func (w *watchdog) sent(extra time.Duration) {
	w.waiting.Store(true)
	w.deadline.Store(time.Now().Add(w.stall + extra).UnixNano())
}

// answered ends the wait sent began.
func (w *watchdog) answered() {
	w.waiting.Store(false)
	w.touch(0)
}

func (w *watchdog) fire() {
	if w.stopped.Load() {
		return
	}
	now := time.Now()
	left := time.Unix(0, w.deadline.Load()).Sub(now)
	if left <= 0 {
		w.cancel(fmt.Errorf("%w: nothing sent or received for %v", errStalled, w.stall))
		return
	}
	if since := now.Sub(w.checked); since >= w.stall {
		moved := w.moved.Load()
		if !w.waiting.Load() && float64(moved-w.movedThen) < minRate*since.Seconds() {
			w.cancel(fmt.Errorf("%w: %d bytes sent and received in the last %v, slower than %d bytes a second", errStalled, moved-w.movedThen, since.Round(time.Millisecond), minRate))
			return
		}
		w.checked, w.movedThen = now, moved
	}
	w.timer.Reset(min(left, w.stall))
}

func (w *watchdog) stop() {
	w.stopped.Store(true)
	w.timer.Stop()
}

// sendReader is a request body that moves the watchdog on as it is read;
// once all is sent, the server gets time to check what it received.
type sendReader struct {
	r    io.Reader
	size int
	w    *watchdog
	done bool
}

func (s *sendReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if n > 0 {
		s.w.touch(n)
	}
	if err == io.EOF && !s.done {
		s.done = true
		s.w.sent(time.Duration(int64(s.size) * int64(time.Second) / uploadCheckRate))
	}
	return n, err
}

// watchedBody is a response body that moves the watchdog on as it is
// read, and stops it when closed.
type watchedBody struct {
	rc  io.ReadCloser
	w   *watchdog
	ctx context.Context
	end context.CancelCauseFunc
}

func (b *watchedBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if n > 0 {
		b.w.touch(n)
	}
	if err != nil && err != io.EOF {
		if cause := context.Cause(b.ctx); errors.Is(cause, errStalled) {
			err = cause
		}
	}
	return n, err
}

func (b *watchedBody) Close() error {
	b.w.stop()
	err := b.rc.Close()
	b.end(nil)
	return err
}
