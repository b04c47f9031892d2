package monitor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/drift"
	"github.com/normguard/normguard/table"
	"github.com/normguard/normguard/validate"
)

var (
	// ErrClosed is returned by calls on a closed Monitor.
	ErrClosed = errors.New("monitor closed")
	// ErrNoObservations is wrapped when a model and stage have no rows in
	// the current window.
	ErrNoObservations = errors.New("no observations in the current window")
	// ErrInvalid is wrapped by Observe's errors about the observations
	// themselves (bad model name or stage, columns of the wrong kind or
	// length, an artifact without a profile).
	ErrInvalid = errors.New("invalid observations")
	// ErrBudget is wrapped by Observe's error when the model's window
	// state on disk is over Options.MaxModelBytes.
	ErrBudget = errors.New("model over its monitoring state budget")
)

// Options configure a Monitor. The zero value gives the defaults.
type Options struct {
	// Window is the length of the tumbling windows (0: time.Hour).
	// Windows start at multiples of Window since the Unix epoch, except
	// windows of whole weeks, which start on Mondays 00:00 UTC (ISO
	// weeks; see WindowStart).
	Window time.Duration
	// SampleSize is the number of values kept per feature and window for
	// the drift engine (0: 20000). A window keeps the size it was opened
	// with.
	SampleSize int
	// FlushInterval bounds how long ObserveAsync rows wait to be committed
	// (0: 200ms).
	FlushInterval time.Duration
	// EvalInterval is how often open windows are judged again (0: 10s).
	EvalInterval time.Duration
	// CheckpointInterval is how often window states are checkpointed and
	// the log behind them deleted (0: 1 minute). A shorter interval makes
	// the log, and the replay at Open, shorter.
	CheckpointInterval time.Duration
	// MaxPendingBytes bounds the encoded ObserveAsync rows waiting to be
	// committed; beyond it batches are dropped (0: 64 MiB).
	MaxPendingBytes int
	// MinRows is the number of rows from which a window is judged (0: 100).
	MinRows int
	// History is the number of closed-window summaries kept per model and
	// stage (0: 168, a week of hours).
	History int
	// Drift configures the drift engine (method, threshold, bins, share).
	Drift drift.Options
	// Alert sends webhook alerts; nil sends none.
	Alert *Alerter
	// Now is the clock (nil: time.Now).
	Now func() time.Time
	// Logger receives what the monitor does on its own: recovered
	// evaluation panics, rows dropped over MaxModelBytes (nil: discard).
	Logger *slog.Logger
	// MaxModelBytes bounds the window state one model keeps on disk
	// (checkpoints and the log after them, both stages; 0:
	// DefaultMaxModelBytes). Beyond it, new observations of the model are
	// refused (Observe: an error wrapping ErrBudget) or dropped
	// (ObserveAsync), counted in normguard_observations_dropped_total and
	// logged, until a checkpoint or a closed window frees room.
	MaxModelBytes int64
	// TimeColumn, when set, names the column holding each row's event
	// time (text such as 2006-01-02 15:04:05 or RFC 3339, or seconds since
	// the Unix epoch): rows go to the window of their own time, not of
	// their arrival, and windows close when rows of a later window arrive
	// (see event.go for late and untimed rows).
	TimeColumn string
	// Reattach, when set, gives the artifacts a model's rows may have
	// been observed under (ReattachFunc; serve: the registry's versions,
	// the current one first). Open calls it for each model whose windows
	// the state file holds without the model's reference (a recovery that
	// lost its refs record) and attaches the reference of the first
	// artifact the windows were observed under (their features, the
	// profile their drift summaries were made against, the counts out of
	// range and unseen their logged rows kept), as a row of the model's
	// attaches its artifact, before the windows' rows are loaded, and
	// writes it to the file. A model it gives none such for (none held any
	// more, an error, or Reattach nil), or two such that profile the
	// features differently (rows kept only in the log name no artifact,
	// and a version whose ranges and categories cover their values gives
	// the counts of another), keeps its rows unjudged until its
	// next row: Reattached and ReferenceProblems say so, Drift answers
	// ErrUnjudged and Export lists its windows as skipped.
	Reattach ReattachFunc

	// rebuildLedger makes Open write the ledger from the rows loaded
	// (Recover, on the file it rebuilt).
	rebuildLedger bool
}

