package kafka

import (
	"context"
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/normguard/normguard/monitor"
	"github.com/normguard/normguard/table"
)

// TestRowsEventTimeOfAnInput (attack run 31 F2): with the time column a
// feature of the model, a row without it, or with null, takes its
// record's timestamp as its event time, in a column after the features
// (the last of the name, which the monitor reads); the feature itself
// stays missing. A row that has the key keeps its own value in both.
func TestRowsEventTimeOfAnInput(t *testing.T) {
	ts := time.Date(2025, 12, 6, 5, 46, 40, 500_000_000, time.UTC)
	const tsText = "2025-12-06T05:46:40.5Z"
	const tsSeconds = 1765000000.5
	t.Run("categorical", func(t *testing.T) {
		for _, tc := range []struct {
			value    string
			feature  string // "": missing
			timeText string
		}{
			{`{"x": 1, "c": "2024-03-05"}`, "2024-03-05", "2024-03-05"},
			{`{"x": 1, "c": 1700000000}`, "1700000000", "1700000000"},
			{`{"x": 1}`, "", tsText},
			{`{"x": 1, "c": null}`, "", tsText},
		} {
			r := newRows(decodeFields).withEventTime("c")
			if err := r.add([]byte(tc.value), ts); err != nil {
				t.Fatalf("%s: %v", tc.value, err)
			}
			if len(r.cols) != 3 {
				t.Fatalf("%s: %d columns, want the 2 features and the time", tc.value, len(r.cols))
			}
			f, tm := r.cols[1], r.cols[2]
			if missing := f.Null[0]; f.Name != "c" || missing != (tc.feature == "") || f.Str[0] != tc.feature {
				t.Errorf("%s: feature %q holds %q (missing %v), want %q", tc.value, f.Name, f.Str[0], missing, tc.feature)
			}
			if tm.Name != "c" || tm.Kind != table.String || tm.Str[0] != tc.timeText || tm.Null[0] {
				t.Errorf("%s: time column %q (%s) holds %q (null %v), want %q", tc.value, tm.Name, tm.Kind, tm.Str[0], tm.Null[0], tc.timeText)
			}
			if got, ok := monitor.ParseEventTime(tm.Str[0]); tc.feature == "" && (!ok || !got.Equal(ts)) {
				t.Errorf("%s: the time column reads as %v (ok %v), want the record's %v", tc.value, got, ok, ts)
			}
		}
	})
	t.Run("numeric", func(t *testing.T) {
		for _, tc := range []struct {
			value   string
			feature float64 // NaN: missing
			time    float64
		}{
			{`{"x": 1700000000.5}`, 1700000000.5, 1700000000.5},
			{`{"c": "a"}`, math.NaN(), tsSeconds},
			{`{"x": null, "c": "a"}`, math.NaN(), tsSeconds},
		} {
			r := newRows(decodeFields).withEventTime("x")
			if err := r.add([]byte(tc.value), ts); err != nil {
				t.Fatalf("%s: %v", tc.value, err)
			}
			if len(r.cols) != 3 {
				t.Fatalf("%s: %d columns, want the 2 features and the time", tc.value, len(r.cols))
			}
			f, tm := r.cols[0], r.cols[2]
			if x := f.Num[0]; f.Name != "x" || !(x == tc.feature || math.IsNaN(x) && math.IsNaN(tc.feature)) {
				t.Errorf("%s: feature %q holds %v, want %v", tc.value, f.Name, x, tc.feature)
			}
			if tm.Name != "x" || tm.Kind != table.Numeric || tm.Num[0] != tc.time {
				t.Errorf("%s: time column %q (%s) holds %v, want %v", tc.value, tm.Name, tm.Kind, tm.Num[0], tc.time)
			}
		}
	})
	// A bad row leaves no trace in the time column either.
	r := newRows(decodeFields).withEventTime("c")
	if err := r.add([]byte(`{"x": "late", "c": "2024-03-05"}`), ts); err == nil {
		t.Fatal("a wrong_type row was accepted")
	}
	if err := r.add([]byte(`{"x": 2}`), ts); err != nil {
		t.Fatal(err)
	}
	if len(r.cols) != 3 {
		t.Fatalf("%d columns, want the 2 features and the time", len(r.cols))
	}
	if r.n != 1 || len(r.cols[2].Str) != 1 || len(r.cols[1].Str) != 1 {
		t.Errorf("after a bad row and a good one: %d rows, time column %d, feature %d, want 1 each", r.n, len(r.cols[2].Str), len(r.cols[1].Str))
	}
	r.reset()
	if len(r.cols[2].Str) != 0 || len(r.cols[2].Null) != 0 {
		t.Errorf("reset left %d times in the time column", len(r.cols[2].Str))
	}
}

