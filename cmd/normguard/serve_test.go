package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/quickstart"
)

// TestMain lets a test start the real normguard in a child process (the
// test binary itself, with NORMGUARD_TEST_MAIN=1), so server tests can
// kill it with SIGKILL.
func TestMain(m *testing.M) {
	if os.Getenv("NORMGUARD_TEST_MAIN") == "1" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
		stop()
		os.Exit(code)
	}
	os.Exit(m.Run())
}

const testToken = "s3cret-token"

// serverProc is a normguard serve child process.
type serverProc struct {
	t      *testing.T
	cmd    *exec.Cmd
	url    string
	stderr *bytes.Buffer
	done   chan error
}

// startServer runs `normguard serve --registry dir` on a free loopback
// port and waits until it answers.
func startServer(t *testing.T, dir string, args ...string) *serverProc {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"serve", "--registry", dir, "--addr", "127.0.0.1:0"}, args...)...)
	cmd.Env = append(os.Environ(), "NORMGUARD_TEST_MAIN=1", "NORMGUARD_TOKEN="+testToken)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	s := &serverProc{t: t, cmd: cmd, stderr: &bytes.Buffer{}, done: make(chan error, 1)}
	cmd.Stderr = s.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(stdout)
	if !lines.Scan() {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("serve printed nothing; stderr: %s", s.stderr)
	}
	line := lines.Text()
	i := strings.Index(line, "http://")
	if i < 0 {
		cmd.Process.Kill()
		t.Fatalf("serve printed %q, want its address", line)
	}
	s.url = line[i:]
	go io.Copy(io.Discard, stdout)
	go func() { s.done <- cmd.Wait() }()
	t.Cleanup(func() { s.kill() })
	return s
}

// stop shuts the server down gracefully (SIGTERM) and waits for it.
func (s *serverProc) stop() {
	s.t.Helper()
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.done:
		if err != nil {
			s.t.Fatalf("serve exited with %v after SIGTERM; stderr: %s", err, s.stderr)
		}
	case <-time.After(30 * time.Second):
		s.t.Fatal("serve did not stop within 30 s of SIGTERM")
	}
	s.done <- nil
}

// kill ends the server with SIGKILL, as kill -9 does.
func (s *serverProc) kill() {
	if s.cmd.ProcessState == nil {
		s.cmd.Process.Kill()
	}
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
	}
}

// do sends a request and returns the status and body.
func (s *serverProc) do(method, path, token string, body []byte) (int, []byte, http.Header) {
	s.t.Helper()
	req, err := http.NewRequest(method, s.url+path, bytes.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v; stderr: %s", method, path, err, s.stderr)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	return resp.StatusCode, b, resp.Header
}

func (s *serverProc) mustDo(method, path, token string, body []byte, want int) []byte {
	s.t.Helper()
	code, b, _ := s.do(method, path, token, body)
	if code != want {
		s.t.Fatalf("%s %s: got %d %s, want %d", method, path, code, b, want)
	}
	return b
}

// flightsFixture is the quickstart's data and artifact, made once.
var flightsFixture = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "normguard-serve-test")
	if err != nil {
		return "", err
	}
	_, err = quickstart.Run(context.Background(), dir, io.Discard)
	return dir, err
})

func flights(t *testing.T) (dir string, art []byte) {
	t.Helper()
	dir, err := flightsFixture()
	if err != nil {
		t.Fatal(err)
	}
	return dir, readFile(t, filepath.Join(dir, quickstart.Files.Artifact))
}

// csvRows reads a CSV file as a header and records.
func csvRows(t *testing.T, path string) ([]string, [][]string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return recs[0], recs[1:]
}

