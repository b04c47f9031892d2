package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/normguard/normguard/monitor"
	"github.com/normguard/normguard/quickstart"
	"github.com/normguard/normguard/registry"
	"github.com/normguard/normguard/table"
)

// peerServer starts a server with its own registry (holding art as
// flight-delay v1) and monitoring store, answering /drift with peers.
func peerServer(t *testing.T, art []byte, peers []string) *httptest.Server {
	t.Helper()
	ts, _ := peerServerWith(t, art, peers, monitor.Options{})
	return ts
}

// peerServerWith is peerServer with the monitor's options, returning the
// monitor too.
func peerServerWith(t *testing.T, art []byte, peers []string, opt monitor.Options) (*httptest.Server, *monitor.Monitor) {
	t.Helper()
	dir := t.TempDir()
	store, err := registry.Open(filepath.Join(dir, "reg"))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := store.Put(context.Background(), "flight-delay", "v1", art, registry.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	mon, err := monitor.Open(filepath.Join(dir, "monitor.db"), opt)
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Config{Registry: store, Monitor: mon, Token: "t", Peers: peers})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(func() { ts.Close(); mon.Close() })
	return ts, mon
}

// flightRows returns an observations body of n flights, shifted by seed.
func flightRows(seed, n int) []byte {
	origins := []string{"LAS", "PHX", "ORD", "ATL", "DFW"}
	var b bytes.Buffer
	b.WriteString(`{"rows":[`)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		k := i + seed*1000
		fmt.Fprintf(&b, `{"date":"2001-06-%02d %02d:%02d","delay":%d,"distance":%d,"origin":%q,"destination":%q}`,
			1+k%28, k%24, k%60, -10+(k*7)%90+seed*5, 200+(k*13)%2000, origins[k%len(origins)], origins[(k/3)%len(origins)])
	}
	b.WriteString(`]}`)
	return b.Bytes()
}

// TestPeersDriftIsTheMergedWindow posts batches of observations to two
// replicas (A lists B as its peer) and all of them to a third server:
// A's /drift equals the third's, feature by feature and bit for bit, and
// names both replicas with their rows, and its anomalies (unseen
// categories, out-of-range values sent to one replica) equal the third's;
// the window-state endpoint needs
// the token, and an unreachable peer makes /drift fail, naming it.
func TestPeersDriftIsTheMergedWindow(t *testing.T) {
	dir := t.TempDir()
	if _, err := quickstart.Run(context.Background(), filepath.Join(dir, "qs"), io.Discard); err != nil {
		t.Fatal(err)
	}
	art, err := os.ReadFile(filepath.Join(dir, "qs", quickstart.Files.Artifact))
	if err != nil {
		t.Fatal(err)
	}
	b := peerServer(t, art, nil)
	a := peerServer(t, art, []string{b.URL})
	all := peerServer(t, art, nil)
	for i := 0; i < 5; i++ {
		body := flightRows(i, 150+i*40)
		replica := a
		if i%2 == 1 {
			replica = b
		}
		for _, ts := range []*httptest.Server{replica, all} {
			if code, out := send(t, http.MethodPost, ts.URL+"/v1/models/flight-delay/observations", "", body); code != http.StatusOK {
				t.Fatalf("observations: %d %s", code, out)
			}
		}
	}
	// Rows with anomalies, on one replica: categories never seen in
	// training, delays far out of the training range.
	var odd bytes.Buffer
	odd.WriteString(`{"rows":[`)
	for i := 0; i < 60; i++ {
		if i > 0 {
			odd.WriteByte(',')
		}
		fmt.Fprintf(&odd, `{"date":"2001-06-03 10:%02d","delay":%d,"distance":300,"origin":%q,"destination":"LAS"}`, i, 9000+i, []string{"ZZZ", "QQQ", "ZZZ"}[i%3])
	}
	odd.WriteString(`]}`)
	for _, ts := range []*httptest.Server{b, all} {
		if code, out := send(t, http.MethodPost, ts.URL+"/v1/models/flight-delay/observations", "", odd.Bytes()); code != http.StatusOK {
			t.Fatalf("observations: %d %s", code, out)
		}
	}
	type answer struct {
		Anomalies    json.RawMessage `json:"anomalies"`
		Plots        json.RawMessage `json:"plots"`
		Training     json.RawMessage `json:"training"`
		Features     json.RawMessage `json:"features"`
		DriftShare   json.RawMessage `json:"drift_share"`
		DatasetDrift bool            `json:"dataset_drift"`
		Window       monitor.Window  `json:"window"`
		Replicas     []peerState     `json:"replicas"`
	}
	get := func(ts *httptest.Server) answer {
		t.Helper()
		code, out := send(t, http.MethodGet, ts.URL+"/v1/models/flight-delay/drift?plots=1", "", nil)
		if code != http.StatusOK {
			t.Fatalf("drift: %d %s", code, out)
		}
		var ans answer
		if err := json.Unmarshal(out, &ans); err != nil {
			t.Fatal(err)
		}
		return ans
	}
	merged, one := get(a), get(all)
	if !bytes.Equal(merged.Features, one.Features) || !bytes.Equal(merged.DriftShare, one.DriftShare) || merged.DatasetDrift != one.DatasetDrift {
		t.Errorf("merged replicas answer\n%s\none server fed every row\n%s", merged.Features, one.Features)
	}
	if len(one.Plots) < 100 || !bytes.Equal(merged.Plots, one.Plots) || len(one.Training) < 10 || !bytes.Equal(merged.Training, one.Training) {
		t.Errorf("merged replicas' plots and training rates\n%s\n%s\none server fed every row\n%s\n%s", merged.Plots, merged.Training, one.Plots, one.Training)
	}
	if !bytes.Equal(merged.Anomalies, one.Anomalies) {
		t.Errorf("merged replicas' anomalies\n%s\none server fed every row\n%s", merged.Anomalies, one.Anomalies)
	}
	if !bytes.Contains(one.Anomalies, []byte(`"unseen_categories"`)) || !bytes.Contains(one.Anomalies, []byte(`"ZZZ"`)) {
		t.Errorf("anomalies %s: want unseen_categories naming ZZZ", one.Anomalies)
	}
	if merged.Window.Rows != one.Window.Rows || !merged.Window.Start.Equal(one.Window.Start) {
		t.Errorf("merged window %+v, want %+v", merged.Window, one.Window)
	}
	if len(merged.Replicas) != 2 || merged.Replicas[1].URL != b.URL || merged.Replicas[0].Rows+merged.Replicas[1].Rows != one.Window.Rows {
		t.Errorf("replicas %+v, want this one and %s with %d rows in all", merged.Replicas, b.URL, one.Window.Rows)
	}

	if code, _ := send(t, http.MethodGet, b.URL+"/v1/models/flight-delay/window-state", "", nil); code != http.StatusUnauthorized {
		t.Errorf("window-state without the token: %d, want 401", code)
	}
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	c := peerServer(t, art, []string{down.URL})
	send(t, http.MethodPost, c.URL+"/v1/models/flight-delay/observations", "", flightRows(9, 50))
	code, out := send(t, http.MethodGet, c.URL+"/v1/models/flight-delay/drift", "", nil)
	if code != http.StatusBadGateway || !bytes.Contains(out, []byte(down.URL)) {
		t.Errorf("drift with a peer down: %d %s, want 502 naming it", code, out)
	}
}

