package server

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"
)

// registryHealthEvery is how stale /healthz's view of the registry folder
// may be: a check runs at most this often, in the background.
const registryHealthEvery = 10 * time.Second

// registryHealthWait is how long /healthz waits for a check under way
// when it has no earlier result to answer with.
const registryHealthWait = 2 * time.Second

// registryRecheckWait is how long /healthz waits for a check it started
// when it has an earlier result: a check of files already verified is a
// few stats, so the answer is usually today's, not one up to
// registryHealthEvery old (a file found damaged since was reported one
// probe late); a check re-reading files whole answers with the earlier
// result after this, well within a probe's usual 1 s timeout.
const registryRecheckWait = 300 * time.Millisecond

// problemLister is a Store that can list its own damage (registry.Local).
type problemLister interface {
	Problems(ctx context.Context) []string
}

// registryHealth keeps the last registry check /healthz reports. A
// registry folder damaged by hand was found only by the requests reading
// the damaged file (503 registry_damaged) while /healthz said "ok"; the
// check finds it on its own, and verifying artifact files whole (on
// first sight and when they change) runs outside the request, so a
// liveness probe never waits on it longer than registryHealthWait.
type registryHealth struct {
	store problemLister
	log   *slog.Logger
	every time.Duration // registryHealthEvery; tests shorten it

	mu       sync.Mutex
	problems []string
	checked  time.Time     // when the last check finished; zero: none yet
	running  chan struct{} // closed when the check under way ends; nil: none
}

// current returns the problems of the last check, starting a new one when
// that is older than h.every.
func (h *registryHealth) current() []string {
	if h.store == nil {
		return nil
	}
	h.mu.Lock()
	if h.running == nil && time.Since(h.checked) >= h.every {
		done := make(chan struct{})
		h.running = done
		go h.check(done)
	}
	running, first := h.running, h.checked.IsZero()
	h.mu.Unlock()
	if running != nil {
		wait := registryRecheckWait
		if first {
			wait = registryHealthWait
		}
		select {
		case <-running:
		case <-time.After(wait):
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.problems
}

func (h *registryHealth) check(done chan struct{}) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var problems []string
	func() {
		defer func() {
			if v := recover(); v != nil {
				h.log.Error("panic checking the registry", "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
				problems = []string{"the registry check failed; see the server log"}
			}
		}()
		problems = h.store.Problems(ctx)
	}()
	h.mu.Lock()
	h.problems, h.checked, h.running = problems, time.Now(), nil
	h.mu.Unlock()
	close(done)
}