// Default values of Options.
const (
	DefaultWindow             = time.Hour
	DefaultSampleSize         = 20000
	DefaultFlushInterval      = 200 * time.Millisecond
	DefaultEvalInterval       = 10 * time.Second
	DefaultCheckpointInterval = time.Minute
	DefaultMaxPendingBytes    = 64 << 20
	DefaultMinRows            = 100
	DefaultHistory            = 168
	DefaultMaxModelBytes      = 1 << 30
)

// Validate reports the first option with an impossible value.
func (o Options) Validate() error {
	checks := []struct {
		field string
		bad   bool
	}{
		{"Window", o.Window < 0},
		{"SampleSize", o.SampleSize < 0},
		{"FlushInterval", o.FlushInterval < 0},
		{"EvalInterval", o.EvalInterval < 0},
		{"CheckpointInterval", o.CheckpointInterval < 0},
		{"MaxPendingBytes", o.MaxPendingBytes < 0},
		{"MinRows", o.MinRows < 0},
		{"History", o.History < 0},
		{"MaxModelBytes", o.MaxModelBytes < 0},
	}
	for _, c := range checks {
		if c.bad {
			return fmt.Errorf("monitor: option %s is negative; use 0 for the default or a positive value", c.field)
		}
	}
	if o.Alert != nil {
		if err := o.Alert.validate(); err != nil {
			return err
		}
	}
	return nil
}

func (o Options) withDefaults() Options {
	def := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	defInt := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&o.Window, DefaultWindow)
	def(&o.FlushInterval, DefaultFlushInterval)
	def(&o.EvalInterval, DefaultEvalInterval)
	def(&o.CheckpointInterval, DefaultCheckpointInterval)
	defInt(&o.SampleSize, DefaultSampleSize)
	defInt(&o.MaxPendingBytes, DefaultMaxPendingBytes)
	defInt(&o.MinRows, DefaultMinRows)
	defInt(&o.History, DefaultHistory)
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.MaxModelBytes == 0 {
		o.MaxModelBytes = DefaultMaxModelBytes
	}
	return o
}

// Window locates a tumbling window.
type Window struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	Rows  int64     `json:"rows"`
	// Unprofiled counts the window's rows that no feature of the stage's
	// current artifact counts: rows judged by an artifact that was
	// current before it, made current mid-window (a window's summaries
	// start again with a new artifact). The drift report covers the
	// others only.
	Unprofiled int64 `json:"unprofiled_rows,omitempty"`
	// Restarted lists the current artifact's features whose drift
	// summaries cover fewer rows than the features count (Rows minus
	// Unprofiled): a version made current mid-window under the same
	// feature names starts again the summary of each feature it profiles
	// differently, while the features' counts go on, so Unprofiled (rows
	// no feature counts) stays 0 and the report judges these on the rows
	// since only. Set for an open window's drift, from its summaries.
	Restarted []RestartedFeature `json:"restarted_features,omitempty"`
	// Anomalies are the window's data anomalies by the rules of
	// `normguard validate`, as Drift computed them; the drift endpoint
	// writes them beside the report, not inside the window.
	Anomalies []validate.Anomaly `json:"-"`
}

// RestartedFeature is a feature of a window whose drift summary started
// again mid-window: it covers Rows of the window's rows.
type RestartedFeature struct {
	Name string `json:"name"`
	Rows int64  `json:"rows"`
}