// rowsJSON turns CSV records into a transform body, numbers as the text
// the CSV holds (so both paths parse the same literal), empty as null.
func rowsJSON(header []string, recs [][]string, shift map[string]float64) []byte {
	var b bytes.Buffer
	b.WriteString(`{"rows":[`)
	for i, rec := range recs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('{')
		for j, name := range header {
			if j > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, "%q:", name)
			v := rec[j]
			x, err := strconv.ParseFloat(v, 64)
			switch {
			case v == "":
				b.WriteString("null")
			case err == nil && shift != nil:
				b.WriteString(strconv.FormatFloat(x+shift[name], 'g', -1, 64))
			case err == nil:
				b.WriteString(v)
			default:
				fmt.Fprintf(&b, "%q", v)
			}
		}
		b.WriteByte('}')
	}
	b.WriteString(`]}`)
	return b.Bytes()
}

type transformResponse struct {
	Columns []string            `json:"columns"`
	Rows    [][]json.RawMessage `json:"rows"`
	Digest  string              `json:"artifact_digest"`
}

func pushFlights(t *testing.T, s *serverProc, version string, art []byte) string {
	t.Helper()
	b := s.mustDo("PUT", "/v1/models/flight-delay/versions/"+version, testToken, art, http.StatusCreated)
	var v struct {
		Digest string `json:"digest"`
	}
	if err := json.Unmarshal(b, &v); err != nil || !strings.HasPrefix(v.Digest, "sha256:") {
		t.Fatalf("upload answered %s, want a version with its digest", b)
	}
	return v.Digest
}

func TestServeUploadNeedsToken(t *testing.T) {
	_, art := flights(t)
	s := startServer(t, t.TempDir())
	for _, token := range []string{"", "wrong", testToken + "x"} {
		code, body, hdr := s.do("PUT", "/v1/models/flight-delay/versions/v1", token, art)
		if code != http.StatusUnauthorized || !strings.Contains(string(body), `"unauthorized"`) {
			t.Errorf("upload with token %q: got %d %s, want 401 with a JSON error", token, code, body)
		}
		if hdr.Get("WWW-Authenticate") == "" {
			t.Errorf("401 without a WWW-Authenticate header")
		}
	}
	s.mustDo("GET", "/v1/models/flight-delay", "", nil, http.StatusNotFound)
	pushFlights(t, s, "v1", art)
	list := s.mustDo("GET", "/v1/models", "", nil, http.StatusOK)
	if !strings.Contains(string(list), `"flight-delay"`) {
		t.Errorf("GET /v1/models = %s, want flights listed", list)
	}
}

// TestServeTransformEqualsCLI sends June's rows one by one and as one
// batch and checks every output value against `normguard transform`, bit
// for bit.
func TestServeTransformEqualsCLI(t *testing.T) {
	dir, art := flights(t)
	a, err := artifact.Decode(art, "flights")
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "june_cli.csv")
	mustRun(t, "transform", "--artifact", filepath.Join(dir, quickstart.Files.Artifact),
		"--in", filepath.Join(dir, quickstart.Files.Later), "--out", out)
	wantHeader, want := csvRows(t, out)
	header, recs := csvRows(t, filepath.Join(dir, quickstart.Files.Later))

	s := startServer(t, t.TempDir())
	pushFlights(t, s, "v1", art)

	check := func(t *testing.T, body []byte, first int, path string) {
		t.Helper()
		code, b, hdr := s.do("POST", path, "", body)
		if code != http.StatusOK {
			t.Fatalf("transform: got %d %s", code, b)
		}
		if got := hdr.Get("Normguard-Artifact-Digest"); got != a.Digest {
			t.Fatalf("digest header %q, want %q", got, a.Digest)
		}
		var r transformResponse
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatal(err)
		}
		if r.Digest != a.Digest || strings.Join(r.Columns, ",") != strings.Join(wantHeader, ",") {
			t.Fatalf("got digest %s columns %v, want %s %v", r.Digest, r.Columns, a.Digest, wantHeader)
		}
		for i, row := range r.Rows {
			for j, raw := range row {
				sameCell(t, first+i, wantHeader[j], raw, want[first+i][j])
			}
		}
	}
	t.Run("single rows", func(t *testing.T) {
		for i := 0; i < 200; i++ {
			check(t, rowsJSON(header, recs[i:i+1], nil), i, "/v1/models/flight-delay/transform")
		}
	})
	t.Run("one batch", func(t *testing.T) {
		check(t, rowsJSON(header, recs, nil), 0, "/v1/models/flight-delay/versions/v1/transform")
	})
}

