package monitor

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
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

	// log receives a line per failed alert, at most one per
	// alertLogEvery with the count since the last (attack run 22: alerts
	// the webhook refused or never received were dropped without a
	// word, only a counter moved).
	log *slog.Logger
	// health is the failures since the last delivery (under mu).
	health alertHealth
}

// alertHealth is what the webhook's failures since the last accepted
// alert were: the first's time, the count, the last's reason, and what
// was logged.
type alertHealth struct {
	since    time.Time
	failures int64
	last     string
	logged   time.Time
	unlogged int64
}

// alertLogEvery bounds the log lines of failed alerts.
const alertLogEvery = 30 * time.Second

func newSender(a *Alerter, log *slog.Logger) *sender {
	s := &sender{log: log}
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
		busy := !s.closed
		s.mu.Unlock()
		if configured {
			s.failed.Add(1)
			if busy {
				s.lost(al, fmt.Errorf("%d alerts are already being delivered (the webhook is slow or down)", maxInFlight))
			}
		}
		return
	}
	s.inFlight++
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		if err := s.deliver(al); err == nil {
			s.sent.Add(1)
			s.delivered()
		} else {
			s.failed.Add(1)
			s.lost(al, err)
		}
		s.mu.Lock()
		s.inFlight--
		s.mu.Unlock()
	}()
}

// deliver POSTs al until it is accepted (nil), refused or out of
// attempts (the last attempt's error).
func (s *sender) deliver(al Alert) error {
	body, err := json.Marshal(al)
	if err != nil {
		return err
	}
	wait := s.a.Backoff
	for attempt := 1; ; attempt++ {
		err := s.post(body)
		if err == nil {
			return nil
		}
		if errors.Is(err, errRefused) {
			return err
		}
		if attempt >= s.a.MaxAttempts {
			return fmt.Errorf("%w (%d attempts)", err, attempt)
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-s.ctx.Done():
			t.Stop()
			return fmt.Errorf("%w (given up at shutdown after %d attempts)", err, attempt)
		}
		wait *= 2
	}
}

// lost records an alert the webhook did not take: counted toward the
// problem /healthz reports until an alert is delivered, and logged, at
// most once per alertLogEvery with the count since the last line.
func (s *sender) lost(al Alert, err error) {
	reason := err.Error()
	s.mu.Lock()
	h := &s.health
	now := time.Now()
	if h.failures == 0 {
		h.since = now
	}
	h.failures++
	h.last = reason
	h.unlogged++
	logNow := now.Sub(h.logged) >= alertLogEvery
	n := h.unlogged
	if logNow {
		h.logged, h.unlogged = now, 0
	}
	s.mu.Unlock()
	if logNow && s.log != nil {
		s.log.Warn("monitor: a drift alert was not delivered to the webhook and is lost; check --webhook's URL, its token and that the receiver is up",
			"webhook", redactedURL(s.a.URL), "model", al.Model, "feature", al.Feature, "error", reason, "lost_since_last_line", n,
			"note", "logged at most every 30s; /healthz names the webhook until an alert is delivered")
	}
}

// delivered clears the failures once an alert is delivered.
func (s *sender) delivered() {
	s.mu.Lock()
	failed := s.health.failures
	s.health = alertHealth{}
	s.mu.Unlock()
	if failed > 0 && s.log != nil {
		s.log.Info("monitor: the webhook takes alerts again", "webhook", redactedURL(s.a.URL), "lost_before", failed)
	}
}

// problem says, while alerts are being lost, which webhook, since when,
// how many and why: "" once an alert is delivered.
func (s *sender) problem() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.health
	if h.failures == 0 {
		return ""
	}
	return fmt.Sprintf("webhook %s: %d drift alert(s) not delivered since %s and lost (counted in normguard_alerts_failed_total); last: %s; "+
		"check --webhook's URL, its token and that the receiver is up (cleared once an alert is delivered)",
		redactedURL(s.a.URL), h.failures, h.since.UTC().Format(time.RFC3339), h.last)
}

// redactedURL is a webhook URL fit for logs: no password, no query (a
// token is often passed there).
func redactedURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	if u.RawQuery != "" {
		u.RawQuery = "..."
	}
	return u.Redacted()
}

var errRefused = errors.New("alert refused")

// post makes one attempt: nil when accepted, errRefused when it must not
// be retried, another error when it may be.
func (s *sender) post(body []byte) error {
	req, err := http.NewRequestWithContext(s.ctx, http.MethodPost, s.a.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%w: %v", errRefused, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "normguard")
	resp, err := s.a.Client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is named beside the error
		}
		return fmt.Errorf("cannot reach the webhook: %w", err)
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	switch {
	case resp.StatusCode < 300:
		return nil
	case resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests:
		return fmt.Errorf("the webhook answered %s", resp.Status)
	default:
		return fmt.Errorf("%w: the webhook answered %s, not retried", errRefused, resp.Status)
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
