package monitor

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"
)

// Alerter sends webhook alerts: a JSON Alert POSTed to URL when a feature
// starts drifting in a window. Network errors, 5xx and 429 answers are
// retried after Backoff, doubling after each attempt, up to MaxAttempts
// attempts; other 4xx answers are not retried. Deliveries run in the
// background and never hold up observations.
type Alerter struct {
	// URL receives the POSTs.
	URL string
	// Client sends them (nil: a client with a 10s timeout).
	Client *http.Client
	// MaxAttempts bounds the attempts per alert (0: 5).
	MaxAttempts int
	// Backoff is the wait before the second attempt (0: 500ms).
	Backoff time.Duration
	// DrainTimeout bounds how long Close waits for deliveries in flight
	// before abandoning them (0: 10s).
	DrainTimeout time.Duration
}

// maxInFlight bounds the alerts being delivered at once; beyond it alerts
// are counted as failed.
const maxInFlight = 256

func (a *Alerter) validate() error {
	u, err := url.Parse(a.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("monitor: alert URL %q: want an http:// or https:// URL", a.URL)
	}
	if a.MaxAttempts < 0 || a.Backoff < 0 || a.DrainTimeout < 0 {
		return fmt.Errorf("monitor: alerter MaxAttempts, Backoff and DrainTimeout must not be negative")
	}
	return nil
}

// sender delivers alerts and counts the outcomes.
type sender struct {
	a      Alerter
	ctx    context.Context
	cancel context.CancelFunc

	mu       sync.Mutex
	closed   bool
	inFlight int
	wg       sync.WaitGroup

	sent, failed atomic.Int64
}

func newSender(a *Alerter) *sender {
	s := &sender{}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	if a == nil {
		s.closed = true // counts stay 0: nothing is sent
		return s
	}
	s.a = *a
	if s.a.Client == nil {
		s.a.Client = &http.Client{Timeout: 10 * time.Second}
	}
	if s.a.MaxAttempts == 0 {
		s.a.MaxAttempts = 5
	}
	if s.a.Backoff == 0 {
		s.a.Backoff = 500 * time.Millisecond
	}
	if s.a.DrainTimeout == 0 {
		s.a.DrainTimeout = 10 * time.Second
	}
	return s
}

// send delivers al in the background.
func (s *sender) send(al Alert) {
	s.mu.Lock()
	if s.closed || s.inFlight >= maxInFlight {
		configured := s.a.URL != ""
		s.mu.Unlock()
		if configured {
			s.failed.Add(1)
		}
		return
	}
	s.inFlight++
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		if s.deliver(al) {
			s.sent.Add(1)
		} else {
			s.failed.Add(1)
		}
		s.mu.Lock()
		s.inFlight--
		s.mu.Unlock()
	}()
}

// deliver POSTs al until it is accepted, refused or out of attempts.
func (s *sender) deliver(al Alert) bool {
	body, err := json.Marshal(al)
	if err != nil {
		return false
	}
	wait := s.a.Backoff
	for attempt := 1; ; attempt++ {
		err := s.post(body)
		if err == nil {
			return true
		}
		if errors.Is(err, errRefused) || attempt >= s.a.MaxAttempts {
			return false
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-s.ctx.Done():
			t.Stop()
			return false
		}
		wait *= 2
	}
}

var errRefused = errors.New("alert refused")

// post makes one attempt: nil when accepted, errRefused when it must not
// be retried, another error when it may be.
func (s *sender) post(body []byte) error {
	req, err := http.NewRequestWithContext(s.ctx, http.MethodPost, s.a.URL, bytes.NewReader(body))
	if err != nil {
		return errRefused
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "normguard")
	resp, err := s.a.Client.Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	switch {
	case resp.StatusCode < 300:
		return nil
	case resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests:
		return fmt.Errorf("alert answered %s", resp.Status)
	default:
		return errRefused
	}
}

// close stops accepting alerts and waits for deliveries in flight, up to
// DrainTimeout, then abandons them.
func (s *sender) close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	t := time.NewTimer(s.a.DrainTimeout)
	select {
	case <-done:
	case <-t.C:
		s.cancel()
		<-done
	}
	t.Stop()
	s.cancel()
}
