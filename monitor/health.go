package monitor

import (
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// ErrNotSaved is wrapped by Observe's error when the rows could not be
// written to the state file (a disk full, an I/O error): they are not
// counted, and may be sent again. The next commit tries again, so the
// monitor recovers by itself once the file can be written (see Problem).
var ErrNotSaved = errors.New("observations not saved")

// A write of the state file that fails leaves the file as it was: bbolt
// rolls the transaction back (its freelist reloaded from the file), the
// committer undoes what it changed in memory (sequence numbers, the
// latest window of each stage), the waiters of the failed commit are
// answered with an error wrapping ErrNotSaved, the ObserveAsync records
// and closed windows of the failed commit are queued again, and the next
// commit (the next request, or the next FlushInterval) tries again; with
// nothing to write, a probe of the failed commit's size does (probe).
// While writes fail, Problem says so (serve's /healthz) and
// normguard_monitor_state_failing is 1. A failed checkpoint (or marker
// write) loses nothing, the rows being in the log: it is reported the
// same way and tried again every second.
//
// Two failures are not retried, and stay until a restart (which reads the
// file again, verified as at every start): a transaction that bbolt
// reports failed while the file shows it committed (an fsync failing
// after the meta page was written), and a file that cannot be read after
// the failure. Memory and file may then differ.

// storeHealth is what the committer's writes left (under m.qmu).
type storeHealth struct {
	// commitErr is the last commit's failure (rows not kept); nil once a
	// commit succeeds. ckptErr is the last checkpoint's (or marker's)
	// failure: the rows are in the log, but it grows until one succeeds.
	commitErr, ckptErr     error
	commitSince, ckptSince time.Time
	// failedBytes is the size of the records of the last failed commit:
	// the size the probe writes (probe).
	failedBytes int
}

// keyProbe is the meta key a probe writes and deletes (probe).
var keyProbe = []byte("probe")

// maxProbeBytes bounds the value a probe writes; a probe writes twice
// the failed commit's records and probeMargin (the commit writes more
// than its records: pages of the log, the ledger, the freelist).
const (
	maxProbeBytes = 4 << 20
	probeMargin   = 64 << 10
)

// probe, when the last commit failed (and this one, if any, was smaller),
// tries a write larger than the failed commit (at most maxProbeBytes,
// at most every ckptRetryEvery): a value put in the meta bucket, then
// deleted. Once it succeeds the failure is cleared, so that /healthz does
// not stay degraded after space came back on a replica that no request
// reaches (drained for being degraded). It returns false when the commit
// must stop there (the failure made sticky).
func (m *Monitor) probe(now time.Time) bool {
	m.qmu.Lock()
	failing, size := m.health.commitErr != nil, m.health.failedBytes
	m.qmu.Unlock()
	if !failing || now.Sub(m.probeTried) < ckptRetryEvery {
		return true
	}
	m.probeTried = now
	size = min(2*size+probeMargin, maxProbeBytes)
	err := m.update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put(keyProbe, make([]byte, size)) })
	if err == nil {
		m.probeLeft = true
		err = m.update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Delete(keyProbe) })
		if err == nil {
			m.probeLeft = false
		}
	}
	var ue *unsettledError
	switch {
	case errors.As(err, &ue):
		m.fail(nil, fmt.Errorf("monitor: write to %s: %w; restart the service: %w", m.path, err, ErrNotSaved))
		return false
	case err == nil:
		m.qmu.Lock() // as large as the failed commit (or maxProbeBytes)
		m.health.commitErr = nil
		m.qmu.Unlock()
	}
	return true
}

// unsettledError is a failed write whose outcome memory cannot follow:
// the file shows the transaction after all, or cannot be read.
type unsettledError struct{ err error }

func (e *unsettledError) Error() string { return e.err.Error() }
func (e *unsettledError) Unwrap() error { return e.err }

// update runs fn in a write transaction of the state file. When it fails,
// bbolt has rolled it back, and update checks that the file is still read
// and still at the transaction before: if not, it returns an
// *unsettledError.
func (m *Monitor) update(fn func(tx *bolt.Tx) error) error {
	id := 0
	err := m.db.Update(func(tx *bolt.Tx) error {
		id = tx.ID()
		if fault := m.writeFault.Load(); fault != nil {
			if err := (*fault)(); err != nil {
				return err
			}
		}
		return fn(tx)
	})
	if err == nil {
		return nil
	}
	cur := 0
	verr := protect(func() error {
		return m.db.View(func(tx *bolt.Tx) error {
			cur = tx.ID()
			return nil
		})
	})
	switch {
	case verr != nil:
		return &unsettledError{fmt.Errorf("%w; reading the file back after it: %v", err, firstLine(verr))}
	case id == 0 || cur >= id:
		return &unsettledError{fmt.Errorf("%w; yet the file shows the transaction committed", err)}
	}
	return err
}