// TestEventTimeOfAnInputFromKafka (attack run 31 F2): serve --time-column
// date, date an input of the flights artifact. Three records in time
// order: one with its own date (a day before its Kafka timestamp), one
// with date null and one without date. Each goes to the window of its own
// date or else of its record's timestamp, none untimed or late, and date
// is missing in the last two. It was: the last two untimed, in the
// window of the clock.
func TestEventTimeOfAnInputFromKafka(t *testing.T) {
	fx := newFixture(t, 1)
	c := newCluster(t)
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.DefaultProduceTopic(testTopic),
		kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	const features = `"delay":5,"distance":100,"origin":"SFO","destination":"LAX"`
	day := func(d, h int) time.Time { return time.Date(2025, 12, d, h, 46, 40, 0, time.UTC) }
	recs := []*kgo.Record{
		{Value: []byte(`{` + features + `,"date":"2025-12-01"}`), Timestamp: day(2, 5)},
		{Value: []byte(`{` + features + `,"date":null}`), Timestamp: day(4, 10)},
		{Value: []byte(`{` + features + `}`), Timestamp: day(6, 5)},
	}
	if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	opt := monitor.Options{Window: 24 * time.Hour, EvalInterval: time.Hour, TimeColumn: "date", MinRows: 1}
	mon, err := monitor.Open(filepath.Join(t.TempDir(), "m.db"), opt)
	if err != nil {
		t.Fatal(err)
	}
	defer mon.Close()
	cons, err := New(Config{Brokers: c.ListenAddrs(), Topic: testTopic, Group: "g", Model: testModel, EventTime: "date",
		Registry: fx.reg, Monitor: mon})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- cons.Run(ctx) }()
	for deadline := time.Now().Add(60 * time.Second); cons.Stats().Rows < int64(len(recs)); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("counted %d rows in 60 s, want %d (stats %+v)", cons.Stats().Rows, len(recs), cons.Stats())
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	want := []struct {
		start       time.Time
		dateMissing int64
	}{
		{time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC), 0},
		{time.Date(2025, 12, 4, 0, 0, 0, 0, time.UTC), 1},
		{time.Date(2025, 12, 6, 0, 0, 0, 0, time.UTC), 1},
	}
	h := mon.History(testModel, monitor.StageInput)
	if len(h) != len(want) {
		for _, w := range h {
			t.Logf("window %s: %d rows", w.Start.Format(time.RFC3339), w.Rows)
		}
		t.Fatalf("%d windows, want %d", len(h), len(want))
	}
	for i, w := range want {
		got := h[i]
		if !got.Start.Equal(w.start) || got.Rows != 1 {
			t.Errorf("window %d: starts %s with %d rows, want %s with 1", i, got.Start.Format(time.RFC3339), got.Rows, w.start.Format(time.RFC3339))
		}
		found := false
		for _, f := range got.Features {
			if f.Name == "date" {
				found = true
				if f.Rows != 1 || f.Missing != w.dateMissing {
					t.Errorf("window %s: date has %d rows, %d missing, want 1 and %d", w.start.Format(time.RFC3339), f.Rows, f.Missing, w.dateMissing)
				}
			}
		}
		if !found {
			t.Errorf("window %s: no feature date", w.start.Format(time.RFC3339))
		}
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(mon.Collector())
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, mf := range mfs {
		switch mf.GetName() {
		case "normguard_observations_untimed_total", "normguard_observations_late_total":
			seen++
			if v := mf.GetMetric()[0].GetCounter().GetValue(); v != 0 {
				t.Errorf("%s is %v, want 0", mf.GetName(), v)
			}
		}
	}
	if seen != 2 {
		t.Errorf("found %d of the untimed and late counters, want 2", seen)
	}
}
