package server

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the request-level series; the monitor adds the per-feature
// ones at scrape time.
type metrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	rows     *prometheus.CounterVec
	busy     *prometheus.CounterVec
	// refused counts the vectors POST .../observations?producer= refused,
	// by reason; producers past the ones a column names are counted
	// under producer "" (see vectorWindows.refuse).
	refused *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "normguard_requests_total",
			Help: "API requests by endpoint, model, artifact version and HTTP status code.",
		}, []string{"endpoint", "model", "version", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "normguard_request_duration_seconds",
			Help: "Time to answer an API request, by endpoint, model and artifact version.",
			Buckets: []float64{0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025,
				0.05, 0.1, 0.25, 0.5, 1, 2.5},
		}, []string{"endpoint", "model", "version"}),
		rows: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "normguard_rows_total",
			Help: "Rows transformed or observed, by endpoint, model and artifact version.",
		}, []string{"endpoint", "model", "version"}),
		busy: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "normguard_busy_refusals_total",
			Help: "Requests answered 503 busy before their body was read: body_budget (transform and observations bodies over --max-inflight-body) or uploads (over --max-uploads).",
		}, []string{"limit"}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "normguard_vector_refusals_total",
			Help: "Vectors of ?producer= observations refused (their request answered 400), by model, producer and reason: dimension_mismatch, invalid_vector (not an array of finite numbers), mixed_dimensions, dimension_changed, too_many_producers. Producers past the 16 named per vector column (32 for producers holding a window) share producer \"\".",
		}, []string{"model", "producer", "reason"}),
	}
	reg.MustRegister(m.requests, m.latency, m.rows, m.busy, m.refused)
	return m
}

// observe records one request. Requests for a model the registry does not
// know are counted under version "" so that hostile names cannot grow the
// series without bound (names are validated before they get here, and
// unknown models share the model label "unknown").
func (m *metrics) observe(endpoint, model, version string, status int, d time.Duration) {
	if version == "" {
		model = "unknown"
	}
	m.requests.WithLabelValues(endpoint, model, version, strconv.Itoa(status)).Inc()
	m.latency.WithLabelValues(endpoint, model, version).Observe(d.Seconds())
}

func (m *metrics) addRows(endpoint, model, version string, n int) {
	m.rows.WithLabelValues(endpoint, model, version).Add(float64(n))
}