// sameCell compares a JSON output value with the CLI's CSV cell.
func sameCell(t *testing.T, row int, col string, raw json.RawMessage, cell string) {
	t.Helper()
	if string(raw) == "null" {
		if cell != "" {
			t.Fatalf("row %d %s: got null, want %q", row, col, cell)
		}
		return
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	switch x := v.(type) {
	case string:
		if x != cell {
			t.Fatalf("row %d %s: got %q, want %q", row, col, x, cell)
		}
	case float64:
		w, err := strconv.ParseFloat(cell, 64)
		if err != nil || math.Float64bits(x) != math.Float64bits(w) {
			t.Fatalf("row %d %s: got %v, want %s (bit for bit)", row, col, x, cell)
		}
	}
}

func TestServePicksUpNewVersions(t *testing.T) {
	dir, art := flights(t)
	reg := t.TempDir()
	s := startServer(t, reg)
	d1 := pushFlights(t, s, "v1", art)

	// v2: the same spec fitted on June, uploaded over HTTP.
	a2 := filepath.Join(t.TempDir(), "june.normguard.json")
	mustRun(t, "fit", "--spec", filepath.Join(dir, quickstart.Files.Spec), "--data",
		filepath.Join(dir, quickstart.Files.Later), "--out", a2)
	d2 := pushFlights(t, s, "v2", readFile(t, a2))
	if d1 == d2 {
		t.Fatal("v1 and v2 have the same digest")
	}
	// Versions are immutable: v2 cannot be replaced by other bytes.
	s.mustDo("PUT", "/v1/models/flight-delay/versions/v2", testToken, art, http.StatusConflict)
	header, recs := csvRows(t, filepath.Join(dir, quickstart.Files.Later))
	body := rowsJSON(header, recs[:3], nil)
	digestOf := func(path string) string {
		t.Helper()
		code, b, hdr := s.do("POST", path, "", body)
		if code != http.StatusOK {
			t.Fatalf("POST %s: %d %s", path, code, b)
		}
		return hdr.Get("Normguard-Artifact-Digest")
	}
	if got := digestOf("/v1/models/flight-delay/transform"); got != d2 {
		t.Errorf("after uploading v2 the current digest is %s, want v2's %s", got, d2)
	}
	if got := digestOf("/v1/models/flight-delay/versions/v1/transform"); got != d1 {
		t.Errorf("v1 answers with %s, want %s", got, d1)
	}
	// Moving current back, from the CLI, on the folder the server reads:
	// the server sees it within registry revalidation time (100 ms).
	mustRun(t, "push", filepath.Join(dir, quickstart.Files.Artifact), "--registry", reg,
		"--model", "flight-delay", "--model-version", "v3")
	got := ""
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if got = digestOf("/v1/models/flight-delay/transform"); got == d1 {
			break
		}
	}
	if got != d1 {
		t.Errorf("after a push to the folder the current digest is %s, want %s", got, d1)
	}
}

