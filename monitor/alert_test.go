package monitor

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// receiver is a webhook that fails the first `fail` attempts of each alert
// with a 503 and records what it accepts.
type receiver struct {
	mu       sync.Mutex
	fail     int
	attempts map[string]int // by feature and window
	accepted []Alert
	bodies   []map[string]any
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	var a Alert
	var generic map[string]any
	if req.Method != http.MethodPost || req.Header.Get("Content-Type") != "application/json" ||
		json.Unmarshal(body, &a) != nil || json.Unmarshal(body, &generic) != nil {
		http.Error(w, "bad alert", http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	key := a.Feature + "@" + a.WindowStart.String()
	r.attempts[key]++
	if r.attempts[key] <= r.fail {
		http.Error(w, "try later", http.StatusServiceUnavailable)
		return
	}
	r.accepted = append(r.accepted, a)
	r.bodies = append(r.bodies, generic)
}

func TestAlertOncePerFeatureAndWindow(t *testing.T) {
	a := testArtifact(t)
	rec := &receiver{fail: 2, attempts: map[string]int{}}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	c := newClock(t0)
	opt := testOptions(c)
	opt.Alert = &Alerter{URL: srv.URL, Backoff: time.Millisecond}
	m := openTest(t, "", opt)

	// x drifts (1 sd shift); evaluating again, with more drifting rows,
	// does not alert again.
	observe(t, m, "m", a, StageInput, normalRows(21, 1000, trainMean+trainSD), 1000)
	evaluate(t, m)
	observe(t, m, "m", a, StageInput, normalRows(22, 1000, trainMean+trainSD), 1000)
	evaluate(t, m)
	// The window closes (its final verdict drifts too): still no second
	// alert for it. The next window drifts as well: one alert for it.
	c.Set(t0.Add(time.Hour))
	observe(t, m, "m", a, StageInput, normalRows(23, 1000, trainMean+trainSD), 1000)
	evaluate(t, m)
	if err := m.Close(); err != nil { // waits for the deliveries
		t.Fatal(err)
	}

	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.accepted) != 2 {
		t.Fatalf("got %d alerts, want 2 (x in each window): %+v", len(rec.accepted), rec.accepted)
	}
	for key, n := range rec.attempts {
		if n != 3 {
			t.Errorf("%s: got %d attempts, want 3 (two failures, then accepted)", key, n)
		}
	}
	starts := map[int]bool{}
	for i, al := range rec.accepted {
		if al.Model != "m" || al.Stage != StageInput || al.Feature != "x" || al.Method != "auto:ks" || !(float64(al.PValue) < 0.05) {
			t.Errorf("alert %d: got %+v, want model m, stage input, feature x, auto:ks with p < 0.05", i, al)
		}
		if al.WindowEnd.Sub(al.WindowStart) != time.Hour || al.Rows < 1000 {
			t.Errorf("alert %d: window %v-%v rows %d, want an hour and >= 1000 rows", i, al.WindowStart, al.WindowEnd, al.Rows)
		}
		starts[al.WindowStart.Hour()] = true
		for _, k := range []string{"model", "stage", "feature", "window_start", "window_end", "method", "statistic", "p_value", "threshold", "rows"} {
			if _, ok := rec.bodies[i][k]; !ok {
				t.Errorf("alert %d JSON has no %q", i, k)
			}
		}
	}
	if !starts[10] || !starts[11] {
		t.Errorf("alerted windows start at %v, want 10:00 and 11:00", starts)
	}
	if got := m.alerts.sent.Load(); got != 2 {
		t.Errorf("sent: got %d, want 2", got)
	}
	if got := m.alerts.failed.Load(); got != 0 {
		t.Errorf("failed: got %d, want 0", got)
	}
}

func TestAlertGivesUp(t *testing.T) {
	a := testArtifact(t)
	for _, tc := range []struct {
		name     string
		fail     int
		status   int
		attempts int
	}{
		{"5xx until out of attempts", 100, http.StatusServiceUnavailable, 3},
		{"4xx is not retried", 100, http.StatusBadRequest, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			attempts := 0
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				attempts++
				mu.Unlock()
				w.WriteHeader(tc.status)
			}))
			defer srv.Close()
			c := newClock(t0)
			opt := testOptions(c)
			opt.Alert = &Alerter{URL: srv.URL, Backoff: time.Millisecond, MaxAttempts: 3}
			m := openTest(t, "", opt)
			observe(t, m, "m", a, StageInput, normalRows(31, 1000, trainMean+trainSD), 1000)
			evaluate(t, m)
			if err := m.Close(); err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			defer mu.Unlock()
			if attempts != tc.attempts {
				t.Errorf("got %d attempts, want %d", attempts, tc.attempts)
			}
			if got := m.alerts.failed.Load(); got != 1 {
				t.Errorf("failed deliveries: got %d, want 1", got)
			}
		})
	}
}