// Monitor keeps the windowed statistics of observed features. Its methods
// are safe for concurrent use.
type Monitor struct {
	opt  Options
	db   *bolt.DB
	path string

	mu     sync.RWMutex
	models map[string]*modelState

	// The queue of records for the committer.
	qmu        sync.Mutex
	queue      []*pending
	queueBytes int
	fins       []*finalization
	closing    bool
	storeErr   error // sticky: the store failed and cannot be retried (health.go)
	health     storeHealth

	kick       chan struct{}
	stopCommit chan struct{}
	commitDone chan struct{}
	evalKick   chan struct{}
	stopEval   chan struct{}
	evalDone   chan struct{}
	evalMu     sync.Mutex

	// readOnly is set by OpenReadOnly: nothing is written (no committer,
	// no evaluations, no marker); v1 is set when the file read is of
	// format /1 (its values unsealed).
	readOnly, v1 bool
	// reattached is what Open did for the models whose windows the file
	// held without their reference (reattach.go); set by Open only.
	reattached []Reattachment

	// Committer-owned.
	lastCheckpoint time.Time
	logBytes       int
	abandon        bool // tests: stop without the final commit
	// checkpoints is the file's checkpoint count (store.go's
	// keyCheckpoints), which the marker records.
	checkpoints uint64
	// markerStale is set while the marker lags a checkpoint whose marker
	// write failed; ckptTried is when a failed checkpoint was last tried.
	markerStale bool
	ckptTried   time.Time
	// probeTried is when a probe (health.go) last ran; probeLeft is set
	// while a probe's value may be left in the file.
	probeTried time.Time
	probeLeft  bool
	// writeFault, when set (tests), fails the state file's writes: its
	// error fails the transaction as a full disk does.
	writeFault atomic.Pointer[func() error]

	writeFailures atomic.Int64 // failed commits and checkpoints

	dropped    atomic.Int64
	late       atomic.Int64 // event-time rows counted in a later window
	untimed    atomic.Int64 // event-time rows without a time that parses
	truncated  atomic.Int64 // categorical values over MaxValueBytes
	evalPanics atomic.Int64
	alerts     *sender
	closeOnce  sync.Once
	closeErr   error
}

// modelState is the state of one model: its latest reference and its two
// stages.
type modelState struct {
	name string
	ref  atomic.Pointer[reference] // the reference of the latest artifact observed
	refs sync.Map                  // digest → *reference
	// durable is the reference the refs bucket holds (committer-owned).
	durable *reference
	stages  [2]*stageState
	// diskBytes is the window state the model keeps on disk (store.go).
	diskBytes atomic.Int64
	// budgetLogged is when a drop over MaxModelBytes was last logged
	// (Unix seconds).
	budgetLogged atomic.Int64
	// eventLatest is, per stage, 1 + the start of the latest event-time
	// window rows were prepared for (0: none yet); lateLogged is when late
	// rows were last logged (Unix seconds).
	eventLatest [2]atomic.Int64
	lateLogged  atomic.Int64
}

// pending is a record waiting for the committer; nil data is a barrier.
type pending struct {
	ms    *modelState
	stage int
	ref   *reference
	start int64 // window start of the time the rows were observed
	data  []byte
	done  chan error // nil for ObserveAsync
	// offsets are written in the transaction that commits the record
	// (offsets.go).
	offsets []Offset
}

// kickBytes is the queue size from which the committer is woken before
// its next FlushInterval tick, to keep transactions small.
const kickBytes = 1 << 20

// Open opens (creating it if needed) the monitor's bbolt file at path and
// recovers its windows: checkpoints, then the log after them. It fails
// when another process holds the file. An existing file is verified first
// (meta pages, size, every record's checksum, bbolt's consistency check,
// the rows against the ledger); a damaged one, or an empty one, is refused
// with an error wrapping ErrDamaged (a *DamageError) and left untouched:
// Recover keeps what verifies.
func Open(path string, opt Options) (*Monitor, error) {
	return open(path, opt, false)
}

// errReadOnly is what a Monitor opened by OpenReadOnly answers writes with.
var errReadOnly = errors.New("monitor: the state file is open read-only; observations are not kept")

