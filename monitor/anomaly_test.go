package monitor

import (
	"fmt"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/normguard/normguard/table"
	"github.com/normguard/normguard/validate"
)

// anomalyRows are n rows against testArtifact's training data (x ~ N(10,
// 2), y ~ U(0, 100), c in {a, b, c}, d in {u, v}, nothing missing): x is 10
// in every row (constant: the training grid has no cell holding more than
// a few percent of x, so 200 equal values are beyond chance), y is never
// sent (empty: it was never missing in training), half of c is "zz", a
// category the encoder never saw (training had no category seen once), and
// d alternates u and v as in training.
func anomalyRows(n int) []table.Column {
	x := make([]float64, n)
	c, d := make([]string, n), make([]string, n)
	for i := range x {
		x[i] = 10
		c[i], d[i] = "a", "u"
		if i%2 == 0 {
			c[i], d[i] = "zz", "v"
		}
	}
	return []table.Column{
		{Name: "x", Kind: table.Numeric, Num: x},
		{Name: "c", Kind: table.String, Str: c},
		{Name: "d", Kind: table.String, Str: d},
	}
}

func anomalyKeys(as []validate.Anomaly) string {
	var keys []string
	for _, a := range as {
		keys = append(keys, a.Column+"/"+a.Code)
	}
	return strings.Join(keys, " ")
}

// TestWindowAnomalies: an evaluated window carries validate's anomalies in
// its summary, in Drift's window and as normguard_feature_anomaly series.
func TestWindowAnomalies(t *testing.T) {
	a := testArtifact(t)
	c := newClock(t0)
	m := openTest(t, "", testOptions(c))
	reg := prometheus.NewRegistry()
	if err := reg.Register(m.Collector()); err != nil {
		t.Fatal(err)
	}
	const n = 200
	observe(t, m, "m", a, StageInput, anomalyRows(n), n)
	evaluate(t, m)

	const want = "x/constant_column y/empty_column c/unseen_categories"
	h := m.History("m", StageInput)
	if len(h) != 1 || !h[0].Judged {
		t.Fatalf("history %+v, want one judged window", h)
	}
	if got := anomalyKeys(h[0].Anomalies); got != want {
		t.Errorf("window anomalies %q, want %q", got, want)
	}
	for _, an := range h[0].Anomalies {
		if an.Code == validate.UnseenCategories && (an.CurrentCount == nil || *an.CurrentCount != n/2 || an.CurrentTotal == nil || *an.CurrentTotal != n) {
			t.Errorf("unseen c: counts %v of %v, want %d of %d", deref(an.CurrentCount), deref(an.CurrentTotal), n/2, n)
		}
		if an.Code == validate.UnseenCategories && (len(an.Examples) != 1 || an.Examples[0] != "zz") {
			t.Errorf("unseen c: examples %q, want [zz]", an.Examples)
		}
	}
	_, win, err := m.Drift("m", StageInput)
	if err != nil {
		t.Fatal(err)
	}
	if got := anomalyKeys(win.Anomalies); got != want {
		t.Errorf("Drift's window anomalies %q, want %q", got, want)
	}
	compareExposition(t, reg, `
# HELP normguard_feature_anomaly 1 for each data anomaly (code as in normguard validate) of the feature in its latest judged window.
# TYPE normguard_feature_anomaly gauge
normguard_feature_anomaly{code="constant_column",feature="x",model="m",stage="input"} 1
normguard_feature_anomaly{code="empty_column",feature="y",model="m",stage="input"} 1
normguard_feature_anomaly{code="unseen_categories",feature="c",model="m",stage="input"} 1
`, "normguard_feature_anomaly")
}

// TestWindowNoFalseAnomaly: rows drawn like the training data give no
// anomaly.
func TestWindowNoFalseAnomaly(t *testing.T) {
	a := testArtifact(t)
	c := newClock(t0)
	m := openTest(t, "", testOptions(c))
	const n = 300
	x, y := make([]float64, n), make([]float64, n)
	cs, ds := make([]string, n), make([]string, n)
	cats := []string{"a", "a", "a", "a", "a", "b", "b", "b", "c", "c"}
	for i := range x {
		// Evenly spread inside the training ranges (x within 2 sd).
		x[i] = trainMean + trainSD*(2*float64(i)/n-1)
		y[i] = 100 * (float64(i) + 0.5) / n
		cs[i] = cats[i%len(cats)]
		ds[i] = "u"
		if i%3 == 0 {
			ds[i] = "v"
		}
	}
	cols := []table.Column{
		{Name: "x", Kind: table.Numeric, Num: x}, {Name: "y", Kind: table.Numeric, Num: y},
		{Name: "c", Kind: table.String, Str: cs}, {Name: "d", Kind: table.String, Str: ds},
	}
	observe(t, m, "m", a, StageInput, cols, n)
	evaluate(t, m)
	h := m.History("m", StageInput)
	if len(h) != 1 || !h[0].Judged || len(h[0].Anomalies) != 0 {
		t.Errorf("history %+v, want one judged window without anomalies", h)
	}
}

func deref[T any](p *T) string {
	if p == nil {
		return "nil"
	}
	return fmt.Sprint(*p)
}
