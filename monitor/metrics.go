package monitor

import (
	"sort"

	"github.com/prometheus/client_golang/prometheus"
)

var (
	descStatistic = prometheus.NewDesc("normguard_feature_drift_statistic",
		"Drift statistic of the feature in its latest judged window (the open one once judged, else the last closed one).",
		[]string{"model", "stage", "feature", "method"}, nil)
	descDrifting = prometheus.NewDesc("normguard_feature_drifting",
		"1 when the feature drifts in its latest judged window, else 0.",
		[]string{"model", "stage", "feature"}, nil)
	descMissing = prometheus.NewDesc("normguard_feature_missing_rate",
		"Share of the open window's rows where the feature is missing.",
		[]string{"model", "stage", "feature"}, nil)
	descOutOfRange = prometheus.NewDesc("normguard_feature_out_of_range_rate",
		"Share of the open window's rows where the numeric feature is outside the training [min, max].",
		[]string{"model", "stage", "feature"}, nil)
	descUnseen = prometheus.NewDesc("normguard_feature_unseen_category_rate",
		"Share of the open window's rows where the categorical feature holds a category not seen in training.",
		[]string{"model", "stage", "feature"}, nil)
	descAnomaly = prometheus.NewDesc("normguard_feature_anomaly",
		"1 for each data anomaly (code as in normguard validate) of the feature in its latest judged window.",
		[]string{"model", "stage", "feature", "code"}, nil)
	descRows = prometheus.NewDesc("normguard_window_rows",
		"Rows observed in the open window.",
		[]string{"model", "stage"}, nil)
	descDropped = prometheus.NewDesc("normguard_observations_dropped_total",
		"Observation batches dropped: by ObserveAsync (queue full, invalid input, monitor closed) and, for either path, over the model's window state budget.",
		nil, nil)
	descLate = prometheus.NewDesc("normguard_observations_late_total",
		"Event-time rows (--time-column) whose window had closed when they arrived; counted in the latest window.",
		nil, nil)
	descUntimed = prometheus.NewDesc("normguard_observations_untimed_total",
		"Event-time rows (--time-column) whose time is missing or does not parse; counted in the window of their arrival.",
		nil, nil)
	descTruncated = prometheus.NewDesc("normguard_values_truncated_total",
		"Categorical values longer than 256 bytes kept in windows as a marker naming their length and SHA-256.",
		nil, nil)
	descEvalPanics = prometheus.NewDesc("normguard_evaluation_failures_total",
		"Background drift evaluations of a model and stage that panicked (recovered and logged; the other models go on).",
		nil, nil)
	descStateFailing = prometheus.NewDesc("normguard_monitor_state_failing",
		"1 while the monitor's state file (--state) cannot be written: the last commit or checkpoint failed (a full disk, an I/O error; /healthz says which), else 0. Commits are tried again on every request and every second.",
		nil, nil)
	descStateFailures = prometheus.NewDesc("normguard_monitor_state_write_failures_total",
		"Commits and checkpoints of the monitor's state file (--state) that failed.",
		nil, nil)
	descSent = prometheus.NewDesc("normguard_alerts_sent_total",
		"Webhook alerts delivered.", nil, nil)
	descFailed = prometheus.NewDesc("normguard_alerts_failed_total",
		"Webhook alerts given up on (attempts exhausted, refused, or abandoned at shutdown).", nil, nil)
)

// Collector returns a Prometheus collector of the monitor's metrics,
// read at scrape time. Register it in the server's own registry.
func (m *Monitor) Collector() prometheus.Collector { return collector{m} }

type collector struct{ m *Monitor }

