// Command load drives a running normguard server over HTTP at a fixed
// request rate and reports throughput, errors, latency percentiles, where
// the CPU went and the server's memory over time.
//
// It is open-loop: request i is due at start + i/rate, and its latency is
// measured from when it was due, so a server that falls behind is charged
// for the queueing it causes (no coordinated omission). How late the
// generator itself sent each request (due to sent) is reported beside it,
// so that the generator's own delays are seen, not hidden in either
// number.
//
//	go run ./bench/load -url http://127.0.0.1:8080 -model flights \
//	    -rows june.csv -rate 5000 -batch 1 -duration 60s
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"runtime/pprof"
	"runtime/trace"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

type options struct {
	url       string
	model     string
	rows      string
	rate      float64
	batch     int
	duration  time.Duration
	workers   int
	memEvery  time.Duration
	endpoint  string
	result    string
	p99Target time.Duration
	dump      string
	trace     string
	client    string
	pacing    string
	cpuprof   string
}

func main() {
	var o options
	flag.StringVar(&o.url, "url", "http://127.0.0.1:8080", "server base URL")
	flag.StringVar(&o.model, "model", "flights", "model name")
	flag.StringVar(&o.rows, "rows", "", "CSV file whose rows are sent (header = column names)")
	flag.Float64Var(&o.rate, "rate", 1000, "requests per second")
	flag.IntVar(&o.batch, "batch", 1, "rows per request")
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "how long to send")
	flag.IntVar(&o.workers, "workers", 64, "concurrent connections")
	flag.DurationVar(&o.memEvery, "mem-every", 0, "sample the server's resident memory from /metrics this often (0: at start and end)")
	flag.StringVar(&o.endpoint, "endpoint", "transform", "transform or observations")
	flag.StringVar(&o.result, "result", "", "also print one line \"RESULT <name>: ...\" summing the run up")
	flag.DurationVar(&o.p99Target, "p99-target", 0, "with -result, say whether p99 (from when due) is under this")
	flag.StringVar(&o.dump, "dump", "", "write one CSV line per request to this file: due_ms (since the start), late_us (due to sent), latency_us (due to answered)")
	flag.StringVar(&o.client, "client", "conn", "conn: each worker writes its requests on its own keep-alive connection and reads the answers (conn.go); std: net/http's Client, as before 2026-12-05")
	flag.StringVar(&o.pacing, "pacing", "timer", "timer: wait for each due time on a timer the poller wakes at once (a timerfd on Linux, pacer_linux.go); sleep: time.Sleep, as before 2026-12-05")
	flag.StringVar(&o.cpuprof, "cpuprofile", "", "write the generator's own CPU profile of the run to this file")
	flag.StringVar(&o.trace, "trace", "", "write the generator's own runtime/trace of the run to this file")
	flag.Parse()
	// The generator's own collections would be charged to the server's
	// latency: its live heap is small and fixed, so collect rarely.
	debug.SetGCPercent(1000)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, o, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(2)
	}
}

// sample is one answered request.
type sample struct {
	due  time.Duration // when it was due, since the start
	late time.Duration // from due to sent: the generator's own delay
	lat  time.Duration // from due to answered: what the report calls latency
	// answered is false for a request not sent (the run was stopped) or
	// that failed in transport.
	answered bool
}

// tally counts failures across the workers.
type tally struct {
	errs, non200 atomic.Int64
	first        atomic.Value // string: the first failure's message
}

func (t *tally) fail(counter *atomic.Int64, msg string) {
	counter.Add(1)
	t.first.CompareAndSwap(nil, msg)
}

func (t *tally) failed() int64 { return t.errs.Load() + t.non200.Load() }

