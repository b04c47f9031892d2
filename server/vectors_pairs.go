package server

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/normguard/normguard/embed"
)

// Comparing two producers (pairDrift: MMD² with permutations, the domain
// classifier ...) takes about a second for two samples of 1,000 vectors
// of 100 values on a 2-core machine, and a column of 16 producers has
// 120 pairs. GET .../vectors compares them after releasing the vector
// state's lock, one request at a time, within a time budget (a third of
// the write timeout), and keeps each pair's result until either
// producer's open window takes another vector: the pairs not compared
// within the budget are reported pending, and the next GET compares them
// (attack run 36 F10: 120 pairs under the lock took 90 s, past the 60 s
// write timeout, with every vector observation waiting behind them).

// pairKey names a pair of producers of a column.
type pairKey struct{ digest, column, a, b string }

// windowState tells a producer's open window's sample from a later one:
// the sample changes only with the vectors the window takes.
type windowState struct {
	start time.Time
	seen  int64
}

func stateOf(w *vectorWindow) windowState { return windowState{w.start, w.seen} }

// pairResult is a pair's comparison for the producers' windows as they were.
type pairResult struct {
	a, b    windowState
	drift   *embed.DriftResult
	skipped string
}

// pairJob is a pair to compare: copies of the samples, taken under vw.mu,
// and where the result goes.
type pairJob struct {
	key      pairKey
	a, b     windowState
	sa, sb   [][]float64
	dim      int
	cols     *[]vectorColumnReport
	col, pos int
}

// pairJob makes the job of comparing producers a and b of a column. The
// caller holds vw.mu.
func (vw *vectorWindows) pairJob(digest, column, a, b string, pa, pb *vectorWindow, cols *[]vectorColumnReport, col, pos int) pairJob {
	return pairJob{key: pairKey{digest, column, a, b}, a: stateOf(pa), b: stateOf(pb),
		sa: slices.Clone(pa.sample), sb: slices.Clone(pb.sample), dim: pa.dim, cols: cols, col: col, pos: pos}
}

// prunePairs forgets the results of pairs whose windows have changed or
// gone, so that the cache holds at most the open windows' pairs. The
// caller holds vw.mu.
func (vw *vectorWindows) prunePairs() {
	for k, r := range vw.pairs {
		pa, pb := vw.m[vectorKey{k.digest, k.column, k.a}], vw.m[vectorKey{k.digest, k.column, k.b}]
		if pa == nil || pb == nil || pa.cur == nil || pb.cur == nil || stateOf(pa.cur) != r.a || stateOf(pb.cur) != r.b {
			delete(vw.pairs, k)
		}
	}
}

// cached returns the result kept for job's windows.
func (vw *vectorWindows) cached(job pairJob) (pairResult, bool) {
	vw.mu.Lock()
	defer vw.mu.Unlock()
	r, ok := vw.pairs[job.key]
	return r, ok && r.a == job.a && r.b == job.b
}

// keep stores a pair's result.
func (vw *vectorWindows) keep(job pairJob, r pairResult) {
	vw.mu.Lock()
	defer vw.mu.Unlock()
	if vw.pairs == nil {
		vw.pairs = map[pairKey]pairResult{}
	}
	vw.pairs[job.key] = r
}

// turn returns the channel whose one slot a report holds while comparing.
func (vw *vectorWindows) turn() chan struct{} {
	vw.mu.Lock()
	defer vw.mu.Unlock()
	if vw.pairTurn == nil {
		vw.pairTurn = make(chan struct{}, 1)
	}
	return vw.pairTurn
}

// pairBudget is the time a report spends comparing pairs, a third of the
// server's write timeout (which ends the answer).
func pairBudget(writeTimeout time.Duration) time.Duration {
	if writeTimeout <= 0 {
		writeTimeout = DefaultWriteTimeout
	}
	return writeTimeout / 3
}

// comparePairs writes each job's comparison into its report: the kept
// one when the windows have not changed since, otherwise compared now,
// not holding vw.mu, while the budget lasts (at least one pair when this
// request has the turn); the others are reported pending.
func (vw *vectorWindows) comparePairs(ctx context.Context, jobs []pairJob, budget time.Duration) {
	deadline := time.Now().Add(budget)
	var todo []pairJob
	for _, job := range jobs {
		if r, ok := vw.cached(job); ok {
			job.set(r)
		} else {
			todo = append(todo, job)
		}
	}
	if len(todo) == 0 {
		return
	}
	turn := vw.turn()
	timer := time.NewTimer(budget)
	defer timer.Stop()
	have := false
	select {
	case turn <- struct{}{}:
		have = true
		defer func() { <-turn }()
	case <-timer.C:
	case <-ctx.Done():
	}
	compared := 0
	for _, job := range todo {
		if r, ok := vw.cached(job); ok { // compared by the report that had the turn before
			job.set(r)
			continue
		}
		if !have || ctx.Err() != nil || compared > 0 && !time.Now().Before(deadline) {
			job.pending(len(todo), budget)
			continue
		}
		r := pairResult{a: job.a, b: job.b}
		r.drift, r.skipped = pairDrift(job.key.a, job.key.b, job.sa, job.sb, job.dim)
		vw.keep(job, r)
		job.set(r)
		compared++
	}
}

func (job pairJob) report() *vectorPairReport { return &(*job.cols)[job.col].Pairs[job.pos] }

func (job pairJob) set(r pairResult) {
	p := job.report()
	p.Drift, p.Skipped = r.drift, r.skipped
}

func (job pairJob) pending(n int, budget time.Duration) {
	p := job.report()
	p.Pending = true
	p.Skipped = fmt.Sprintf("not compared yet: comparing %d pairs takes longer than a request may spend on them (%s); "+
		"the pairs compared are kept until either producer's window takes more vectors: GET .../vectors again for the rest", n, budget)
}