// Describe implements prometheus.Collector.
func (c collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descStatistic, descDrifting, descMissing, descOutOfRange, descUnseen, descAnomaly, descRows, descDropped, descLate, descUntimed, descTruncated, descEvalPanics, descStateFailing, descStateFailures, descSent, descFailed} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c collector) Collect(ch chan<- prometheus.Metric) {
	m := c.m
	ch <- prometheus.MustNewConstMetric(descDropped, prometheus.CounterValue, float64(m.dropped.Load()))
	ch <- prometheus.MustNewConstMetric(descLate, prometheus.CounterValue, float64(m.late.Load()))
	ch <- prometheus.MustNewConstMetric(descUntimed, prometheus.CounterValue, float64(m.untimed.Load()))
	ch <- prometheus.MustNewConstMetric(descTruncated, prometheus.CounterValue, float64(m.truncated.Load()))
	ch <- prometheus.MustNewConstMetric(descEvalPanics, prometheus.CounterValue, float64(m.evalPanics.Load()))
	failing := 0.0
	if m.failing() {
		failing = 1
	}
	ch <- prometheus.MustNewConstMetric(descStateFailing, prometheus.GaugeValue, failing)
	ch <- prometheus.MustNewConstMetric(descStateFailures, prometheus.CounterValue, float64(m.writeFailures.Load()))
	ch <- prometheus.MustNewConstMetric(descSent, prometheus.CounterValue, float64(m.alerts.sent.Load()))
	ch <- prometheus.MustNewConstMetric(descFailed, prometheus.CounterValue, float64(m.alerts.failed.Load()))
	states := m.stageStates()
	sort.Slice(states, func(i, j int) bool {
		if states[i].model != states[j].model {
			return states[i].model < states[j].model
		}
		return states[i].stage < states[j].stage
	})
	now := m.opt.Now().UnixNano()
	for _, ss := range states {
		ss.mu.Lock()
		var open *window
		if n := len(ss.windows); n > 0 && !ss.windows[n-1].closed && (ss.windows[n-1].end > now || m.opt.TimeColumn != "") {
			open = ss.windows[n-1]
		}
		var judged *WindowSummary
		for i := len(ss.windows) - 1; i >= 0 && judged == nil; i-- {
			if ss.windows[i].eval != nil {
				s := m.summarize(ss, ss.windows[i])
				judged = &s
			}
		}
		if judged == nil && len(ss.history) > 0 && ss.history[len(ss.history)-1].Judged {
			judged = &ss.history[len(ss.history)-1]
		}
		var current *WindowSummary
		if open != nil {
			s := m.summarize(ss, open)
			current = &s
		}
		ss.mu.Unlock()
		model, stage := ss.model, string(ss.stage)
		if current == nil && judged == nil {
			continue
		}
		rows := 0.0
		if current != nil {
			rows = float64(current.Rows)
			for _, f := range current.Features {
				if f.Rows == 0 {
					continue
				}
				ch <- prometheus.MustNewConstMetric(descMissing, prometheus.GaugeValue, float64(f.MissingRate), model, stage, f.Name)
				ch <- prometheus.MustNewConstMetric(descOutOfRange, prometheus.GaugeValue, float64(f.OutOfRangeRate), model, stage, f.Name)
				ch <- prometheus.MustNewConstMetric(descUnseen, prometheus.GaugeValue, float64(f.UnseenRate), model, stage, f.Name)
			}
		}
		ch <- prometheus.MustNewConstMetric(descRows, prometheus.GaugeValue, rows, model, stage)
		if judged == nil {
			continue
		}
		for _, a := range judged.Anomalies {
			ch <- prometheus.MustNewConstMetric(descAnomaly, prometheus.GaugeValue, 1, model, stage, a.Column, a.Code)
		}
		for _, f := range judged.Features {
			if f.Method == "" {
				continue
			}
			ch <- prometheus.MustNewConstMetric(descStatistic, prometheus.GaugeValue, float64(f.Statistic), model, stage, f.Name, f.Method)
			v := 0.0
			if f.Drift {
				v = 1
			}
			ch <- prometheus.MustNewConstMetric(descDrifting, prometheus.GaugeValue, v, model, stage, f.Name)
		}
	}
}
