package server

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/normguard/normguard/internal/tempfile"
)

// The vector state's health. A journal write that fails (a full disk, an
// I/O error) refuses the request (500 state_not_saved, nothing counted)
// and the next request tries again; while the last one failed, /healthz
// is "degraded" naming the journal, since when and the error, and
// normguard_vector_state_failing is 1 (attack run 18: both said nothing
// while every vector was refused). A replica drained for being degraded
// gets no vector request to find that room came back, so a probe (a
// file as large as twice the failed frame and 64 KiB, written, synced and
// removed beside the journal) tries at most every second when /healthz or
// /metrics asks; once it or a journal write succeeds, the failure is
// cleared.

// vectorHealth is the last journal write's failure (under vw.mu).
type vectorHealth struct {
	err    error
	since  time.Time
	bytes  int       // the failed request's vectors' size: the probe writes more
	probed time.Time // the last probe
}

// vectorProbeEvery is how often a probe may be tried.
const vectorProbeEvery = time.Second

// failed records a journal write's failure of a batch. The caller holds
// vw.mu.
func (vw *vectorWindows) failed(err error, b *vectorBatch) {
	if vw.health.err == nil {
		vw.health.since = time.Now()
	}
	n := 0
	for _, c := range b.Columns {
		for _, v := range c.Vecs {
			n += len(v) * 11 // 8 bytes a float in base64, and room
		}
	}
	vw.health.err, vw.health.bytes, vw.health.probed = err, n, time.Now()
}

// saved clears the failure once a journal write succeeded. The caller
// holds vw.mu.
func (vw *vectorWindows) saved() { vw.health.err = nil }

// problem says what is wrong with the vector state, "" when nothing is,
// probing first when a write failed (at most every vectorProbeEvery). The
// probe, a write and fsync of up to 4 MiB, runs without vw.mu, so vector
// requests and reports do not wait for it.
func (vw *vectorWindows) problem() string {
	vw.mu.Lock()
	h := &vw.health
	if h.err == nil {
		vw.mu.Unlock()
		return ""
	}
	since := h.since
	if time.Since(h.probed) >= vectorProbeEvery {
		h.probed = time.Now()
		size := min(2*h.bytes+64<<10, 4<<20)
		vw.mu.Unlock()
		ok := vw.probe(size) == nil
		vw.mu.Lock()
		if ok && h.err != nil && h.since.Equal(since) {
			vw.warn("the vector state's folder can be written again; vector observations are taken again", "journal", vw.journalPath(),
				"failing_since", since.UTC().Format(time.RFC3339))
			h.err = nil
		}
	}
	defer vw.mu.Unlock()
	if h.err == nil {
		return ""
	}
	return fmt.Sprintf("vector state journal %s: writes failing since %s, vector observations are refused (500 state_not_saved, not counted) "+
		"until one succeeds (free space or fix the folder); tried again on every vector request and every second while /healthz or /metrics is read: %v",
		vw.journalPath(), h.since.UTC().Format(time.RFC3339), h.err)
}

// probe writes size bytes to a file beside the journal, syncs it and
// removes it.
func (vw *vectorWindows) probe(size int) error {
	f, err := tempfile.Create(filepath.Dir(vw.path), filepath.Base(vw.path)+".probe")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	_, err = f.Write(make([]byte, size))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// vectorFailingGauge is normguard_vector_state_failing.
func (vw *vectorWindows) failingGauge() prometheus.Collector {
	return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "normguard_vector_state_failing",
		Help: "1 while the vector state's journal (--state's .vectors.json.journal) cannot be written: the last vector observation's write failed " +
			"(a full disk, an I/O error; /healthz says which), and vector observations are refused, else 0."},
		func() float64 {
			if vw.problem() != "" {
				return 1
			}
			return 0
		})
}