// commitFailed answers the waiters of a failed commit, queues its
// ObserveAsync records (within MaxPendingBytes; the others dropped and
// counted) and finalizations again, and records the failure. An unsettled
// failure is made sticky instead.
func (m *Monitor) commitFailed(q []*pending, fins []*finalization, err error) {
	m.writeFailures.Add(1)
	var ue *unsettledError
	if errors.As(err, &ue) {
		m.fail(q, fmt.Errorf("monitor: commit to %s: %w; restart the service: %w", m.path, err, ErrNotSaved))
		return
	}
	err = fmt.Errorf("monitor: commit to %s: %w: %w", m.path, err, ErrNotSaved)
	var again, waiters []*pending
	bytes, size := 0, queuedBytes(q)
	for _, p := range q {
		switch {
		case p.done != nil:
			waiters = append(waiters, p)
		case p.data != nil:
			again = append(again, p)
			bytes += len(p.data)
		}
	}
	// The failure is recorded before the waiters hear of it: a request
	// refused then finds /healthz degraded.
	defer finish(waiters, err)
	m.qmu.Lock()
	if m.health.commitErr == nil {
		m.health.commitSince = m.opt.Now()
	}
	m.health.commitErr, m.health.failedBytes = err, size
	m.fins = append(fins, m.fins...)
	for len(again) > 0 && m.queueBytes+bytes > m.opt.MaxPendingBytes {
		bytes -= len(again[0].data)
		again = again[1:]
		m.dropped.Add(1)
	}
	if len(again) > 0 {
		m.queue = append(again, m.queue...)
		m.queueBytes += bytes
	}
	m.qmu.Unlock()
}

// commitSucceeded clears the failure of an earlier commit when this one,
// of size bytes of records, was at least as large: on a disk nearly full
// small commits go through while larger ones fail (the probe, of the
// failed size, clears it otherwise).
func (m *Monitor) commitSucceeded(size int) {
	m.qmu.Lock()
	if size >= m.health.failedBytes {
		m.health.commitErr = nil
	}
	m.qmu.Unlock()
}

// queuedBytes is the size of the records of q.
func queuedBytes(q []*pending) int {
	n := 0
	for _, p := range q {
		n += len(p.data)
	}
	return n
}

// checkpointFailed records a failed checkpoint (or marker write); an
// unsettled failure is made sticky.
func (m *Monitor) checkpointFailed(err error) {
	m.writeFailures.Add(1)
	var ue *unsettledError
	if errors.As(err, &ue) {
		m.fail(nil, fmt.Errorf("monitor: checkpoint to %s: %w; restart the service: %w", m.path, err, ErrNotSaved))
		return
	}
	m.qmu.Lock()
	if m.health.ckptErr == nil {
		m.health.ckptSince = m.opt.Now()
	}
	m.health.ckptErr = fmt.Errorf("monitor: checkpoint to %s: %w", m.path, err)
	m.qmu.Unlock()
}

// checkpointFailing reports whether the last checkpoint failed.
func (m *Monitor) checkpointFailing() bool {
	m.qmu.Lock()
	defer m.qmu.Unlock()
	return m.health.ckptErr != nil
}

// checkpointSucceeded clears the failure of an earlier checkpoint.
func (m *Monitor) checkpointSucceeded() {
	m.qmu.Lock()
	m.health.ckptErr = nil
	m.qmu.Unlock()
}

// ckptRetryEvery is how often a failed checkpoint is tried again.
const ckptRetryEvery = time.Second

// Problem says what is wrong with the state file, "" when nothing is:
// writes failing since when and with what error (rows are refused, and
// the commit tried again on every request and every FlushInterval), or
// a failure that needs a restart. serve's /healthz lists it.
func (m *Monitor) Problem() string {
	if m.readOnly {
		return ""
	}
	m.qmu.Lock()
	defer m.qmu.Unlock()
	stamp := func(t time.Time) string { return t.UTC().Format(time.RFC3339) }
	switch {
	case m.storeErr != nil:
		return fmt.Sprintf("monitor state file %s: writes failed and cannot be retried (restart the service): %v", m.path, m.storeErr)
	case m.health.commitErr != nil:
		return fmt.Sprintf("monitor state file %s: writes failing since %s, observations are refused (not counted) until one succeeds "+
			"and the transforms' inputs wait in the queue (dropped beyond its bound); tried again on every request and every second: %v", m.path, stamp(m.health.commitSince), m.health.commitErr)
	case m.health.ckptErr != nil:
		return fmt.Sprintf("monitor state file %s: checkpoints failing since %s (observations are kept, the log grows until one succeeds): %v",
			m.path, stamp(m.health.ckptSince), m.health.ckptErr)
	}
	return ""
}

// AlertProblem says, while the webhook loses drift alerts (refused,
// unreachable, too slow), which webhook, since when, how many and the
// last reason; "" when alerts are delivered or none is configured.
// serve's /healthz lists it.
func (m *Monitor) AlertProblem() string { return m.alerts.problem() }

// failing reports whether the state file's writes fail (the metric).
func (m *Monitor) failing() bool {
	if m.readOnly {
		return false
	}
	m.qmu.Lock()
	defer m.qmu.Unlock()
	return m.storeErr != nil || m.health.commitErr != nil || m.health.ckptErr != nil
}

// closeError is the failure Close reports: a sticky one, or the failure
// of the last commit or checkpoint (the final ones included).
func (m *Monitor) closeError() error {
	switch {
	case m.storeErr != nil:
		return m.storeErr
	case m.health.commitErr != nil:
		return m.health.commitErr
	}
	return m.health.ckptErr
}
