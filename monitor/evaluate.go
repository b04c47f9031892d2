package monitor

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"runtime/debug"
	"time"

	"github.com/normguard/normguard/drift"
	"github.com/normguard/normguard/table"
	"github.com/normguard/normguard/validate"
)

// Float is a float64 that JSON writes as null when it is NaN or infinite
// and reads back from null as NaN.
type Float float64

// MarshalJSON implements json.Marshaler.
func (f Float) MarshalJSON() ([]byte, error) { return drift.JSONFloat(f).MarshalJSON() }

// UnmarshalJSON implements json.Unmarshaler.
func (f *Float) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*f = Float(math.NaN())
		return nil
	}
	var v float64
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*f = Float(v)
	return nil
}

// WindowSummary describes one window of a model and stage: its counts and
// the drift engine's verdicts (of the last evaluation for an open window,
// of the final one for a closed window).
type WindowSummary struct {
	Start  time.Time `json:"start"`
	End    time.Time `json:"end"`
	Closed bool      `json:"closed"`
	Rows   int64     `json:"rows"`
	// Judged is false while the window has not been evaluated (fewer
	// than MinRows rows); the drift fields are then null or false.
	Judged bool `json:"judged"`
	// EvaluatedAt is when the verdicts were computed, EvaluatedRows the
	// window's rows at that time.
	EvaluatedAt    *time.Time       `json:"evaluated_at,omitempty"`
	EvaluatedRows  int64            `json:"evaluated_rows"`
	ArtifactDigest string           `json:"artifact_digest,omitempty"`
	DriftShare     Float            `json:"drift_share"`
	DatasetDrift   bool             `json:"dataset_drift"`
	Features       []FeatureSummary `json:"features"`
	// Anomalies are the window's data anomalies by the rules of
	// `normguard validate` (empty while the window is not judged).
	Anomalies []validate.Anomaly `json:"anomalies"`
	// State is a closed window's state as Export writes it (its counts
	// and drift summaries, which merge exactly), kept with the history so
	// that ExportHistory covers closed windows; nil for windows closed
	// before it was kept. History leaves it out.
	State *ExportWindow `json:"state,omitempty"`
}

// FeatureSummary is one feature of a WindowSummary. Rates are shares of the
// feature's rows (null when it has none); Mean and Std (population) are
// those of the window's present numeric values.
type FeatureSummary struct {
	Name           string `json:"name"`
	Type           string `json:"type"`
	Method         string `json:"method,omitempty"`
	Statistic      Float  `json:"statistic"`
	PValue         Float  `json:"p_value"`
	Threshold      Float  `json:"threshold"`
	Drift          bool   `json:"drift"`
	Rows           int64  `json:"rows"`
	Missing        int64  `json:"missing"`
	OutOfRange     int64  `json:"out_of_range"`
	Unseen         int64  `json:"unseen"`
	MissingRate    Float  `json:"missing_rate"`
	OutOfRangeRate Float  `json:"out_of_range_rate"`
	UnseenRate     Float  `json:"unseen_rate"`
	Mean           Float  `json:"mean"`
	Std            Float  `json:"std"`
	Error          string `json:"error,omitempty"`
}

// Alert is the JSON body of a webhook alert: a feature started drifting
// in a window.
type Alert struct {
	Model       string    `json:"model"`
	Stage       Stage     `json:"stage"`
	Feature     string    `json:"feature"`
	WindowStart time.Time `json:"window_start"`
	WindowEnd   time.Time `json:"window_end"`
	Method      string    `json:"method"`
	Statistic   Float     `json:"statistic"`
	PValue      Float     `json:"p_value"`
	Threshold   Float     `json:"threshold"`
	Rows        int64     `json:"rows"`
}

// evaluation is a drift verdict on a window.
type evaluation struct {
	at     time.Time
	rows   int64
	ref    *reference
	report *drift.Report
	byName map[string]*drift.Feature
	// anomalies are the validation rules' findings on the window.
	anomalies []validate.Anomaly
}

func unixTime(ns int64) time.Time { return time.Unix(0, ns).UTC() }

// evalLoop judges the open windows every EvalInterval, and closed windows
// as soon as the committer closes them.
func (m *Monitor) evalLoop() {
	defer close(m.evalDone)
	t := time.NewTicker(m.opt.EvalInterval)
	defer t.Stop()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-m.stopEval:
			cancel()
		case <-ctx.Done():
		}
	}()
	for {
		select {
		case <-m.stopEval:
			return
		case <-t.C:
		case <-m.evalKick:
		}
		m.evaluateAll(ctx)
	}
}