// hostile requests all get a JSON error with a 4xx status.
func TestServeHostileRequests(t *testing.T) {
	_, art := flights(t)
	s := startServer(t, t.TempDir(), "--max-body", "100000")
	pushFlights(t, s, "v1", art)
	row := `{"date":"2001-06-01 00:00","delay":1,"distance":100,"origin":"LAS","destination":"PHL"}`
	cases := []struct {
		name, method, path, token, body string
		want                            int
	}{
		{"not JSON", "POST", "/v1/models/flight-delay/transform", "", `rows=1`, 400},
		{"truncated", "POST", "/v1/models/flight-delay/transform", "", `{"rows":[` + row, 400},
		{"missing column", "POST", "/v1/models/flight-delay/transform", "", `{"rows":[{"delay":1}]}`, 400},
		{"text for a number", "POST", "/v1/models/flight-delay/transform", "", strings.Replace(`{"rows":[`+row+`]}`, `"delay":1`, `"delay":"late"`, 1), 400},
		{"infinite", "POST", "/v1/models/flight-delay/transform", "", strings.Replace(`{"rows":[`+row+`]}`, `"delay":1`, `"delay":1e400`, 1), 400},
		{"deep nesting", "POST", "/v1/models/flight-delay/transform", "", `{"x":` + strings.Repeat("[", 10000) + `}`, 400},
		{"body too large", "POST", "/v1/models/flight-delay/transform", "", `{"rows":[` + strings.Repeat(row+",", 2000) + row + `]}`, 413},
		{"unknown model", "POST", "/v1/models/nope/transform", "", `{"rows":[]}`, 404},
		{"unknown version", "POST", "/v1/models/flight-delay/versions/v9/transform", "", `{"rows":[]}`, 404},
		{"path trick", "POST", "/v1/models/..%2f..%2fetc/transform", "", `{"rows":[]}`, 400},
		{"bad name", "PUT", "/v1/models/a%00b/versions/v1", testToken, string(art), 400},
		{"corrupt artifact", "PUT", "/v1/models/flight-delay/versions/v2", testToken, strings.Replace(string(art), "median", "mean", 1), 400},
		{"wrong method", "DELETE", "/v1/models/flight-delay/transform", "", "", 405},
		{"unknown endpoint", "GET", "/v1/nothing", "", "", 404},
		{"bad stage", "GET", "/v1/models/flight-delay/drift?stage=middle", "", "", 400},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, b, hdr := s.do(c.method, c.path, c.token, []byte(c.body))
			if code != c.want {
				t.Fatalf("got %d %s, want %d", code, b, c.want)
			}
			var e struct {
				Error struct{ Code, Message string } `json:"error"`
			}
			if err := json.Unmarshal(b, &e); err != nil || e.Error.Code == "" || e.Error.Message == "" {
				t.Fatalf("body %q is not a JSON error", b)
			}
			if ct := hdr.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Fatalf("Content-Type %q, want JSON", ct)
			}
		})
	}
	// Still alive and serving.
	s.mustDo("GET", "/healthz", "", nil, http.StatusOK)
}

// observe posts rows to /observations and returns how many were accepted.
func observe(t *testing.T, s *serverProc, body []byte) int {
	t.Helper()
	b := s.mustDo("POST", "/v1/models/flight-delay/observations", "", body, http.StatusOK)
	var r struct {
		Accepted int `json:"accepted"`
	}
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	return r.Accepted
}

type driftJSON struct {
	Features []struct {
		Name         string  `json:"name"`
		Drift        bool    `json:"drift"`
		Statistic    float64 `json:"statistic"`
		CurrentCount int     `json:"current_count"`
	} `json:"features"`
	DatasetDrift bool `json:"dataset_drift"`
	Window       struct {
		Rows int `json:"rows"`
	} `json:"window"`
}

func getDrift(t *testing.T, s *serverProc) driftJSON {
	t.Helper()
	var d driftJSON
	if err := json.Unmarshal(s.mustDo("GET", "/v1/models/flight-delay/drift", "", nil, http.StatusOK), &d); err != nil {
		t.Fatal(err)
	}
	return d
}

func (d driftJSON) feature(t *testing.T, name string) (drift bool, count int) {
	t.Helper()
	for _, f := range d.Features {
		if f.Name == name {
			return f.Drift, f.CurrentCount
		}
	}
	t.Fatalf("no feature %q in the drift report", name)
	return false, 0
}

