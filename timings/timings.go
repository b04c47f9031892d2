// Package timings records how long each stage of a command takes (parse,
// fit statistics, profile, transform, format, write, ...) so that
// `--timings` can show where the time goes and the next bottleneck is
// visible. A nil *Recorder records nothing, so library code calls it
// unconditionally.
package timings

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// Recorder sums the time spent in named stages. It is safe for concurrent
// use: stages that run in parallel goroutines (a transform's reading,
// transforming and writing) each add their own busy time, so the stages
// can sum to more than the wall time.
type Recorder struct {
	start time.Time
	mu    sync.Mutex
	order []string
	busy  map[string]time.Duration
}

// New returns a Recorder whose wall clock starts now.
func New() *Recorder {
	return &Recorder{start: time.Now(), busy: map[string]time.Duration{}}
}

// Add adds d to stage. It does nothing on a nil Recorder.
func (r *Recorder) Add(stage string, d time.Duration) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.busy[stage]; !ok {
		r.order = append(r.order, stage)
	}
	r.busy[stage] += d
}

// Since adds the time from t0 to now to stage and returns now, so that
// consecutive stages chain: t = rec.Since("parse", t).
func (r *Recorder) Since(stage string, t0 time.Time) time.Time {
	now := time.Now()
	r.Add(stage, now.Sub(t0))
	return now
}

// Stage is one stage's busy time.
type Stage struct {
	Name string
	Busy time.Duration
}

// Stages returns the stages in the order they were first recorded.
func (r *Recorder) Stages() []Stage {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Stage, len(r.order))
	for i, n := range r.order {
		out[i] = Stage{n, r.busy[n]}
	}
	return out
}

// Write prints one line per stage, its busy seconds and its share of the
// wall time since New, then the wall time:
//
//	timings: parse            0.412 s   31%
//	timings: wall             1.310 s
func (r *Recorder) Write(w io.Writer) {
	if r == nil {
		return
	}
	wall := time.Since(r.start)
	for _, s := range r.Stages() {
		fmt.Fprintf(w, "timings: %-16s %7.3f s %4.0f%%\n", s.Name, s.Busy.Seconds(), 100*s.Busy.Seconds()/wall.Seconds())
	}
	fmt.Fprintf(w, "timings: %-16s %7.3f s (stages in parallel goroutines overlap)\n", "wall", wall.Seconds())
}

// Setter is implemented by writers and readers that record their own
// stages (a CSV writer's formatting and its writes to the file).
type Setter interface {
	SetTimings(r *Recorder)
}