func TestAlerterValidate(t *testing.T) {
	for _, u := range []string{"", "ftp://x/y", "http://", "not a url"} {
		if _, err := Open(t.TempDir()+"/m.db", Options{Alert: &Alerter{URL: u}}); err == nil {
			t.Errorf("URL %q: got no error, want one", u)
		}
	}
}

// TestAlertLostIsReported (attack run 22 F6): an alert the webhook
// refused (a wrong path: 404) or never received (nothing listening) was
// dropped with only a counter moving: no log line, /healthz ok. Each is
// logged (URL without its query, the status or error) and AlertProblem
// names the webhook until an alert is delivered, which clears it.
func TestAlertLostIsReported(t *testing.T) {
	a := testArtifact(t)
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close() // nothing listens there now
	var mu sync.Mutex
	status := http.StatusNotFound
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		w.WriteHeader(status)
	}))
	defer srv.Close()
	for _, tc := range []struct {
		name, url, want string
	}{
		{"refused", srv.URL + "/hook?token=secret", "the webhook answered 404 Not Found, not retried"},
		{"unreachable", deadURL + "/hook?token=secret", "cannot reach the webhook"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs strings.Builder
			c := newClock(t0)
			opt := testOptions(c)
			opt.Logger = slog.New(slog.NewTextHandler(&syncWriter{w: &logs}, nil))
			opt.Alert = &Alerter{URL: tc.url, Backoff: time.Millisecond, MaxAttempts: 2}
			m := openTest(t, "", opt)
			if p := m.AlertProblem(); p != "" {
				t.Fatalf("before any alert: %q", p)
			}
			observe(t, m, "m", a, StageInput, normalRows(41, 1000, trainMean+trainSD), 1000)
			evaluate(t, m)
			deadline := time.Now().Add(10 * time.Second)
			for m.alerts.failed.Load() == 0 && time.Now().Before(deadline) {
				time.Sleep(5 * time.Millisecond)
			}
			p := m.AlertProblem()
			if !strings.Contains(p, tc.want) || !strings.Contains(p, "1 drift alert(s) not delivered") || strings.Contains(p, "secret") ||
				!strings.Contains(p, "/hook?...") {
				t.Errorf("problem: %q; want the webhook (query hidden), the count and %q", p, tc.want)
			}
			if tc.name == "refused" {
				// The receiver is fixed: the next window's alert is
				// delivered and clears the problem.
				mu.Lock()
				status = http.StatusOK
				mu.Unlock()
				c.Set(t0.Add(time.Hour))
				observe(t, m, "m", a, StageInput, normalRows(42, 1000, trainMean+trainSD), 1000)
				evaluate(t, m)
				for m.alerts.sent.Load() == 0 && time.Now().Before(deadline) {
					time.Sleep(5 * time.Millisecond)
				}
				if p := m.AlertProblem(); p != "" {
					t.Errorf("after a delivered alert: %q; want none", p)
				}
			}
			if err := m.Close(); err != nil {
				t.Fatal(err)
			}
			out := logs.String()
			if !strings.Contains(out, "a drift alert was not delivered") || !strings.Contains(out, "feature=x") || strings.Contains(out, "secret") {
				t.Errorf("log: %q; want a line naming the lost alert, without the token", out)
			}
		})
	}
}

// syncWriter serializes writes to w (the logger writes from delivery
// goroutines).
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(b)
}