// OpenReadOnly opens the monitor's existing bbolt file at path to read it
// (normguard monitor export): the file and its marker are left byte for
// byte as they are, and no marker is created. The file is verified and
// checked against its marker as Open does: a damaged, emptied, replaced
// or older file is refused the same way (a *DamageError). A file of the
// format before checksums (/1) is read as it is, converted in memory
// only. The Monitor answers reads (Export, ExportHistory, History,
// Offsets); observations are refused, windows are neither judged nor
// closed, and Close only closes the file. It fails when a service holds
// the file.
func OpenReadOnly(path string, opt Options) (*Monitor, error) {
	return open(path, opt, true)
}

func open(path string, opt Options, readOnly bool) (*Monitor, error) {
	if err := opt.Validate(); err != nil {
		return nil, err
	}
	opt = opt.withDefaults()
	exists, err := checkFile(path)
	if err != nil {
		return nil, err
	}
	if !exists && readOnly {
		return nil, fmt.Errorf("monitor: open %s: %w", path, os.ErrNotExist)
	}
	var db *bolt.DB
	err = protect(func() (err error) {
		db, err = bolt.Open(path, 0o600, &bolt.Options{Timeout: 2 * time.Second, ReadOnly: readOnly})
		return err
	})
	if err != nil {
		if exists && !errors.Is(err, bolt.ErrTimeout) && !errors.Is(err, os.ErrPermission) {
			return nil, &DamageError{Path: path, What: "bbolt cannot open it: " + firstLine(err)}
		}
		return nil, fmt.Errorf("monitor: open %s: %w (is another normguard serving with this file?)", path, err)
	}
	m := &Monitor{
		opt:        opt,
		db:         db,
		path:       path,
		models:     map[string]*modelState{},
		kick:       make(chan struct{}, 1),
		stopCommit: make(chan struct{}),
		commitDone: make(chan struct{}),
		evalKick:   make(chan struct{}, 1),
		stopEval:   make(chan struct{}),
		evalDone:   make(chan struct{}),
		alerts:     newSender(opt.Alert, opt.Logger),
		readOnly:   readOnly,
	}
	if exists {
		if err := protect(m.verify); err != nil {
			db.Close()
			var de *DamageError
			if errors.As(err, &de) {
				return nil, err
			}
			return nil, &DamageError{Path: path, What: firstLine(err)}
		}
	}
	if err := protect(m.recover); err != nil {
		db.Close()
		var de *DamageError
		var fe *faultError
		if errors.As(err, &de) || errors.Is(err, errCorrupt) || errors.As(err, &fe) {
			if de == nil {
				de = &DamageError{Path: path, What: firstLine(err)}
			}
			return nil, de
		}
		return nil, fmt.Errorf("monitor: recover %s: %w", path, err)
	}
	if readOnly {
		m.storeErr = errReadOnly // enqueue refuses every write
		return m, nil
	}
	m.lastCheckpoint = opt.Now()
	go m.commitLoop()
	go m.evalLoop()
	return m, nil
}

// Close commits every queued observation, checkpoints the windows, stops
// the background work, waits for alert deliveries (up to the Alerter's
// DrainTimeout) and closes the file.
func (m *Monitor) Close() error {
	if m.readOnly {
		m.closeOnce.Do(func() {
			m.alerts.close()
			m.forgetSources()
			if err := m.db.Close(); err != nil {
				m.closeErr = fmt.Errorf("monitor: close %s: %w", m.path, err)
			}
		})
		return m.closeErr
	}
	m.closeOnce.Do(func() {
		m.qmu.Lock()
		m.closing = true
		m.qmu.Unlock()
		close(m.stopEval)
		<-m.evalDone
		close(m.stopCommit)
		<-m.commitDone
		m.alerts.close()
		m.forgetSources()
		err := m.db.Close()
		m.qmu.Lock()
		if ferr := m.closeError(); ferr != nil && !m.abandon {
			err = errors.Join(ferr, err)
		}
		m.qmu.Unlock()
		if err != nil {
			m.closeErr = fmt.Errorf("monitor: close %s: %w", m.path, err)
		}
	})
	return m.closeErr
}

// forgetSources drops the summary sources of the monitor's stages.
func (m *Monitor) forgetSources() {
	m.mu.RLock()
	for _, ms := range m.models {
		for _, ss := range ms.stages {
			summarySources.Delete(ss)
		}
	}
	m.mu.RUnlock()
}

