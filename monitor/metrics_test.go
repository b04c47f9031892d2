package monitor

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
)

// exposition gathers reg and returns the text exposition of the named
// metric families, in name order (the registry sorts families and series).
// (client_golang's testutil needs a module go.mod does not list.)
func exposition(t *testing.T, reg *prometheus.Registry, names ...string) string {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	for _, mf := range mfs {
		if slices.Contains(names, mf.GetName()) {
			if _, err := expfmt.MetricFamilyToText(&b, mf); err != nil {
				t.Fatal(err)
			}
		}
	}
	return b.String()
}

// count returns the number of series of the named families.
func count(t *testing.T, reg *prometheus.Registry, names ...string) int {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, mf := range mfs {
		if slices.Contains(names, mf.GetName()) {
			n += len(mf.GetMetric())
		}
	}
	return n
}

func compareExposition(t *testing.T, reg *prometheus.Registry, want string, names ...string) {
	t.Helper()
	if got := exposition(t, reg, names...); got != strings.TrimLeft(want, "\n") {
		t.Errorf("got exposition\n%s\nwant\n%s", got, strings.TrimLeft(want, "\n"))
	}
}

func TestCollector(t *testing.T) {
	a := testArtifact(t)
	c := newClock(t0)
	m := openTest(t, "", testOptions(c))
	reg := prometheus.NewRegistry()
	if err := reg.Register(m.Collector()); err != nil {
		t.Fatal(err)
	}
	// Counts of countRows (see TestCountsExact), twice: rates unchanged.
	observe(t, m, "m", a, StageInput, countRows(), 5)
	observe(t, m, "m", a, StageInput, countRows(), 5)
	m.ObserveAsync("m", a, "nowhere", countRows(), 5)
	want := `
# HELP normguard_alerts_failed_total Webhook alerts given up on (attempts exhausted, refused, or abandoned at shutdown).
# TYPE normguard_alerts_failed_total counter
normguard_alerts_failed_total 0
# HELP normguard_feature_missing_rate Share of the open window's rows where the feature is missing.
# TYPE normguard_feature_missing_rate gauge
normguard_feature_missing_rate{feature="c",model="m",stage="input"} 0.2
normguard_feature_missing_rate{feature="d",model="m",stage="input"} 0.2
normguard_feature_missing_rate{feature="x",model="m",stage="input"} 0.2
normguard_feature_missing_rate{feature="y",model="m",stage="input"} 1
# HELP normguard_feature_out_of_range_rate Share of the open window's rows where the numeric feature is outside the training [min, max].
# TYPE normguard_feature_out_of_range_rate gauge
normguard_feature_out_of_range_rate{feature="c",model="m",stage="input"} 0
normguard_feature_out_of_range_rate{feature="d",model="m",stage="input"} 0
normguard_feature_out_of_range_rate{feature="x",model="m",stage="input"} 0.4
normguard_feature_out_of_range_rate{feature="y",model="m",stage="input"} 0
# HELP normguard_feature_unseen_category_rate Share of the open window's rows where the categorical feature holds a category not seen in training.
# TYPE normguard_feature_unseen_category_rate gauge
normguard_feature_unseen_category_rate{feature="c",model="m",stage="input"} 0.4
normguard_feature_unseen_category_rate{feature="d",model="m",stage="input"} 0.4
normguard_feature_unseen_category_rate{feature="x",model="m",stage="input"} 0
normguard_feature_unseen_category_rate{feature="y",model="m",stage="input"} 0
# HELP normguard_observations_dropped_total Observation batches dropped: by ObserveAsync (queue full, invalid input, monitor closed) and, for either path, over the model's window state budget.
# TYPE normguard_observations_dropped_total counter
normguard_observations_dropped_total 1
# HELP normguard_window_rows Rows observed in the open window.
# TYPE normguard_window_rows gauge
normguard_window_rows{model="m",stage="input"} 10
`
	names := []string{"normguard_feature_missing_rate", "normguard_feature_out_of_range_rate",
		"normguard_feature_unseen_category_rate", "normguard_window_rows",
		"normguard_observations_dropped_total", "normguard_alerts_failed_total"}
	compareExposition(t, reg, want, names...)
	// Not judged yet (10 rows < MinRows): no drift series.
	if n := count(t, reg, "normguard_feature_drift_statistic", "normguard_feature_drifting"); n != 0 {
		t.Errorf("drift series before judging: got %d, want 0", n)
	}

	observe(t, m, "m", a, StageInput, normalRows(41, 1990, trainMean+trainSD), 1990)
	evaluate(t, m)
	want = `
# HELP normguard_feature_drifting 1 when the feature drifts in its latest judged window, else 0.
# TYPE normguard_feature_drifting gauge
normguard_feature_drifting{feature="c",model="m",stage="input"} 0
normguard_feature_drifting{feature="d",model="m",stage="input"} 0
normguard_feature_drifting{feature="x",model="m",stage="input"} 1
normguard_feature_drifting{feature="y",model="m",stage="input"} 0
# HELP normguard_window_rows Rows observed in the open window.
# TYPE normguard_window_rows gauge
normguard_window_rows{model="m",stage="input"} 2000
`
	compareExposition(t, reg, want, "normguard_feature_drifting", "normguard_window_rows")
	// One statistic per feature, labelled with its method; x's is the
	// one the summary shows.
	if n := count(t, reg, "normguard_feature_drift_statistic"); n != 4 {
		t.Errorf("drift statistic series: got %d, want 4", n)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	x := featureOf(t, m.History("m", StageInput)[0], "x")
	found := false
	for _, mf := range mfs {
		if mf.GetName() != "normguard_feature_drift_statistic" {
			continue
		}
		for _, mt := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range mt.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["feature"] == "x" {
				found = true
				if labels["method"] != x.Method || mt.GetGauge().GetValue() != float64(x.Statistic) {
					t.Errorf("x statistic: got %s %v, want %s %v", labels["method"], mt.GetGauge().GetValue(), x.Method, x.Statistic)
				}
			}
		}
	}
	if !found {
		t.Error("no drift statistic for x")
	}
}