// Evaluate judges every open window now, and closes (judging them a last
// time and moving them to the history) the windows whose end has passed.
// It returns once the results are in place.
func (m *Monitor) Evaluate(ctx context.Context) error {
	if err := m.barrier(ctx); err != nil {
		return fmt.Errorf("monitor: evaluate: %w", err)
	}
	if err := m.evaluateAll(ctx); err != nil {
		return fmt.Errorf("monitor: evaluate: %w", err)
	}
	if err := m.barrier(ctx); err != nil {
		return fmt.Errorf("monitor: evaluate: %w", err)
	}
	return nil
}

// evalJob is a window to judge, with a copy of its samples.
type evalJob struct {
	w     *window
	final bool
	rows  int64
	cols  []table.Column
	sums  []validate.Summary
	ref   *reference
	// dsums are copies of the window's drift summaries against plans
	// (nil: the window is judged from its sample, cols).
	plans []*drift.SummaryPlan
	dsums []*drift.Summary
}

// evaluateAll judges the windows that changed since their last verdict
// and hands closed windows to the committer.
func (m *Monitor) evaluateAll(ctx context.Context) error {
	m.evalMu.Lock()
	defer m.evalMu.Unlock()
	var fins []*finalization
	var first error
stages:
	for _, ss := range m.stageStates() {
		si := ss.stage.index()
		var jobs []evalJob
		ss.mu.Lock()
		for _, w := range ss.windows {
			if w.finalizing {
				continue
			}
			judge := ss.ref != nil && w.rows >= int64(m.opt.MinRows) && (w.eval == nil || w.eval.rows != w.rows || !sameRef(w.eval.ref, ss.ref))
			if !w.closed && !judge {
				continue
			}
			j := evalJob{w: w, final: w.closed, rows: w.rows, ref: ss.ref}
			if judge {
				rs := &ss.ref.stages[si]
				j.plans = rs.summaryPlans(m.opt.Drift)
				if j.dsums = w.driftSummaries(rs, j.plans); j.dsums == nil {
					j.cols = w.columns(rs)
				}
				j.sums = w.summaries(rs, j.plans)
			}
			jobs = append(jobs, j)
		}
		ss.mu.Unlock()
		for _, j := range jobs {
			if err := ctx.Err(); err != nil {
				first = err // the windows left are judged on the next run
				break stages
			}
			var ev *evaluation
			if j.cols != nil || j.dsums != nil {
				var err error
				ev, err = m.judge(ss, j)
				if err != nil && first == nil {
					// A window that cannot be judged is still closed.
					first = fmt.Errorf("model %q stage %s: %w", ss.model, ss.stage, err)
				}
			}
			var alerts []Alert
			ss.mu.Lock()
			if ev != nil {
				j.w.eval = ev
				alerts = newAlerts(ss, j.w, ev)
			}
			if j.final {
				j.w.finalizing = true
				sum := m.summarize(ss, j.w)
				if ss.ref != nil {
					// nil when the window holds rows without summaries
					sum.State, _ = ss.exportWindow(j.w, ss.ref.stages[si].summaryPlans(m.opt.Drift))
				}
				fins = append(fins, &finalization{ss: ss, start: j.w.start, summary: sum})
			}
			ss.mu.Unlock()
			for _, a := range alerts {
				m.alerts.send(a)
			}
		}
	}
	if len(fins) > 0 {
		m.qmu.Lock()
		m.fins = append(m.fins, fins...)
		m.qmu.Unlock()
		select {
		case m.kick <- struct{}{}:
		default:
		}
	}
	return first
}

// compareProfile and compareSummaries are the drift engine of background
// evaluations, from a window's sample and from its summaries (a test
// replaces them to make one model's evaluation panic).
var (
	compareProfile   = drift.CompareProfile
	compareSummaries = drift.CompareSummaries
)

// judge computes the drift verdict and anomalies of a window. A panic (a
// bug, or an artifact the checks let through) is recovered into an error,
// counted in normguard_evaluation_failures_total and logged with its
// stack, so one model cannot stop the evaluation of the others. ev is nil
// when the drift engine failed.
func (m *Monitor) judge(ss *stageState, j evalJob) (ev *evaluation, err error) {
	defer func() {
		if v := recover(); v != nil {
			m.evalPanics.Add(1)
			stack := string(debug.Stack())
			m.opt.Logger.Error("monitor: drift evaluation panicked", "model", ss.model, "stage", string(ss.stage),
				"panic", fmt.Sprint(v), "stack", stack)
			ev, err = nil, fmt.Errorf("evaluation failed (%v); see the server log", v)
		}
	}()
	si := ss.stage.index()
	var rep *drift.Report
	if j.dsums != nil {
		rep, err = compareSummaries(j.plans, j.dsums, m.opt.Drift)
	} else {
		rep, err = compareProfile(j.ref.stages[si].profile, j.cols, m.opt.Drift)
	}
	if err != nil {
		return nil, err
	}
	ev = &evaluation{at: m.opt.Now(), rows: j.rows, ref: j.ref, report: rep, byName: map[string]*drift.Feature{}}
	for i := range rep.Features {
		ev.byName[rep.Features[i].Name] = &rep.Features[i]
	}
	ev.anomalies, err = anomalies(j.ref.stages[si].valid, j.rows, j.sums)
	return ev, err
}