func run(ctx context.Context, o options, w io.Writer) error {
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	if o.rows == "" {
		return errors.New("-rows is required")
	}
	if o.rate <= 0 || o.batch <= 0 || o.workers <= 0 {
		return errors.New("-rate, -batch and -workers must be positive")
	}
	if o.client != "conn" && o.client != "std" {
		return fmt.Errorf("-client must be conn or std, not %q", o.client)
	}
	if o.pacing != "timer" && o.pacing != "sleep" {
		return fmt.Errorf("-pacing must be timer or sleep, not %q", o.pacing)
	}
	var timer *pacer
	if o.pacing == "timer" {
		p, err := newPacer()
		if err != nil {
			return fmt.Errorf("-pacing timer: %w (-pacing sleep works without it)", err)
		}
		defer p.close()
		timer = p
	}
	rows, err := readRows(o.rows)
	if err != nil {
		return err
	}
	bodies := makeBodies(rows, o.batch, 512)
	target := fmt.Sprintf("%s/v1/models/%s/%s", strings.TrimRight(o.url, "/"), o.model, o.endpoint)
	targetURL, err := checkTarget(target)
	if err != nil {
		return err
	}
	requests := make([][]byte, len(bodies))
	for i, b := range bodies {
		requests[i] = requestBytes(targetURL, b)
	}
	client := &http.Client{
		Transport: &http.Transport{
			MaxIdleConnsPerHost: o.workers,
			MaxConnsPerHost:     o.workers,
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		},
		Timeout: 30 * time.Second,
	}
	memStart, _ := serverRSS(client, o.url)
	if o.trace != "" {
		stopTrace, err := startTrace(o.trace)
		if err != nil {
			return err
		}
		defer stopTrace()
	}
	if o.cpuprof != "" {
		stopProfile, err := startCPUProfile(o.cpuprof)
		if err != nil {
			return err
		}
		defer stopProfile()
	}

	total := int(o.rate * o.duration.Seconds())
	interval := float64(time.Second) / o.rate
	at := func(i int) time.Duration { return time.Duration(float64(i) * interval) }
	// Request i's sample goes to got[i]: no worker grows a slice of its
	// own while the server is measured.
	got := make([]sample, total)
	cpu0 := takeCPU(client, o.url) // before the start: it asks the server
	// The connections are open before the start, as a client's pool is
	// in steady state: 64 connections set up in the first milliseconds
	// of the run were a stall of their own (and not what is measured).
	conns := make([]*conn, o.workers)
	for k := range conns {
		conns[k] = newConn(targetURL)
		if o.client == "conn" {
			if err := conns[k].dial(); err != nil {
				return fmt.Errorf("connecting to %s: %w", targetURL.Host, err)
			}
		}
	}
	start := time.Now()
	due := make(chan int, o.workers*4)
	var t tally
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.close()
			for n := range due {
				d, i := at(n), n%len(bodies)
				sent := time.Since(start)
				var status int
				var msg []byte
				var err error
				if o.client == "conn" {
					status, msg, err = c.do(requests[i], 30*time.Second)
				} else {
					status, msg, err = post(client, target, bodies[i])
				}
				if err != nil {
					t.fail(&t.errs, err.Error())
					continue
				}
				got[n] = sample{due: d, late: sent - d, lat: time.Since(start) - d, answered: true}
				if status != http.StatusOK {
					t.fail(&t.non200, fmt.Sprintf("%d %s", status, bytes.TrimSpace(msg)))
				}
			}
		}()
	}

	var mem []string
	memDone := make(chan struct{})
	if o.memEvery > 0 {
		go func() {
			defer close(memDone)
			tick := time.NewTicker(o.memEvery)
			defer tick.Stop()
			for {
				select {
				case <-tick.C:
					if rss, err := serverRSS(client, o.url); err == nil {
						mem = append(mem, fmt.Sprintf("%6.0fs %7.1f MB", time.Since(start).Seconds(), rss/1e6))
					}
				case <-ctx.Done():
					return
				}
			}
		}()
	} else {
		close(memDone)
	}

	sent, waitErr := pace(ctx, timer, start, total, at, due)
	close(due)
	wg.Wait()
	elapsed := time.Since(start)
	cpu1 := takeCPU(client, o.url)
	stop()
	memEnd, _ := serverRSS(client, o.url)

	all := answered(got)
	ok := int64(len(all)) - t.non200.Load()
	lat := sortedBy(all, func(s sample) time.Duration { return s.lat })
	late := sortedBy(all, func(s sample) time.Duration { return s.late })
	svc := sortedBy(all, func(s sample) time.Duration { return s.lat - s.late })
	fmt.Fprintf(w, "endpoint         %s (%d rows per request)\n", target, o.batch)
	fmt.Fprintf(w, "started          %s\n", start.UTC().Format("15:04:05.000000"))
	fmt.Fprintf(w, "requests         %d sent in %.1fs = %.0f/s (target %.0f/s)\n", sent, elapsed.Seconds(), float64(sent)/elapsed.Seconds(), o.rate)
	fmt.Fprintf(w, "ok / non-200 / transport errors  %d / %d / %d\n", ok, t.non200.Load(), t.errs.Load())
	fmt.Fprintf(w, "values/s         %.0f (%d features per row)\n", float64(ok)*float64(o.batch*len(rows.header))/elapsed.Seconds(), len(rows.header))
	fmt.Fprintf(w, "latency          %s   (from when each request was due)\n", percentiles(lat))
	fmt.Fprintf(w, "  once sent      %s   (from when the client sent it)\n", percentiles(svc))
	fmt.Fprintf(w, "  sent late by   %s   (the generator's own delay, due to sent)\n", percentiles(late))
	fmt.Fprintf(w, "cpu              %s\n", cpu1.since(cpu0, elapsed))
	if memStart > 0 {
		fmt.Fprintf(w, "server RSS       %.1f MB at start, %.1f MB at end\n", memStart/1e6, memEnd/1e6)
	}
	if o.memEvery > 0 {
		<-memDone
		for _, m := range mem {
			fmt.Fprintf(w, "  rss %s\n", m)
		}
	}
	if e := t.first.Load(); e != nil {
		fmt.Fprintf(w, "first error      %v\n", e)
	}
	if o.result != "" {
		verdict := ""
		if o.p99Target > 0 {
			verdict = fmt.Sprintf("; p99 < %v: %s", o.p99Target, passFail(pct(lat, 0.99) < o.p99Target && t.failed() == 0))
		}
		fmt.Fprintf(w, "RESULT %s: %.0f/s for %v, %d ok, %d failed; p50 %v p99 %v p99.9 %v max %v; once sent p99 %v p99.9 %v%s\n",
			o.result, float64(sent)/elapsed.Seconds(), o.duration, ok, t.failed(),
			pct(lat, 0.5), pct(lat, 0.99), pct(lat, 0.999), pct(lat, 1), pct(svc, 0.99), pct(svc, 0.999), verdict)
	}
	if o.dump != "" {
		if err := dumpSamples(o.dump, all); err != nil {
			return err
		}
	}
	if waitErr != nil {
		return fmt.Errorf("pacing stopped after %d requests: %w", sent, waitErr)
	}
	if t.failed() > 0 {
		return fmt.Errorf("%d requests failed", t.failed())
	}
	return nil
}

