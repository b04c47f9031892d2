package server

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Bounds on the bodies the server reads at once, so that many clients in
// parallel cannot take more memory (or disk) than one knob says:
//
//   - transform and observations bodies share an in-flight byte budget
//     (Config.MaxInflightBodyBytes). A request reserves its Content-Length
//     before its body is read and gives it back when answered; one that
//     does not fit is answered 503 busy with Retry-After, unread. A body
//     sent without a length (chunked) reserves its bytes as they arrive,
//     so a slow client holds only what it has sent; one that runs out of
//     budget mid-way is answered 503 busy too.
//   - artifact uploads are streamed to disk and decoded one at a time; at
//     most Config.MaxUploads are received at once, the others answered 503
//     busy with Retry-After.
//
// A body declared over its limit is answered 413 before it is read.

// DefaultMaxUploads is Config.MaxUploads' zero value.
const DefaultMaxUploads = 4

// UploadTimeout bounds the time an artifact upload may take, from its
// headers to its answer, in place of the server's read and write timeouts.
const UploadTimeout = 15 * time.Minute

// retryAfterSeconds is the Retry-After of a busy answer.
const retryAfterSeconds = 1

// byteBudget is a count of bytes reserved out of a limit.
type byteBudget struct {
	mu    sync.Mutex
	limit int64
	used  int64
}

// acquire reserves n bytes; false when they do not fit.
func (b *byteBudget) acquire(n int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.used+n > b.limit {
		return false
	}
	b.used += n
	return true
}

func (b *byteBudget) release(n int64) {
	b.mu.Lock()
	b.used -= n
	b.mu.Unlock()
}

// inUse returns the bytes reserved.
func (b *byteBudget) inUse() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}

// busy answers 503 with Retry-After and counts the refusal.
func (s *Server) busy(w http.ResponseWriter, what, msg string) {
	s.metrics.busy.WithLabelValues(what).Inc()
	w.Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds))
	writeError(w, http.StatusServiceUnavailable, "busy", msg)
}

// tooLarge answers 413 for a body declared over limit.
func tooLarge(w http.ResponseWriter, n, limit int64) {
	writeError(w, http.StatusRequestEntityTooLarge, "too_large",
		fmt.Sprintf("the request body is %d bytes, over the server's limit of %d bytes: send less per request", n, limit))
}

// budgeted reserves a data request's body in the in-flight budget for the
// time h serves it.
func (s *Server) budgeted(h http.Handler) http.Handler {
	limit := s.cfg.MaxBodyBytes
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := r.ContentLength
		switch {
		case n > limit:
			tooLarge(w, n, limit)
			return
		case n < 0: // not sent (chunked): reserved as it is read
			body := &budgetedBody{r: r.Body, b: &s.bodies, refused: s.metrics.busy.WithLabelValues("body_budget").Inc}
			defer body.release()
			r.Body = body
		case n > 0:
			if !s.bodies.acquire(n) {
				s.busy(w, "body_budget", fmt.Sprintf("the server is reading %d bytes of other requests' bodies and this one (%d bytes) would pass its limit of %d (--max-inflight-body); retry in a second or send smaller requests",
					s.bodies.inUse(), n, s.bodies.limit))
				return
			}
			defer s.bodies.release(n)
		}
		h.ServeHTTP(w, r)
	})
}

// budgetedBody reserves the bytes of a body of unknown length as they are
// read.
type budgetedBody struct {
	r       io.ReadCloser
	b       *byteBudget
	held    int64
	refused func() // counts a refusal
}

func (bb *budgetedBody) Read(p []byte) (int, error) {
	n, err := bb.r.Read(p)
	if n > 0 {
		if !bb.b.acquire(int64(n)) {
			bb.refused()
			return 0, &apiError{http.StatusServiceUnavailable, "busy", fmt.Sprintf(
				"the server is reading %d bytes of request bodies, at its limit of %d (--max-inflight-body); retry in a second or send smaller requests",
				bb.b.inUse(), bb.b.limit)}
		}
		bb.held += int64(n)
	}
	return n, err
}

func (bb *budgetedBody) Close() error { return bb.r.Close() }

// release gives the bytes read back.
func (bb *budgetedBody) release() { bb.b.release(bb.held) }

// uploadSlotted lets at most MaxUploads uploads be received at once.
func (s *Server) uploadSlotted(h http.Handler) http.Handler {
	limit := s.cfg.MaxArtifactBytes
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > limit {
			tooLarge(w, r.ContentLength, limit)
			return
		}
		select {
		case s.uploads <- struct{}{}:
			defer func() { <-s.uploads }()
			// An upload may wait for others' decoding (one at a time)
			// longer than the server's ReadTimeout and WriteTimeout,
			// which would cut its answer: it gets its own deadlines.
			rc := http.NewResponseController(w)
			rc.SetReadDeadline(time.Now().Add(UploadTimeout))
			rc.SetWriteDeadline(time.Now().Add(UploadTimeout))
		default:
			s.busy(w, "uploads", fmt.Sprintf("%d artifact uploads are being received already, the server's limit (--max-uploads); retry in a second", cap(s.uploads)))
			return
		}
		h.ServeHTTP(w, r)
	})
}
