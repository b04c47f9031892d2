// Command load drives a running normguard server over HTTP at a fixed
// request rate and reports throughput, errors, latency percentiles and the
// server's memory over time.
//
// It is open-loop: request i is due at start + i/rate, and its latency is
// measured from when it was due, so a server that falls behind is charged
// for the queueing it causes (no coordinated omission).
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
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

type options struct {
	url         string
	model       string
	rows        string
	rate        float64
	batch       int
	duration    time.Duration
	workers     int
	memEvery    time.Duration
	endpoint    string
	maxRequests int
	result      string
	p99Target   time.Duration
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

func run(ctx context.Context, o options, w io.Writer) error {
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	if o.rows == "" {
		return errors.New("-rows is required")
	}
	if o.rate <= 0 || o.batch <= 0 || o.workers <= 0 {
		return errors.New("-rate, -batch and -workers must be positive")
	}
	rows, err := readRows(o.rows)
	if err != nil {
		return err
	}
	bodies := makeBodies(rows, o.batch, 512)
	target := fmt.Sprintf("%s/v1/models/%s/%s", strings.TrimRight(o.url, "/"), o.model, o.endpoint)
	client := &http.Client{
		Transport: &http.Transport{
			MaxIdleConnsPerHost: o.workers,
			MaxConnsPerHost:     o.workers,
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		},
		Timeout: 30 * time.Second,
	}
	memStart, _ := serverRSS(client, o.url)

	total := int(o.rate * o.duration.Seconds())
	due := make(chan time.Time, o.workers*4)
	lat := make([][]time.Duration, o.workers)
	svc := make([][]time.Duration, o.workers)
	var errs, non200 atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	var next atomic.Int64
	for k := 0; k < o.workers; k++ {
		wg.Add(1)
		go func(k int) {
			defer wg.Done()
			mine := make([]time.Duration, 0, total/o.workers+16)
			mineSvc := make([]time.Duration, 0, total/o.workers+16)
			for t := range due {
				body := bodies[int(next.Add(1))%len(bodies)]
				sentAt := time.Now()
				resp, err := client.Post(target, "application/json", bytes.NewReader(body))
				if err != nil {
					errs.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				msg, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				mine = append(mine, time.Since(t))
				mineSvc = append(mineSvc, time.Since(sentAt))
				if resp.StatusCode != http.StatusOK {
					non200.Add(1)
					firstErr.CompareAndSwap(nil, fmt.Sprintf("%d %s", resp.StatusCode, bytes.TrimSpace(msg)))
				}
			}
			lat[k], svc[k] = mine, mineSvc
		}(k)
	}

	var mem []string
	memDone := make(chan struct{})
	if o.memEvery > 0 {
		go func() {
			defer close(memDone)
			tick := time.NewTicker(o.memEvery)
			defer tick.Stop()
			start := time.Now()
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

	start := time.Now()
	interval := time.Duration(float64(time.Second) / o.rate)
	sent := 0
	for ; sent < total && ctx.Err() == nil; sent++ {
		at := start.Add(time.Duration(sent) * interval)
		if d := time.Until(at); d > 0 {
			time.Sleep(d)
		}
		due <- at
	}
	close(due)
	wg.Wait()
	elapsed := time.Since(start)
	stop()
	memEnd, _ := serverRSS(client, o.url)

	all, allSvc := flatten(lat), flatten(svc)
	ok := int64(len(all)) - non200.Load()
	fmt.Fprintf(w, "endpoint         %s (%d rows per request)\n", target, o.batch)
	fmt.Fprintf(w, "requests         %d sent in %.1fs = %.0f/s (target %.0f/s)\n", sent, elapsed.Seconds(), float64(sent)/elapsed.Seconds(), o.rate)
	fmt.Fprintf(w, "ok / non-200 / transport errors  %d / %d / %d\n", ok, non200.Load(), errs.Load())
	fmt.Fprintf(w, "values/s         %.0f (%d features per row)\n", float64(ok)*float64(o.batch*len(rows.header))/elapsed.Seconds(), len(rows.header))
	fmt.Fprintf(w, "latency          %s   (from when each request was due)\n", percentiles(all))
	fmt.Fprintf(w, "  once sent      %s   (from when the client sent it)\n", percentiles(allSvc))
	if memStart > 0 {
		fmt.Fprintf(w, "server RSS       %.1f MB at start, %.1f MB at end\n", memStart/1e6, memEnd/1e6)
	}
	if o.memEvery > 0 {
		<-memDone
		for _, m := range mem {
			fmt.Fprintf(w, "  rss %s\n", m)
		}
	}
	if e := firstErr.Load(); e != nil {
		fmt.Fprintf(w, "first error      %v\n", e)
	}
	if o.result != "" {
		verdict := ""
		if o.p99Target > 0 {
			verdict = fmt.Sprintf("; p99 < %v: %s", o.p99Target, passFail(pct(all, 0.99) < o.p99Target && errs.Load()+non200.Load() == 0))
		}
		fmt.Fprintf(w, "RESULT %s: %.0f/s for %v, %d ok, %d failed; p50 %v p99 %v p99.9 %v max %v%s\n",
			o.result, float64(sent)/elapsed.Seconds(), o.duration, ok, errs.Load()+non200.Load(),
			pct(all, 0.5), pct(all, 0.99), pct(all, 0.999), pct(all, 1), verdict)
	}
	if errs.Load() > 0 || non200.Load() > 0 {
		return fmt.Errorf("%d requests failed", errs.Load()+non200.Load())
	}
	return nil
}

func flatten(parts [][]time.Duration) []time.Duration {
	var all []time.Duration
	for _, p := range parts {
		all = append(all, p...)
	}
	slices.Sort(all)
	return all
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

// serverRSS reads process_resident_memory_bytes from the server's /metrics.
func serverRSS(c *http.Client, base string) (float64, error) {
	resp, err := c.Get(strings.TrimRight(base, "/") + "/metrics")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "process_resident_memory_bytes "); ok {
			return strconv.ParseFloat(strings.TrimSpace(v), 64)
		}
	}
	return 0, errors.New("no process_resident_memory_bytes in /metrics")
}