// pace hands the workers every request (its index) once it is due, until
// total were or ctx ends, and returns how many it handed out. Each wake
// hands out all the requests due by then: one wake per due request at
// best, fewer when the generator itself was held up, and never a request
// before its due time. With timer nil it sleeps (time.Sleep) to the next
// due time instead.
func pace(ctx context.Context, timer *pacer, start time.Time, total int, at func(int) time.Duration, due chan<- int) (int, error) {
	if timer != nil {
		if err := timer.start(start, at(1)); err != nil {
			return 0, err
		}
	}
	sent := 0
	for sent < total && ctx.Err() == nil {
		for now := time.Since(start); sent < total && at(sent) <= now; sent++ {
			due <- sent
		}
		if sent == total {
			break
		}
		if timer == nil {
			time.Sleep(at(sent) - time.Since(start))
		} else if err := timer.tick(); err != nil {
			return sent, err
		}
	}
	return sent, nil
}

// post sends body with net/http's client and reads the answer.
func post(c *http.Client, target string, body []byte) (int, []byte, error) {
	resp, err := c.Post(target, "application/json", bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	msg, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp.StatusCode, msg, err
}

// startTrace starts the runtime tracer into path; the function returned
// stops it and closes the file.
func startTrace(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("-trace: %w", err)
	}
	if err := trace.Start(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("-trace: %w", err)
	}
	return func() { trace.Stop(); f.Close() }, nil
}