// TestServeDriftMetricsAndRestart shifts delay by +60 minutes in posted
// observations: /drift and /metrics must say delay drifts, distance does
// not; after a graceful restart the window is still there.
func TestServeDriftMetricsAndRestart(t *testing.T) {
	dir, art := flights(t)
	alerts := make(chan map[string]any, 16)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var a map[string]any
		if err := json.NewDecoder(r.Body).Decode(&a); err == nil {
			alerts <- a
		}
	}))
	defer hook.Close()
	reg := t.TempDir()
	s := startServer(t, reg, "--eval-interval", "100ms", "--webhook", hook.URL)
	pushFlights(t, s, "v1", art)
	s.mustDo("GET", "/v1/models/flight-delay/drift", "", nil, http.StatusNotFound)

	header, recs := csvRows(t, filepath.Join(dir, quickstart.Files.Train))
	recs = recs[len(recs)-3000:]
	sent := 0
	for lo := 0; lo < len(recs); lo += 500 {
		sent += observe(t, s, rowsJSON(header, recs[lo:lo+500], map[string]float64{"delay": 60}))
	}
	if sent != 3000 {
		t.Fatalf("accepted %d rows, want 3000", sent)
	}
	d := getDrift(t, s)
	if drifted, n := d.feature(t, "delay"); !drifted || n != 3000 {
		t.Errorf("delay: drift %v on %d rows, want true on 3000", drifted, n)
	}
	if drifted, _ := d.feature(t, "distance"); drifted {
		t.Errorf("distance drifts, want no drift (it was not shifted)")
	}
	// The gauges follow the periodic evaluation (every 100 ms here).
	var metrics string
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		metrics = string(s.mustDo("GET", "/metrics", "", nil, http.StatusOK))
		if strings.Contains(metrics, "normguard_feature_drifting{") {
			break
		}
	}
	for _, want := range []string{
		`normguard_feature_drifting{feature="delay",model="flight-delay",stage="input"} 1`,
		`normguard_feature_drifting{feature="distance",model="flight-delay",stage="input"} 0`,
		`normguard_window_rows{model="flight-delay",stage="input"} 3000`,
		`normguard_requests_total{code="200",endpoint="observations",model="flight-delay",version="v1"} 6`,
		`normguard_request_duration_seconds_bucket{endpoint="observations",model="flight-delay",version="v1",le="+Inf"} 6`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}

	select {
	case a := <-alerts:
		if a["feature"] != "delay" || a["model"] != "flight-delay" {
			t.Errorf("webhook got %v, want an alert on flight-delay's delay", a)
		}
	case <-time.After(20 * time.Second):
		t.Errorf("no webhook alert within 20 s of delay drifting")
	}

	s.stop()
	s = startServer(t, reg)
	after := getDrift(t, s)
	if drifted, n := after.feature(t, "delay"); !drifted || n != 3000 {
		t.Errorf("after a restart delay: drift %v on %d rows, want true on 3000", drifted, n)
	}
}

// TestServeKill9KeepsAcknowledgedRows posts observations from several
// clients, kills the server with SIGKILL in the middle, restarts it and
// checks that every acknowledged row is in the window.
func TestServeKill9KeepsAcknowledgedRows(t *testing.T) {
	dir, art := flights(t)
	reg := t.TempDir()
	s := startServer(t, reg)
	pushFlights(t, s, "v1", art)
	header, recs := csvRows(t, filepath.Join(dir, quickstart.Files.Later))
	body := rowsJSON(header, recs[:10], nil)

	var acked, attempted atomic.Int64
	var wg sync.WaitGroup
	stopAt := time.Now().Add(400 * time.Millisecond)
	for k := 0; k < 8; k++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				attempted.Add(10)
				resp, err := http.Post(s.url+"/v1/models/flight-delay/observations", "application/json", bytes.NewReader(body))
				if err != nil {
					return // the server is gone
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					acked.Add(10)
				}
				if time.Now().After(stopAt) {
					s.cmd.Process.Kill()
				}
			}
		}()
	}
	wg.Wait()
	s.kill()
	if acked.Load() == 0 {
		t.Fatal("no observation was acknowledged before the kill")
	}
	s = startServer(t, reg)
	// The window's row count, not a feature's current_count: the drift
	// engine sees a bounded sample of a large window.
	n := getDrift(t, s).Window.Rows
	if int64(n) < acked.Load() || int64(n) > attempted.Load() {
		t.Fatalf("after kill -9 the window holds %d rows; %d were acknowledged, %d sent", n, acked.Load(), attempted.Load())
	}
	t.Logf("acknowledged %d rows before SIGKILL; the window holds %d", acked.Load(), n)
}