// TestPeersRefuseOverlappingOffsets: replicas whose windows hold rows read
// from the same Kafka offsets make /drift answer 409 overlapping_offsets
// naming the partition, the offsets and both replicas, also when the
// records sit in an earlier window of one replica and the latest of the
// other; disjoint offsets merge.
func TestPeersRefuseOverlappingOffsets(t *testing.T) {
	dir := t.TempDir()
	qs, err := quickstart.Run(context.Background(), filepath.Join(dir, "qs"), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	art, err := os.ReadFile(filepath.Join(dir, "qs", quickstart.Files.Artifact))
	if err != nil {
		t.Fatal(err)
	}
	// Each replica has its own clock: A's stays in its 10:00 window, so
	// the committer cannot close and judge it while /drift asks (a judged
	// window is no longer merged, and no longer compared).
	var nowA, nowB atomic.Int64 // Unix nanoseconds; the committers read the clocks
	nowA.Store(time.Date(2026, 3, 5, 10, 30, 0, 0, time.UTC).UnixNano())
	nowB.Store(nowA.Load())
	optA := monitor.Options{Now: func() time.Time { return time.Unix(0, nowA.Load()).UTC() }, EvalInterval: time.Hour}
	optB := monitor.Options{Now: func() time.Time { return time.Unix(0, nowB.Load()).UTC() }, EvalInterval: time.Hour}
	const source = "kafka:g/rows"
	// observe stores 20 rows read from partition 1's offsets first..last.
	observe := func(mon *monitor.Monitor, first, last int64) {
		t.Helper()
		cols := []table.Column{
			{Name: "delay", Kind: table.Numeric, Num: make([]float64, 20)},
			{Name: "distance", Kind: table.Numeric, Num: make([]float64, 20)},
			{Name: "origin", Kind: table.String, Str: slices.Repeat([]string{"LAS"}, 20)},
			{Name: "destination", Kind: table.String, Str: slices.Repeat([]string{"PHX"}, 20)},
		}
		b := monitor.Batch{Model: "flight-delay", Artifact: qs.Artifact, Stage: monitor.StageInput, Cols: cols, N: 20,
			Read: []monitor.OffsetRange{{Source: source, Partition: 1, First: first, Last: last}}}
		refused, err := mon.ObserveAt(context.Background(), []monitor.Batch{b}, []monitor.Offset{{Source: source, Partition: 1, Next: last + 1}})
		if err != nil || refused[0] != nil {
			t.Fatalf("ObserveAt: %v %v", refused, err)
		}
	}
	b, monB := peerServerWith(t, art, nil, optB)
	a, monA := peerServerWith(t, art, []string{b.URL}, optA)
	observe(monA, 0, 99)
	observe(monB, 100, 199)
	if code, out := send(t, http.MethodGet, a.URL+"/v1/models/flight-delay/drift", "", nil); code != http.StatusOK {
		t.Fatalf("drift of disjoint offsets: %d %s", code, out)
	}
	// An hour later B reads offsets 50-149 again, into its next window.
	nowB.Add(int64(time.Hour))
	observe(monB, 50, 149)
	code, out := send(t, http.MethodGet, a.URL+"/v1/models/flight-delay/drift", "", nil)
	var ans struct {
		Error struct{ Code, Message string }
	}
	if err := json.Unmarshal(out, &ans); err != nil {
		t.Fatalf("drift: %d %s", code, out)
	}
	want := "offsets 50-99 of partition 1 of kafka:g/rows were read by both this replica (window 2026-03-05T10:00:00Z) and peer " + b.URL + " (window 2026-03-05T11:00:00Z)"
	if code != http.StatusConflict || ans.Error.Code != "overlapping_offsets" || !strings.Contains(ans.Error.Message, want) {
		t.Errorf("drift of overlapping offsets: %d %s; want 409 overlapping_offsets and %q", code, out, want)
	}
}