// newAlerts marks the features of w that drift for the first time in the
// window and returns their alerts. ss.mu is held.
func newAlerts(ss *stageState, w *window, ev *evaluation) []Alert {
	var out []Alert
	for i := range ev.report.Features {
		f := &ev.report.Features[i]
		fs := w.byName[f.Name]
		if !f.Drift || fs == nil || fs.alerted {
			continue
		}
		fs.alerted, ss.dirty = true, true
		out = append(out, Alert{Model: ss.model, Stage: ss.stage, Feature: f.Name,
			WindowStart: unixTime(w.start), WindowEnd: unixTime(w.end), Method: f.Method,
			Statistic: Float(f.Statistic), PValue: Float(f.PValue), Threshold: Float(f.Threshold), Rows: w.rows})
	}
	return out
}

// driftSummaries copies the window's drift summaries, one per profiled
// feature in profile order against plans (an empty one when the window
// has none of the feature), or returns nil when a feature holds rows
// added without a summary (partial): the window is then judged from its
// sample. The caller holds the stage's lock.
func (w *window) driftSummaries(rs *refStage, plans []*drift.SummaryPlan) []*drift.Summary {
	out := make([]*drift.Summary, len(rs.features))
	for i, rf := range rs.features {
		fs := w.byName[rf.name]
		if fs == nil || fs.numeric != rf.numeric {
			out[i] = plans[i].NewSummary()
			continue
		}
		s := fs.summaryFor(plans[i])
		if fs.partial || s == nil {
			return nil
		}
		out[i] = s.Clone()
	}
	return out
}

// columns copies the window's samples as columns, one per profiled
// feature (empty when the window has none of it).
func (w *window) columns(rs *refStage) []table.Column {
	cols := make([]table.Column, len(rs.features))
	for i, rf := range rs.features {
		if fs := w.byName[rf.name]; fs != nil && fs.numeric == rf.numeric {
			cols[i] = fs.column()
			continue
		}
		cols[i] = table.Column{Name: rf.name, Kind: table.String, Str: []string{}}
		if rf.numeric {
			cols[i] = table.Column{Name: rf.name, Kind: table.Numeric, Num: []float64{}}
		}
	}
	return cols
}

// Drift compares the current window of a model and stage with the
// artifact's profile, now. The report is the drift JSON of `normguard drift`
// (with each feature's Plot filled in for the dashboard); it is computed
// whatever the window's rows, MinRows only gates the background verdicts,
// metrics and alerts. Without rows in the current window it returns an
// error wrapping ErrNoObservations.
func (m *Monitor) Drift(model string, stage Stage) (*drift.Report, Window, error) {
	ss := m.lookup(model, stage)
	if ss == nil {
		return nil, Window{}, fmt.Errorf("monitor: drift of model %q stage %q: %w", model, stage, ErrNoObservations)
	}
	now := m.opt.Now().UnixNano()
	ss.mu.Lock()
	var w *window
	// With event time the open window is the latest one, whatever the
	// clock says.
	if n := len(ss.windows); n > 0 && !ss.windows[n-1].closed && (ss.windows[n-1].end > now || m.opt.TimeColumn != "") {
		w = ss.windows[n-1]
	}
	if w == nil || w.rows == 0 {
		ss.mu.Unlock()
		return nil, Window{}, fmt.Errorf("monitor: drift of model %q stage %s: %w", model, stage, ErrNoObservations)
	}
	if ss.ref == nil {
		rows := w.rows
		ss.mu.Unlock()
		return nil, Window{Start: unixTime(w.start), End: unixTime(w.end), Rows: rows}, fmt.Errorf(
			"monitor: drift of model %q stage %s: the open window holds %d rows, but %s; they are judged once the model's next row (an observation or a transform) attaches its artifact: %w",
			model, stage, rows, m.noReference(model), ErrUnjudged)
	}
	ref := ss.ref
	win := Window{Start: unixTime(w.start), End: unixTime(w.end), Rows: w.rows}
	rs := &ref.stages[stage.index()]
	if len(rs.features) > 0 {
		var most int64
		for _, rf := range rs.features {
			if fs := w.byName[rf.name]; fs != nil && fs.numeric == rf.numeric {
				most = max(most, fs.rows)
			}
		}
		win.Unprofiled = max(0, w.rows-most)
	}
	plans := rs.summaryPlans(m.opt.Drift)
	dsums := w.driftSummaries(rs, plans)
	for i, s := range dsums {
		// A summary covering fewer of the rows the features count
		// started again with a profile that changed mid-window.
		if s.Rows < w.rows-win.Unprofiled {
			win.Restarted = append(win.Restarted, RestartedFeature{Name: rs.features[i].name, Rows: s.Rows})
		}
	}
	var cols []table.Column
	if dsums == nil {
		cols = w.columns(rs)
	}
	sums := w.summaries(rs, plans)
	ss.mu.Unlock()
	var rep *drift.Report
	var err error
	if dsums != nil {
		rep, err = drift.CompareSummaries(plans, dsums, m.opt.Drift)
	} else {
		rep, err = drift.CompareProfile(rs.profile, cols, m.opt.Drift)
	}
	if err != nil {
		return nil, win, fmt.Errorf("monitor: drift of model %q stage %s: %w", model, stage, err)
	}
	win.Anomalies, err = anomalies(ref.stages[stage.index()].valid, win.Rows, sums)
	if err != nil {
		return nil, win, fmt.Errorf("monitor: anomalies of model %q stage %s: %w", model, stage, err)
	}
	if win.Anomalies == nil {
		win.Anomalies = []validate.Anomaly{}
	}
	return rep, win, nil
}

