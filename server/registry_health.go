package server

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
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
	// recheckWait is registryRecheckWait; tests that are about which
	// check answers, not how fast, lengthen it.
	recheckWait time.Duration

	mu       sync.Mutex
	problems []string
	checked  time.Time     // when the last check finished; zero: none yet
	running  chan struct{} // closed when the check under way ends; nil: none
	changes  int           // registry writes seen (changed); a check started before one is stale
}

// changed records a write to the registry (an upload, a new current
// version): the next /healthz checks again rather than answer the last
// check for up to h.every (a push repairing a damaged file was reported
// damaged for 10 s after it: attack run 20).
func (h *registryHealth) changed() {
	h.mu.Lock()
	h.changes++
	if !h.checked.IsZero() {
		h.checked = time.Unix(0, 0)
	}
	h.mu.Unlock()
}

// afterWrites calls h.changed after each request next answers with a 2xx
// status.
func (h *registryHealth) afterWrites(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusSeen{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		if sw.status >= 200 && sw.status < 300 {
			h.changed()
		}
	})
}

// statusSeen remembers the status a handler answered with.
type statusSeen struct {
	http.ResponseWriter
	status int
}

func (w *statusSeen) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusSeen) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the writer underneath.
func (w *statusSeen) Unwrap() http.ResponseWriter { return w.ResponseWriter }

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
		go h.check(done, h.changes)
	}
	running, first, wait := h.running, h.checked.IsZero(), h.recheckWait
	h.mu.Unlock()
	if running != nil {
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

func (h *registryHealth) check(done chan struct{}, changes int) {
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
	if h.changes != changes {
		// The registry was written while it ran: the next probe checks again.
		h.checked = time.Unix(0, 0)
	}
	h.mu.Unlock()
	close(done)
}
