package main

import (
	"fmt"
	"os"
	"syscall"
	"time"
	"unsafe"
)

// A pacer wakes the sending loop every interval. Go's timers wake a
// process whose goroutines are all waiting through epoll_wait, whose
// timeout is in whole milliseconds: a sleep of 200 µs (the gap between
// requests at 5,000/s) then lasts about a millisecond, and the requests
// due meanwhile go out late and together, a delay that the latency from
// the due time charged to the server. A Linux timerfd read through the
// same poller wakes it when the timer fires instead, within tens of
// microseconds. The timer is periodic, armed once: each wake costs one
// read, not a timerfd_settime and a read.
type pacer struct {
	f   *os.File
	buf [8]byte
}

func newPacer() (*pacer, error) {
	const clockMonotonic, tfdNonblock, tfdCloexec = 1, syscall.O_NONBLOCK, syscall.O_CLOEXEC
	fd, _, errno := syscall.Syscall(syscall.SYS_TIMERFD_CREATE, clockMonotonic, tfdNonblock|tfdCloexec, 0)
	if errno != 0 {
		return nil, fmt.Errorf("timerfd_create: %w", errno)
	}
	// A non-blocking descriptor is read through the runtime's poller.
	return &pacer{f: os.NewFile(fd, "timerfd")}, nil
}

// start arms the timer to fire at origin + k*interval (k = 1, 2, ...):
// the due times of the requests, not a grid shifted by when it was armed.
// (Armed relative to the moment of the call, the ticks fell a constant
// part of an interval after each due time, up to 200 µs at 5,000/s, which
// every request was charged as sent late.) Go's monotonic clock is
// CLOCK_MONOTONIC, so origin is placed on it from the clock's reading
// now less the time since origin.
func (p *pacer) start(origin time.Time, interval time.Duration) error {
	const clockMonotonic, tfdTimerAbstime = 1, 1
	var now syscall.Timespec
	if _, _, errno := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockMonotonic, uintptr(unsafe.Pointer(&now)), 0); errno != 0 {
		return fmt.Errorf("clock_gettime: %w", errno)
	}
	first := now.Nano() - int64(time.Since(origin)) + int64(interval)
	spec := struct{ interval, value syscall.Timespec }{
		interval: syscall.NsecToTimespec(int64(interval)),
		value:    syscall.NsecToTimespec(first),
	}
	raw, err := p.f.SyscallConn()
	if err != nil {
		return err
	}
	var errno syscall.Errno
	if cerr := raw.Control(func(fd uintptr) {
		_, _, errno = syscall.Syscall6(syscall.SYS_TIMERFD_SETTIME, fd, tfdTimerAbstime, uintptr(unsafe.Pointer(&spec)), 0, 0, 0)
	}); cerr != nil {
		return cerr
	}
	if errno != 0 {
		return fmt.Errorf("timerfd_settime: %w", errno)
	}
	return nil
}

// tick returns once the timer fired since the last tick (at once if it
// fired more than once: the caller sends whatever is due by then).
func (p *pacer) tick() error {
	if _, err := p.f.Read(p.buf[:]); err != nil {
		return fmt.Errorf("reading the timerfd: %w", err)
	}
	return nil
}

func (p *pacer) close() { p.f.Close() }