// model returns the state of the named model, creating it.
func (m *Monitor) model(name string) *modelState {
	m.mu.RLock()
	ms := m.models[name]
	m.mu.RUnlock()
	if ms != nil {
		return ms
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if ms = m.models[name]; ms == nil {
		ms = &modelState{name: name}
		for i, s := range stages {
			ms.stages[i] = &stageState{model: name, stage: s}
			summarySources.Store(ms.stages[i], &summarySource{ms: ms, stage: i, opt: m.opt.Drift})
		}
		m.models[name] = ms
	}
	return ms
}

// lookup returns the state of a model's stage, or nil.
func (m *Monitor) lookup(model string, stage Stage) *stageState {
	i := stage.index()
	if i < 0 {
		return nil
	}
	m.mu.RLock()
	ms := m.models[model]
	m.mu.RUnlock()
	if ms == nil {
		return nil
	}
	return ms.stages[i]
}

// reference returns the reference of artifact a, building it on first use.
func (ms *modelState) reference(a *artifact.Artifact) (*reference, error) {
	r := ms.ref.Load()
	if r != nil && r.art == a && a != nil {
		return r, nil
	}
	if a == nil {
		return nil, fmt.Errorf("monitor: no artifact given for model %q: %w", ms.name, ErrInvalid)
	}
	if v, ok := ms.refs.Load(a.Digest); ok && a.Digest != "" {
		c := *v.(*reference)
		c.art = a
		ms.ref.Store(&c)
		return &c, nil
	}
	nr, err := newReference(a)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", err, ErrInvalid)
	}
	if a.Digest != "" {
		ms.refs.Store(a.Digest, nr)
	}
	ms.ref.Store(nr)
	return nr, nil
}

// windowStart returns the start of the window holding t, in Unix
// nanoseconds (WindowStart: weeks start on Mondays).
func (m *Monitor) windowStart(t time.Time) int64 {
	return WindowStart(t, m.opt.Window).UnixNano()
}

func checkModel(model string) error {
	if model == "" || strings.IndexByte(model, 0) >= 0 {
		return fmt.Errorf("monitor: model name %q must be non-empty and without NUL bytes: %w", model, ErrInvalid)
	}
	return nil
}

// prepare encodes the observations into a pending record.
func (m *Monitor) prepare(model string, a *artifact.Artifact, stage Stage, cols []table.Column, n int) (*pending, error) {
	if err := checkModel(model); err != nil {
		return nil, err
	}
	si := stage.index()
	if si < 0 {
		return nil, fmt.Errorf("monitor: stage %q: use %q or %q: %w", stage, StageInput, StageOutput, ErrInvalid)
	}
	ms := m.model(model)
	ref, err := ms.reference(a)
	if err != nil {
		return nil, err
	}
	rs := &ref.stages[si]
	size := 8 + len(rs.features)*(3+9*n)
	p := &pending{ms: ms, stage: si, ref: ref, start: m.windowStart(m.opt.Now())}
	var long int
	p.data, long = encodeRecord(make([]byte, 0, size), rs, cols, n)
	if long > 0 {
		m.truncated.Add(int64(long))
	}
	if used := ms.diskBytes.Load(); used+int64(len(p.data)) > m.opt.MaxModelBytes {
		now := m.opt.Now().Unix()
		if last := ms.budgetLogged.Load(); now-last >= 60 && ms.budgetLogged.CompareAndSwap(last, now) {
			m.opt.Logger.Warn("monitor: observations dropped: the model's window state is over its budget",
				"model", model, "state_bytes", used, "budget_bytes", m.opt.MaxModelBytes, "rows", n)
		}
		return nil, fmt.Errorf("monitor: model %q keeps %d bytes of window state, its budget is %d; %d rows dropped until a checkpoint or the window's end frees room: %w",
			model, used, m.opt.MaxModelBytes, n, ErrBudget)
	}
	return p, nil
}