// History returns the summaries of a model's stage, oldest first: the
// closed windows kept (up to Options.History), then the windows still in
// memory (closed ones awaiting their final verdict, and the open one).
func (m *Monitor) History(model string, stage Stage) []WindowSummary {
	ss := m.lookup(model, stage)
	if ss == nil {
		return nil
	}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	out := append([]WindowSummary(nil), ss.history...)
	for i := range out {
		out[i].State = nil
	}
	for _, w := range ss.windows {
		out = append(out, m.summarize(ss, w))
	}
	return out
}

// summarize describes a window. ss.mu is held.
func (m *Monitor) summarize(ss *stageState, w *window) WindowSummary {
	s := WindowSummary{Start: unixTime(w.start), End: unixTime(w.end), Closed: w.closed, Rows: w.rows,
		DriftShare: Float(math.NaN()), Features: []FeatureSummary{}, Anomalies: []validate.Anomaly{}}
	var names []string
	types := map[string]string{}
	if ss.ref != nil {
		s.ArtifactDigest = ss.ref.digest
		for _, p := range ss.ref.stages[ss.stage.index()].profile {
			names = append(names, p.Name)
			types[p.Name] = p.Type
		}
	} else {
		for _, f := range w.feats {
			names = append(names, f.name)
		}
	}
	ev := w.eval
	if ev != nil {
		at := ev.at.UTC()
		s.Judged, s.EvaluatedAt, s.EvaluatedRows = true, &at, ev.rows
		s.DriftShare, s.DatasetDrift = Float(ev.report.DriftShare), ev.report.DatasetDrift
		if ev.anomalies != nil {
			s.Anomalies = ev.anomalies
		}
	}
	for _, name := range names {
		fs := FeatureSummary{Name: name, Type: types[name], Statistic: nan(), PValue: nan(), Threshold: nan(),
			MissingRate: nan(), OutOfRangeRate: nan(), UnseenRate: nan(), Mean: nan(), Std: nan()}
		if f := w.byName[name]; f != nil {
			if fs.Type == "" {
				fs.Type = "categorical"
				if f.numeric {
					fs.Type = "numeric"
				}
			}
			fs.Rows, fs.Missing, fs.OutOfRange, fs.Unseen = f.rows, f.missing, f.oor, f.unseen
			if f.rows > 0 {
				r := float64(f.rows)
				fs.MissingRate, fs.OutOfRangeRate, fs.UnseenRate = Float(float64(f.missing)/r), Float(float64(f.oor)/r), Float(float64(f.unseen)/r)
			}
			if f.numeric && f.moments.N > 0 {
				fs.Mean, fs.Std = Float(f.moments.Mean()), Float(f.moments.Std())
			}
		}
		if ev != nil {
			if d := ev.byName[name]; d != nil {
				fs.Method, fs.Statistic, fs.PValue, fs.Threshold = d.Method, Float(d.Statistic), Float(d.PValue), Float(d.Threshold)
				fs.Drift, fs.Error = d.Drift, d.Error
			}
		}
		s.Features = append(s.Features, fs)
	}
	return s
}

func nan() Float { return Float(math.NaN()) }
