package monitor

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
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