// startCPUProfile starts the CPU profiler into path; the function returned
// stops it and closes the file.
func startCPUProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("-cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("-cpuprofile: %w", err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// dumpSamples writes the samples in due order, one CSV line each.
func dumpSamples(path string, all []sample) error {
	slices.SortFunc(all, func(a, b sample) int { return int(a.due - b.due) })
	var b bytes.Buffer
	b.WriteString("due_ms,late_us,latency_us\n")
	for _, s := range all {
		fmt.Fprintf(&b, "%.3f,%d,%d\n", float64(s.due)/1e6, s.late.Microseconds(), s.lat.Microseconds())
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		return fmt.Errorf("-dump: %w", err)
	}
	return nil
}

// answered returns the samples of the requests answered.
func answered(got []sample) []sample {
	all := make([]sample, 0, len(got))
	for _, s := range got {
		if s.answered {
			all = append(all, s)
		}
	}
	return all
}

// sortedBy returns key of every sample, sorted.
func sortedBy(all []sample, key func(sample) time.Duration) []time.Duration {
	out := make([]time.Duration, len(all))
	for i, s := range all {
		out[i] = key(s)
	}
	slices.Sort(out)
	return out
}

// pct returns the p quantile of sorted (nearest rank below).
func pct(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[int(p*float64(len(sorted)-1))].Round(time.Microsecond)
}

// percentiles formats p50, p90, p99, p99.9 and the maximum of sorted.
func percentiles(sorted []time.Duration) string {
	return fmt.Sprintf("p50 %v  p90 %v  p99 %v  p99.9 %v  max %v",
		pct(sorted, 0.5), pct(sorted, 0.9), pct(sorted, 0.99), pct(sorted, 0.999), pct(sorted, 1))
}

func passFail(ok bool) string {
	if ok {
		return "PASS"
	}
	return "FAIL"
}

type csvRows struct {
	header []string
	rows   [][]string
}

func readRows(path string) (*csvRows, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(bufio.NewReader(f))
	header, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: reading the header: %w", path, err)
	}
	out := &csvRows{header: header}
	for len(out.rows) < 200_000 {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		out.rows = append(out.rows, rec)
	}
	if len(out.rows) == 0 {
		return nil, fmt.Errorf("%s has no rows", path)
	}
	return out, nil
}

// makeBodies prepares up to n request bodies of batch rows each, cycling
// through the rows: numbers as JSON numbers, empty fields as null, the rest
// as strings.
func makeBodies(rows *csvRows, batch, n int) [][]byte {
	bodies := make([][]byte, 0, n)
	next := 0
	for len(bodies) < n {
		objs := make([]map[string]any, batch)
		for i := range objs {
			rec := rows.rows[next%len(rows.rows)]
			next++
			obj := make(map[string]any, len(rows.header))
			for j, name := range rows.header {
				v := rec[j]
				if v == "" {
					obj[name] = nil
				} else if x, err := strconv.ParseFloat(v, 64); err == nil {
					obj[name] = json.Number(strconv.FormatFloat(x, 'g', -1, 64))
				} else {
					obj[name] = v
				}
			}
			objs[i] = obj
		}
		b, _ := json.Marshal(map[string]any{"rows": objs})
		bodies = append(bodies, b)
	}
	return bodies
}

// serverMetric reads one unlabelled sample from the server's /metrics.
func serverMetric(c *http.Client, base, name string) (float64, error) {
	resp, err := c.Get(strings.TrimRight(base, "/") + "/metrics")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			return strconv.ParseFloat(strings.TrimSpace(v), 64)
		}
	}
	return 0, fmt.Errorf("no %s in /metrics", name)
}

// serverRSS reads process_resident_memory_bytes from the server's /metrics.
func serverRSS(c *http.Client, base string) (float64, error) {
	return serverMetric(c, base, "process_resident_memory_bytes")
}
