package kafka

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/monitor"
	"github.com/normguard/normguard/registry"
)

// TestModelHeader reads the model a record's headers name (attack run 31
// F4): two "model" headers naming different models are a guess, counted
// bad (duplicate_header) with both values in the message; the same value
// twice, or other keys ("Model": keys are matched exactly), are not.
func TestModelHeader(t *testing.T) {
	h := func(kv ...string) []kgo.RecordHeader {
		var hs []kgo.RecordHeader
		for i := 0; i < len(kv); i += 2 {
			hs = append(hs, kgo.RecordHeader{Key: kv[i], Value: []byte(kv[i+1])})
		}
		return hs
	}
	for _, tc := range []struct {
		name    string
		headers []kgo.RecordHeader
		want    string
		bad     []string // words the duplicate_header message must hold; nil: not bad
	}{
		{"none", nil, "", nil},
		{"one", h("model", "a"), "a", nil},
		{"one among others", h("trace", "x", "model", "a", "Model", "b"), "a", nil},
		{"the same twice", h("model", "a", "model", "a"), "a", nil},
		{"empty", h("model", ""), "", nil},
		{"two", h("model", "flight-delay", "model", "other"), "", []string{`"flight-delay"`, `"other"`, "once"}},
		{"empty then a name", h("model", "", "model", "a"), "", []string{`""`, `"a"`}},
		{"a name, the same, another", h("model", "a", "model", "a", "model", "b"), "", []string{`"a"`, `"b"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := modelHeader(tc.headers)
			if tc.bad == nil {
				if err != nil || got != tc.want {
					t.Fatalf("got %q, %v; want %q", got, err, tc.want)
				}
				return
			}
			if err == nil || err.reason != ReasonDuplicateHeader {
				t.Fatalf("got %q, %v; want a %s error", got, err, ReasonDuplicateHeader)
			}
			for _, w := range tc.bad {
				if !strings.Contains(err.msg, w) {
					t.Errorf("message %q does not hold %s", err.msg, w)
				}
			}
		})
	}
}

// TestTwoModelHeadersFromKafka (attack run 31 F4): a record whose headers
// name flight-delay then other was counted for other (the last header),
// without a word. It is skipped and counted duplicate_header; a record
// naming flight-delay twice is counted for it, one naming other beside a
// "Model" header for other.
func TestTwoModelHeadersFromKafka(t *testing.T) {
	fx := newFixture(t, 1)
	a := *fx.art
	a.Model = nil // fitted for no model: it may be pushed under any name
	data, err := artifact.Encode(&a)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := fx.reg.Put(context.Background(), "other", "v1", data, registry.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	c := newCluster(t)
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.DefaultProduceTopic(testTopic),
		kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	value := []byte(`{"delay":5,"distance":100,"origin":"SFO","destination":"LAX"}`)
	hdr := func(kv ...string) []kgo.RecordHeader {
		var hs []kgo.RecordHeader
		for i := 0; i < len(kv); i += 2 {
			hs = append(hs, kgo.RecordHeader{Key: kv[i], Value: []byte(kv[i+1])})
		}
		return hs
	}
	recs := []*kgo.Record{
		{Value: value, Headers: hdr(ModelHeader, testModel, ModelHeader, "other")},
		{Value: value, Headers: hdr(ModelHeader, testModel, ModelHeader, testModel)},
		{Value: value, Headers: hdr(ModelHeader, "other", "Model", testModel)},
	}
	if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	mon, err := monitor.Open(filepath.Join(t.TempDir(), "m.db"), monitor.Options{Window: 24 * time.Hour, EvalInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer mon.Close()
	cons, err := New(Config{Brokers: c.ListenAddrs(), Topic: testTopic, Group: "g", Registry: fx.reg, Monitor: mon})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- cons.Run(ctx) }()
	for deadline := time.Now().Add(60 * time.Second); cons.Stats().Records < int64(len(recs)); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("consumed %d records in 60 s, want %d", cons.Stats().Records, len(recs))
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	st := cons.Stats()
	if st.Rows != 2 || st.Bad[ReasonDuplicateHeader] != 1 || len(st.Bad) != 1 {
		t.Errorf("got %d rows, bad %v; want 2 rows and 1 %s", st.Rows, st.Bad, ReasonDuplicateHeader)
	}
	for _, model := range []string{testModel, "other"} {
		rows := int64(0)
		for _, w := range mon.History(model, monitor.StageInput) {
			rows += w.Rows
		}
		if rows != 1 {
			t.Errorf("model %s: %d rows in its windows, want 1", model, rows)
		}
	}
}
