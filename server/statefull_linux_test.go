//go:build linux

package server

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/normguard/normguard/monitor"
	"github.com/normguard/normguard/registry"
)

// TestObservationsStateFileFull (attack run 15 F7): once a commit to the
// monitor's state file failed for lack of room, every later /observations
// was a 503 "...; restart the service" even after room came back, the
// transforms' inputs were dropped, and /healthz said "ok". Now the failed
// request is a 500 state_not_saved (as the vector journal answers),
// /healthz is "degraded" naming the state file and the error while it
// lasts, normguard_monitor_state_failing is 1, and once the file can grow
// again the monitor goes on by itself: every row acknowledged before and
// after is counted, in memory and after a restart, and the refused rows
// are not.
//
// The file system is filled portably with RLIMIT_FSIZE (the file may not
// grow: bbolt's commit fails with EFBIG, rolled back as for ENOSPC), in a
// child process, since the limit holds for the whole process.
func TestObservationsStateFileFull(t *testing.T) {
	if ranInFsizeChild(t) {
		return
	}
	s, done := benchServer(t)
	defer done()
	local := s.cfg.Registry.(*registry.Local)
	path := filepath.Join(t.TempDir(), "m.db")
	mon, err := monitor.Open(path, monitor.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s2, err := New(Config{Registry: local, Monitor: mon, Token: "t"})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s2.Handler())
	defer ts.Close()
	obs := ts.URL + "/v1/models/flight-delay/observations"
	health := func() (status string, problems []string) { return healthOf(t, ts) }
	metric := func(name string) float64 { return metricOf(t, ts, name) }
	windowRows := func(m *monitor.Monitor) (rows int64) { // every window: the test may cross an hour
		for _, w := range m.History("flight-delay", monitor.StageInput) {
			rows += w.Rows
		}
		return rows
	}

	acked := 0
	if status, resp := send(t, "POST", obs, "", benchBody(20)); status != http.StatusOK {
		t.Fatalf("first post: %d %s", status, resp)
	}
	acked += 20
	if st, _ := health(); st != "ok" || metric("normguard_monitor_state_failing") != 0 {
		t.Fatalf("/healthz before: %s", st)
	}

	// The file may not grow past its size now: the disk is full.
	room := fillTo(t, path)
	refused := 0
	var refusal []byte
	for i := 0; i < 200 && refused == 0; i++ {
		status, resp := send(t, "POST", obs, "", benchBody(500))
		switch {
		case status == http.StatusOK:
			acked += 500
		case status == http.StatusInternalServerError && errorCode(resp) == "state_not_saved":
			refused, refusal = 500, resp
		default:
			t.Fatalf("post on a full disk: %d %s", status, resp)
		}
	}
	if refused == 0 {
		room()
		t.Fatal("the state file never filled")
	}
	if !strings.Contains(string(refusal), "too large") || strings.Contains(string(refusal), "restart") {
		t.Errorf("refusal: %s, want the error (file too large) and no restart", refusal)
	}
	st, problems := health()
	if st != "degraded" || len(problems) != 1 || !strings.Contains(problems[0], path) || !strings.Contains(problems[0], "too large") {
		t.Errorf("/healthz on a full disk: %s %q, want degraded naming the state file and the error", st, problems)
	}
	if got := metric("normguard_monitor_state_failing"); got != 1 {
		t.Errorf("normguard_monitor_state_failing = %v on a full disk, want 1", got)
	}
	if status, _ := send(t, "POST", obs, "", benchBody(500)); status != http.StatusInternalServerError {
		t.Errorf("second post on a full disk: %d, want 500", status)
	}

	// Room again: no restart, and no request needed for /healthz.
	if err := room(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if st, _ := health(); st == "ok" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/healthz still degraded 10 s after room came back: %q", problems)
		}
	}
	if got := metric("normguard_monitor_state_failing"); got != 0 {
		t.Errorf("normguard_monitor_state_failing = %v after recovery, want 0", got)
	}
	if status, resp := send(t, "POST", obs, "", benchBody(500)); status != http.StatusOK {
		t.Fatalf("post after room came back: %d %s", status, resp)
	}
	acked += 500
	// The transform path feeds the windows again (committed within 200 ms).
	if status, resp := send(t, "POST", ts.URL+"/v1/models/flight-delay/transform", "", benchBody(3)); status != http.StatusOK {
		t.Fatalf("transform: %d %s", status, resp)
	}
	acked += 3
	for deadline := time.Now().Add(5 * time.Second); windowRows(mon) != int64(acked) && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	if got := windowRows(mon); got != int64(acked) {
		t.Errorf("window rows: got %v, want %d (the acknowledged ones; the refused not counted)", got, acked)
	}
	if got := metric("normguard_observations_dropped_total"); got != 0 {
		t.Errorf("normguard_observations_dropped_total = %v, want 0", got)
	}
	ts.Close()
	if err := mon.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	mon2, err := monitor.Open(path, monitor.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer mon2.Close()
	if rows := windowRows(mon2); rows != int64(acked) {
		t.Errorf("rows after a restart: got %d, want %d", rows, acked)
	}
}

// ranInFsizeChild runs the test in a child process of its own and
// reports true, unless this process is that child: a test setting
// RLIMIT_FSIZE runs there, since the limit holds for the whole process.
func ranInFsizeChild(t *testing.T) bool {
	t.Helper()
	if os.Getenv("NORMGUARD_TEST_FSIZE_CHILD") == "1" {
		return false
	}
	cmd := exec.Command(os.Args[0], "-test.run=^"+t.Name()+"$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), "NORMGUARD_TEST_FSIZE_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: "+t.Name()) {
		t.Fatalf("child: %v\n%s", err, out)
	}
	return true
}

// fillTo fills the disk for this process: no file may grow past the size
// path has now (RLIMIT_FSIZE), or the test is skipped where the limit
// cannot be set. It returns the function that gives the room back.
func fillTo(t *testing.T, path string) (room func() error) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
		t.Fatal(err)
	}
	full := old
	full.Cur = uint64(fi.Size())
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &full); err != nil {
		t.Skipf("setrlimit: %v", err)
	}
	return func() error { return syscall.Setrlimit(syscall.RLIMIT_FSIZE, &old) }
}

// healthOf returns the status and the problems /healthz of ts answers.
func healthOf(t *testing.T, ts *httptest.Server) (status string, problems []string) {
	t.Helper()
	_, body := send(t, "GET", ts.URL+"/healthz", "", nil)
	var h struct {
		Status   string   `json:"status"`
		Problems []string `json:"problems"`
	}
	if err := json.Unmarshal(body, &h); err != nil {
		t.Fatalf("/healthz: %v: %s", err, body)
	}
	return h.Status, h.Problems
}

// metricOf returns the value of the metric name (with no labels) in
// /metrics of ts.
func metricOf(t *testing.T, ts *httptest.Server, name string) float64 {
	t.Helper()
	_, body := send(t, "GET", ts.URL+"/metrics", "", nil)
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + ` (\S+)$`).FindSubmatch(body)
	if m == nil {
		t.Fatalf("no %s in /metrics", name)
	}
	v, _ := strconv.ParseFloat(string(m[1]), 64)
	return v
}