// checkColumns reports observed columns that the profile knows under
// another kind or that hold fewer than n rows.
func checkColumns(model string, rs *refStage, cols []table.Column, n int) error {
	for i := range cols {
		c := &cols[i]
		j, ok := rs.byName[c.Name]
		if !ok {
			continue
		}
		f := &rs.features[j]
		want := table.String
		if f.numeric {
			want = table.Numeric
		}
		if c.Kind != want {
			return fmt.Errorf("monitor: model %q column %q is %s but the artifact's profile has it %s: %w", model, c.Name, c.Kind, want, ErrInvalid)
		}
		if c.Len() != n || (c.Kind == table.String && c.Null != nil && len(c.Null) != n) {
			return fmt.Errorf("monitor: model %q column %q has %d rows, want %d: %w", model, c.Name, c.Len(), n, ErrInvalid)
		}
	}
	return nil
}

// Observe records n rows of a model's columns (numeric or string
// table.Columns, matched to the profile of artifact a by name) and returns
// once they are committed to disk with fsync; concurrent calls share a
// commit. The columns may be reused as soon as it returns. Use it where an
// acknowledgement must survive a crash (POST /observations). If ctx ends
// first, Observe returns its error and the rows may or may not be kept.
func (m *Monitor) Observe(ctx context.Context, model string, a *artifact.Artifact, stage Stage, cols []table.Column, n int) error {
	if n < 0 {
		return fmt.Errorf("monitor: %d rows: %w", n, ErrInvalid)
	}
	if n == 0 {
		return nil
	}
	ps, err := m.prepareBatches(model, a, stage, cols, n)
	if err != nil {
		if errors.Is(err, ErrBudget) {
			m.dropped.Add(1)
		}
		return err
	}
	if err := checkColumns(model, &ps[0].ref.stages[ps[0].stage], cols, n); err != nil {
		return err
	}
	for _, p := range ps {
		p.done = make(chan error, 1)
	}
	if err := m.enqueueAll(ps); err != nil {
		return err
	}
	for _, p := range ps { // one transaction commits them all
		select {
		case err := <-p.done:
			if err != nil {
				return err
			}
		case <-ctx.Done():
			return fmt.Errorf("monitor: observe %q: %w", model, ctx.Err())
		}
	}
	return nil
}

// ObserveAsync records n rows like Observe but never waits: it encodes the
// rows (the columns may be reused at once) and queues them; they are
// committed within FlushInterval. Invalid input, a full queue or a closed
// monitor drop the batch and count it in
// normguard_observations_dropped_total. Use it on the transform path.
func (m *Monitor) ObserveAsync(model string, a *artifact.Artifact, stage Stage, cols []table.Column, n int) {
	if n <= 0 {
		return
	}
	ps, err := m.prepareBatches(model, a, stage, cols, n)
	if err != nil {
		m.dropped.Add(1)
		return
	}
	for _, p := range ps {
		if m.enqueue(p, false) != nil {
			m.dropped.Add(1)
			return
		}
	}
}

var errQueueFull = errors.New("monitor queue full")

// enqueue queues p for the committer; wait wakes the committer at once.
func (m *Monitor) enqueue(p *pending, wait bool) error {
	m.qmu.Lock()
	switch {
	case m.closing:
		m.qmu.Unlock()
		return ErrClosed
	case m.storeErr != nil:
		err := m.storeErr
		m.qmu.Unlock()
		return err
	case !wait && m.queueBytes+len(p.data) > m.opt.MaxPendingBytes:
		m.qmu.Unlock()
		return errQueueFull
	}
	m.queue = append(m.queue, p)
	m.queueBytes += len(p.data)
	wake := wait || m.queueBytes >= kickBytes
	m.qmu.Unlock()
	if wake {
		select {
		case m.kick <- struct{}{}:
		default:
		}
	}
	return nil
}

// barrier returns once everything queued before it is committed (and
// windows past their end are closed).
func (m *Monitor) barrier(ctx context.Context) error {
	p := &pending{done: make(chan error, 1)}
	if err := m.enqueue(p, true); err != nil {
		return err
	}
	select {
	case err := <-p.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}
